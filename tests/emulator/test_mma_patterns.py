"""Kernel patterns the Hopper backend refused before its MMA choice moved
into tile-infer-layouts (issue 19), compiled for sm_90a and run on the
emulator against numpy: gemms on warp MMA (mma.sync) where warpgroup MMA
does not fit (a block of 64 threads, a 32-row accumulator: the FP8
block-scaled GEMM DeepSeek's inference uses for few tokens), and the
reduction and operand patterns TileLang kernels use. The small ones run
under the emulator's racecheck too."""

import ml_dtypes
import numpy as np
import pytest

import tessel
import tessel.language as T

E4M3 = ml_dtypes.float8_e4m3fn
BF16 = ml_dtypes.bfloat16


@pytest.fixture
def racecheck(monkeypatch):
    monkeypatch.setenv("TESSEL_EMU_RACECHECK", "1")


def cuda(fn, **options):
    return tessel.jit(out_idx=[-1], target="cuda", **options)(fn)


def small_gemm(M, N, K, dtype, threads, transpose_b):
    @T.prim_func
    def main(A: T.Tensor((M, K), dtype),
             B: T.Tensor((N, K) if transpose_b else (K, N), dtype),
             C: T.Tensor((M, N), "float32")):
        with T.Kernel(1, threads=threads) as bx:
            A_s = T.alloc_shared((M, K), dtype)
            B_s = T.alloc_shared((N, K) if transpose_b else (K, N), dtype)
            acc = T.alloc_fragment((M, N), "float32")
            T.copy(A, A_s)
            T.copy(B, B_s)
            T.gemm(A_s, B_s, acc, transpose_B=transpose_b, clear_accum=True)
            T.copy(acc, C)

    return main


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("transpose_b", [False, True], ids=["A@B", "A@B^T"])
def test_gemm_in_a_64_thread_block(dtype, transpose_b, racecheck):
    m, n, k = 64, 64, 64
    rng = np.random.default_rng(11)
    np_dtype = np.float16 if dtype == "float16" else BF16
    a = rng.uniform(-1, 1, (m, k)).astype(np_dtype)
    b = rng.uniform(-1, 1, (n, k) if transpose_b else (k, n)).astype(np_dtype)
    kernel = cuda(small_gemm)(m, n, k, dtype, 64, transpose_b)
    assert "mma.sync.aligned.m16n8k16" in kernel.get_source("ptx")
    assert "wgmma" not in kernel.get_source("ptx")
    bf = b.astype(np.float32)
    ref = a.astype(np.float32) @ (bf.T if transpose_b else bf)
    np.testing.assert_allclose(kernel(a, b), ref, rtol=1e-5, atol=1e-5)


def int8_gemm(m, n, k):
    @T.prim_func
    def main(A: T.Tensor((m, k), "int8"), B: T.Tensor((n, k), "int8"),
             C: T.Tensor((m, n), "int32")):
        with T.Kernel(1, threads=128) as bx:
            A_s = T.alloc_shared((m, k), "int8")
            B_s = T.alloc_shared((n, k), "int8")
            acc = T.alloc_fragment((m, n), "int32")
            T.copy(A, A_s)
            T.copy(B, B_s)
            T.gemm(A_s, B_s, acc, transpose_B=True, clear_accum=True)
            T.copy(acc, C)

    return main


def test_int8_gemm_with_a_32_row_accumulator(racecheck):
    m, n, k = 32, 64, 128
    rng = np.random.default_rng(12)
    a = rng.integers(-128, 128, (m, k)).astype(np.int8)
    b = rng.integers(-128, 128, (n, k)).astype(np.int8)
    kernel = cuda(int8_gemm)(m, n, k)
    assert "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32" in kernel.get_source("ptx")
    np.testing.assert_array_equal(kernel(a, b), a.astype(np.int32) @ b.astype(np.int32).T)


def fp8_block_scaled_gemm(M, N, K, block_M=32, block_N=128, num_stages=2):
    """DeepSeek-style D = (A * a_scale) @ (B * b_scale)^T: per (row, 128-K
    block) scales for A, per 128x128 block for B, each K block's partial
    product promoted into an f32 accumulator (two-level accumulation)."""
    block_K = 128

    @T.prim_func
    def main(A: T.Tensor((M, K), "float8_e4m3"), A_s: T.Tensor((M, K // 128), "float32"),
             B: T.Tensor((N, K), "float8_e4m3"),
             B_s: T.Tensor((N // 128, K // 128), "float32"),
             D: T.Tensor((M, N), "bfloat16")):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
            A_shared = T.alloc_shared((block_M, block_K), "float8_e4m3")
            B_shared = T.alloc_shared((block_N, block_K), "float8_e4m3")
            part = T.alloc_fragment((block_M, block_N), "float32")
            acc = T.alloc_fragment((block_M, block_N), "float32")
            T.clear(acc)
            for k in T.Pipelined(K // block_K, num_stages=num_stages):
                T.copy(A[by * block_M, k * block_K], A_shared)
                T.copy(B[bx * block_N, k * block_K], B_shared)
                T.gemm(A_shared, B_shared, part, transpose_B=True, clear_accum=True)
                b_scale = B_s[bx * block_N // 128, k]
                for i, j in T.Parallel(block_M, block_N):
                    acc[i, j] += part[i, j] * A_s[by * block_M + i, k] * b_scale
            T.copy(acc, D[by * block_M, bx * block_N])

    return main


@pytest.mark.parametrize("options", [dict(), dict(tma=False)], ids=["tma", "cp.async"])
def test_fp8_block_scaled_gemm_with_32_row_blocks(options):
    m, n, k = 96, 256, 384
    rng = np.random.default_rng(13)
    a = rng.uniform(-1, 1, (m, k)).astype(E4M3)
    b = rng.uniform(-1, 1, (n, k)).astype(E4M3)
    a_s = rng.uniform(0.5, 2, (m, k // 128)).astype(np.float32)
    b_s = rng.uniform(0.5, 2, (n // 128, k // 128)).astype(np.float32)
    kernel = cuda(fp8_block_scaled_gemm, **options)(m, n, k)
    ptx = kernel.get_source("ptx")
    assert "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32" in ptx
    assert ".version 8.4" in ptx
    d = kernel(a, a_s, b, b_s)
    af = a.astype(np.float32) * np.repeat(a_s, 128, axis=1)
    bf = b.astype(np.float32) * np.repeat(np.repeat(b_s, 128, axis=0), 128, axis=1)
    # The f32 sum is exact up to reordering; the output is rounded to bf16.
    np.testing.assert_allclose(d.astype(np.float32), af @ bf.T, rtol=1e-2, atol=1e-2)


def test_fp8_block_scaled_gemm_32_rows_racecheck(racecheck):
    m, n, k = 32, 128, 256
    rng = np.random.default_rng(14)
    a = rng.uniform(-1, 1, (m, k)).astype(E4M3)
    b = rng.uniform(-1, 1, (n, k)).astype(E4M3)
    a_s = rng.uniform(0.5, 2, (m, k // 128)).astype(np.float32)
    b_s = rng.uniform(0.5, 2, (n // 128, k // 128)).astype(np.float32)
    d = cuda(fp8_block_scaled_gemm)(m, n, k)(a, a_s, b, b_s)
    af = a.astype(np.float32) * np.repeat(a_s, 128, axis=1)
    bf = b.astype(np.float32) * np.repeat(np.repeat(b_s, 128, axis=0), 128, axis=1)
    np.testing.assert_allclose(d.astype(np.float32), af @ bf.T, rtol=1e-2, atol=1e-2)


def two_majors(M, N, D):
    # MLA's pattern: KV is B^T of the first gemm (K-major) and B of the
    # second (MN-major) in one kernel.
    @T.prim_func
    def main(Q: T.Tensor((M, D), "float16"), KV: T.Tensor((N, D), "float16"),
             O: T.Tensor((M, D), "float32")):
        with T.Kernel(1, threads=128) as bx:
            Q_s = T.alloc_shared((M, D), "float16")
            KV_s = T.alloc_shared((N, D), "float16")
            S = T.alloc_fragment((M, N), "float32")
            P_s = T.alloc_shared((M, N), "float16")
            acc = T.alloc_fragment((M, D), "float32")
            T.copy(Q, Q_s)
            T.copy(KV, KV_s)
            T.gemm(Q_s, KV_s, S, transpose_B=True, clear_accum=True)
            T.copy(S, P_s)
            T.gemm(P_s, KV_s, acc, clear_accum=True)
            T.copy(acc, O)

    return main


def test_shared_tile_read_k_major_and_mn_major(racecheck):
    M, N, D = 64, 64, 64
    rng = np.random.default_rng(15)
    q = rng.uniform(-1, 1, (M, D)).astype(np.float16)
    kv = rng.uniform(-1, 1, (N, D)).astype(np.float16)
    s = (q.astype(np.float32) @ kv.astype(np.float32).T).astype(np.float16).astype(np.float32)
    out = cuda(two_majors)(M, N, D)(q, kv)
    # S is rounded to f16 on both sides; a sum order apart, one f16 ulp may differ.
    np.testing.assert_allclose(out, s @ kv.astype(np.float32), rtol=1e-2, atol=1e-2)


def row_softmax(M, N):
    # The row maximum and sum (reduce results) are read in T.Parallel.
    @T.prim_func
    def main(X: T.Tensor((M, N), "float32"), Y: T.Tensor((M, N), "float32")):
        with T.Kernel(1, threads=128) as bx:
            x = T.alloc_fragment((M, N), "float32")
            row_max = T.alloc_fragment((M,), "float32")
            row_sum = T.alloc_fragment((M,), "float32")
            T.copy(X, x)
            T.reduce_max(x, row_max, dim=1)
            for i, j in T.Parallel(M, N):
                x[i, j] = T.exp(x[i, j] - row_max[i])
            T.reduce_sum(x, row_sum, dim=1)
            for i, j in T.Parallel(M, N):
                x[i, j] = x[i, j] / row_sum[i]
            T.copy(x, Y)

    return main


def test_row_softmax(racecheck):
    M, N = 64, 128
    x = np.random.default_rng(16).standard_normal((M, N)).astype(np.float32) * 4
    e = np.exp(x - x.max(1, keepdims=True))
    y = cuda(row_softmax)(M, N)(x)
    np.testing.assert_allclose(y, e / e.sum(1, keepdims=True), rtol=1e-5, atol=1e-7)


def fp16_row_reductions(M, N):
    @T.prim_func
    def main(X: T.Tensor((M, N), "float16"), S: T.Tensor((M,), "float16"),
             Mx: T.Tensor((M,), "float16")):
        with T.Kernel(1, threads=128) as bx:
            x = T.alloc_fragment((M, N), "float16")
            s = T.alloc_fragment((M,), "float16")
            mx = T.alloc_fragment((M,), "float16")
            T.copy(X, x)
            T.reduce_sum(x, s, dim=1)
            T.reduce_max(x, mx, dim=1)
            T.copy(s, S)
            T.copy(mx, Mx)

    return main


def test_fp16_row_reduction(racecheck):
    M, N = 64, 128
    x = np.random.default_rng(17).uniform(-1, 1, (M, N)).astype(np.float16)
    s, mx = tessel.jit(out_idx=[1, 2], target="cuda")(fp16_row_reductions)(M, N)(x)
    # Summed in f32 (nvidia-widen-reductions), rounded to f16 once.
    np.testing.assert_allclose(s.astype(np.float32),
                               x.astype(np.float32).sum(1).astype(np.float16).astype(np.float32),
                               rtol=1e-3, atol=1e-3)
    np.testing.assert_array_equal(mx, x.max(1))


def indexer_logits(N, H, D):
    # DeepSeek V3.2's indexer: per token j, sum over heads h of
    # relu(k_j . q_h) * w_h, with the accumulator (tokens x heads) walked
    # head-major: `for h, j in T.Parallel(H, N): acc[j, h] = ...`.
    @T.prim_func
    def main(K: T.Tensor((N, D), "bfloat16"), Q: T.Tensor((H, D), "bfloat16"),
             W: T.Tensor((H,), "float32"), S: T.Tensor((N,), "float32"),
             R: T.Tensor((H, N), "float32")):
        with T.Kernel(1, threads=128) as bx:
            K_s = T.alloc_shared((N, D), "bfloat16")
            Q_s = T.alloc_shared((H, D), "bfloat16")
            acc = T.alloc_fragment((N, H), "float32")
            relu_t = T.alloc_fragment((H, N), "float32")
            score = T.alloc_fragment((N,), "float32")
            T.copy(K, K_s)
            T.copy(Q, Q_s)
            T.gemm(K_s, Q_s, acc, transpose_B=True, clear_accum=True)
            for h, j in T.Parallel(H, N):
                acc[j, h] = T.max(acc[j, h], 0.0) * W[h]
                relu_t[h, j] = acc[j, h]
            T.reduce_sum(acc, score, dim=1)
            T.copy(score, S)
            T.copy(relu_t, R)

    return main


@pytest.mark.parametrize("target", ["cpu", "cuda"])
def test_accumulator_walked_transposed(target, racecheck):
    n, h, d = 64, 32, 64
    rng = np.random.default_rng(18)
    k = rng.uniform(-1, 1, (n, d)).astype(BF16)
    q = rng.uniform(-1, 1, (h, d)).astype(BF16)
    w = rng.uniform(0, 1, (h,)).astype(np.float32)
    s, r = tessel.jit(out_idx=[3, 4], target=target)(indexer_logits)(n, h, d)(k, q, w)
    relu = np.maximum(k.astype(np.float32) @ q.astype(np.float32).T, 0) * w
    np.testing.assert_allclose(r, relu.T, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(s, relu.sum(1), rtol=1e-5, atol=1e-5)


def small_block_attention(M, N, D, threads):
    # One block of attention with a 32-row query block on warp MMA: S = Q K^T
    # and O = P V, P taken from registers (the accumulator's layout is
    # mma.sync's A fragment) after a row softmax.
    scale = 1.0 / (D ** 0.5)

    @T.prim_func
    def main(Q: T.Tensor((M, D), "float16"), K: T.Tensor((N, D), "float16"),
             V: T.Tensor((N, D), "float16"), O: T.Tensor((M, D), "float32")):
        with T.Kernel(1, threads=threads) as bx:
            Q_s = T.alloc_shared((M, D), "float16")
            K_s = T.alloc_shared((N, D), "float16")
            V_s = T.alloc_shared((N, D), "float16")
            S = T.alloc_fragment((M, N), "float32")
            P = T.alloc_fragment((M, N), "float16")
            row_max = T.alloc_fragment((M,), "float32")
            row_sum = T.alloc_fragment((M,), "float32")
            acc = T.alloc_fragment((M, D), "float32")
            T.copy(Q, Q_s)
            T.copy(K, K_s)
            T.copy(V, V_s)
            T.gemm(Q_s, K_s, S, transpose_B=True, clear_accum=True,
                   policy=T.GemmWarpPolicy.FullRow)
            T.reduce_max(S, row_max, dim=1)
            for i, j in T.Parallel(M, N):
                S[i, j] = T.exp((S[i, j] - row_max[i]) * scale)
            T.reduce_sum(S, row_sum, dim=1)
            T.copy(S, P)
            T.gemm(P, V_s, acc, clear_accum=True, policy=T.GemmWarpPolicy.FullRow)
            for i, j in T.Parallel(M, D):
                acc[i, j] = acc[i, j] / row_sum[i]
            T.copy(acc, O)

    return main


@pytest.mark.parametrize("m,threads", [(32, 64), (16, 32)])
def test_attention_block_with_a_register_operand_on_mma_sync(m, threads, racecheck):
    n, d = 64, 64
    rng = np.random.default_rng(19)
    q, k, v = (rng.standard_normal(shape).astype(np.float16)
               for shape in ((m, d), (n, d), (n, d)))
    kernel = cuda(small_block_attention)(m, n, d, threads)
    assert "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32" in kernel.get_source("ptx")
    out = kernel(q, k, v)
    s = q.astype(np.float64) @ k.astype(np.float64).T / np.sqrt(d)
    p = np.exp(s - s.max(1, keepdims=True))
    ref = (p / p.sum(1, keepdims=True)) @ v.astype(np.float64)
    # P is rounded to f16 before P V.
    np.testing.assert_allclose(out, ref, rtol=1e-2, atol=1e-2)


def gemm_plus_column_bias(M, N, K):
    # bias[j] is dealt out round robin; the thread holding acc[i, j] reads
    # it through the shared copy tile-convert-layouts makes.
    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((N, K), "float16"),
             Bias: T.Tensor((N,), "float32"), C: T.Tensor((M, N), "float32")):
        with T.Kernel(1, threads=128) as bx:
            A_s = T.alloc_shared((M, K), "float16")
            B_s = T.alloc_shared((N, K), "float16")
            acc = T.alloc_fragment((M, N), "float32")
            bias = T.alloc_fragment((N,), "float32")
            T.copy(A, A_s)
            T.copy(B, B_s)
            T.copy(Bias, bias)
            T.gemm(A_s, B_s, acc, transpose_B=True, clear_accum=True)
            for i, j in T.Parallel(M, N):
                acc[i, j] = acc[i, j] + bias[j]
            T.copy(acc, C)

    return main


def reversed_rows(M, N):
    @T.prim_func
    def main(X: T.Tensor((M, N), "float32"), Y: T.Tensor((M, N), "float32")):
        with T.Kernel(1, threads=128) as bx:
            x = T.alloc_fragment((M, N), "float32")
            y = T.alloc_fragment((M, N), "float32")
            T.copy(X, x)
            for i, j in T.Parallel(M, N):
                y[i, j] = x[i, N - 1 - j] * 2.0
            T.copy(y, Y)

    return main


@pytest.mark.parametrize("target", ["cpu", "cuda"])
def test_fragment_read_from_other_threads(target, racecheck):
    rng = np.random.default_rng(20)
    a = rng.uniform(-1, 1, (64, 32)).astype(np.float16)
    b = rng.uniform(-1, 1, (64, 32)).astype(np.float16)
    bias = rng.standard_normal(64).astype(np.float32)
    c = tessel.jit(out_idx=[-1], target=target)(gemm_plus_column_bias)(64, 64, 32)(a, b, bias)
    np.testing.assert_allclose(c, a.astype(np.float32) @ b.astype(np.float32).T + bias,
                               rtol=1e-5, atol=1e-5)
    x = rng.standard_normal((16, 64)).astype(np.float32)
    y = tessel.jit(out_idx=[-1], target=target)(reversed_rows)(16, 64)(x)
    np.testing.assert_array_equal(y, x[:, ::-1] * 2)


def nt_gemm(M, N, K, block_M=64, block_N=64, block_K=32, stages=3):
    @T.prim_func
    def main(A: T.Tensor((M, K), "bfloat16"), B: T.Tensor((N, K), "bfloat16"),
             C: T.Tensor((M, N), "float32")):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
            A_s = T.alloc_shared((block_M, block_K), "bfloat16")
            B_s = T.alloc_shared((block_N, block_K), "bfloat16")
            acc = T.alloc_fragment((block_M, block_N), "float32")
            T.clear(acc)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=stages):
                T.copy(A[by * block_M, k * block_K], A_s)
                T.copy(B[bx * block_N, k * block_K], B_s)
                T.gemm(A_s, B_s, acc, transpose_B=True)
            T.copy(acc, C[by * block_M, bx * block_N])

    return main


@pytest.mark.parametrize("k,stages", [(32, 2), (64, 2), (256, 3), (96, 3)])
def test_wgmma_group_in_flight_across_iterations(k, stages, racecheck):
    # One, two and more iterations than stages: the lagged releases, the
    # drain after the loop, and a trip count not a multiple of the stages.
    m, n = 64, 128
    rng = np.random.default_rng(21 + k)
    a = rng.uniform(-1, 1, (m, k)).astype(BF16)
    b = rng.uniform(-1, 1, (n, k)).astype(BF16)
    kernel = cuda(nt_gemm)(m, n, k, stages=stages)
    if k > 32:  # one iteration: LLVM folds the lagged steps away
        assert "wgmma.wait_group.sync.aligned \t1;" in kernel.get_source("ptx")
    np.testing.assert_allclose(kernel(a, b), a.astype(np.float32) @ b.astype(np.float32).T,
                               rtol=1e-5, atol=1e-5)


def full_row_over_two_warpgroups(M, N, K):
    # 64 rows cannot be split along M over two warpgroups (32 each is less
    # than wgmma's 64-row slab): the full_row preference yields to a split
    # along N, as in TileLang; the row maximum combines both halves.
    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((N, K), "float16"),
             C: T.Tensor((M, N), "float32"), R: T.Tensor((M,), "float32")):
        with T.Kernel(1, threads=256) as bx:
            A_s = T.alloc_shared((M, K), "float16")
            B_s = T.alloc_shared((N, K), "float16")
            acc = T.alloc_fragment((M, N), "float32")
            row_max = T.alloc_fragment((M,), "float32")
            T.copy(A, A_s)
            T.copy(B, B_s)
            T.gemm(A_s, B_s, acc, transpose_B=True, clear_accum=True,
                   policy=T.GemmWarpPolicy.FullRow)
            T.reduce_max(acc, row_max, dim=1)
            T.copy(acc, C)
            T.copy(row_max, R)

    return main


def test_full_row_policy_yields_when_m_is_too_small(racecheck):
    rng = np.random.default_rng(22)
    a = rng.uniform(-1, 1, (64, 64)).astype(np.float16)
    b = rng.uniform(-1, 1, (64, 64)).astype(np.float16)
    c, r = tessel.jit(out_idx=[2, 3], target="cuda")(full_row_over_two_warpgroups)(64, 64, 64)(a, b)
    ref = a.astype(np.float32) @ b.astype(np.float32).T
    np.testing.assert_allclose(c, ref, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(r, ref.max(1), rtol=1e-5, atol=1e-5)


def rms_norm_over_shared_rows(M, N, blk_m=4):
    # The row scale is a fragment; the loop scaling the shared tile is laid
    # out over no fragment, so it reads the scale through shared memory.
    @T.prim_func
    def main(X: T.Tensor((M, N), "float32"), Y: T.Tensor((M, N), "float32")):
        with T.Kernel(T.ceildiv(M, blk_m), threads=128) as bx:
            x_s = T.alloc_shared((blk_m, N), "float32")
            x = T.alloc_fragment((blk_m, N), "float32")
            sq = T.alloc_fragment((blk_m, N), "float32")
            scale = T.alloc_fragment((blk_m,), "float32")
            T.copy(X[bx * blk_m, 0], x_s)
            T.copy(x_s, x)
            for i, j in T.Parallel(blk_m, N):
                sq[i, j] = x[i, j] * x[i, j]
            T.reduce_sum(sq, scale, dim=1)
            for i in T.Parallel(blk_m):
                scale[i] = T.rsqrt(scale[i] / N + 1e-6)
            for i, j in T.Parallel(blk_m, N):
                x_s[i, j] = x_s[i, j] * scale[i]
            T.copy(x_s, Y[bx * blk_m, 0])

    return main


@pytest.mark.parametrize("target", ["cpu", "cuda"])
def test_fragment_read_in_a_loop_over_shared_memory(target, racecheck):
    x = np.random.default_rng(23).standard_normal((16, 256)).astype(np.float32)
    y = tessel.jit(out_idx=[-1], target=target)(rms_norm_over_shared_rows)(16, 256)(x)
    ref = x / np.sqrt((x.astype(np.float64) ** 2).mean(-1, keepdims=True) + 1e-6)
    np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-5)


def fragment_regions(M, N, K, rows):
    # GQA decode's `T.copy(acc_o[:valid_block_H, :], O_shared)`: only the
    # first `rows` rows of an accumulator leave it; a region of a fragment
    # is also loaded (the other elements keep their values).
    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((N, K), "float16"),
             Bias: T.Tensor((M, N), "float32"), O: T.Tensor((rows, N), "float32"),
             P: T.Tensor((M, N), "float32")):
        with T.Kernel(1, threads=128) as bx:
            A_s = T.alloc_shared((M, K), "float16")
            B_s = T.alloc_shared((N, K), "float16")
            O_s = T.alloc_shared((rows, N), "float32")
            acc = T.alloc_fragment((M, N), "float32")
            T.copy(A, A_s)
            T.copy(B, B_s)
            T.gemm(A_s, B_s, acc, transpose_B=True, clear_accum=True)
            T.copy(acc[:rows, :], O_s)
            T.copy(O_s, O)
            T.copy(Bias[M - rows:M, N // 2:N], acc[M - rows:M, N // 2:N])
            T.copy(acc, P)

    return main


@pytest.mark.parametrize("target", ["cpu", "cuda"])
def test_fragment_region_copies(target, racecheck):
    m, n, k, rows = 64, 64, 32, 24
    rng = np.random.default_rng(24)
    a = rng.uniform(-1, 1, (m, k)).astype(np.float16)
    b = rng.uniform(-1, 1, (n, k)).astype(np.float16)
    bias = rng.standard_normal((m, n)).astype(np.float32)
    o, p = tessel.jit(out_idx=[3, 4], target=target)(fragment_regions)(m, n, k, rows)(a, b, bias)
    ref = a.astype(np.float32) @ b.astype(np.float32).T
    np.testing.assert_allclose(o, ref[:rows], rtol=1e-5, atol=1e-5)
    ref[m - rows:, n // 2:] = bias[m - rows:, n // 2:]
    np.testing.assert_allclose(p, ref, rtol=1e-5, atol=1e-5)
