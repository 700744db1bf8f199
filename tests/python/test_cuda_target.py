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
    # The kernel's 128 threads consume; the producer warpgroup comes after.
    assert compiled.grid == (2, 2, 1) and compiled.threads == 256
    assert compiled.register_split == [255, 40, 255]
    plain = tessel.jit(out_idx=[-1], target="cuda", warp_specialize=False)(matmul.fn)(
        256, 256, 256)._cuda()
    assert plain.threads == 128 and plain.register_split == []


def test_arguments_that_are_no_tensors_are_refused_by_name():
    kernel = cuda_gemm()
    a = np.zeros((256, 256), np.float16)
    with pytest.raises(TypeError, match="argument 'A' must be a CUDA tensor .* or a numpy "
                                        "array, got list"):
        kernel(a.tolist(), a)


def test_numpy_arrays_need_a_driver():
    # numpy arrays are copied to device memory: with no driver, that says so.
    if _cuda.library().tessel_rt_init() == 0:
        pytest.skip("a CUDA driver is usable here (tests/emulator runs numpy on one)")
    kernel = cuda_gemm()
    a = np.zeros((256, 256), np.float16)
    with pytest.raises(_cuda.CUDAError, match="no CUDA driver found"):
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
    assert "cuda_unsupported.py:13:13:" in text, text
    assert "T.print of a T.alloc_local buffer is not supported on the cuda target" in text


def test_pipeline_stage_errors_point_at_the_statement():
    sys.path.insert(0, os.path.join(REPO, "tests", "python", "kernels"))
    from cuda_unsupported import gemm_in_stage_zero

    kernel = tessel.jit(target="cuda")(gemm_in_stage_zero.fn)(128, 128, 128)
    with pytest.raises(tessel.CompileError) as err:
        kernel.get_source("ptx")
    text = str(err.value)
    assert "cuda_unsupported.py:31:17:" in text, text
    assert "stage= puts this statement in stage 0" in text
    # The CPU backend runs the body as written.
    a = np.ones((128, 128), np.float16)
    c = np.zeros((128, 128), np.float16)
    tessel.jit(target="cpu")(gemm_in_stage_zero.fn)(128, 128, 128)(a, a, c)
    assert (c == 128).all()


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


class FakeDLPackCUDA:
    """A CUDA tensor seen only through DLPack (as CuPy or JAX would hand one
    over): a DLManagedTensor in ctypes memory behind a "dltensor" capsule.
    Nothing is allocated on a GPU; the pointer is only checked and passed."""

    def __init__(self, shape, code=2, bits=16, pointer=0x7000_0000, strides=None):
        class DLManagedTensor(ctypes.Structure):
            _fields_ = [("data", ctypes.c_void_p), ("device_type", ctypes.c_int32),
                        ("device_id", ctypes.c_int32), ("ndim", ctypes.c_int32),
                        ("code", ctypes.c_uint8), ("bits", ctypes.c_uint8),
                        ("lanes", ctypes.c_uint16), ("shape", ctypes.POINTER(ctypes.c_int64)),
                        ("strides", ctypes.POINTER(ctypes.c_int64)),
                        ("byte_offset", ctypes.c_uint64), ("manager_ctx", ctypes.c_void_p),
                        ("deleter", ctypes.c_void_p)]

        self._shape = (ctypes.c_int64 * len(shape))(*shape)
        self._strides = (ctypes.c_int64 * len(shape))(*strides) if strides else None
        self._managed = DLManagedTensor(pointer, 2, 0, len(shape), code, bits, 1,
                                        self._shape, self._strides, 0, None, None)
        self.consumed = 0

    def __dlpack_device__(self):
        return (2, 0)

    def __dlpack__(self, stream=None):
        self.consumed += 1
        new = ctypes.pythonapi.PyCapsule_New
        new.restype = ctypes.py_object
        new.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_void_p]
        return new(ctypes.addressof(self._managed), b"dltensor", None)


def test_dlpack_cuda_tensors_are_read_and_checked():
    from tessel._runtime import _DLPackCUDATensor

    view = _DLPackCUDATensor(FakeDLPackCUDA((256, 128), pointer=0x1000))
    assert view.is_cuda and view.shape == (256, 128) and view.stride() == (128, 1)
    assert view.dtype == "float16" and view.data_ptr() == 0x1000
    strided = _DLPackCUDATensor(FakeDLPackCUDA((4, 8), code=4, strides=(16, 1)))
    assert strided.dtype == "bfloat16" and strided.stride() == (16, 1)

    kernel = tessel.jit(target="cuda")(matmul.fn)(256, 256, 256)
    good = FakeDLPackCUDA((256, 256))
    with pytest.raises(TypeError, match="argument 'B' must have dtype float16, got float32"):
        kernel(good, FakeDLPackCUDA((256, 256), bits=32), good)
    with pytest.raises(ValueError, match=r"argument 'A' must have shape \(256, 256\), "
                                         r"got \(256, 128\)"):
        kernel(FakeDLPackCUDA((256, 128)), good, good)
    # A non-contiguous view passes the Python checks and is refused by name
    # by the runtime's own check, before any driver is needed.
    wide = FakeDLPackCUDA((256, 256), strides=(512, 1))
    with pytest.raises(_cuda.CUDAError, match="argument 'A' is not contiguous"):
        kernel(wide, good, good)
    assert good.consumed >= 2


def test_tensor_map_requirements_are_named_before_the_driver():
    # The runtime checks TMA's rules itself, so a bad box is named even
    # where there is no driver to ask.
    with pytest.raises(_cuda.CUDAError, match=r"the box's innermost extent \(256 bytes\) "
                                              r"is wider than the 128-byte swizzle"):
        _cuda.tensor_map("float16", 0x10000, [4096, 1024], [128, 128], 128)
    with pytest.raises(_cuda.CUDAError, match="no TMA element type for float64"):
        _cuda.tensor_map("float64", 0x10000, [64, 64], [64, 8], 0)


def test_tma_kernels_list_their_descriptors():
    # By default the pipelined tiles (A's, and B's read MN-major in place)
    # come by TMA from a producer warpgroup;
    # the compiled kernel says which tensor each descriptor parameter
    # describes, and the launch encodes it (here, without a driver, that is
    # where it stops).
    kernel = tessel.jit(target="cuda")(matmul.fn)(256, 256, 256)
    ptx = kernel.get_source("ptx")
    assert "cp.async.bulk.tensor.2d" in ptx and "mbarrier.try_wait.parity" in ptx
    assert "setmaxnreg.dec.sync.aligned.u32" in ptx
    assert kernel._cuda().tensor_maps == [
        {"param": 3, "tensor": 0, "box": [128, 64], "swizzle": 128},
        {"param": 4, "tensor": 1, "box": [64, 64], "swizzle": 128}]
    single = tessel.jit(target="cuda", warp_specialize=False)(matmul.fn)(256, 256, 256)
    ptx = single.get_source("ptx")
    assert "cp.async.bulk.tensor.2d" in ptx and "setmaxnreg" not in ptx
    plain = tessel.jit(target="cuda", tma=False)(matmul.fn)(256, 256, 256)
    assert "cp.async.bulk.tensor" not in plain.get_source("ptx")
    assert plain._cuda().tensor_maps == []
    if not has_driver():
        t = FakeCudaTensor((256, 256))
        with pytest.raises(_cuda.CUDAError, match="no CUDA driver found"):
            kernel(t, t, t)


class RecordingRuntime:
    """Stands in for libtessel_runtime: records what each launch passes (the
    first `count` parameters' first 8 bytes, read during the call, while the
    caller's holders live) and the tensor maps it asks for."""

    def __init__(self, count, by_value=0):
        self.count, self.by_value = count, by_value
        self.launches, self.tensor_maps = [], []

    def tessel_rt_kernel_create(self, image, size, name, threads, shared, out):
        return 0

    def tessel_rt_driver_is_emulator(self):
        return 0

    def tessel_rt_kernel_set_registers(self, handle, registers):
        return 0

    def tessel_rt_check_tensor(self, *args):
        return 0

    def tessel_rt_kernel_destroy(self, handle):
        pass

    def tessel_rt_tensor_map_get(self, out, dtype, rank, pointer, shape, strides, box, swizzle):
        self.tensor_maps.append({"shape": list(shape[:rank]), "box": list(box[:rank])})
        out._obj.value = 0x5000 + len(self.tensor_maps)
        return 0

    def tessel_rt_launch(self, handle, grid, args, stream):
        raw = [ctypes.c_uint64.from_address(args[i]).value for i in range(self.count)]
        # Descriptors passed by value: their addresses (fake ones here).
        maps = [args[self.count + i] for i in range(self.by_value)]
        self.launches.append({"grid": list(grid), "raw": raw, "maps": maps})
        return 0


def as_float(raw, kind="f"):
    import struct
    return struct.unpack(kind, raw.to_bytes(8, "little")[:struct.calcsize(kind)])[0]


def test_scalar_parameters_are_passed_by_value(monkeypatch):
    sys.path.insert(0, os.path.join(REPO, "tests", "python"))
    from kernels.small import scaled_prefix

    kernel = tessel.jit(target="cuda")(scaled_prefix.fn)()
    assert ".param .f32" in kernel.get_source("ptx")
    runtime = RecordingRuntime(7)
    monkeypatch.setattr(_cuda, "library", lambda: runtime)
    x, y = FakeCudaTensor((64,), "torch.float32", (1,)), FakeCudaTensor((64,), "torch.float32", (1,))
    kernel(x, 2.5, 10, -3, 0.25, True, y)
    (launch,) = runtime.launches
    xp, alpha, count, offset, beta, negate, yp = launch["raw"]
    assert (xp, yp, launch["grid"]) == (x.data_ptr(), y.data_ptr(), [1, 1, 1])
    assert as_float(alpha) == 2.5 and as_float(beta, "d") == 0.25
    assert as_float(count, "i") == 10 and as_float(offset, "q") == -3 and negate & 0xFF == 1
    with pytest.raises(TypeError, match="argument 'count' is a int32 scalar; pass a number"):
        kernel(x, 2.5, x, -3, 0.25, True, y)


def test_dynamic_dimensions_on_the_cuda_target(monkeypatch):
    # The corpus GEMM with M a T.dynamic dimension: one compile serves every
    # M; the launch passes M after the tensors, the grid is computed from it,
    # and the TMA descriptor of A is encoded with the actual extent (B's, the
    # second, is static).
    sys.path.insert(0, os.path.join(REPO, "tests", "lit", "Frontend", "corpus"))
    from gemm_dynamic_m import gemm_dyn

    kernel = tessel.jit(target="cuda")(gemm_dyn.fn)(256, 256)
    compiled = kernel._cuda()
    assert compiled.dynamic_params == ["m"]
    assert compiled.grid_exprs == ["", "ceildiv(m, 64)", ""]
    runtime = RecordingRuntime(4, by_value=2)
    monkeypatch.setattr(_cuda, "library", lambda: runtime)
    b = FakeCudaTensor((256, 256))
    for m in (100, 64, 1):
        a, c = FakeCudaTensor((m, 256)), FakeCudaTensor((m, 256))
        kernel(a, b, c)
        launch = runtime.launches[-1]
        assert launch["grid"] == [4, -(-m // 64), 1]
        assert launch["raw"][3] == m
        assert runtime.tensor_maps[-2:] == [{"shape": [m, 256], "box": [64, 64]},
                                            {"shape": [256, 256], "box": [64, 64]}]
        assert launch["maps"] == [0x5000 + len(runtime.tensor_maps) - 1,
                                  0x5000 + len(runtime.tensor_maps)]
    with pytest.raises(ValueError, match=r"dynamic dimension 'm' is 100 in an earlier "
                                         r"argument but 99 in 'C'"):
        kernel(FakeCudaTensor((100, 256)), b, FakeCudaTensor((99, 256)))
    with pytest.raises(ValueError, match=r"argument 'B' must have shape \(256, 256\), got "
                                         r"\(255, 256\)"):
        kernel(a, FakeCudaTensor((255, 256)), c)
    # No rows: no blocks, nothing launched.
    before = len(runtime.launches)
    kernel(FakeCudaTensor((0, 256)), b, FakeCudaTensor((0, 256)))
    assert len(runtime.launches) == before


def test_llvm_source_is_the_nvptx_module():
    ll = cuda_gemm().get_source("llvm")
    assert 'target triple = "nvptx64-nvidia-cuda"' in ll
    assert "wgmma.mma_async" in ll  # the inline PTX statements
