"""The on-disk cache of kernels compiled for the cuda target.

An entry is one JSON file, ``$TESSEL_CACHE_DIR/cuda/<key>.json`` (default
``~/.cache/tessel``; ``off`` turns the cache off), holding the PTX, the cubin
(base64) and what launching needs, with a SHA-256 of its content. The key is a
SHA-256 of the located tile IR, the arch and options, the compiler build and
the ptxas used (path, size, modification time), so a changed kernel, option,
compiler or toolkit never meets an old entry. The entry records the whole
text the key hashes and is served only when it matches (a file copied or
renamed to another kernel's key, say M=128's for M=512, is a miss). Entries are written to a
temporary file and renamed into place (safe with many processes at once); a
truncated or damaged entry is a miss and is rewritten, never served.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from typing import Any, Dict, Optional

from tessel import _disk_cache

_FIELDS = ("name", "ptx", "ptxas_log", "registers", "spill_bytes", "threads",
           "register_split", "shared_bytes", "tensor_maps", "grid_exprs", "dynamic_params")


class CachedCUDAKernel:
    """A compiled kernel read back from the cache: the attributes of
    _tessel.CUDAKernel that running and inspecting it use."""

    ok = True
    diagnostics = ""
    llvm_ir = ""
    from_cache = True

    def __init__(self, fields: Dict[str, Any]) -> None:
        for name in _FIELDS:
            setattr(self, name, fields[name])
        self.grid = tuple(fields["grid"])
        self.cubin = base64.b64decode(fields["cubin"])
        self.timings = []


class CacheKey(str):
    """An entry's name (a SHA-256), with the text it hashes."""

    text = ""


def key(located_ir: str, arch: str, tma: bool, warp_specialize: bool,
        fast_math: bool = False, kernel_index: int = -1) -> CacheKey:
    from tessel import _tessel

    ptxas = _tessel.find_ptxas()
    toolkit = ptxas
    if ptxas:
        try:
            st = os.stat(ptxas)
            toolkit += "/%d/%d" % (st.st_size, st.st_mtime_ns)
        except OSError:
            pass
    fields = [located_ir, arch, tma, warp_specialize, fast_math,
              _tessel.build_identity(), toolkit]
    if kernel_index >= 0:  # one T.Kernel of several
        fields.append(kernel_index)
    text = json.dumps(fields)
    result = CacheKey(hashlib.sha256(text.encode()).hexdigest())
    result.text = text
    return result


def _digest(entry: Dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps({k: v for k, v in entry.items() if k != "sha256"},
                                     sort_keys=True).encode()).hexdigest()


def read(cache_key: str) -> Optional[CachedCUDAKernel]:
    folder = _disk_cache.directory("cuda")
    if folder is None:
        return None
    try:
        with open(os.path.join(folder, cache_key + ".json")) as f:
            entry = json.load(f)
        if entry.get("sha256") != _digest(entry):
            return None  # damaged: compiled again and rewritten
        if entry.get("key") != getattr(cache_key, "text", None):
            return None  # another kernel's entry under this name: a miss
        return CachedCUDAKernel(entry)
    except (OSError, ValueError, KeyError, TypeError):
        return None


def write(cache_key: str, compiled: Any) -> None:
    folder = _disk_cache.directory("cuda")
    if folder is None:
        return
    entry: Dict[str, Any] = {name: getattr(compiled, name) for name in _FIELDS}
    entry["register_split"] = list(entry["register_split"])
    entry["grid_exprs"] = list(entry["grid_exprs"])
    entry["dynamic_params"] = list(entry["dynamic_params"])
    entry["grid"] = list(compiled.grid)
    entry["cubin"] = base64.b64encode(bytes(compiled.cubin)).decode()
    entry["key"] = getattr(cache_key, "text", "")
    entry["sha256"] = _digest(entry)
    _disk_cache.write_atomically(folder, cache_key + ".json", json.dumps(entry))
