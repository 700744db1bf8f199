"""MN-major gemm operands read in place (issue 19): warpgroup MMA reads a
16-bit B of `A @ B` (and an A of `A^T @ B`) in the layout it is loaded in,
with the instruction's transpose bits, so the tile loads by TMA (or
cp.async) into pipeline stages like a K-major one and the loop keeps a wgmma
group in flight. 8-bit operands stay K-major (the tile is transposed on the
way in). Compiled for sm_90a, run on the emulator against numpy; the small
shapes under racecheck."""

import re

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


def nn_gemm(M, N, K, block_M, block_N, block_K, dtype, threads, stages, policy):
    @T.prim_func
    def main(A: T.Tensor((M, K), dtype), B: T.Tensor((K, N), dtype),
             C: T.Tensor((M, N), "float32")):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=threads) as (bx, by):
            A_s = T.alloc_shared((block_M, block_K), dtype)
            B_s = T.alloc_shared((block_K, block_N), dtype)
            acc = T.alloc_fragment((block_M, block_N), "float32")
            T.clear(acc)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=stages):
                T.copy(A[by * block_M, k * block_K], A_s)
                T.copy(B[k * block_K, bx * block_N], B_s)
                T.gemm(A_s, B_s, acc, policy=policy)
            T.copy(acc, C[by * block_M, bx * block_N])

    return main


def _ints(shape, rng, dtype):
    # Small integers: every product and partial sum is exact in f32.
    return rng.integers(-3, 4, shape).astype(np.float32).astype(dtype)


# (M, N, K, block_M, block_N, block_K, threads, policy): one 128-byte swizzle
# atom of B per row block; two (N = 128: the descriptor's LBO steps between
# them); four, in one m64n256 instruction; a 64-byte row (64-byte swizzle);
# and N split over two warpgroups at 32 columns each, so B's swizzle narrows
# to the 64 bytes each warpgroup's part starts on.
SHAPES = [
    (64, 64, 128, 64, 64, 32, 128, T.GemmWarpPolicy.Square),
    (128, 256, 192, 128, 128, 64, 128, T.GemmWarpPolicy.Square),
    (64, 256, 64, 64, 256, 32, 128, T.GemmWarpPolicy.Square),
    (64, 64, 96, 64, 32, 32, 128, T.GemmWarpPolicy.Square),
    (64, 128, 128, 64, 64, 32, 256, T.GemmWarpPolicy.FullCol),
]


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s[:7])))
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_a_at_b_reads_b_mn_major_by_tma(shape, dtype):
    M, N, K, bm, bn, bk, threads, policy = shape
    rng = np.random.default_rng(sum(shape[:7]))
    np_dtype = np.float16 if dtype == "float16" else BF16
    a, b = _ints((M, K), rng, np_dtype), _ints((K, N), rng, np_dtype)
    kernel = cuda(nn_gemm)(M, N, K, bm, bn, bk, dtype, threads, 3, policy)
    ptx = kernel.get_source("ptx")
    # B's transpose bit, A's clear; both tiles by TMA, nothing through the
    # threads: no global loads at all (the output leaves from registers).
    assert re.search(r"wgmma\.mma_async\S+ \{[^}]*\}, da, db, first, 1, 1, 0, 1;", ptx)
    assert "cp.async.bulk.tensor.2d" in ptx
    assert "ld.global" not in ptx
    if K // bk > 1:
        assert "wgmma.wait_group.sync.aligned \t1;" in ptx
    np.testing.assert_array_equal(kernel(a, b), a.astype(np.float32) @ b.astype(np.float32))


def test_a_at_b_on_the_cp_async_path(racecheck):
    M, N, K = 64, 128, 128
    rng = np.random.default_rng(31)
    a, b = _ints((M, K), rng, BF16), _ints((K, N), rng, BF16)
    kernel = cuda(nn_gemm, tma=False)(M, N, K, 64, 128, 32, "bfloat16", 128, 2,
                                      T.GemmWarpPolicy.Square)
    ptx = kernel.get_source("ptx")
    assert "cp.async.cg.shared.global" in ptx and "cp.async.bulk" not in ptx
    np.testing.assert_array_equal(kernel(a, b), a.astype(np.float32) @ b.astype(np.float32))


def tn_gemm(M, N, K, dtype):
    # A^T @ B: both operands MN-major (A stored [K, M], B [K, N]).
    @T.prim_func
    def main(A: T.Tensor((K, M), dtype), B: T.Tensor((K, N), dtype),
             C: T.Tensor((M, N), "float32")):
        with T.Kernel(1, threads=128) as bx:
            A_s = T.alloc_shared((K, M), dtype)
            B_s = T.alloc_shared((K, N), dtype)
            acc = T.alloc_fragment((M, N), "float32")
            T.copy(A, A_s)
            T.copy(B, B_s)
            T.gemm(A_s, B_s, acc, transpose_A=True, clear_accum=True)
            T.copy(acc, C)

    return main


def test_a_transposed_reads_both_operands_mn_major(racecheck):
    M, N, K = 128, 64, 64
    rng = np.random.default_rng(32)
    a, b = _ints((K, M), rng, np.float16), _ints((K, N), rng, np.float16)
    kernel = cuda(tn_gemm)(M, N, K, "float16")
    assert re.search(r"da, db, first, 1, 1, 1, 1;", kernel.get_source("ptx"))
    np.testing.assert_array_equal(kernel(a, b), a.astype(np.float32).T @ b.astype(np.float32))


def test_fp8_b_of_a_at_b_stays_k_major(racecheck):
    # wgmma reads 8-bit operands K-major only: B's tile is transposed on the
    # way in (no transpose bits in the instruction) and the result is exact.
    M, N, K = 64, 64, 64
    rng = np.random.default_rng(33)
    a, b = _ints((M, K), rng, E4M3), _ints((K, N), rng, E4M3)
    kernel = cuda(nn_gemm)(M, N, K, 64, 64, 64, "float8_e4m3", 128, 2,
                           T.GemmWarpPolicy.Square)
    ptx = kernel.get_source("ptx")
    assert re.search(r"wgmma\.mma_async\S+e4m3\.e4m3 \{[^}]*\}, da, db, first, 1, 1;", ptx)
    np.testing.assert_array_equal(kernel(a, b), a.astype(np.float32) @ b.astype(np.float32))


@pytest.mark.parametrize("n,in_place", [(16, True), (8, False)])
def test_narrow_b(n, in_place, racecheck):
    # 16 columns of f16 are one 32-byte swizzle atom: read in place. 8 are
    # less than any atom: B is stored transposed (K-major) instead.
    M, K = 64, 64
    rng = np.random.default_rng(34 + n)
    a, b = _ints((M, K), rng, np.float16), _ints((K, n), rng, np.float16)
    kernel = cuda(nn_gemm)(M, n, K, 64, n, 32, "float16", 128, 2, T.GemmWarpPolicy.Square)
    flags = re.findall(r"da, db, first, 1, 1, 0, ([01]);", kernel.get_source("ptx"))
    assert flags and set(flags) == {"1" if in_place else "0"}
    np.testing.assert_array_equal(kernel(a, b), a.astype(np.float32) @ b.astype(np.float32))
