"""Operand generators, dtypes and reference helpers the fidelity case
modules share."""

import ml_dtypes
import numpy as np

BF16 = ml_dtypes.bfloat16
E4M3 = ml_dtypes.float8_e4m3fn
E5M2 = ml_dtypes.float8_e5m2
NAN, INF = float("nan"), float("inf")
SENTINEL = 0xA5A5A5A5   # fills outputs a kernel must not write


def f16_operand(rng, shape):
    """f16 values in [-2, 2] without subnormals (their handling is unspecified)."""
    v = rng.uniform(-2, 2, shape).astype(np.float16)
    v[np.abs(v) < np.float16(2.0 ** -14)] = 0
    return v


def small_operand(rng, shape, dtype):
    """Values from {0, +-0.5, +-1, +-1.5, +-2}: every partial sum of K <= 64
    products is a multiple of 1/4 below 2^9, exact in 11-bit precision, so the
    sum is exact whatever the order or rounding of a half-precision-or-better
    accumulator."""
    return rng.choice(np.array([0, 0.5, 1, 1.5, 2, -0.5, -1, -1.5, -2]), shape).astype(dtype)


def f32_acc_tol(a, b, c, k):
    """9.7.15.5.2: products exact, accumulation in at least single precision,
    order unspecified: at most k+1 roundings of partial sums bounded by
    sum|a*b| + |c|."""
    mag = np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64)).T + np.abs(c)
    return (k + 1) * 2.0 ** -24 * mag


def gemm(a, b, c, sd, sa=1, sb=1):
    a = a.astype(np.float64) * sa
    b = b.astype(np.float64) * sb
    return a @ b.T + (c.astype(np.float64) if sd else 0)


def e4m3_normals(rng, shape):
    """Random e4m3 normals with exponent field 1..14 (no subnormals: their
    handling is unspecified; no NaN)."""
    sign = rng.integers(0, 2, shape) << 7
    exp = rng.integers(1, 15, shape) << 3
    man = rng.integers(0, 8, shape)
    return (sign | exp | man).astype(np.uint8).view(E4M3)
