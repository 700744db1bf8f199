"""wgmma.mma_async cases.  See cases.py for how references are chosen."""

import numpy as np

from harness import Buf, Close, Exact, case, i32
from operands import BF16, E4M3, E5M2, f16_operand, f32_acc_tol, gemm, small_operand


# ---------------------------------------------------------------------------
# wgmma.mma_async (9.7.15)
# ---------------------------------------------------------------------------
# Each kernel multiplies A (64 x K) by B (N x K)^T with both operands in
# shared memory laid out by the kernel itself; D = sa*A @ (sb*B)^T + (sd ? C : 0).

def wgmma_f32_case(cid, kernel, n, k, dtype=np.float16, sd=0, sa=1, sb=1, shared=None,
                   src="wgmma_kmajor.cu", seed=1):
    def args(rng):
        a = f16_operand(rng, (64, k)).astype(dtype)
        b = f16_operand(rng, (n, k)).astype(dtype)
        c = rng.uniform(-4, 4, (64, n)).astype(np.float32)
        d = np.full((64, n), np.nan, np.float32)
        return [Buf("A", a), Buf("B", b), Buf("C", c), Buf("D", d), i32(sd)]

    def ref(x):
        a, b, c = x["A"], x["B"], x["C"]
        want = gemm(a, b, c, sd, sa, sb)
        return {"D": Close(want, f32_acc_tol(a, b, c if sd else 0 * c, k))}

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
        a = small_operand(rng, (64, 16), np.float16)
        b = small_operand(rng, (64, 16), np.float16)
        c = small_operand(rng, (64, 64), np.float16)
        return [Buf("A", a), Buf("B", b), Buf("C", c),
                Buf("D", np.full((64, 64), np.nan, np.float16)), i32(1)]

    def ref(x):
        return {"D": Exact(gemm(x["A"], x["B"], x["C"], 1).astype(np.float16))}

    case("wgmma_f16_acc_f16", "wgmma_kmajor.cu", "wg_f16_acc_f16", (1,), (128,), args, ref,
         shared=1024 + 8192 + 8192)


_wgmma_f16acc_case()


def _wgmma_groups_case():
    def args(rng):
        return [Buf("A", f16_operand(rng, (64, 16))), Buf("B0", f16_operand(rng, (64, 16))),
                Buf("B1", f16_operand(rng, (64, 16))),
                Buf("D0", np.full((64, 64), np.nan, np.float32)),
                Buf("D1", np.full((64, 64), np.nan, np.float32))]

    def ref(x):
        z = np.zeros((64, 64))
        return {d: Close(gemm(x["A"], x[b], z, 0), f32_acc_tol(x["A"], x[b], z, 16))
                for d, b in (("D0", "B0"), ("D1", "B1"))}

    case("wgmma_two_groups", "wgmma_kmajor.cu", "wg_groups", (1,), (128,), args, ref,
         shared=1024 + 3 * 8192)


_wgmma_groups_case()


for _dt, _name in ((np.float16, "f16"), (BF16, "bf16")):
    for _swz in ("sw128", "sw64", "none"):
        wgmma_f32_case(f"wgmma_{_name}_mn_{_swz}", f"wg_{_name}_mn_{_swz}", 128, 16, dtype=_dt,
                       src="wgmma_mn.cu", sd=1 if _swz == "sw64" else 0, seed=4)
wgmma_f32_case("wgmma_f16_kmajor_a_nmajor_b_sw128", "wg_f16_kmn_sw128", 128, 32, src="wgmma_mn.cu")
wgmma_f32_case("wgmma_bf16_k_sw128", "wg_bf16_k_sw128", 128, 64, dtype=BF16,
               src="wgmma_types.cu")
wgmma_f32_case("wgmma_rs_f16_nmajor_b", "wg_rs_f16", 64, 32, src="wgmma_types.cu", sd=1, seed=5)


def wgmma_fp8_case(cid, kernel, k, adt, bdt, sa=1, sb=1, sd=0):
    """fp8 inputs from the small value set: exact under the ISA's 'higher than
    half precision' f32 accumulation for fp8 (9.7.15.5.2 note)."""
    def args(rng):
        a = small_operand(rng, (64, k), adt)
        b = small_operand(rng, (64, k), bdt)
        c = small_operand(rng, (64, 64), np.float32)
        return [Buf("A", a), Buf("B", b), Buf("C", c),
                Buf("D", np.full((64, 64), np.nan, np.float32)), i32(sd)]

    def ref(x):
        return {"D": Exact(gemm(x["A"], x["B"], x["C"], sd, sa, sb).astype(np.float32))}

    case(cid, "wgmma_types.cu", kernel, (1,), (128,), args, ref, shared=1024 + 8192 + 8192)


wgmma_fp8_case("wgmma_e4m3_k_sw128", "wg_e4m3_k_sw128", 64, E4M3, E4M3)
wgmma_fp8_case("wgmma_e5m2_k_sw64", "wg_e5m2_k_sw64", 64, E5M2, E5M2, sd=1)
wgmma_fp8_case("wgmma_e4m3_e5m2_neg_a", "wg_e4m3_e5m2_k_sw32", 32, E4M3, E5M2, sa=-1)
wgmma_fp8_case("wgmma_rs_e4m3_neg_b", "wg_rs_e4m3", 64, E4M3, E4M3, sb=-1, sd=1)


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
