"""Where Tessel's on-disk caches live, and how entries are written."""

from __future__ import annotations

import os
import tempfile
from typing import Optional


def directory(kind: str) -> Optional[str]:
    """``$TESSEL_CACHE_DIR/<kind>`` (default ``~/.cache/tessel``), or None
    when ``TESSEL_CACHE_DIR=off``."""
    root = os.environ.get("TESSEL_CACHE_DIR")
    if root == "off":
        return None
    if not root:
        root = os.path.join(os.path.expanduser("~"), ".cache", "tessel")
    return os.path.join(root, kind)


def write_atomically(folder: str, name: str, text: str) -> None:
    """Writes `text` to folder/name through a temporary file renamed into
    place: readers see the whole entry or none, with many processes at once.
    A cache that cannot be written is only slower: errors are ignored."""
    temp = None
    try:
        os.makedirs(folder, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=folder, suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(text)
            f.flush()
            # On disk before the rename names it: after a power loss the
            # entry is whole or absent, never empty.
            os.fsync(f.fileno())
        os.replace(temp, os.path.join(folder, name))
        temp = None
    except OSError:
        pass
    finally:
        if temp is not None:
            try:
                os.unlink(temp)
            except OSError:
                pass
