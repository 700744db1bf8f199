"""cvt cases.  See cases.py for how references are chosen."""

import math
from fractions import Fraction

import numpy as np

from harness import Buf, Close, Exact, case, i32
import isa_ref as R
from operands import BF16, E4M3, E5M2, INF, NAN


# ---------------------------------------------------------------------------
# cvt (9.7.9.21; conversion table and chop/extension rules 6.5.1)
# ---------------------------------------------------------------------------


def _rounding_inputs(rng, fmt, n_random=160):
    """f32 inputs that exercise rounding into fmt: specials, values at and
    around MAX_NORM, exact ties (midpoints of neighbouring fmt values) and
    their f32 neighbours, the subnormal range, f32 subnormals, randoms."""
    vals = [0.0, -0.0, INF, -INF, NAN, 1.0, -1.0, 1e-40, -1e-40, 1e30, -1e30]
    top = float(fmt.max_value)
    ulp_top = math.ldexp(1, fmt.emax - fmt.mbits)
    vals += [top, -top, top + ulp_top / 4, top + ulp_top / 2, -(top + ulp_top / 2),
             top + ulp_top, 2 * top, -2 * top]
    tiny = math.ldexp(1, fmt.emin - fmt.mbits)  # smallest subnormal
    vals += [tiny, -tiny, tiny / 2, -tiny / 2, tiny * 0.75, tiny * 1.5, tiny * 2.5,
             math.ldexp(1, fmt.emin), math.ldexp(1, fmt.emin) * 0.999]
    finite = [b for b in range(1 << (fmt.ebits + fmt.mbits)) if math.isfinite(fmt.decode(b))
              and fmt.decode(b) < fmt.max_value]
    for b in rng.choice(finite, 48, replace=False):
        lo, hi = fmt.decode(int(b)), fmt.decode(int(b) + 1)
        mid = np.float32((lo + hi) / 2)
        for s in (1, -1):
            vals += [s * float(mid), s * float(np.nextafter(mid, np.float32(np.inf))),
                     s * float(np.nextafter(mid, np.float32(-np.inf)))]
    e = rng.integers(fmt.emin - fmt.mbits - 2, fmt.emax + 2, n_random)
    vals += list((rng.uniform(1, 2, n_random) * np.exp2(e) * rng.choice([-1, 1], n_random)))
    with np.errstate(over="ignore"):  # bf16's overflow probes are beyond f32 too: Inf
        return np.array(vals, np.float32)


def _cvt_narrow_case(cid, kernel, fmt, view):
    modes = ["rn", "rz", "rm", "rp"]

    def args(rng):
        x = _rounding_inputs(rng, fmt)
        return [Buf("x", x), Buf("out", np.zeros((5, x.size), np.uint16)), i32(x.size)]

    def ref(x):
        rows = [R.round_array(fmt, x["x"], m) for m in modes]
        rows.append(R.round_array(fmt, x["x"], "rn", satfinite=True))
        return {"out": Exact(np.stack(rows).view(view), nan_any=True, view=view)}

    case(cid, "cvt.cu", kernel, (1,), (128,), args, ref, seed=20)


_cvt_narrow_case("cvt_f32_to_f16_rn_rz_rm_rp_satfinite", "cvt_f32_f16", R.F16, np.float16)
_cvt_narrow_case("cvt_f32_to_bf16_rn_rz_rm_rp_satfinite", "cvt_f32_bf16", R.BF16, BF16)


def _pair_inputs(rng, fmt):
    x = _rounding_inputs(rng, fmt)
    return x, rng.permutation(x)


def _packed(hi, lo, view):
    """16-bit pairs as stored in a .b32: element 0 is the low half."""
    return np.stack([lo, hi], axis=-1).reshape(-1).view(view)


def _cvt_x2_case():
    def args(rng):
        a, b = _pair_inputs(rng, R.F16)
        n = a.size
        return [Buf("a", a), Buf("b", b)] + [Buf(k, np.zeros(n, np.uint32)) for k in
                                             ("h_rn", "h_rz_relu", "bf_rn", "bf_sat")] + [i32(n)]

    def relu(fmt, v, mode):
        # .relu: negative results become 0; NaN stays NaN (canonical NaN).
        r = R.round_array(fmt, v, mode)
        vals = np.array([fmt.decode(int(b)) for b in r])
        return np.where(vals < 0, 0.0, vals)

    def ref(x):
        a, b = x["a"], x["b"]
        # 9.7.9.21: d[31:16] = convert(a), d[15:0] = convert(b).
        return {
            "h_rn": Exact(_packed(R.round_array(R.F16, a), R.round_array(R.F16, b), np.float16),
                          nan_any=True, view=np.float16),
            "h_rz_relu": Close(np.stack([relu(R.F16, b, "rz"), relu(R.F16, a, "rz")], -1).reshape(-1),
                               0.0, view=np.float16),
            "bf_rn": Exact(_packed(R.round_array(R.BF16, a), R.round_array(R.BF16, b), BF16),
                           nan_any=True, view=BF16),
            "bf_sat": Exact(_packed(R.round_array(R.BF16, a, satfinite=True),
                                    R.round_array(R.BF16, b, satfinite=True), BF16),
                            nan_any=True, view=BF16),
        }

    case("cvt_f32x2_to_f16x2_bf16x2", "cvt.cu", "cvt_x2", (1,), (128,), args, ref, seed=21)


_cvt_x2_case()


def _cvt_fp8x2_case():
    def args(rng):
        a, b = _pair_inputs(rng, R.E4M3)
        a2, b2 = _pair_inputs(rng, R.E5M2)
        a, b = np.concatenate([a, a2]), np.concatenate([b, b2])
        n = a.size
        return [Buf("a", a), Buf("b", b)] + [Buf(k, np.zeros(n, np.uint16)) for k in
                                             ("e4", "e4_relu", "e4_via_f16", "e5")] + [i32(n)]

    def fp8(fmt, v):
        return R.round_array(fmt, v, "rn", satfinite=True)

    def ref(x):
        a, b = x["a"], x["b"]
        vals = lambda fmt, r: np.array([fmt.decode(int(q)) for q in r])
        e4a, e4b = fp8(R.E4M3, a), fp8(R.E4M3, b)
        relu = lambda r: np.where(vals(R.E4M3, r) < 0, 0.0, vals(R.E4M3, r))
        # .f16x2 source: each half is rounded to f16 first (cvt.rn.f16x2.f32).
        via = lambda v: fp8(R.E4M3, [R.F16.decode(int(h)) for h in R.round_array(R.F16, v)])
        return {
            "e4": Exact(_packed(e4a, e4b, E4M3), nan_any=True, view=E4M3),
            "e4_relu": Close(np.stack([relu(e4b), relu(e4a)], -1).reshape(-1), 0.0, view=E4M3),
            "e4_via_f16": Exact(_packed(via(a), via(b), E4M3), nan_any=True, view=E4M3),
            "e5": Exact(_packed(fp8(R.E5M2, a), fp8(R.E5M2, b), E5M2), nan_any=True, view=E5M2),
        }

    case("cvt_f32x2_to_e4m3x2_e5m2x2_satfinite", "cvt.cu", "cvt_fp8x2", (1,), (128,), args, ref,
         seed=22)


_cvt_fp8x2_case()


def _cvt_fp8_to_f16x2_case():
    """Every e4m3 and e5m2 byte, as the high and the low byte: exact."""
    def args(rng):
        lo = np.arange(256, dtype=np.uint16)
        x = (rng.permutation(256).astype(np.uint16) << 8) | lo
        return [Buf("x", x), Buf("out", np.zeros((2, 256), np.uint32)), i32(256)]

    def ref(x):
        hi, lo = x["x"] >> 8, x["x"] & 0xFF
        conv = lambda fmt, v: R.round_array(R.F16, [fmt.decode(int(q)) for q in v])
        rows = [_packed(conv(f, hi), conv(f, lo), np.float16) for f in (R.E4M3, R.E5M2)]
        return {"out": Exact(np.stack(rows), nan_any=True, view=np.float16)}

    case("cvt_e4m3x2_e5m2x2_to_f16x2", "cvt.cu", "cvt_fp8x2_f16x2", (1,), (128,), args, ref)


_cvt_fp8_to_f16x2_case()


def _f2i(v, mode, bits, signed, wide_nan):
    """Float -> integer (9.7.9.21 Integer Notes): round, clamp to the
    destination range (Inf included); NaN gives 0, or 1 << (bits-1) for an
    .f64 source or a 64-bit destination."""
    if math.isnan(v):
        return (1 << (bits - 1)) if wide_nan else 0
    lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if math.isinf(v):
        return hi if v > 0 else lo
    q = Fraction(v)
    r = {"rni": lambda: R.round_int(abs(q), "rn", False) * (1 if q >= 0 else -1),
         "rzi": lambda: int(q),
         "rmi": lambda: math.floor(q),
         "rpi": lambda: math.ceil(q)}[mode]()
    return min(max(r, lo), hi)


def _signed32(v):
    """The low 32 bits of v as a signed integer (the kernel passes int32(v))."""
    return ((v & 0xFFFFFFFF) ^ 0x80000000) - 0x80000000


def _extend(value, bits, signed, reg_bits):
    """The chopped result placed in a wider register: sign-extended for
    signed destination formats, zero-extended otherwise (6.5.1 note 1)."""
    value &= (1 << bits) - 1
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value & ((1 << reg_bits) - 1)


_F2I = [("rni", 32, True), ("rzi", 32, True), ("rmi", 32, True), ("rpi", 32, True),
        ("rni", 32, False), ("rzi", 32, False), ("rmi", 32, False), ("rpi", 32, False),
        ("rni", 8, True), ("rzi", 8, False), ("rni", 16, True), ("rmi", 16, False),
        ("rzi", 64, True), ("rni", 64, True), ("rpi", 64, False)]


def _cvt_f2i_case():
    def args(rng):
        special = [NAN, -NAN, INF, -INF, 0.0, -0.0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999999,
                   -2.5000002, 1e-40, -1e-40, 127.5, 128.0, -128.5, -129.0, 255.5, 256.0, -1.0,
                   32767.5, -32768.5, 65535.4, 65535.6, 2147483520.0, 2147483648.0, -2147483648.0,
                   -2147483904.0, 4294967040.0, 4294967296.0, 2.0 ** 63, -(2.0 ** 63), 2.0 ** 64,
                   1e20, -1e20, 9.2233715e18, 1.8446743e19]
        rand = rng.normal(0, 1, 88) * np.exp2(rng.integers(-4, 40, 88))
        x = np.concatenate([np.array(special), rand]).astype(np.float32)
        return [Buf("x", x), Buf("out", np.zeros((16, x.size), np.uint64)), i32(x.size)]

    def ref(x):
        vals = [float(v) for v in x["x"]]
        rows = [[_extend(_f2i(v, m, b, s, b == 64), b, s, max(b, 32)) for v in vals]
                for m, b, s in _F2I]
        rows.append([_f2i(v, "rzi", 32, True, True) & 0xFFFFFFFF for v in vals])  # .f64 source
        return {"out": Exact(np.array(rows, np.uint64))}

    case("cvt_f32_to_int_rni_rzi_rmi_rpi", "cvt.cu", "cvt_f2i", (1,), (128,), args, ref)


_cvt_f2i_case()


def _cvt_i2f_case():
    def args(rng):
        special = [0, 1, -1, 16777216, 16777217, 16777218, 16777219, -16777217, -16777219,
                   2**31 - 1, -2**31, 2**31 - 64, 2**31 - 65, 2**53 + 1, 2**62 + 2**38 + 1,
                   2**63 - 1, -2**63, -(2**40) - 1, 65504, 65519, 65520, 65535, 70000, -70000,
                   2049, 2051, -2049, 0xFFFFFFFF, 0x80000001, 0x7FFFFFC0]
        rand = [int(v) for v in rng.integers(-2**62, 2**62, 40)]
        rand += [int(v) for v in rng.integers(-2**31, 2**31, 40)]
        rand += [int(v) for v in rng.integers(-70000, 70000, 20)]
        x = np.array(special + rand, np.int64)
        return [Buf("x", x), Buf("out", np.zeros((12, x.size), np.uint32)), i32(x.size)]

    def ref(x):
        v64 = [int(v) for v in x["x"]]
        s32 = [_signed32(v) for v in v64]
        u32 = [v & 0xFFFFFFFF for v in v64]
        u64 = [v & 0xFFFFFFFFFFFFFFFF for v in v64]
        rows = [[R.round_to(R.F32, v, m) for v in s32] for m in ("rn", "rz", "rm", "rp")]
        rows.append([R.round_to(R.F32, v, "rn") for v in u32])
        rows += [[R.round_to(R.F32, v, m) for v in v64] for m in ("rn", "rz", "rm", "rp")]
        rows.append([R.round_to(R.F32, v, "rn") for v in u64])
        rows.append([R.round_to(R.F16, v, "rn") for v in s32])
        rows.append([R.round_to(R.F16, v, "rz") for v in u32])
        return {"out": Exact(np.array(rows, np.uint32))}

    case("cvt_int_to_f32_f16", "cvt.cu", "cvt_i2f", (1,), (128,), args, ref)


_cvt_i2f_case()


def _cvt_int_case():
    def args(rng):
        special = [0, 1, -1, 127, 128, -128, -129, 255, 256, 32767, 32768, -32768, -32769, 65535,
                   65536, 2**31 - 1, -2**31, 2**31, 2**32 - 1, 2**32, -2**32, 2**40 + 5, -(2**40)]
        x = np.array(special + [int(v) for v in rng.integers(-2**40, 2**40, 40)]
                     + [int(v) for v in rng.integers(-300, 300, 40)], np.int64)
        return [Buf("x", x), Buf("out", np.zeros((10, x.size), np.uint32)), i32(x.size)]

    def ref(x):
        v64 = [int(v) for v in x["x"]]
        s32 = [_signed32(v) for v in v64]
        u32 = [v & 0xFFFFFFFF for v in v64]
        clamp = lambda v, lo, hi: min(max(v, lo), hi)
        rows = [
            [_extend(clamp(v, -128, 127), 8, True, 32) for v in s32],     # cvt.sat.s8.s32
            [_extend(v, 8, True, 32) for v in s32],                       # cvt.s8.s32: chop
            [_extend(clamp(v, 0, 255), 8, False, 32) for v in s32],       # cvt.sat.u8.s32
            [_extend(v, 8, False, 32) for v in s32],                      # cvt.u8.s32
            [_extend(clamp(v, -32768, 32767), 16, True, 32) for v in s32],  # cvt.sat.s16.s32
            [_extend(clamp(v, 0, 65535), 16, False, 32) for v in u32],    # cvt.sat.u16.u32
            [clamp(v, 0, 2**32 - 1) for v in s32],                        # cvt.sat.u32.s32
            [clamp(v, 0, 2**31 - 1) for v in u32],                        # cvt.sat.s32.u32
            [clamp(v, -2**31, 2**31 - 1) & 0xFFFFFFFF for v in v64],      # cvt.sat.s32.s64
            [clamp(v, 0, 2**32 - 1) for v in v64],                        # cvt.sat.u32.s64
        ]
        return {"out": Exact(np.array(rows, np.uint32))}

    case("cvt_int_narrowing_sat_and_chop", "cvt.cu", "cvt_int", (1,), (128,), args, ref)


_cvt_int_case()


def _cvt_round_f32_case():
    def args(rng):
        special = [NAN, INF, -INF, 0.0, -0.0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997,
                   -0.4, 1e-40, -1e-40, 8388607.5, -8388607.5, 8388608.0, 1e30, -1e30]
        rand = rng.normal(0, 1, 80) * np.exp2(rng.integers(-3, 26, 80))
        x = np.concatenate([np.array(special), rand]).astype(np.float32)
        return [Buf("x", x), Buf("out", np.zeros((4, x.size), np.float32)), i32(x.size)]

    def ref(x):
        v = x["x"].astype(np.float64)
        rows = [np.array([float(R.round_int(abs(Fraction(f)), "rn", False)) * math.copysign(1, f)
                          if math.isfinite(f) else f for f in v]),
                np.trunc(v), np.floor(v), np.ceil(v)]
        # Value comparison: the ISA does not say which sign a zero result has.
        return {"out": Close(np.stack(rows), 0.0)}

    case("cvt_rni_rzi_rmi_rpi_f32_f32", "cvt.cu", "cvt_round_f32", (1,), (128,), args, ref)


_cvt_round_f32_case()
