"""Approximate math, min/max and half-precision fma cases.  See cases.py for
how references are chosen."""

import math
from fractions import Fraction

import numpy as np

from harness import Buf, Close, Exact, case, i32
import isa_ref as R
from operands import BF16, INF, NAN


# ---------------------------------------------------------------------------
# Approximate math, min/max, half-precision fma (9.7.3, 9.7.4)
# ---------------------------------------------------------------------------

def _ulp32(v):
    """Spacing of f32 numbers at |v| (subnormal spacing below 2^-126)."""
    v = np.abs(np.asarray(v, np.float64))
    with np.errstate(divide="ignore"):
        e = np.floor(np.log2(np.where(v > 0, v, 1.0)))
    return np.exp2(np.maximum(e, -126) - 23)


def _approx_case():
    def args(rng):
        special = [0.0, -0.0, INF, -INF, NAN, 1.0, -1.0, 0.5, 2.0, 1e-40, -1e-40, 2.0 ** -149,
                   1e30, -1e30, 128.0, -150.0, 127.99, -126.5, 3e38, 0.75, 1.5]
        tpi = 2 * np.pi
        rand = [rng.uniform(-tpi, tpi, 100), rng.uniform(-100 * np.pi, 100 * np.pi, 60),
                rng.choice([-1, 1], 100) * np.exp2(rng.uniform(-140, 126, 100)),
                rng.uniform(0.5, 2, 40), rng.uniform(-20, 20, 40)]
        x = np.concatenate([special] + rand).astype(np.float32)
        return [Buf("x", x), Buf("out", np.zeros((8, x.size), np.float32)), i32(x.size)]

    def ref(x):
        v = x["x"].astype(np.float64)
        with np.errstate(all="ignore"):
            # Corner cases follow the ISA tables: lg2(+-0) = -Inf, rsqrt(+-0) =
            # +-Inf, negative inputs of lg2/sqrt/rsqrt give NaN (Close does not
            # see the sign of a zero).
            neg = v < 0
            exact = {
                "ex2": np.exp2(v),
                "lg2": np.where(v == 0, -np.inf, np.where(neg, np.nan, np.log2(np.abs(v)))),
                "rcp": 1 / v,
                "rsqrt": np.where(v == 0, np.copysign(np.inf, v),
                                  np.where(neg, np.nan, 1 / np.sqrt(np.abs(v)))),
                "sqrt": np.where(neg, np.nan, np.sqrt(np.abs(v))),
                "sin": np.sin(v), "cos": np.cos(v), "tanh": np.tanh(v)}
            cr = exact["ex2"].astype(np.float32).astype(np.float64)
            a = np.abs(v)
            tol = {
                # 2 ulp from the correctly rounded result.
                "ex2": np.abs(cr - exact["ex2"]) + 2 * _ulp32(cr),
                # 1 ulp; inputs whose reciprocal leaves the normal range unchecked.
                "rcp": np.where((a > 2.0 ** -126) & (a < 2.0 ** 126), _ulp32(exact["rcp"]), np.inf),
                "rsqrt": 2 ** -22.9 * np.abs(exact["rsqrt"]),
                "sqrt": 2.0 ** -23 * np.abs(exact["sqrt"]),
                "lg2": np.where((v > 0.5) & (v < 2), 2.0 ** -22, 2.0 ** -22 * np.abs(exact["lg2"])),
                # No guarantee outside [-100 pi, 100 pi].
                "sin": np.where(a <= 2 * np.pi, 2 ** -20.5, np.where(a <= 100 * np.pi, 2 ** -14.7, np.inf)),
                "tanh": 2.0 ** -11 * np.abs(exact["tanh"]),
            }
            tol["cos"] = tol["sin"]
            for k in tol:  # NaN and Inf results must match exactly
                tol[k] = np.where(np.isnan(tol[k]), 0.0, tol[k])
        order = ["ex2", "lg2", "rcp", "rsqrt", "sqrt", "sin", "cos", "tanh"]
        return {"out": Close(np.stack([exact[k] for k in order]), np.stack([tol[k] for k in order]))}

    case("approx_ex2_lg2_rcp_rsqrt_sqrt_sin_cos_tanh", "math.cu", "approx", (1,), (128,), args, ref)


_approx_case()


def _minmax_case():
    """9.7.3.11-12: without .NaN a NaN operand is ignored (NaN only if both
    are); with .NaN any NaN operand gives NaN; -0.0 < +0.0."""
    def args(rng):
        pool = np.array([NAN, -NAN, INF, -INF, 0.0, -0.0, 1.0, -1.0, 1e-40, -1e-40, 3.5, -2.25],
                        np.float32)
        a, b = np.meshgrid(pool, pool)
        a = np.concatenate([a.reshape(-1), rng.normal(0, 10, 40).astype(np.float32)])
        b = np.concatenate([b.reshape(-1), rng.normal(0, 10, 40).astype(np.float32)])
        return [Buf("a", a), Buf("b", b), Buf("out", np.zeros((4, a.size), np.float32)), i32(a.size)]

    def pick(x, y, smaller):
        # -0.0 < +0.0 for the comparison.
        key = lambda v: (v, math.copysign(1, v))
        return x if (key(x) < key(y)) == smaller else y

    def ref(x):
        rows = [[], [], [], []]
        for p, q in zip(x["a"].tolist(), x["b"].tolist()):
            for k, smaller in ((0, True), (2, False)):
                if math.isnan(p) and math.isnan(q):
                    r = NAN
                elif math.isnan(p) or math.isnan(q):
                    r = q if math.isnan(p) else p
                else:
                    r = pick(p, q, smaller)
                rows[k].append(r)
                rows[k + 1].append(NAN if math.isnan(p) or math.isnan(q) else pick(p, q, smaller))
        return {"out": Exact(np.array(rows, np.float32), nan_any=True)}

    case("min_max_f32_nan_and_signed_zero", "math.cu", "minmax", (1,), (128,), args, ref)


_minmax_case()


def _fma_ref(fmt, a, b, c):
    """fma.rn: a*b + c exactly, rounded once to nearest even (9.7.4.4);
    IEEE rules for NaN, Inf and the sign of an exact zero."""
    va, vb, vc = fmt.decode(a), fmt.decode(b), fmt.decode(c)
    if any(math.isnan(v) for v in (va, vb, vc)):
        return fmt.nan_bits
    prod_inf = math.isinf(va) or math.isinf(vb)
    if prod_inf:
        if va == 0 or vb == 0:
            return fmt.nan_bits
        ps = math.copysign(1, va) * math.copysign(1, vb)
        if math.isinf(vc) and math.copysign(1, vc) != ps:
            return fmt.nan_bits
        return R.round_to(fmt, ps * INF)
    if math.isinf(vc):
        return R.round_to(fmt, vc)
    exact = Fraction(va) * Fraction(vb) + Fraction(vc)
    if exact == 0:
        prod_neg = (math.copysign(1, va) * math.copysign(1, vb)) < 0
        both_neg = prod_neg and math.copysign(1, vc) < 0 and va * vb == 0 and vc == 0
        return fmt.sign_bit if both_neg else 0
    return R.round_to(fmt, exact)


def _fma_x2_case(cid, kernel, fmt, view):
    def args(rng):
        n = 192
        finite = [bits for bits in range(1 << 16) if math.isfinite(fmt.decode(bits))]
        vals = rng.choice(finite, (3, n, 2)).astype(np.uint16)
        specials = np.array([fmt.nan_bits, fmt.inf_bits, fmt.inf_bits | fmt.sign_bit, 0,
                             fmt.sign_bit, fmt.max_bits, 1], np.uint16)
        vals[:, :40] = rng.choice(specials, (3, 40, 2))
        # a * 1 + (-a): exact cancellation, the sign of zero.
        vals[2, 40:80] = vals[0, 40:80] ^ np.uint16(fmt.sign_bit)
        vals[1, 40:80] = R.round_to(fmt, 1)
        # a * 1.5 with a's last mantissa bit set lies exactly halfway between
        # two representable values; a c far below it decides the rounding, so
        # the product and the sum must not be rounded separately.
        one = R.round_to(fmt, 1) & ~fmt.sign_bit
        vals[0, 80:120] = (one | 1) + (rng.integers(-4, 5, (40, 2)) << fmt.mbits)
        vals[1, 80:120] = R.round_to(fmt, 1.5)
        tiny = R.round_to(fmt, math.ldexp(1, fmt.emin - fmt.mbits + 4))
        vals[2, 80:120] = tiny | (rng.integers(0, 2, (40, 2)) * fmt.sign_bit)
        packed = [v[..., 0].astype(np.uint32) | (v[..., 1].astype(np.uint32) << 16) for v in vals]
        return [Buf("a", packed[0]), Buf("b", packed[1]), Buf("c", packed[2]),
                Buf("d", np.zeros(n, np.uint32)), i32(n)]

    def ref(x):
        out = []
        for a, b, c in zip(x["a"].tolist(), x["b"].tolist(), x["c"].tolist()):
            lo = _fma_ref(fmt, a & 0xFFFF, b & 0xFFFF, c & 0xFFFF)
            hi = _fma_ref(fmt, a >> 16, b >> 16, c >> 16)
            out += [lo, hi]
        return {"d": Exact(np.array(out, np.uint16).view(view), nan_any=True, view=view)}

    case(cid, "math.cu", kernel, (1,), (64,), args, ref)


_fma_x2_case("fma_rn_f16x2", "fma_f16x2", R.F16, np.float16)
_fma_x2_case("fma_rn_bf16x2", "fma_bf16x2", R.BF16, BF16)
