"""TileLang's compile options, under the names TileLang's users write.

``tessel.jit(pass_configs={tessel.PassConfigKey.TL_DISABLE_TMA_LOWER: True})``
works as it does in TileLang where Tessel has the same knob; other keys are
accepted and reported once, so that a TileLang program runs unchanged.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any, Dict, Mapping, Optional, Set

__all__ = ["PassConfigKey", "set_log_level", "cdiv", "next_power_of_2", "options_from_pass_configs"]

logger = logging.getLogger("tessel")


class PassConfigKey:
    """The pass-configuration keys TileLang defines (their string values are
    TileLang's). Those Tessel honours: TL_DISABLE_WARP_SPECIALIZED,
    TL_DISABLE_TMA_LOWER, TL_ENABLE_FAST_MATH (and TL_DISABLE_FAST_MATH)."""

    TL_SIMPLIFY = "tl.Simplify"
    TL_DISABLE_WARP_SPECIALIZED = "tl.disable_warp_specialized"
    TL_DISABLE_TMA_LOWER = "tl.disable_tma_lower"
    TL_ENABLE_FAST_MATH = "tl.enable_fast_math"
    TL_DISABLE_FAST_MATH = "tl.disable_fast_math"
    TL_PTXAS_REGISTER_USAGE_LEVEL = "tl.ptxas_register_usage_level"
    TL_DEVICE_COMPILE_FLAGS = "tl.device_compile_flags"
    TL_ENABLE_PTXAS_VERBOSE_OUTPUT = "tl.enable_ptxas_verbose_output"
    TL_CONFIG_INDEX_BITWIDTH = "tl.config_index_bitwidth"
    TL_DISABLE_SAFE_MEMORY_ACCESS = "tl.disable_safe_memory_legalize"
    TL_DISABLE_VECTORIZE_256 = "tl.disable_vectorize_256"
    TL_DISABLE_WGMMA = "tl.disable_wgmma"
    TL_DISABLE_SHUFFLE_ELECT = "tl.disable_shuffle_elect"
    TL_DISABLE_THREAD_STORAGE_SYNC = "tl.disable_thread_storage_sync"
    TL_DISABLE_DYNAMIC_TAIL_SPLIT = "tl.disable_dynamic_tail_split"
    TL_DYNAMIC_ALIGNMENT = "tl.dynamic_alignment"
    TL_DEBUG_MERGE_SHARED_MEMORY_ALLOCATIONS = "tl.debug_merge_shared_memory_allocations"
    TL_ENABLE_AGGRESSIVE_SHARED_MEMORY_MERGE = "tl.enable_aggressive_shared_memory_merge"
    TL_DISABLE_DATA_RACE_CHECK = "tl.disable_data_race_check"
    TL_ENABLE_DUMP_IR = "tl.enable_dump_ir"
    TL_DUMP_IR_DIR = "tl.dump_ir_path"
    TL_AST_PRINT_ENABLE = "tl.ast_print_enable"
    TL_LAYOUT_VISUALIZATION_ENABLE = "tl.layout_visualization_enable"
    TL_DISABLE_OUT_OF_BOUND_WARNING = "tl.disable_out_of_bound_warning"
    TL_ENABLE_ASYNC_COPY = "tl.enable_async_copy"
    TIR_ENABLE_EQUIV_TERMS_IN_CSE = "tir.enable_equiv_terms_in_cse_tir"
    TIR_DISABLE_CSE = "tir.disable_cse_tir"
    TIR_SIMPLIFY = "tir.Simplify"
    TIR_DISABLE_STORAGE_REWRITE = "tir.disable_storage_rewrite"
    TIR_DISABLE_VECTORIZE = "tir.disable_vectorize"
    TIR_USE_ASYNC_COPY = "tir.use_async_copy"
    TIR_ENABLE_DEBUG = "tir.enable_debug"
    TIR_MERGE_STATIC_SMEM = "tir.merge_static_smem"
    TIR_ADD_LOWER_PASS = "tir.add_lower_pass"
    TIR_NOALIAS = "tir.noalias"
    CUDA_KERNELS_OUTPUT_DIR = "cuda.kernels_output_dir"


# TileLang compiles without fast math unless TL_ENABLE_FAST_MATH is set
# (TileLang 0.1.15's default); Tessel follows it.
FAST_MATH_DEFAULT = False

_REPORTED: Set[str] = set()


def _flag(key: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, (int, float)):
        return bool(value)
    if isinstance(value, str) and value.lower() in ("true", "1", "on", "yes", "false", "0",
                                                    "off", "no"):
        return value.lower() in ("true", "1", "on", "yes")
    raise TypeError("tessel.jit: pass_configs[%r] must be a bool, got %r" % (key, value))


def options_from_pass_configs(pass_configs: Optional[Mapping[Any, Any]]) -> Dict[str, bool]:
    """Tessel's options (tma, warp_specialize, fast_math) from TileLang
    pass configs. Keys Tessel has no meaning for are reported once per
    process (a warning) and otherwise ignored; a key that is not TileLang's
    is an error."""
    options: Dict[str, bool] = {}
    if not pass_configs:
        return options
    if not isinstance(pass_configs, Mapping):
        raise TypeError("tessel.jit: pass_configs must be a dict, got %s"
                        % type(pass_configs).__name__)
    known = {v for k, v in vars(PassConfigKey).items() if k.isupper()}
    for key, value in pass_configs.items():
        key = str(key)
        if key == PassConfigKey.TL_DISABLE_WARP_SPECIALIZED:
            options["warp_specialize"] = not _flag(key, value)
        elif key == PassConfigKey.TL_DISABLE_TMA_LOWER:
            options["tma"] = not _flag(key, value)
        elif key == PassConfigKey.TL_ENABLE_FAST_MATH:
            options["fast_math"] = _flag(key, value)
        elif key == PassConfigKey.TL_DISABLE_FAST_MATH:
            options["fast_math"] = not _flag(key, value)
        elif key in known or key.startswith(("tl.", "tir.", "cuda.")):
            if key not in _REPORTED:
                _REPORTED.add(key)
                warnings.warn("tessel.jit: pass config %r has no effect in Tessel; ignored"
                              % key, stacklevel=3)
        else:
            raise ValueError("tessel.jit: unknown pass config %r (see tessel.PassConfigKey)"
                             % key)
    return options


def set_log_level(level: Any) -> None:
    """Sets the level of Tessel's logger ("tessel"): a logging level or its
    name ("INFO", "WARNING", ...), as tilelang.set_log_level takes."""
    if isinstance(level, str):
        name = level.upper()
        if not isinstance(logging.getLevelName(name), int):
            raise ValueError("set_log_level: unknown level %r (DEBUG, INFO, WARNING, ERROR, "
                             "CRITICAL)" % level)
        level = logging.getLevelName(name)
    logger.setLevel(level)


def cdiv(a: int, b: int) -> int:
    """``ceil(a / b)`` for ints (also inside kernels, at compile time)."""
    return -(-a // b)


def next_power_of_2(x: int) -> int:
    """The smallest power of two not below ``x`` (1 for x <= 1)."""
    return 1 if x <= 1 else 1 << (int(x) - 1).bit_length()
