"""Case description and execution, independent of which driver runs them."""

import ctypes
from dataclasses import dataclass
from typing import Callable

import numpy as np


@dataclass
class Buf:
    """A device buffer initialised from `array`; read back as an output when
    the case's reference names it.  param=False: not a kernel parameter (a
    tensor reached through a tensor map, or data only the reference uses)."""
    name: str
    array: np.ndarray
    param: bool = True


@dataclass
class Scalar:
    value: object  # a ctypes scalar: c_int32(..), c_uint32(..), c_float(..)


@dataclass
class TMap:
    """A tiled tensor map over buffer `buf` (dims/box innermost first, strides
    in bytes for dims 1..rank-1), passed by value."""
    buf: str
    dtype: object
    dims: list
    strides: list
    box: list
    swizzle: int = 0
    elem_strides: list = None
    oob_nan: bool = False


@dataclass
class Exact:
    """Bit-exact: the ISA defines the result.  nan_any: where the expected
    value is a NaN, any NaN of the type passes (the ISA leaves the payload
    open).  view: reinterpret the downloaded bytes as this dtype first."""
    expected: np.ndarray
    nan_any: bool = False
    view: object = None


@dataclass
class Close:
    """|got - expected| <= tol elementwise (tol from the ISA's stated bound);
    an expected NaN or Inf must be matched; tol = inf leaves an element
    unchecked."""
    expected: np.ndarray
    tol: object
    view: object = None


@dataclass
class Holds:
    """A property the output must have where the ISA fixes no single value
    (e.g. which lane elect.sync picks): check(got) returns a list of
    violations."""
    check: Callable
    view: object = None


@dataclass
class Case:
    id: str
    src: str            # .cu file under fidelity/
    kernel: str
    grid: tuple
    block: tuple
    args: Callable      # rng -> list of Buf / Scalar / TMap, in parameter order
    ref: Callable       # {buf name: input array} -> {output name: Exact | Close | Holds}
    shared: int = 0     # dynamic shared memory bytes
    seed: int = 0


# Every case the modules cases_*.py declare, in declaration order.
CASES = []


def case(*args, **kw):
    CASES.append(Case(*args, **kw))


def i32(v):
    return Scalar(ctypes.c_int32(int(v)))


def u32(v):
    return Scalar(ctypes.c_uint32(int(v) & 0xFFFFFFFF))


def run_case(drv, function, case):
    """Runs one case; returns (expectations by output name, outputs by name)."""
    rng = np.random.default_rng(case.seed)
    args = case.args(rng)
    inputs = {a.name: a.array for a in args if isinstance(a, Buf)}
    expected = case.ref(dict(inputs))
    ptrs = {}
    try:
        for name, array in inputs.items():
            ptrs[name] = drv.alloc(array.nbytes)
            drv.upload(ptrs[name], array)
        params = []
        for a in args:
            if isinstance(a, Buf):
                if a.param:
                    params.append(ctypes.c_uint64(ptrs[a.name]))
            elif isinstance(a, Scalar):
                params.append(a.value)
            else:
                params.append(drv.encode_tiled(a.dtype, ptrs[a.buf], a.dims, a.strides,
                                               a.box, a.elem_strides, a.swizzle, a.oob_nan))
        drv.launch(function, case.grid, case.block, params, case.shared)
        outputs = {name: drv.download(ptrs[name], inputs[name].shape, inputs[name].dtype)
                   for name in expected}
    finally:
        for p in ptrs.values():
            drv.free(p)
    return expected, outputs


def _bits(a):
    a = np.ascontiguousarray(a)
    return a.view({1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}[a.dtype.itemsize])


def _where(mask, limit=8):
    idx = np.argwhere(mask)
    return [tuple(int(v) for v in i) for i in idx[:limit]], len(idx)


def check(name, expect, got):
    """Asserts one output against its expectation, naming the first mismatches."""
    if expect.view is not None:
        got = got.view(expect.view)
    if isinstance(expect, Holds):
        problems = expect.check(got)
        if problems:
            raise AssertionError(f"{name}: " + "; ".join(problems[:8]))
        return
    if isinstance(expect, Exact):
        want = np.asarray(expect.expected)
        assert got.size == want.size and got.dtype.itemsize == want.dtype.itemsize, \
            f"{name}: got {got.size} x {got.dtype}, want {want.size} x {want.dtype}"
        got = got.reshape(want.shape)
        bad = _bits(got) != _bits(want)
        if expect.nan_any:
            bad &= ~(_isnan(want) & _isnan(got))
        if bad.any():
            where, n = _where(bad)
            lines = [f"  {i}: got {_show(got[i], want.dtype)} want {_show(want[i], want.dtype)}"
                     for i in where]
            raise AssertionError(f"{name}: {n} of {bad.size} elements differ\n" + "\n".join(lines))
        return
    want = np.asarray(expect.expected, np.float64)
    got64 = got.astype(np.float64).reshape(want.shape)
    tol = np.broadcast_to(np.asarray(expect.tol, np.float64), want.shape)
    nan_want = np.isnan(want)
    with np.errstate(invalid="ignore"):
        err = np.abs(got64 - want)
        same_inf = np.isinf(want) & (got64 == want)
        bad = np.where(nan_want, ~np.isnan(got64), ~((err <= tol) | same_inf))
        bad &= ~np.isposinf(tol)  # tol = inf: the ISA guarantees nothing there
    if bad.any():
        where, n = _where(bad)
        lines = [f"  {i}: got {got64[i]!r} want {want[i]!r} (tol {tol[i]:.3g})" for i in where]
        raise AssertionError(f"{name}: {n} of {bad.size} elements outside tolerance\n"
                             + "\n".join(lines))


def _isnan(a):
    if a.dtype.kind == "f" or a.dtype.name in ("bfloat16", "float8_e4m3fn", "float8_e5m2"):
        return np.isnan(a.astype(np.float64))
    return np.zeros(a.shape, bool)


def _show(v, dtype):
    v = np.asarray(v, dtype)
    bits = int(_bits(v.reshape(1))[0])
    if dtype.kind in "iu":
        return f"{int(v)} (0x{bits:x})"
    return f"{float(v.astype(np.float64))!r} (0x{bits:x})"
