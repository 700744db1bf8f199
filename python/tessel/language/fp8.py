"""``tessel.language.fp8`` (TileLang's ``tilelang.language.fp8``)."""

from __future__ import annotations

from typing import Any

__all__ = ["determine_fp8_type"]


def determine_fp8_type(fp8_format: str = "e4m3", device: Any = None) -> str:
    """The fp8 dtype name of a format on NVIDIA GPUs (the only fp8 target
    Tessel has): "float8_e4m3fn" for "e4m3", "float8_e5m2" for "e5m2"."""
    names = {"e4m3": "float8_e4m3fn", "e5m2": "float8_e5m2"}
    if fp8_format not in names:
        raise ValueError("determine_fp8_type: unknown format %r (e4m3, e5m2)" % (fp8_format,))
    return names[fp8_format]
