"""Barriers at the end of a loop body (nvidia-insert-barriers), compiled for
sm_90a and run on the emulator under racecheck against numpy: one where the
next iteration rewrites what this one read (the barrier must be there: the
race check fails without it), and one where nothing writes the tile again
(none is needed, as for attention's Q)."""

import numpy as np
import pytest

import tessel
import tessel.language as T


@pytest.fixture(autouse=True)
def racecheck(monkeypatch):
    monkeypatch.setenv("TESSEL_EMU_RACECHECK", "1")


def relay(N, M):
    # Each iteration stages a row in shared memory and writes it reversed:
    # iteration k+1's stores to `s` must wait for every thread's loads of
    # iteration k.
    @T.prim_func
    def main(A: T.Tensor((N, M), "float32"), B: T.Tensor((N, M), "float32")):
        with T.Kernel(1, threads=128) as bx:
            s = T.alloc_shared((M,), "float32")
            for k in T.serial(N):
                for i in T.Parallel(M):
                    s[i] = A[k, i]
                for i in T.Parallel(M):
                    B[k, i] = s[M - 1 - i]
    return main


def broadcast(N, M):
    # The tile is written once, before the loop; every iteration reads it.
    @T.prim_func
    def main(A: T.Tensor((M,), "float32"), B: T.Tensor((N, M), "float32")):
        with T.Kernel(1, threads=128) as bx:
            s = T.alloc_shared((M,), "float32")
            T.copy(A, s)
            for k in T.serial(N):
                for i in T.Parallel(M):
                    B[k, i] = s[M - 1 - i] * (k + 1)
    return main


def test_rewritten_tile_waits_for_the_previous_iteration():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 256)).astype(np.float32)
    b = np.zeros_like(a)
    tessel.jit(target="cuda")(relay)(4, 256)(a, b)
    np.testing.assert_array_equal(b, a[:, ::-1])


def test_read_only_tile_needs_no_barrier_per_iteration():
    rng = np.random.default_rng(1)
    a = rng.standard_normal(256).astype(np.float32)
    b = np.zeros((4, 256), np.float32)
    kernel = tessel.jit(target="cuda")(broadcast)(4, 256)
    kernel(a, b)
    np.testing.assert_array_equal(b, a[::-1][None, :] * np.arange(1, 5, dtype=np.float32)[:, None])
    # One barrier: after the copy, before the loop; none inside it.
    assert kernel.get_kernel_source().count("bar.sync") == 1
