"""The FP8 block-scaled GEMMs against numpy: on the CPU backend at small
shapes (CI), and on a GPU at DeepGEMM's shapes when one is present.

Pass: 1 - 2 sum(xy) / sum(x^2 + y^2) < 1e-3 against the product of the
unquantized bf16 inputs, as DeepGEMM's tests measure."""
import os
import sys

import ml_dtypes
import numpy as np
import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import fp8_gemm_reference as ref  # noqa: E402
from fp8_gemm import fp8_gemm, fp8_gemm_grouped, fp8_gemm_masked  # noqa: E402


def inputs(rng, *shape):
    return ref.bf16(rng.standard_normal(shape).astype(np.float32))


def f32(x):
    return np.asarray(x).astype(np.float32)


@pytest.mark.parametrize("m,n,k", [(256, 256, 512), (128, 320, 384), (100, 128, 256)])
def test_fp8_gemm(m, n, k):
    rng = np.random.default_rng(m + n + k)
    x, y = inputs(rng, m, k), inputs(rng, n, k)
    a, sa = ref.quantize_rows(x)
    b, sb = ref.quantize_blocks(y)
    d = fp8_gemm(m, n, k)(a, sa, b, sb)
    assert d.dtype == ml_dtypes.bfloat16 and d.shape == (m, n)
    assert ref.difference(f32(d), x.astype(np.float64) @ y.T) < 1e-3
    # And it is the dequantized product, to bf16's precision.
    exact = ref.fp8_gemm(a, sa, b, sb)
    np.testing.assert_allclose(f32(d), exact, rtol=1e-2, atol=1e-2 * np.abs(exact).max())


def test_fp8_gemm_grouped_contiguous():
    # Three experts with 100, 200 and 0 rows, each padded to whole 128-row
    # blocks, then one block of padding only (m_indices -1: untouched).
    rng = np.random.default_rng(1)
    n, k, groups = 256, 384, 3
    sizes = [100, 200, 0]
    padded = [(s + 127) // 128 * 128 for s in sizes]
    m = sum(padded) + 128
    m_indices = np.full(m, -1, np.int32)
    start = 0
    for g, (s, p) in enumerate(zip(sizes, padded)):
        m_indices[start:start + s] = g
        start += p
    x, y = inputs(rng, m, k), inputs(rng, groups, n, k)
    a, sa = ref.quantize_rows(x)
    b, sb = ref.quantize_blocks(y)
    d = f32(fp8_gemm_grouped(m, n, k, groups)(a, sa, b, sb, m_indices))
    start = 0
    for g, (s, p) in enumerate(zip(sizes, padded)):
        rows = slice(start, start + s)
        if s:
            assert ref.difference(d[rows], x[rows].astype(np.float64) @ y[g].T) < 1e-3
        start += p
    assert (d[start:] == 0).all()


def test_fp8_gemm_masked():
    # Two experts of up to 256 rows; the first uses 200, the second none.
    rng = np.random.default_rng(2)
    groups, max_m, n, k = 2, 256, 128, 256
    masked_m = np.array([200, 0], np.int32)
    x, y = inputs(rng, groups, max_m, k), inputs(rng, groups, n, k)
    a, sa = ref.quantize_rows(x)
    b, sb = ref.quantize_blocks(y)
    d = f32(fp8_gemm_masked(groups, max_m, n, k)(a, sa, b, sb, masked_m))
    assert ref.difference(d[0, :200], x[0, :200].astype(np.float64) @ y[0].T) < 1e-3
    assert (d[0, 200:] == 0).all() and (d[1] == 0).all()


def test_difference_measures_what_it_claims():
    x = np.arange(1, 10, dtype=np.float64)
    assert ref.difference(x, x) == 0
    assert ref.difference(x, -x) == 2
    assert 0 < ref.difference(x, x * 1.01) < 1e-4


def has_gpu():
    try:
        import torch
        return torch.cuda.is_available()
    except ImportError:
        return False


# DESIGN 5's shape table (a few of its M values keep the run short).
GPU_SHAPES = [(m, n, k) for m in (64, 128, 4096)
              for n, k in ((2112, 7168), (24576, 1536), (32768, 512), (7168, 16384),
                           (4096, 7168), (7168, 2048))]


@pytest.mark.gpu
@pytest.mark.skipif(not has_gpu(), reason="needs torch with a CUDA GPU")
@pytest.mark.parametrize("m,n,k", GPU_SHAPES)
def test_fp8_gemm_on_gpu(m, n, k):
    import tessel
    import torch

    rng = np.random.default_rng(0)
    x, y = inputs(rng, m, k), inputs(rng, n, k)
    a, sa = ref.quantize_rows(x)
    b, sb = ref.quantize_blocks(y)
    cuda = lambda t: torch.from_numpy(np.ascontiguousarray(t).view(np.uint8)
                                      if t.dtype == ml_dtypes.float8_e4m3fn else t).cuda()
    ta, tb = cuda(a).view(torch.float8_e4m3fn), cuda(b).view(torch.float8_e4m3fn)
    kernel = tessel.jit(out_idx=[-1], target="cuda")(fp8_gemm.fn)(m, n, k)
    d = kernel(ta, cuda(sa), tb, cuda(sb))
    assert ref.difference(d.float().cpu().numpy(), x.astype(np.float64) @ y.T) < 1e-3
