"""mma.sync, ldmatrix and stmatrix cases.  See cases.py for how references are
chosen."""

import numpy as np

from harness import Buf, Close, Exact, case
from operands import BF16, e4m3_normals, f16_operand, f32_acc_tol, gemm


# ---------------------------------------------------------------------------
# mma.sync (9.7.14.5.14) and ldmatrix / stmatrix (9.7.14.5.15-16)
# ---------------------------------------------------------------------------

def mma_float_case(cid, kernel, k, make):
    def args(rng):
        a, b = make(rng, (16, k)), make(rng, (8, k))
        c = rng.uniform(-4, 4, (16, 8)).astype(np.float32)
        return [Buf("A", a), Buf("Bt", b), Buf("C", c), Buf("D", np.full((16, 8), np.nan, np.float32))]

    def ref(x):
        return {"D": Close(gemm(x["A"], x["Bt"], x["C"], 1),
                           f32_acc_tol(x["A"], x["Bt"], x["C"], k))}

    case(cid, "mma_sync.cu", kernel, (1,), (32,), args, ref)


mma_float_case("mma_m16n8k16_f16", "mma_f16_f32", 16, f16_operand)
mma_float_case("mma_m16n8k16_bf16", "mma_bf16_f32", 16,
               lambda rng, s: rng.uniform(-2, 2, s).astype(BF16))
mma_float_case("mma_m16n8k32_e4m3", "mma_e4m3_f32", 32, e4m3_normals)


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
