"""Tessel's own kernels compiled for sm_90a and run on the emulator against
numpy references, within each kernel's tolerance: GEMM (fp16/bf16, ragged
shapes, with and without TMA and warp specialization, dynamic M), the int8
GEMM and FlashAttention."""

import numpy as np
import pytest

import tessel
import tessel.language as T
from flash_attention.flash_attention import flash_attention
from flash_attention.reference import attention
from gemm.gemm import matmul

try:
    import ml_dtypes
except ImportError:  # pragma: no cover - installed by scripts/setup.sh
    ml_dtypes = None


def cuda(factory, **options):
    return tessel.jit(out_idx=[-1], target="cuda", **options)(factory.fn)


def gemm_inputs(m, n, k, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.uniform(-1, 1, (m, k)).astype(np.float32)
    b = rng.uniform(-1, 1, (k, n)).astype(np.float32)
    np_dtype = np.float16 if dtype == "float16" else ml_dtypes.bfloat16
    return a.astype(np_dtype), b.astype(np_dtype)


@pytest.mark.parametrize("m,n,k", [(256, 256, 128), (300, 200, 100), (128, 384, 64)])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_gemm(m, n, k, dtype):
    a, b = gemm_inputs(m, n, k, dtype)
    c = cuda(matmul)(m, n, k, dtype=dtype)(a, b)
    ref = a.astype(np.float32) @ b.astype(np.float32)
    # The output is rounded to the input type once; the sum is f32.
    rtol = 1e-2 if dtype == "bfloat16" else 2e-3
    np.testing.assert_allclose(c.astype(np.float32), ref, rtol=rtol, atol=rtol)


@pytest.mark.parametrize("options", [dict(tma=False), dict(warp_specialize=False)],
                         ids=["cp.async", "one-role"])
def test_gemm_pipelines(options):
    a, b = gemm_inputs(200, 256, 192, "float16", seed=1)
    c = cuda(matmul, **options)(200, 256, 192)(a, b)
    np.testing.assert_allclose(c.astype(np.float32), a.astype(np.float32) @ b.astype(np.float32),
                               rtol=2e-3, atol=2e-3)


@pytest.mark.parametrize("d", [64, 128])
@pytest.mark.parametrize("causal", [False, True], ids=["full", "causal"])
@pytest.mark.parametrize("seq", [128, 200])
def test_flash_attention(d, causal, seq):
    rng = np.random.default_rng(d + seq)
    q, k, v = (rng.standard_normal((1, seq, 2, d)).astype(np.float16) for _ in range(3))
    out = cuda(flash_attention)(1, 2, seq, d, is_causal=causal)(q, k, v)
    np.testing.assert_allclose(out.astype(np.float64), attention(q, k, v, causal),
                               rtol=1e-2, atol=1e-2)


def test_scalar_parameters():
    # The CPU tests' kernel (tests/python/kernels/small.py), on the cuda target.
    import importlib.util
    import os

    spec = importlib.util.spec_from_file_location("small_kernels", os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "python", "kernels", "small.py"))
    small = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(small)
    kernel = cuda(small.scaled_prefix)()
    x = np.random.default_rng(4).standard_normal(64).astype(np.float32)
    want = x * np.float32(2.5) + np.float32(3) + np.float32(0.25)
    want[10:] = 0
    np.testing.assert_allclose(kernel(x, 2.5, 10, 3, 0.25, False), want, rtol=1e-6)
    np.testing.assert_allclose(kernel(x, np.float32(2.5), np.int64(10), 3, 0.25, True), -want,
                               rtol=1e-6)


@tessel.jit(target="cuda")
def prints(N=8):
    @T.prim_func
    def main(X: T.Tensor((N,), "float32")):
        with T.Kernel(2, threads=128) as bx:
            s = T.alloc_shared((4,), "float32")
            for i in T.Parallel(4):
                s[i] = X[i] * 2.0
            T.print(X[0], msg="first 100%")
            T.print(s, msg="s")

    return main


def test_print(capfd):
    prints()(np.arange(1, 9, dtype=np.float32))
    lines = capfd.readouterr().out.splitlines()
    # Every thread prints the scalar; thread 0 of each block the shared tile,
    # an element a line, after the barrier that orders the writes.
    for block in (0, 1):
        first = ["first 100%% [block %d 0 0 thread %d] 1" % (block, t) for t in range(128)]
        assert sorted(l for l in lines if l.startswith("first 100%% [block %d " % block)) == \
            sorted(first)
        tile = ["s [block %d 0 0 thread 0] [%d] %d" % (block, i, 2 * (i + 1)) for i in range(4)]
        assert [l for l in lines if l.startswith("s [block %d " % block)] == tile


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_shuffled_schedules(seed, monkeypatch):
    # Threads interleave at random points between synchronizations and async
    # copies land at random legal points: the results stay the same.
    monkeypatch.setenv("TESSEL_EMU_SEED", str(seed))
    a, b = gemm_inputs(200, 128, 192, "float16", seed=seed)
    c = cuda(matmul)(200, 128, 192)(a, b)
    np.testing.assert_allclose(c.astype(np.float32), a.astype(np.float32) @ b.astype(np.float32),
                               rtol=2e-3, atol=2e-3)
    rng = np.random.default_rng(seed)
    q, k, v = (rng.standard_normal((1, 128, 1, 64)).astype(np.float16) for _ in range(3))
    out = cuda(flash_attention)(1, 1, 128, 64, is_causal=True)(q, k, v)
    np.testing.assert_allclose(out.astype(np.float64), attention(q, k, v, True),
                               rtol=1e-2, atol=1e-2)


@tessel.jit(target="cuda")
def scalar_then_read(N=256):
    @T.prim_func
    def main(X: T.Tensor((N,), "float32"), S: T.Tensor((1,), "float32"),
             O: T.Tensor((N,), "float32")):
        with T.Kernel(1, threads=256) as bx:
            S[0] = X[0] + 1.0
            s = S[0]
            for j in T.Parallel(N):
                O[j] = X[j] * s

    return main


@pytest.mark.parametrize("seed", [1, 2])
def test_scalar_store_read_by_every_thread(seed, monkeypatch):
    # Thread 0 alone stores S[0]; other warps read it back. Without a barrier
    # between, warps that ran first read the old value (0) and wrote zeros.
    monkeypatch.setenv("TESSEL_EMU_SEED", str(seed))
    x = np.arange(1, 257, dtype=np.float32)
    s, o = np.zeros(1, np.float32), np.zeros(256, np.float32)
    scalar_then_read()(x, s, o)
    assert s[0] == 2
    np.testing.assert_array_equal(o, x * 2)


def test_without_ptxas(monkeypatch):
    # No ptxas: the kernel is PTX only (DESIGN 1), and it runs.
    monkeypatch.setenv("TESSEL_PTXAS", "/nonexistent/ptxas")
    kernel = cuda(matmul)(128, 128, 64)
    compiled = kernel._cuda()
    assert not compiled.cubin and ".entry matmul" in compiled.ptx
    a, b = gemm_inputs(128, 128, 64, "float16", seed=5)
    np.testing.assert_allclose(kernel(a, b).astype(np.float32),
                               a.astype(np.float32) @ b.astype(np.float32), rtol=2e-3, atol=2e-3)


def test_autotune_keeps_the_first_configuration_that_runs():
    # The emulator cannot time: it says so and keeps the first config that
    # compiles and runs (block_N=100 is no wgmma N), without caching it.
    tuned = tessel.autotune(configs=[dict(block_N=100), dict(block_N=64), dict(block_N=128)])(
        tessel.jit(out_idx=[-1], target="cuda")(matmul.fn))
    with pytest.warns(UserWarning, match="runs on Tessel's emulator, which cannot time kernels; "
                                         "keeping the first configuration that runs, "
                                         "{'block_N': 64}"):
        kernel = tuned(128, 128, 64)
    assert kernel.config == {"block_N": 64}
    assert kernel.autotune_results[0]["config"] == {"block_N": 100}
    assert "error" in kernel.autotune_results[0]
    # The same shapes again: the kept configuration, without tuning or a warning.
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = tuned(128, 128, 64)
    assert again.config == {"block_N": 64}


def test_setmaxnreg_against_the_launch_register_count():
    # The FP8 GEMM's consumers raise their registers with what the producer
    # released: at the count ptxas chose it runs; launched as if with 92
    # registers a thread (the count a kernel without .minnctapersm got) the
    # raise can never be met, and the deadlock report says so.
    import fp8_gemm.fp8_gemm_reference as ref
    from fp8_gemm.fp8_gemm import fp8_gemm
    from tessel import _cuda

    kernel = cuda(fp8_gemm)(128, 128, 256)
    compiled = kernel._cuda()
    assert compiled.registers > 0
    rng = np.random.default_rng(9)
    a, sa = ref.quantize_rows(ref.bf16(rng.standard_normal((128, 256)).astype(np.float32)))
    b, sb = ref.quantize_blocks(ref.bf16(rng.standard_normal((128, 256)).astype(np.float32)))
    kernel(a, sa, b, sb)  # the manifest's count
    kernel._cuda_launcher = _cuda.Kernel(compiled.ptx.encode(), compiled.name, compiled.threads,
                                         compiled.shared_bytes, compiled.grid, registers=92)
    with pytest.raises(_cuda.CUDAError, match=r"(?s)deadlock in block.*setmaxnreg\.inc\.sync"
                       r"\.aligned\.u32 \t232;.* in setmaxnreg\.inc to 232 registers, for "
                       r"registers \(the block was launched with 35328"):
        kernel(a, sa, b, sb)
