"""tessel.jit(target="cuda"): PTX from Python, the argument checks, and the
runtime's answer on a machine without a GPU. On a GPU machine (torch with
CUDA) the GEMM and attention also run against PyTorch."""

import ctypes
import os
import sys

import numpy as np
import pytest

import tessel
from tessel import _cuda

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "examples", "gemm"))
sys.path.insert(0, os.path.join(REPO, "examples", "flash_attention"))

from gemm import matmul  # noqa: E402
from flash_attention import flash_attention  # noqa: E402


def has_driver():
    try:
        ctypes.CDLL("libcuda.so.1")
        return True
    except OSError:
        return False


def has_gpu():
    try:
        import torch
        return torch.cuda.is_available()
    except ImportError:
        return False


def cuda_gemm(m=256, n=256, k=256, **kw):
    return tessel.jit(out_idx=[-1], target="cuda")(matmul.fn)(m, n, k, **kw)


def test_ptx_from_python_uses_wgmma():
    ptx = cuda_gemm().get_source("ptx")
    assert ".target sm_90a" in ptx
    assert "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16" in ptx


def test_cubin_and_registers_when_ptxas_is_present():
    compiled = cuda_gemm()._cuda()
    if not compiled.cubin:
        pytest.skip("ptxas not found: no cubin to check")
    assert compiled.spill_bytes == 0
    assert 0 < compiled.registers <= 255
    assert compiled.grid == (2, 2, 1) and compiled.threads == 128


def test_host_arrays_are_refused_by_name():
    kernel = cuda_gemm()
    a = np.zeros((256, 256), np.float16)
    with pytest.raises(TypeError, match="argument 'A' must be a CUDA tensor"):
        kernel(a, a)


class FakeCudaTensor:
    """Looks like a torch CUDA tensor to the checks; never dereferenced."""
    is_cuda = True
    device = "cuda:0"

    def __init__(self, shape, dtype="torch.float16", strides=None):
        self.shape = shape
        self.dtype = dtype
        self._strides = strides or (shape[1], 1)

    def data_ptr(self):
        return 0x7F0000000000

    def stride(self):
        return self._strides


def test_wrong_dtype_is_refused_by_name():
    kernel = tessel.jit(target="cuda")(matmul.fn)(256, 256, 256)
    good = FakeCudaTensor((256, 256))
    with pytest.raises(TypeError, match="argument 'B' must have dtype float16, got float32"):
        kernel(good, FakeCudaTensor((256, 256), dtype="torch.float32"), good)


@pytest.mark.skipif(has_driver(), reason="a CUDA driver is present")
def test_without_a_driver_the_launch_says_so():
    kernel = tessel.jit(target="cuda")(matmul.fn)(256, 256, 256)
    t = FakeCudaTensor((256, 256))
    with pytest.raises(_cuda.CUDAError, match="no CUDA driver found"):
        kernel(t, t, t)


def test_shape_is_checked_before_the_driver():
    kernel = tessel.jit(target="cuda")(matmul.fn)(256, 256, 256)
    t = FakeCudaTensor((256, 256))
    with pytest.raises(ValueError, match=r"argument 'C' must have shape \(256, 256\), "
                                         r"got \(256, 128\)"):
        kernel(t, t, FakeCudaTensor((256, 128)))


def test_backend_errors_point_at_the_kernel_line():
    src = os.path.join(REPO, "tests", "python", "kernels", "cuda_unsupported.py")
    sys.path.insert(0, os.path.dirname(src))
    from cuda_unsupported import prints

    kernel = tessel.jit(target="cuda")(prints.fn)(8)
    with pytest.raises(tessel.CompileError) as err:
        kernel.get_source("ptx")
    text = str(err.value)
    assert "cuda_unsupported.py:12:" in text
    assert "T.print is not supported on the cuda target yet" in text


@pytest.mark.gpu
@pytest.mark.skipif(not has_gpu(), reason="needs torch with a CUDA GPU")
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_gemm_on_gpu_matches_torch(dtype):
    import torch

    kernel = tessel.jit(out_idx=[-1], target="cuda")(matmul.fn)(512, 512, 512, dtype=dtype)
    a = torch.randn(512, 512, device="cuda", dtype=getattr(torch, dtype))
    b = torch.randn(512, 512, device="cuda", dtype=getattr(torch, dtype))
    c = kernel(a, b)
    torch.testing.assert_close(c.float(), (a.float() @ b.float()), rtol=2e-2, atol=2e-1)


@pytest.mark.gpu
@pytest.mark.skipif(not has_gpu(), reason="needs torch with a CUDA GPU")
def test_attention_on_gpu_matches_torch():
    import torch

    kernel = tessel.jit(out_idx=[-1], target="cuda")(flash_attention.fn)(1, 4, 256, 128)
    q, k, v = (torch.randn(1, 256, 4, 128, device="cuda", dtype=torch.float16) for _ in range(3))
    o = kernel(q, k, v)
    ref = torch.nn.functional.scaled_dot_product_attention(
        q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2)).transpose(1, 2)
    torch.testing.assert_close(o.float(), ref.float(), rtol=2e-2, atol=2e-2)
