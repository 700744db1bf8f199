"""``tessel.math`` (TileLang's ``tilelang.math``): integer helpers for
kernel factories, also usable inside kernels at compile time."""

from tessel.config import cdiv, next_power_of_2

__all__ = ["cdiv", "next_power_of_2"]
