"""Tessel: a tile-level GPU kernel language and its compiler.

The compiler is C++ (``libtessel.so``); this package is its Python face.
"""

from tessel._tessel import version as _native_version
from tessel.errors import CompileError
from tessel.jit import JITFunction, Kernel, jit
from tessel.autotune import autotune
from tessel.config import PassConfigKey, cdiv, next_power_of_2, set_log_level
from tessel import language
from tessel.profiler import Profiler, TensorSupplyType

__version__ = _native_version()

__all__ = ["CompileError", "JITFunction", "Kernel", "PassConfigKey", "Profiler",
           "TensorSupplyType", "autotune", "cdiv",
           "disable_cache", "jit", "language", "next_power_of_2", "run_tile_ir",
           "set_log_level", "__version__"]


def disable_cache() -> None:
    """Compile every kernel anew in this process (TileLang's
    ``tilelang.disable_cache()``): Tessel's disk caches are not read or
    written."""
    import os

    os.environ["TESSEL_CACHE_DIR"] = "off"


def run_tile_ir(source: str, pipeline: str = "", name: str = "<input>") -> str:
    """Parse and verify tile-dialect IR, run ``pipeline`` and return the IR.

    ``pipeline`` uses mlir-opt's syntax, e.g.
    ``"builtin.module(canonicalize,tile-check-bounds)"``. Raises
    :class:`CompileError` carrying the located diagnostics when the IR is
    malformed, fails to verify, or a pass fails.
    """
    from tessel import _tessel

    result = _tessel.run_tile_ir(source, pipeline, name)
    if not result.ok:
        raise CompileError(result.diagnostics)
    return result.output
