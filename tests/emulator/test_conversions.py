"""Patterns the Hopper backend refused and now rewrites (issue 19), compiled
for sm_90a and run on the emulator against numpy, under racecheck:

- a gemm's fragment A operand the MMA cannot read from registers (a split
  along N, an 8-bit type) is read from a shared copy (tile-convert-layouts);
- a fragment read at an index known only at run time (an enclosing serial
  loop's) goes through shared memory too;
- a prim_func with several T.Kernels (split-KV decoding and its combine)
  compiles one kernel at a time and runs them in order."""

import ml_dtypes
import numpy as np
import pytest

import tessel
import tessel.language as T

E4M3 = ml_dtypes.float8_e4m3fn


@pytest.fixture(autouse=True)
def racecheck(monkeypatch):
    monkeypatch.setenv("TESSEL_EMU_RACECHECK", "1")


def cuda(fn, **options):
    return tessel.jit(out_idx=[-1], target="cuda", **options)(fn)


def _ints(shape, rng, dtype, lo=-3, hi=4):
    return rng.integers(lo, hi, shape).astype(np.float32).astype(dtype)


def two_gemms(M, N, K, D, dtype, policy):
    # S = A @ B^T in registers, cast to A's type, then S @ V: the second
    # gemm's A is a fragment; FullCol splits its N over both warpgroups.
    @T.prim_func
    def main(A: T.Tensor((M, K), dtype), B: T.Tensor((N, K), dtype),
             V: T.Tensor((N, D), "float16"), O: T.Tensor((M, D), "float32")):
        with T.Kernel(1, threads=256) as bx:
            A_s = T.alloc_shared((M, K), dtype)
            B_s = T.alloc_shared((N, K), dtype)
            V_s = T.alloc_shared((N, D), "float16")
            S = T.alloc_fragment((M, N), "float32")
            P = T.alloc_fragment((M, N), "float16" if dtype == "float16" else dtype)
            acc = T.alloc_fragment((M, D), "float32")
            T.copy(A, A_s)
            T.copy(B, B_s)
            T.copy(V, V_s)
            T.gemm(A_s, B_s, S, transpose_B=True, clear_accum=True, policy=policy)
            T.copy(S, P)
            T.gemm(P, V_s, acc, clear_accum=True, policy=policy)
            T.copy(acc, O)

    return main


def test_register_a_split_along_n_goes_through_shared():
    M, N, K, D = 64, 64, 32, 128
    rng = np.random.default_rng(41)
    a, b = _ints((M, K), rng, np.float16, -1, 2), _ints((N, K), rng, np.float16, -1, 2)
    v = _ints((N, D), rng, np.float16)
    kernel = cuda(two_gemms)(M, N, K, D, "float16", T.GemmWarpPolicy.FullCol)
    # Both gemms read A from shared memory (descriptors, no A registers).
    assert kernel.get_source("ptx").count("da, db, first") >= 2
    s = (a.astype(np.float32) @ b.astype(np.float32).T).astype(np.float16).astype(np.float32)
    np.testing.assert_array_equal(kernel(a, b, v), s @ v.astype(np.float32))


def fp8_register_a(M, N, K):
    # An fp8 A computed in registers (wgmma reads 8-bit A from shared memory
    # only).
    @T.prim_func
    def main(A: T.Tensor((M, K), "float32"), B: T.Tensor((N, K), "float8_e4m3"),
             C: T.Tensor((M, N), "float32")):
        with T.Kernel(1, threads=128) as bx:
            a = T.alloc_fragment((M, K), "float32")
            a8 = T.alloc_fragment((M, K), "float8_e4m3")
            B_s = T.alloc_shared((N, K), "float8_e4m3")
            acc = T.alloc_fragment((M, N), "float32")
            T.copy(A, a)
            T.copy(a, a8)
            T.copy(B, B_s)
            T.gemm(a8, B_s, acc, transpose_B=True, clear_accum=True)
            T.copy(acc, C)

    return main


def test_fp8_register_a_goes_through_shared():
    M, N, K = 64, 64, 64
    rng = np.random.default_rng(42)
    a = _ints((M, K), rng, np.float32)
    b = _ints((N, K), rng, E4M3)
    out = cuda(fp8_register_a)(M, N, K)(a, b)
    np.testing.assert_array_equal(out, a @ b.astype(np.float32).T)


def split_and_combine(batch, splits, n):
    # Split: block (s, b) sums its slice of row b into partial[b, s]. Combine:
    # one block per row adds the partials, read at a serial loop's index.
    @T.prim_func
    def main(X: T.Tensor((batch, splits * n), "float32"),
             partial: T.Tensor((batch, splits), "float32"),
             Y: T.Tensor((batch,), "float32")):
        with T.Kernel(splits, batch, threads=128) as (s, b):
            x = T.alloc_fragment((1, n), "float32")
            total = T.alloc_fragment((1,), "float32")
            T.copy(X[b, s * n], x)
            T.reduce_sum(x, total, dim=1)
            for i in T.Parallel(1):
                partial[b, s] = total[i]
        with T.Kernel(batch, threads=128) as b:
            parts = T.alloc_fragment((splits, 128), "float32")
            acc = T.alloc_fragment((128,), "float32")
            T.clear(acc)
            for k, j in T.Parallel(splits, 128):
                parts[k, j] = partial[b, k]
            for k in T.serial(splits):
                for j in T.Parallel(128):
                    acc[j] += parts[k, j]
            for j in T.Parallel(128):
                if j == 0:
                    Y[b] = acc[j]

    return main


def test_two_kernels_in_one_prim_func():
    batch, splits, n = 3, 4, 256
    rng = np.random.default_rng(43)
    x = _ints((batch, splits * n), rng, np.float32)
    partial = np.zeros((batch, splits), np.float32)
    kernel = cuda(split_and_combine)(batch, splits, n)
    # One PTX module per T.Kernel, entries named after the kernel's function
    # and the T.Kernel's place.
    ptx = kernel.get_source("ptx")
    assert ".entry split_and_combine_0(" in ptx and ".entry split_and_combine_1(" in ptx
    np.testing.assert_array_equal(kernel(x, partial), x.sum(axis=1))
