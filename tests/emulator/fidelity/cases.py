"""The fidelity case table: for every kernel, its launch, its inputs (seeded
numpy) and a reference that follows the PTX ISA.

Exact (bitwise) where the ISA defines the result: integer MMA, data movement,
conversions, warp collectives.  Close where it leaves freedom: floating-point
MMA accumulation order/rounding (9.7.15.5.2 "unspecified") and the .approx
functions (their stated error bounds, 9.7.3).  Where an MMA's inputs are chosen
so that every partial sum is exactly representable in the accumulation
precision the ISA guarantees, the result is exact in any order and is
compared exactly.
"""

import math
from fractions import Fraction

import ml_dtypes
import numpy as np

from harness import Buf, Case, Close, Exact, Holds, TMap, i32, u32
import isa_ref as R

CASES = []


def case(*args, **kw):
    CASES.append(Case(*args, **kw))


# ---------------------------------------------------------------------------
# wgmma.mma_async (9.7.15)
# ---------------------------------------------------------------------------
# Each kernel multiplies A (64 x K) by B (N x K)^T with both operands in
# shared memory laid out by the kernel itself; D = sa*A @ (sb*B)^T + (sd ? C : 0).

def _f16_operand(rng, shape):
    """f16 values in [-2, 2] without subnormals (their handling is unspecified)."""
    v = rng.uniform(-2, 2, shape).astype(np.float16)
    v[np.abs(v) < np.float16(2.0 ** -14)] = 0
    return v


def _small_operand(rng, shape, dtype):
    """Values from {0, +-0.5, +-1, +-1.5, +-2}: every partial sum of K <= 64
    products is a multiple of 1/4 below 2^9, exact in 11-bit precision, so the
    sum is exact whatever the order or rounding of a half-precision-or-better
    accumulator."""
    return rng.choice(np.array([0, 0.5, 1, 1.5, 2, -0.5, -1, -1.5, -2]), shape).astype(dtype)


def _f32_acc_tol(a, b, c, k):
    """9.7.15.5.2: products exact, accumulation in at least single precision,
    order unspecified: at most k+1 roundings of partial sums bounded by
    sum|a*b| + |c|."""
    mag = np.abs(a.astype(np.float64)) @ np.abs(b.astype(np.float64)).T + np.abs(c)
    return (k + 1) * 2.0 ** -24 * mag


def _gemm(a, b, c, sd, sa=1, sb=1):
    a = a.astype(np.float64) * sa
    b = b.astype(np.float64) * sb
    return a @ b.T + (c.astype(np.float64) if sd else 0)


def wgmma_f32_case(cid, kernel, n, k, dtype=np.float16, sd=0, sa=1, sb=1, shared=None,
                   src="wgmma_kmajor.cu", seed=1):
    def args(rng):
        a = _f16_operand(rng, (64, k)).astype(dtype)
        b = _f16_operand(rng, (n, k)).astype(dtype)
        c = rng.uniform(-4, 4, (64, n)).astype(np.float32)
        d = np.full((64, n), np.nan, np.float32)
        return [Buf("A", a), Buf("B", b), Buf("C", c), Buf("D", d), i32(sd)]

    def ref(x):
        a, b, c = x["A"], x["B"], x["C"]
        want = _gemm(a, b, c, sd, sa, sb)
        return {"D": Close(want, _f32_acc_tol(a, b, c if sd else 0 * c, k))}

    case(cid, src, kernel, (1,), (128,), args, ref, shared=shared or 1024 + 8192 + 16384,
         seed=seed)


wgmma_f32_case("wgmma_f16_k_none", "wg_f16_k_none", 64, 16)
wgmma_f32_case("wgmma_f16_k_sw32", "wg_f16_k_sw32", 64, 16)
wgmma_f32_case("wgmma_f16_k_sw64", "wg_f16_k_sw64", 64, 32)
wgmma_f32_case("wgmma_f16_k_sw128", "wg_f16_k_sw128", 64, 16)
wgmma_f32_case("wgmma_f16_kloop_sw128", "wg_f16_kloop_sw128", 64, 64)
wgmma_f32_case("wgmma_f16_scale_d1", "wg_f16_k_sw128", 64, 16, sd=1, seed=2)
wgmma_f32_case("wgmma_f16_kloop_scale_d1", "wg_f16_kloop_sw128", 64, 64, sd=1, seed=3)
wgmma_f32_case("wgmma_f16_neg_a", "wg_f16_neg_a", 64, 16, sa=-1, sd=1)
wgmma_f32_case("wgmma_f16_neg_b", "wg_f16_neg_b", 64, 16, sb=-1)
wgmma_f32_case("wgmma_f16_n8", "wg_f16_n8", 8, 16)
wgmma_f32_case("wgmma_f16_n128", "wg_f16_n128", 128, 16)
wgmma_f32_case("wgmma_f16_n256", "wg_f16_n256", 256, 32)


def _wgmma_f16acc_case():
    def args(rng):
        a = _small_operand(rng, (64, 16), np.float16)
        b = _small_operand(rng, (64, 16), np.float16)
        c = _small_operand(rng, (64, 64), np.float16)
        return [Buf("A", a), Buf("B", b), Buf("C", c),
                Buf("D", np.full((64, 64), np.nan, np.float16)), i32(1)]

    def ref(x):
        return {"D": Exact(_gemm(x["A"], x["B"], x["C"], 1).astype(np.float16))}

    case("wgmma_f16_acc_f16", "wgmma_kmajor.cu", "wg_f16_acc_f16", (1,), (128,), args, ref,
         shared=1024 + 8192 + 8192)


_wgmma_f16acc_case()


def _wgmma_groups_case():
    def args(rng):
        return [Buf("A", _f16_operand(rng, (64, 16))), Buf("B0", _f16_operand(rng, (64, 16))),
                Buf("B1", _f16_operand(rng, (64, 16))),
                Buf("D0", np.full((64, 64), np.nan, np.float32)),
                Buf("D1", np.full((64, 64), np.nan, np.float32))]

    def ref(x):
        z = np.zeros((64, 64))
        return {d: Close(_gemm(x["A"], x[b], z, 0), _f32_acc_tol(x["A"], x[b], z, 16))
                for d, b in (("D0", "B0"), ("D1", "B1"))}

    case("wgmma_two_groups", "wgmma_kmajor.cu", "wg_groups", (1,), (128,), args, ref,
         shared=1024 + 3 * 8192)


_wgmma_groups_case()

_BF16 = ml_dtypes.bfloat16
_E4M3 = ml_dtypes.float8_e4m3fn
_E5M2 = ml_dtypes.float8_e5m2

for _dt, _name in ((np.float16, "f16"), (_BF16, "bf16")):
    for _swz in ("sw128", "sw64", "none"):
        wgmma_f32_case(f"wgmma_{_name}_mn_{_swz}", f"wg_{_name}_mn_{_swz}", 128, 16, dtype=_dt,
                       src="wgmma_mn.cu", sd=1 if _swz == "sw64" else 0, seed=4)
wgmma_f32_case("wgmma_f16_kmajor_a_nmajor_b_sw128", "wg_f16_kmn_sw128", 128, 32, src="wgmma_mn.cu")
wgmma_f32_case("wgmma_bf16_k_sw128", "wg_bf16_k_sw128", 128, 64, dtype=_BF16,
               src="wgmma_types.cu")
wgmma_f32_case("wgmma_rs_f16_nmajor_b", "wg_rs_f16", 64, 32, src="wgmma_types.cu", sd=1, seed=5)


def wgmma_fp8_case(cid, kernel, k, adt, bdt, sa=1, sb=1, sd=0):
    """fp8 inputs from the small value set: exact under the ISA's 'higher than
    half precision' f32 accumulation for fp8 (9.7.15.5.2 note)."""
    def args(rng):
        a = _small_operand(rng, (64, k), adt)
        b = _small_operand(rng, (64, k), bdt)
        c = _small_operand(rng, (64, 64), np.float32)
        return [Buf("A", a), Buf("B", b), Buf("C", c),
                Buf("D", np.full((64, 64), np.nan, np.float32)), i32(sd)]

    def ref(x):
        return {"D": Exact(_gemm(x["A"], x["B"], x["C"], sd, sa, sb).astype(np.float32))}

    case(cid, "wgmma_types.cu", kernel, (1,), (128,), args, ref, shared=1024 + 8192 + 8192)


wgmma_fp8_case("wgmma_e4m3_k_sw128", "wg_e4m3_k_sw128", 64, _E4M3, _E4M3)
wgmma_fp8_case("wgmma_e5m2_k_sw64", "wg_e5m2_k_sw64", 64, _E5M2, _E5M2, sd=1)
wgmma_fp8_case("wgmma_e4m3_e5m2_neg_a", "wg_e4m3_e5m2_k_sw32", 32, _E4M3, _E5M2, sa=-1)
wgmma_fp8_case("wgmma_rs_e4m3_neg_b", "wg_rs_e4m3", 64, _E4M3, _E4M3, sb=-1, sd=1)


def _wgmma_s8_wrap_case():
    """.s32 accumulation wraps without .satfinite (9.7.15.5.2)."""
    def args(rng):
        a = rng.integers(-128, 128, (64, 32), dtype=np.int8)
        b = rng.integers(-128, 128, (64, 32), dtype=np.int8)
        c = rng.integers(-2**31, 2**31, (64, 64), dtype=np.int64).astype(np.int32)
        c[:8] = 2**31 - 1000  # rows 0-7 overflow for any positive dot product
        return [Buf("A", a), Buf("B", b), Buf("C", c),
                Buf("D", np.zeros((64, 64), np.int32)), i32(1)]

    def ref(x):
        exact = x["C"].astype(np.int64) + x["A"].astype(np.int64) @ x["B"].astype(np.int64).T
        return {"D": Exact((exact & 0xFFFFFFFF).astype(np.uint32).view(np.int32))}

    case("wgmma_s8_wrap", "wgmma_types.cu", "wg_s8_k_none", (1,), (128,), args, ref,
         shared=1024 + 8192)


def _wgmma_s8_sat_case():
    """.satfinite clamps to [INT32_MIN, INT32_MAX].  Rows that overflow have
    products of one sign only, so clamping each partial sum or the final sum
    gives the same answer."""
    def args(rng):
        a = rng.integers(-128, 128, (64, 32), dtype=np.int8)
        b = rng.integers(0, 128, (64, 32), dtype=np.int8)
        a[:16] = np.abs(a[:16].astype(np.int16)).clip(0, 127)    # rows 0-15: products >= 0
        a[16:32] = -np.abs(a[16:32].astype(np.int16)).clip(0, 127)  # rows 16-31: <= 0
        c = rng.integers(-10**6, 10**6, (64, 64)).astype(np.int32)
        c[:16] = 2**31 - 1 - rng.integers(0, 300000, (16, 64))
        c[16:32] = -2**31 + rng.integers(0, 300000, (16, 64))
        return [Buf("A", a), Buf("B", b), Buf("C", c),
                Buf("D", np.zeros((64, 64), np.int32)), i32(1)]

    def ref(x):
        exact = x["C"].astype(np.int64) + x["A"].astype(np.int64) @ x["B"].astype(np.int64).T
        return {"D": Exact(exact.clip(-2**31, 2**31 - 1).astype(np.int32))}

    case("wgmma_s8_satfinite", "wgmma_types.cu", "wg_s8_sat_k_sw128", (1,), (128,), args, ref,
         shared=1024 + 16384)


_wgmma_s8_wrap_case()
_wgmma_s8_sat_case()


# ---------------------------------------------------------------------------
# mma.sync (9.7.14.5.14) and ldmatrix / stmatrix (9.7.14.5.15-16)
# ---------------------------------------------------------------------------

def _e4m3_normals(rng, shape):
    """Random e4m3 normals with exponent field 1..14 (no subnormals: their
    handling is unspecified; no NaN)."""
    sign = rng.integers(0, 2, shape) << 7
    exp = rng.integers(1, 15, shape) << 3
    man = rng.integers(0, 8, shape)
    return (sign | exp | man).astype(np.uint8).view(_E4M3)


def mma_float_case(cid, kernel, k, make):
    def args(rng):
        a, b = make(rng, (16, k)), make(rng, (8, k))
        c = rng.uniform(-4, 4, (16, 8)).astype(np.float32)
        return [Buf("A", a), Buf("Bt", b), Buf("C", c), Buf("D", np.full((16, 8), np.nan, np.float32))]

    def ref(x):
        return {"D": Close(_gemm(x["A"], x["Bt"], x["C"], 1),
                           _f32_acc_tol(x["A"], x["Bt"], x["C"], k))}

    case(cid, "mma_sync.cu", kernel, (1,), (32,), args, ref)


mma_float_case("mma_m16n8k16_f16", "mma_f16_f32", 16, _f16_operand)
mma_float_case("mma_m16n8k16_bf16", "mma_bf16_f32", 16,
               lambda rng, s: rng.uniform(-2, 2, s).astype(_BF16))
mma_float_case("mma_m16n8k32_e4m3", "mma_e4m3_f32", 32, _e4m3_normals)


def mma_s8_case(cid, kernel, saturate):
    def args(rng):
        a = rng.integers(-128, 128, (16, 32), dtype=np.int8)
        b = rng.integers(-128, 128, (8, 32), dtype=np.int8)
        c = rng.integers(-2**31, 2**31, (16, 8), dtype=np.int64).astype(np.int32)
        if saturate:  # rows 0-3 only overflow upwards, rows 4-7 only downwards
            a[:4] = np.abs(a[:4].astype(np.int16)).clip(0, 127)
            a[4:8] = -np.abs(a[4:8].astype(np.int16)).clip(0, 127)
            b[:] = np.abs(b.astype(np.int16)).clip(0, 127)
            c[:4], c[4:8] = 2**31 - 5000, -2**31 + 5000
            c[8:] //= 4096
        else:
            c[:4] = 2**31 - 5000
        return [Buf("A", a), Buf("Bt", b), Buf("C", c), Buf("D", np.zeros((16, 8), np.int32))]

    def ref(x):
        exact = x["C"].astype(np.int64) + x["A"].astype(np.int64) @ x["Bt"].astype(np.int64).T
        if saturate:
            return {"D": Exact(exact.clip(-2**31, 2**31 - 1).astype(np.int32))}
        return {"D": Exact((exact & 0xFFFFFFFF).astype(np.uint32).view(np.int32))}

    case(cid, "mma_sync.cu", kernel, (1,), (32,), args, ref)


mma_s8_case("mma_m16n8k32_s8_wrap", "mma_s8_s32", False)
mma_s8_case("mma_m16n8k32_s8_satfinite", "mma_s8_s32_satfinite", True)


def ldmatrix_case(num, trans):
    kernel = f"ldmatrix_x{num}" + ("_trans" if trans else "")

    def args(rng):
        src = rng.integers(0, 1 << 16, 64 * 8, dtype=np.uint16)
        rows = rng.permutation(64)[:32].astype(np.int32)
        return [Buf("src", src), Buf("rows", rows), Buf("out", np.full(128, 0xDEADBEEF, np.uint32))]

    def ref(x):
        slots, rows = x["src"].reshape(64, 8), x["rows"]
        out = np.zeros((32, 4), np.uint32)
        for t in range(32):
            for j in range(num):
                if trans:
                    lo = slots[rows[8 * j + 2 * (t % 4)], t // 4]
                    hi = slots[rows[8 * j + 2 * (t % 4) + 1], t // 4]
                else:
                    lo = slots[rows[8 * j + t // 4], 2 * (t % 4)]
                    hi = slots[rows[8 * j + t // 4], 2 * (t % 4) + 1]
                out[t, j] = int(lo) | (int(hi) << 16)
        return {"out": Exact(out.reshape(-1))}

    case(kernel, "ldst_matrix.cu", kernel, (1,), (32,), args, ref, seed=num)


def stmatrix_case(num, trans):
    kernel = f"stmatrix_x{num}" + ("_trans" if trans else "")

    def args(rng):
        src = rng.integers(0, 1 << 16, 64 * 8, dtype=np.uint16)
        rows = rng.permutation(64)[:32].astype(np.int32)
        vals = rng.integers(0, 1 << 32, 128, dtype=np.uint64).astype(np.uint32)
        return [Buf("src", src), Buf("rows", rows), Buf("vals", vals),
                Buf("dst", np.zeros(64 * 8, np.uint16))]

    def ref(x):
        slots, rows, vals = x["src"].reshape(64, 8).copy(), x["rows"], x["vals"].reshape(32, 4)
        for t in range(32):
            for j in range(num):
                lo, hi = int(vals[t, j]) & 0xFFFF, int(vals[t, j]) >> 16
                if trans:
                    slots[rows[8 * j + 2 * (t % 4)], t // 4] = lo
                    slots[rows[8 * j + 2 * (t % 4) + 1], t // 4] = hi
                else:
                    slots[rows[8 * j + t // 4], 2 * (t % 4)] = lo
                    slots[rows[8 * j + t // 4], 2 * (t % 4) + 1] = hi
        return {"dst": Exact(slots.reshape(-1))}

    case(kernel, "ldst_matrix.cu", kernel, (1,), (32,), args, ref, seed=10 + num)


for _num in (1, 2, 4):
    for _trans in (False, True):
        ldmatrix_case(_num, _trans)
for _num, _trans in ((1, False), (2, False), (4, False), (1, True), (4, True)):
    stmatrix_case(_num, _trans)


# ---------------------------------------------------------------------------
# TMA: cp.async.bulk.tensor and cp.async.bulk (9.7.9.25.4-6, tensors 5.5)
# ---------------------------------------------------------------------------

def _tensor_data(rng, dtype, nbytes):
    """Random finite values (floats) or random integers filling nbytes."""
    n = nbytes // np.dtype(dtype).itemsize
    if np.dtype(dtype).kind == "f":
        return rng.normal(0, 4, n).astype(dtype)
    info = np.iinfo(dtype)
    return rng.integers(info.min, info.max, n, endpoint=True, dtype=dtype)


def _tensor_bytes(dims, strides, esize):
    return (strides[-1] * dims[-1]) if strides else dims[0] * esize


def tma_load_case(cid, dtype, dims, strides, box, coords, swizzle=0, elem_strides=None,
                  oob_nan=False, kernel=None):
    rank = len(dims)
    esize = np.dtype(dtype).itemsize
    counts = [-(-box[d] // (elem_strides or [1] * rank)[d]) for d in range(rank)]
    nbytes = int(np.prod(counts)) * esize
    kernel = kernel or f"tma_load_{rank}d"

    def args(rng):
        t = _tensor_data(rng, dtype, _tensor_bytes(dims, strides, esize))
        c = list(coords) + [0] * (5 - rank)
        tail = [i32(v) for v in c] if kernel != "tma_load_2d_cta" else [i32(c[0]), i32(c[1])]
        return [TMap("T", dtype, dims, strides, box, swizzle, elem_strides, oob_nan),
                Buf("out", np.full(nbytes, 0xAB, np.uint8)), *tail, i32(nbytes),
                Buf("T", t, param=False)]

    def ref(x):
        values, inside = R.tensor_box(x["T"], esize, dims, strides, coords, box, elem_strides)
        if oob_nan:
            # 5.5.3.3: OOB-NaN fill; the NaN's bit pattern is not specified.
            want = values.view(dtype).astype(np.float64)
            want[~inside] = np.nan
            return {"out": Close(want, 0.0, view=dtype)}
        return {"out": Exact(R.swizzle_image(values, swizzle))}

    case(cid, "tma.cu", kernel, (1,), (128,), args, ref, shared=1024 + nbytes)


# Boxes partly outside the tensor (negative coordinates and past the end).
tma_load_case("tma_1d_negative", np.float32, [100], [], [32], [-8])
tma_load_case("tma_1d_past_end", np.float32, [100], [], [32], [80])
tma_load_case("tma_2d_oob", np.float16, [40, 30], [96], [16, 8], [-4, 25])
tma_load_case("tma_2d_shared_cta", np.float16, [40, 30], [96], [16, 8], [20, -3],
              kernel="tma_load_2d_cta")
tma_load_case("tma_3d_oob", np.uint16, [24, 10, 6], [64, 768], [8, 4, 4], [20, -2, 3])
tma_load_case("tma_4d_oob", np.float32, [8, 5, 4, 3], [32, 160, 640], [4, 4, 2, 2], [6, 3, -1, 2])
tma_load_case("tma_5d_oob", np.uint8, [32, 3, 4, 3, 2], [32, 96, 384, 1152],
              [16, 2, 2, 2, 2], [24, 2, 3, -1, 1])
# Swizzled boxes whose inner extent is the swizzle span.
tma_load_case("tma_2d_sw32", np.float16, [40, 24], [80], [16, 16], [8, 4], swizzle=32)
tma_load_case("tma_2d_sw64_oob", np.uint16, [64, 24], [128], [32, 16], [16, -3], swizzle=64)
tma_load_case("tma_2d_sw128_oob", np.float16, [80, 40], [160], [64, 16], [24, 30], swizzle=128)
tma_load_case("tma_2d_sw128_f32", np.float32, [48, 20], [192], [32, 8], [0, 4], swizzle=128)
tma_load_case("tma_3d_sw128", np.uint8, [128, 6, 3], [128, 768], [128, 4, 2], [0, 3, 1],
              swizzle=128)
# Traversal stride 2 along dim 1: ceil(8/2) = 4 rows, every other one (5.5.3.2).
tma_load_case("tma_2d_elem_stride", np.float32, [32, 20], [128], [8, 8], [4, 10],
              elem_strides=[1, 2])
# A 64 KB box: dynamic shared memory above 48 KB needs cuFuncSetAttribute.
tma_load_case("tma_2d_64KB_box", np.uint8, [300, 280], [304], [256, 256], [60, -16])
tma_load_case("tma_2d_oob_nan_fill", np.float32, [20, 10], [80], [8, 8], [16, 6], oob_nan=True)


def _tma_phases_case():
    dims, strides, box, iters = [60, 8], [128], [8, 8], 8
    nbytes = 8 * 8 * 2

    def args(rng):
        t = _tensor_data(rng, np.float16, 128 * 8)
        return [TMap("T", np.float16, dims, strides, box), Buf("out", np.zeros(iters * nbytes, np.uint8)),
                i32(iters), i32(nbytes), Buf("T", t, param=False)]

    def ref(x):
        boxes = [R.tensor_box(x["T"], 2, dims, strides, [8 * i, 0], box)[0] for i in range(iters)]
        return {"out": Exact(np.concatenate([b.reshape(-1).view(np.uint8) for b in boxes]))}

    case("tma_mbarrier_phases", "tma.cu", "tma_phases", (1,), (128,), args, ref,
         shared=1024 + nbytes)


_tma_phases_case()


def tma_store_case(cid, dtype, dims, strides, box, coords, swizzle=0):
    """5.4/9.7.9.25.5.2: a store writes only the box elements inside the
    tensor; coordinates are non-negative (9.7.9.25.5.1)."""
    esize = np.dtype(dtype).itemsize
    nbytes = int(np.prod(box)) * esize

    def args(rng):
        t = _tensor_data(rng, dtype, _tensor_bytes(dims, strides, esize))
        box_vals = _tensor_data(rng, dtype, nbytes)
        return [TMap("T", dtype, dims, strides, box, swizzle),
                Buf("image", R.swizzle_image(box_vals, swizzle)), i32(coords[0]), i32(coords[1]),
                i32(nbytes), Buf("T", t, param=False), Buf("box", box_vals, param=False)]

    def ref(x):
        want = x["T"].copy().view(np.uint8)
        vals = x["box"].view(np.uint8).reshape(box[1], box[0] * esize)
        for j1 in range(box[1]):
            for j0 in range(box[0]):
                c0, c1 = coords[0] + j0, coords[1] + j1
                if c0 < dims[0] and c1 < dims[1]:
                    at = c1 * strides[0] + c0 * esize
                    want[at:at + esize] = vals[j1, j0 * esize:(j0 + 1) * esize]
        return {"T": Exact(want.view(dtype))}

    case(cid, "tma.cu", "tma_store_2d", (1,), (128,), args, ref, shared=1024 + nbytes)


tma_store_case("tma_store_2d_oob", np.float32, [20, 12], [96], [8, 8], [16, 8])
tma_store_case("tma_store_2d_sw128_oob", np.float16, [72, 20], [160], [64, 8], [8, 16],
               swizzle=128)


def _bulk_copy_case():
    def args(rng):
        src = rng.integers(0, 256, 2048, dtype=np.uint8)
        return [Buf("src", src), Buf("out", np.full(2048, 0xAB, np.uint8)),
                Buf("dst", np.full(512, 0xCD, np.uint8))]

    def ref(x):
        src = x["src"]
        smem = np.zeros(2048, np.uint8)
        smem[0:48] = src[0:48]
        smem[256:512] = src[64:320]
        smem[1024:1536] = src[1024:1536]
        dst = np.full(512, 0xCD, np.uint8)
        dst[16:272] = smem[256:512]
        return {"out": Exact(smem), "dst": Exact(dst)}

    case("bulk_copy_g2s_s2g", "tma.cu", "bulk_copy", (1,), (128,), args, ref, shared=1024 + 2048)


_bulk_copy_case()


# ---------------------------------------------------------------------------
# cvt (9.7.9.21; conversion table and chop/extension rules 6.5.1)
# ---------------------------------------------------------------------------
_NAN, _INF = float("nan"), float("inf")


def _rounding_inputs(rng, fmt, n_random=160):
    """f32 inputs that exercise rounding into fmt: specials, values at and
    around MAX_NORM, exact ties (midpoints of neighbouring fmt values) and
    their f32 neighbours, the subnormal range, f32 subnormals, randoms."""
    vals = [0.0, -0.0, _INF, -_INF, _NAN, 1.0, -1.0, 1e-40, -1e-40, 1e30, -1e30]
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
_cvt_narrow_case("cvt_f32_to_bf16_rn_rz_rm_rp_satfinite", "cvt_f32_bf16", R.BF16, _BF16)


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
            "bf_rn": Exact(_packed(R.round_array(R.BF16, a), R.round_array(R.BF16, b), _BF16),
                           nan_any=True, view=_BF16),
            "bf_sat": Exact(_packed(R.round_array(R.BF16, a, satfinite=True),
                                    R.round_array(R.BF16, b, satfinite=True), _BF16),
                            nan_any=True, view=_BF16),
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
            "e4": Exact(_packed(e4a, e4b, _E4M3), nan_any=True, view=_E4M3),
            "e4_relu": Close(np.stack([relu(e4b), relu(e4a)], -1).reshape(-1), 0.0, view=_E4M3),
            "e4_via_f16": Exact(_packed(via(a), via(b), _E4M3), nan_any=True, view=_E4M3),
            "e5": Exact(_packed(fp8(R.E5M2, a), fp8(R.E5M2, b), _E5M2), nan_any=True, view=_E5M2),
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
        special = [_NAN, -_NAN, _INF, -_INF, 0.0, -0.0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4999999,
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
        special = [_NAN, _INF, -_INF, 0.0, -0.0, 0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 0.49999997,
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


# ---------------------------------------------------------------------------
# Warp collectives (shfl.sync 9.7.9.6; vote/match/redux/elect 9.7.13.9-14)
# ---------------------------------------------------------------------------
_SENTINEL = 0xA5A5A5A5


def _lanes_in(mask):
    return [lane for lane in range(32) if (mask >> lane) & 1]


def shfl_case(cid, mode, c, mask=0xFFFFFFFF, b=None):
    """Two warps; b is a constant, or None for a random b per lane with junk
    above bits [4:0] (which must be ignored).  With a partial membermask, idx
    sources are drawn from the mask: reading a lane outside it is undefined."""
    def args(rng):
        val = rng.integers(0, 1 << 32, 64, dtype=np.uint64).astype(np.uint32)
        if b is not None:
            bb = np.full(64, b, np.uint32)
        elif mode == "idx" and mask != 0xFFFFFFFF:
            bb = rng.choice(_lanes_in(mask), 64) + 32 * rng.integers(0, 2, 64)
        else:
            bb = rng.integers(0, 64, 64)
        return [Buf("val", val), Buf("b", bb.astype(np.uint32)), u32(c), u32(mask),
                Buf("d", np.full(64, _SENTINEL, np.uint32)), Buf("p", np.full(64, _SENTINEL, np.uint32))]

    def ref(x):
        d = np.full(64, _SENTINEL, np.uint32)
        p = np.full(64, _SENTINEL, np.uint32)
        cval, seg = c & 31, (c >> 8) & 31
        for t in range(64):
            lane, base = t % 32, t - t % 32
            if not (mask >> lane) & 1:
                continue
            bval = int(x["b"][t]) & 31
            max_lane = (lane & seg) | (cval & ~seg & 31)
            min_lane = lane & seg
            j = {"up": lane - bval, "down": lane + bval, "bfly": lane ^ bval,
                 "idx": min_lane | (bval & ~seg & 31)}[mode]
            ok = j >= max_lane if mode == "up" else j <= max_lane
            assert not ok or (mask >> j) & 1, "case would read a lane outside membermask"
            d[t] = x["val"][base + (j if ok else lane)]
            p[t] = int(ok)
        return {"d": Exact(d), "p": Exact(p)}

    case(cid, "warp.cu", f"shfl_{mode}", (1,), (64,), args, ref, seed=len(CASES))


shfl_case("shfl_up_width8", "up", (32 - 8) << 8, b=3)
shfl_case("shfl_up_clamp3", "up", 0x0003, b=2)
shfl_case("shfl_down_width16", "down", ((32 - 16) << 8) | 0x1F, b=5)
shfl_case("shfl_down_b33", "down", 0x1F, b=33)
shfl_case("shfl_bfly_per_lane_b", "bfly", 0x1F)
shfl_case("shfl_bfly_half_warp_mask", "bfly", ((32 - 16) << 8) | 0x1F, mask=0x0000FFFF, b=None)
shfl_case("shfl_idx_width8", "idx", ((32 - 8) << 8) | 0x1F)
shfl_case("shfl_idx_odd_segmask_clamp", "idx", 0x0C05)
shfl_case("shfl_idx_partial_mask", "idx", 0x1F, mask=0xF0F0F0F0)


def vote_case(cid, mask, all_true=False):
    def args(rng):
        pred = np.ones(64, np.int32) if all_true else rng.integers(0, 2, 64).astype(np.int32)
        pred[32:40] = 1  # warp 1's first lanes agree, so some reductions are true
        return [Buf("pred", pred), u32(mask), Buf("out", np.full(256, _SENTINEL, np.uint32))]

    def ref(x):
        out = np.full((64, 4), _SENTINEL, np.uint32)
        for w in range(2):
            lanes = _lanes_in(mask)
            vals = [bool(x["pred"][32 * w + lane]) for lane in lanes]
            ballot = sum(1 << lane for lane, v in zip(lanes, vals) if v)
            for lane in lanes:
                out[32 * w + lane] = [all(vals), any(vals), len(set(vals)) == 1, ballot]
        return {"out": Exact(out.reshape(-1))}

    case(cid, "warp.cu", "vote", (1,), (64,), args, ref, seed=len(CASES))


vote_case("vote_full_mask", 0xFFFFFFFF)
vote_case("vote_partial_mask", 0x0F0F00FF)
vote_case("vote_partial_mask_uniform", 0x00FF00FF, all_true=True)


def redux_case(cid, mask, small=False):
    def args(rng):
        val = (rng.integers(-50, 50, 64) if small else
               rng.integers(0, 1 << 32, 64, dtype=np.uint64)).astype(np.int64).astype(np.uint32)
        return [Buf("val", val), u32(mask), Buf("out", np.full(64 * 8, _SENTINEL, np.uint32))]

    def ref(x):
        out = np.full((64, 8), _SENTINEL, np.uint32)
        for w in range(2):
            lanes = _lanes_in(mask)
            u = [int(x["val"][32 * w + lane]) for lane in lanes]
            s = [v - (1 << 32) if v >> 31 else v for v in u]
            r = [sum(u) & 0xFFFFFFFF, min(u), max(u), min(s) & 0xFFFFFFFF, max(s) & 0xFFFFFFFF,
                 np.bitwise_and.reduce(u), np.bitwise_or.reduce(u), np.bitwise_xor.reduce(u)]
            for lane in lanes:
                out[32 * w + lane] = r
        return {"out": Exact(out.reshape(-1))}

    case(cid, "warp.cu", "redux", (1,), (64,), args, ref, seed=len(CASES))


redux_case("redux_full_mask", 0xFFFFFFFF)
redux_case("redux_partial_mask_signed", 0x3C3C3C3C, small=True)


def match_case(cid, mask, uniform=False):
    def args(rng):
        k = rng.integers(0, 1 if uniform else 4, 64).astype(np.uint64)
        v32 = (k * 0x01010101).astype(np.uint32)
        # Equal low words, different high words for some lanes: .b64 compares all 64 bits.
        v64 = (k * 0x00010001) | (rng.integers(0, 1 if uniform else 2, 64).astype(np.uint64) << 40)
        return [Buf("v32", v32), Buf("v64", v64), u32(mask),
                Buf("out", np.full(64 * 6, _SENTINEL, np.uint32))]

    def ref(x):
        out = np.full((64, 6), _SENTINEL, np.uint32)
        for w in range(2):
            lanes = _lanes_in(mask)
            for lane in lanes:
                row = []
                for v in (x["v32"], x["v64"]):
                    mine = v[32 * w + lane]
                    any_mask = sum(1 << m for m in lanes if v[32 * w + m] == mine)
                    same = all(v[32 * w + m] == mine for m in lanes)
                    row += [any_mask, mask if same else 0, int(same)]
                out[32 * w + lane] = row
        return {"out": Exact(out.reshape(-1))}

    case(cid, "warp.cu", "match", (1,), (64,), args, ref, seed=len(CASES))


match_case("match_any_all_full_mask", 0xFFFFFFFF)
match_case("match_any_all_partial_mask", 0x7F00FF01)
match_case("match_all_uniform", 0x00FFFF00, uniform=True)


def elect_case(cid, mask):
    """9.7.13.14 fixes only that one lane of membermask is elected, that every
    participant gets its lane id in d, that p is set in the leader alone, and
    that the choice is the same every time."""
    def args(rng):
        return [u32(mask), Buf("out", np.full(256, _SENTINEL, np.uint32))]

    def check(got):
        got = got.reshape(64, 4)
        problems = []
        lanes = _lanes_in(mask)
        for w in range(2):
            rows = got[32 * w:32 * w + 32]
            leader = int(rows[lanes[0], 0])
            if leader not in lanes:
                problems.append(f"warp {w}: elected lane {leader} is not in membermask")
            for lane in range(32):
                want = ([leader, int(lane == leader), leader, int(lane == leader)]
                        if lane in lanes else [_SENTINEL] * 4)
                if list(rows[lane]) != want:
                    problems.append(f"warp {w} lane {lane}: got {list(map(int, rows[lane]))}, "
                                    f"want {want}")
        return problems

    case(cid, "warp.cu", "elect", (1,), (64,), args, lambda x: {"out": Holds(check)})


elect_case("elect_full_mask", 0xFFFFFFFF)
elect_case("elect_partial_mask", 0x0FF0F000)


# ---------------------------------------------------------------------------
# mbarrier and named barriers (9.7.13.15, 9.7.13.1)
# ---------------------------------------------------------------------------

def _mbar_counts_case():
    def args(rng):
        return [Buf("in", rng.integers(-1000, 1000, 32).astype(np.int32)),
                Buf("seen", np.zeros(32, np.int32)), Buf("seen2", np.zeros(64, np.int32))]

    def ref(x):
        tid = np.arange(64, 128)
        return {"seen": Exact(x["in"] * 3 + 1),
                "seen2": Exact((x["in"][tid % 32] - tid).astype(np.int32))}

    case("mbarrier_arrive_counts_and_state_waits", "barriers.cu", "mbar_counts", (1,), (128,),
         args, ref)


def _mbar_test_wait_case():
    case("mbarrier_test_wait_nonblocking", "barriers.cu", "mbar_test_wait", (1,), (128,),
         lambda rng: [Buf("obs", np.full(128, _SENTINEL, np.uint32))],
         lambda x: {"obs": Exact(np.full(128, 0b010110, np.uint32))})


def _mbar_tx_case():
    case("mbarrier_expect_tx_complete_tx", "barriers.cu", "mbar_tx", (1,), (32,),
         lambda rng: [Buf("obs", np.full(5, _SENTINEL, np.uint32))],
         lambda x: {"obs": Exact(np.array([0, 0, 0, 0, 1], np.uint32))})


def _named_barriers_case():
    rounds = 4

    def args(rng):
        return [Buf("in", rng.integers(-1000, 1000, rounds * 128).astype(np.int32)),
                Buf("out", np.zeros(rounds * 128, np.int32)),
                Buf("acks", np.zeros(rounds * 128, np.int32)), i32(rounds)]

    def ref(x):
        data = x["in"].reshape(rounds, 128) * 2 + np.arange(rounds)[:, None]
        out = np.roll(data, -5, axis=1)
        return {"out": Exact(out.reshape(-1).astype(np.int32)),
                "acks": Exact((out + 1).reshape(-1).astype(np.int32))}

    case("bar_arrive_sync_producer_consumer", "barriers.cu", "named_barriers", (1,), (256,),
         args, ref)


def _barrier_subsets_case():
    def args(rng):
        return [Buf("in", rng.integers(-1000, 1000, 128).astype(np.int32)),
                Buf("out", np.zeros(128, np.int32))]

    case("bar_sync_warp_pair_subsets", "barriers.cu", "barrier_subsets", (1,), (128,), args,
         lambda x: {"out": Exact(x["in"][np.arange(128) ^ 32])})


def _barrier_red_case():
    def ref(x):
        pos = x["in"] > 0
        return {"red": Exact(np.tile([pos.sum(), pos.all(), pos.any()], 128).astype(np.uint32))}

    case("bar_red_popc_and_or", "barriers.cu", "barrier_red", (1,), (128,),
         lambda rng: [Buf("in", rng.integers(-5, 5, 128).astype(np.int32)),
                      Buf("red", np.full(384, _SENTINEL, np.uint32))], ref)


_mbar_counts_case()
_mbar_test_wait_case()
_mbar_tx_case()
_named_barriers_case()
_barrier_subsets_case()
_barrier_red_case()


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
        special = [0.0, -0.0, _INF, -_INF, _NAN, 1.0, -1.0, 0.5, 2.0, 1e-40, -1e-40, 2.0 ** -149,
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
        pool = np.array([_NAN, -_NAN, _INF, -_INF, 0.0, -0.0, 1.0, -1.0, 1e-40, -1e-40, 3.5, -2.25],
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
                    r = _NAN
                elif math.isnan(p) or math.isnan(q):
                    r = q if math.isnan(p) else p
                else:
                    r = pick(p, q, smaller)
                rows[k].append(r)
                rows[k + 1].append(_NAN if math.isnan(p) or math.isnan(q) else pick(p, q, smaller))
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
        return R.round_to(fmt, ps * _INF)
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
_fma_x2_case("fma_rn_bf16x2", "fma_bf16x2", R.BF16, _BF16)


# ---------------------------------------------------------------------------
# cp.async zero fill (9.7.9.25.3) and setmaxnreg (9.7.19.5)
# ---------------------------------------------------------------------------

def _cp_async_case():
    def args(rng):
        return [Buf("src", rng.integers(0, 256, 3584, dtype=np.uint8)),
                Buf("out", np.zeros(3584, np.uint8))]

    def ref(x):
        src, want = x["src"], np.zeros(3584, np.uint8)
        for t in range(128):
            want[16 * t:16 * t + t % 16] = src[16 * t:16 * t + t % 16]
            want[2048 + 8 * t:2048 + 8 * t + t % 8] = src[2048 + 8 * t:2048 + 8 * t + t % 8]
            if t % 3:
                want[3072 + 4 * t:3076 + 4 * t] = src[3072 + 4 * t:3076 + 4 * t]
        return {"out": Exact(want)}

    case("cp_async_zero_fill_groups", "cp_async.cu", "cp_async_zfill", (1,), (128,), args, ref)


def _setmaxnreg_case():
    def args(rng):
        return [Buf("in", rng.integers(-4, 5, 128).astype(np.float32)),
                Buf("out", np.zeros(128, np.float32))]

    def ref(x):
        v = x["in"].astype(np.float64)
        c = np.arange(128)
        acc = sum(v[(c + k) % 128] * (k + 1) for k in range(64))
        return {"out": Exact((2 * v + acc).astype(np.float32))}

    case("setmaxnreg_dec_inc_two_warpgroups", "setmaxnreg.cu", "setmaxnreg_roles", (1,), (256,),
         args, ref)


_cp_async_case()
_setmaxnreg_case()
