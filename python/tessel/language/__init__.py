"""The kernel language, for editors and type-checkers: ``import tessel.language as T``.

Kernels are not run by Python. ``tessel.jit`` and ``tesselc`` hand their
source to Tessel's C++ frontend, which evaluates what is known at compile time
and compiles the rest. This module declares the names a kernel may use, with
their signatures and meaning, so that editors complete them and calls outside a
kernel fail with a clear message.
"""

from __future__ import annotations

from typing import Any, Callable, Optional, Sequence, Tuple, Union

__all__ = [
    "DType", "dtype", "float16", "bfloat16", "float32", "float64", "float8_e4m3",
    "float8_e4m3fn", "float8_e5m2", "int8", "int16", "int32", "int64", "bool",
    "uint8", "uint16", "uint32", "uint64", "float", "half", "boolean",
    "prim_func", "macro", "Tensor", "Buffer", "Kernel", "alloc_shared", "alloc_fragment",
    "alloc_local", "copy", "gemm", "GemmWarpPolicy", "fill", "clear", "Pipelined",
    "Parallel", "serial", "unroll", "reduce_max", "reduce_sum", "reduce_min",
    "reduce_abssum", "reduce_absmax", "exp", "exp2", "log", "log2", "max", "min", "abs",
    "rsqrt", "sqrt", "ceildiv", "if_then_else", "infinity", "atomic_add", "cast", "reinterpret",
    "use_swizzle", "annotate_layout", "dynamic", "Dynamic", "print", "symbolic",
    "alloc_var", "alloc_global", "alloc_reducer", "Cast", "clamp", "floordiv", "floormod",
    "get_thread_binding", "thread_binding", "sync_threads", "reshape", "Persistent",
    "const", "empty", "tan", "sin", "cos", "tanh", "floor", "ceil", "round", "sigmoid",
    "shfl_xor", "pow", "fmod",
]


class DType:
    """An element type. Compares equal to its name: ``T.float16 == "float16"``."""

    def __init__(self, name: str, bits: int) -> None:
        self.name = name
        self.bits = bits

    def __repr__(self) -> str:
        return "T." + self.name

    def __str__(self) -> str:
        return self.name

    def __eq__(self, other: object) -> bool:
        if isinstance(other, DType):
            return self.name == other.name
        if isinstance(other, str):
            return _ALIASES.get(other, other) == self.name
        return NotImplemented

    def __hash__(self) -> int:
        return hash(self.name)


float16 = DType("float16", 16)
bfloat16 = DType("bfloat16", 16)
float32 = DType("float32", 32)
float64 = DType("float64", 64)
float8_e4m3 = DType("float8_e4m3", 8)
float8_e4m3fn = float8_e4m3
float8_e5m2 = DType("float8_e5m2", 8)
int8 = DType("int8", 8)
int16 = DType("int16", 16)
int32 = DType("int32", 32)
int64 = DType("int64", 64)
bool = DType("bool", 8)  # noqa: A001 - the kernel language's name
boolean = bool
uint8 = DType("uint8", 8)
uint16 = DType("uint16", 16)
uint32 = DType("uint32", 32)
uint64 = DType("uint64", 64)
float = float32  # noqa: A001 - TileLang's T.float
half = float16

_ALIASES = {"float8_e4m3fn": "float8_e4m3", "half": "float16", "float": "float32",
            "boolean": "bool"}
_DTYPES = {d.name: d for d in (float16, bfloat16, float32, float64, float8_e4m3,
                               float8_e5m2, int8, int16, int32, int64, bool,
                               uint8, uint16, uint32, uint64)}


def dtype(name: Union[str, DType]) -> DType:
    """The DType named ``name`` (aliases such as ``"float8_e4m3fn"`` accepted)."""
    if isinstance(name, DType):
        return name
    canonical = _ALIASES.get(name, name)
    if canonical not in _DTYPES:
        raise ValueError("unknown dtype %r; known: %s" % (name, ", ".join(sorted(_DTYPES))))
    return _DTYPES[canonical]


def _kernel_only(name: str) -> Callable[..., Any]:
    def stub(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("T.%s can only be used inside a Tessel kernel" % name)
    stub.__name__ = name
    return stub


class _Decorated:
    """What @T.prim_func and @T.macro return: the function and its kind."""

    def __init__(self, fn: Callable[..., Any], kind: str) -> None:
        self.fn = fn
        self.kind = kind
        self.__name__ = getattr(fn, "__name__", kind)
        self.__doc__ = getattr(fn, "__doc__", None)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("%s %r is compiled by Tessel, not called from Python; "
                           "wrap its factory with @tessel.jit" % (self.kind, self.__name__))


def prim_func(fn: Callable[..., Any]) -> _Decorated:
    """Marks the kernel itself: its parameters are annotated with T.Tensor."""
    return _Decorated(fn, "prim_func")


def macro(fn: Callable[..., Any]) -> _Decorated:
    """A helper whose body is inlined where a kernel calls it."""
    return _Decorated(fn, "macro")


class Dynamic:
    """A dimension known only at run time; see :func:`dynamic`."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._tessel_dynamic_name = name

    def __repr__(self) -> str:
        return "T.dynamic(%r)" % self.name


def dynamic(name: str, dtype: Any = None) -> Dynamic:
    """A symbolic dimension: the kernel is compiled once and serves every value."""
    return Dynamic(name)


symbolic = dynamic
symbolic.__doc__ = "TileLang's name for :func:`dynamic`."


class GemmWarpPolicy:
    """How T.gemm splits its output tile among warps."""
    Square = "square"
    FullRow = "full_row"
    FullCol = "full_col"


def ceildiv(a: int, b: int) -> int:
    """``(a + b - 1) // b`` for positive ints; also usable in host code."""
    return -(-a // b)


class _TensorAnnotation:
    """``T.Tensor((M, N), dtype)`` or ``T.Tensor[(M, N), dtype]``: the annotation
    of a kernel parameter, a tensor in global memory."""

    def __init__(self, name: str) -> None:
        self.__name__ = name

    def __call__(self, shape: Sequence[Any], dtype: Any = "float32") -> Any:
        return ("Tensor", tuple(shape) if isinstance(shape, (tuple, list)) else (shape,), dtype)

    def __getitem__(self, item: Any) -> Any:
        if not isinstance(item, tuple) or len(item) != 2:
            raise TypeError("%s[...] takes a shape and a dtype: %s[(M, N), dtype]"
                            % (self.__name__, self.__name__))
        return self(item[0], item[1])


Tensor = _TensorAnnotation("Tensor")
Buffer = _TensorAnnotation("Buffer")

# Kernel-only primitives: declared for editors, meaningful only in kernels.
Kernel = _kernel_only("Kernel")
Kernel.__doc__ = "``with T.Kernel(gx, gy, threads=128) as (bx, by):`` runs the body per block."
alloc_shared = _kernel_only("alloc_shared")
alloc_shared.__doc__ = "A tile in the block's shared memory: ``alloc_shared(shape, dtype)``."
alloc_fragment = _kernel_only("alloc_fragment")
alloc_fragment.__doc__ = "A tile spread over the block's registers: ``alloc_fragment(shape, dtype)``."
alloc_local = _kernel_only("alloc_local")
alloc_local.__doc__ = "A small per-thread array: ``alloc_local(shape, dtype)``."
copy = _kernel_only("copy")
copy.__doc__ = "``copy(src, dst)``: a region or tile into another, converting dtypes."
gemm = _kernel_only("gemm")
gemm.__doc__ = ("``gemm(A, B, C, transpose_A=False, transpose_B=False, "
                "policy=GemmWarpPolicy.Square, clear_accum=False)``: C += A @ B.")
fill = _kernel_only("fill")
fill.__doc__ = "``fill(buffer, value)``: every element of an on-chip tile."
clear = _kernel_only("clear")
clear.__doc__ = "``clear(buffer)``: fill with zero."
Pipelined = _kernel_only("Pipelined")
Pipelined.__doc__ = "``for k in Pipelined(n, num_stages=3, order=None, stage=None)``: a software-pipelined loop."
Parallel = _kernel_only("Parallel")
Parallel.__doc__ = "``for i, j in Parallel(M, N)``: iterations spread over the block's threads."
serial = _kernel_only("serial")
serial.__doc__ = "``for i in serial(n)`` or ``serial(start, stop, step)``: a sequential loop."
unroll = _kernel_only("unroll")
unroll.__doc__ = "``for i in unroll(n)``: a loop the compiler unrolls."
reduce_max = _kernel_only("reduce_max")
reduce_max.__doc__ = "``reduce_max(buffer, out, dim=-1, clear=True)``."
reduce_min = _kernel_only("reduce_min")
reduce_min.__doc__ = "``reduce_min(buffer, out, dim=-1, clear=True)``."
reduce_sum = _kernel_only("reduce_sum")
reduce_sum.__doc__ = "``reduce_sum(buffer, out, dim=-1, clear=True)``."
reduce_abssum = _kernel_only("reduce_abssum")
reduce_abssum.__doc__ = "``reduce_abssum(buffer, out, dim=-1, clear=True)``: sum of absolute values."
reduce_absmax = _kernel_only("reduce_absmax")
reduce_absmax.__doc__ = "``reduce_absmax(buffer, out, dim=-1, clear=True)``: largest absolute value."
exp = _kernel_only("exp")
exp2 = _kernel_only("exp2")
log = _kernel_only("log")
log2 = _kernel_only("log2")
max = _kernel_only("max")  # noqa: A001
min = _kernel_only("min")  # noqa: A001
abs = _kernel_only("abs")  # noqa: A001
rsqrt = _kernel_only("rsqrt")
sqrt = _kernel_only("sqrt")
if_then_else = _kernel_only("if_then_else")
if_then_else.__doc__ = "``if_then_else(cond, a, b)``: a select."
infinity = _kernel_only("infinity")
infinity.__doc__ = "``infinity(dtype)``: +inf of a dtype; ``-T.infinity(dtype)`` for -inf."
atomic_add = _kernel_only("atomic_add")
atomic_add.__doc__ = "``atomic_add(dst, value)``: an element, or a tile into a region."
cast = _kernel_only("cast")
cast.__doc__ = "``cast(value, dtype)``: round to nearest even; fp8 saturates per format."
reinterpret = _kernel_only("reinterpret")
reinterpret.__doc__ = "``reinterpret(value, dtype)``: the same bits read as another type of the same width."
use_swizzle = _kernel_only("use_swizzle")
use_swizzle.__doc__ = "``use_swizzle(panel_size)``: visit blocks in panels for L2 reuse."
annotate_layout = _kernel_only("annotate_layout")
print = _kernel_only("print")  # noqa: A001
print.__doc__ = "``print(value, msg='')``: debugging output from the kernel."
alloc_var = _kernel_only("alloc_var")
alloc_var.__doc__ = ("``alloc_var(dtype, init=None)``: one per-thread scalar variable "
                     "(``alloc_local((1,), dtype)`` read and written as a scalar).")
alloc_global = _kernel_only("alloc_global")
alloc_global.__doc__ = ("``alloc_global(shape, dtype)``: a scratch tensor in global memory, "
                        "allocated by the launch (the manifest declares it as a workspace).")
alloc_reducer = _kernel_only("alloc_reducer")
alloc_reducer.__doc__ = ("``alloc_reducer(shape, dtype, op='sum', replication='all')``: a "
                         "fragment that T.Parallel loops accumulate into; T.finalize_reducer "
                         "combines it.")
Cast = _kernel_only("Cast")
Cast.__doc__ = "``Cast(dtype, value)``: TileLang's argument order of :func:`cast`."
clamp = _kernel_only("clamp")
clamp.__doc__ = "``clamp(value, lo, hi)``: ``min(max(value, lo), hi)``."
floordiv = _kernel_only("floordiv")
floordiv.__doc__ = "``floordiv(a, b)``: division rounded towards minus infinity (Python's //)."
floormod = _kernel_only("floormod")
floormod.__doc__ = "``floormod(a, b)``: the remainder with the divisor's sign (Python's %)."
get_thread_binding = _kernel_only("get_thread_binding")
get_thread_binding.__doc__ = "``get_thread_binding(dim=0)``: the thread's index in the block."
thread_binding = _kernel_only("thread_binding")
thread_binding.__doc__ = ("``for t in thread_binding(0, n, 'threadIdx.x')``: one iteration per "
                          "thread of the block.")
sync_threads = _kernel_only("sync_threads")
sync_threads.__doc__ = "``sync_threads()``: a block-wide barrier."
reshape = _kernel_only("reshape")
reshape.__doc__ = "``reshape(buffer, shape)``: the same elements viewed with another shape."
Persistent = _kernel_only("Persistent")
Persistent.__doc__ = ("``for bx, by in Persistent([gx, gy], sm_num, block_id)``: a persistent "
                      "kernel's tile loop.")
const = _kernel_only("const")
const.__doc__ = ("``M, N = const(\"M, N\")`` (eager style): sizes bound from the shapes of the "
                 "arguments.")
empty = _kernel_only("empty")
empty.__doc__ = "``empty(shape, dtype)`` (eager style): an output the kernel returns."
tan = _kernel_only("tan")
sin = _kernel_only("sin")
cos = _kernel_only("cos")
tanh = _kernel_only("tanh")
floor = _kernel_only("floor")
ceil = _kernel_only("ceil")
round = _kernel_only("round")  # noqa: A001
sigmoid = _kernel_only("sigmoid")
shfl_xor = _kernel_only("shfl_xor")
pow = _kernel_only("pow")  # noqa: A001
fmod = _kernel_only("fmod")
