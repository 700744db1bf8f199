"""tessel.jit end to end on the CPU backend: kernels against numpy, and the
argument checks a caller meets."""

import os
import subprocess
import sys

import ml_dtypes
import numpy as np
import pytest

import tessel
import tessel.language as T

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The directory holding the tessel package under test (the checkout's python/,
# or site-packages for an installed wheel), for the scripts run in a subprocess.
PYTHON_DIR = os.path.dirname(os.path.dirname(os.path.abspath(tessel.__file__)))
sys.path.insert(0, os.path.join(REPO, "examples", "gemm"))
sys.path.insert(0, os.path.join(REPO, "examples", "flash_attention"))

from gemm import matmul  # noqa: E402
from kernels.small import scaled_prefix  # noqa: E402
from flash_attention import flash_attention  # noqa: E402
from reference import attention  # noqa: E402
from kernels.small import (fp8_quantize, row_softmax, scaled_copy, split_k_gemm,  # noqa: E402
                           vector_add)

RNG = np.random.default_rng(7)


@pytest.mark.parametrize("m,n,k", [(128, 128, 64), (100, 70, 96), (1, 130, 64)])
def test_gemm_matches_numpy_with_ragged_edges(m, n, k):
    kernel = tessel.jit(out_idx=[-1], target="cpu")(matmul.fn)(m, n, k, block_M=64,
                                                                  block_N=64, block_K=32)
    a = RNG.standard_normal((m, k)).astype(np.float16)
    b = RNG.standard_normal((k, n)).astype(np.float16)
    c = kernel(a, b)
    assert c.shape == (m, n) and c.dtype == np.float16
    expected = (a.astype(np.float32) @ b.astype(np.float32)).astype(np.float16)
    np.testing.assert_allclose(c.astype(np.float32), expected.astype(np.float32),
                               rtol=2e-3, atol=2e-2)


@pytest.mark.parametrize("causal", [False, True])
def test_flash_attention_matches_numpy(causal):
    fn = tessel.jit(out_idx=[-1], target="cpu")(flash_attention.fn)
    kernel = fn(2, 2, 80, 64, is_causal=causal)
    q, k, v = (RNG.standard_normal((2, 80, 2, 64)).astype(np.float16) for _ in range(3))
    out = kernel(q, k, v)
    np.testing.assert_allclose(out.astype(np.float64), attention(q, k, v, causal),
                               atol=3e-3, rtol=1e-2)


def test_dynamic_shapes_serve_every_length():
    kernel = vector_add()
    for n in (1, 128, 300):
        a = RNG.standard_normal(n).astype(np.float32)
        b = RNG.standard_normal(n).astype(np.float32)
        np.testing.assert_array_equal(kernel(a, b), a + b)
    with pytest.raises(ValueError, match=r"dynamic dimension 'n' is 4 in an earlier argument but 5"):
        kernel(np.zeros(4, np.float32), np.zeros(5, np.float32))


def test_softmax_and_reductions():
    x = RNG.standard_normal((40, 24)).astype(np.float32)
    y = row_softmax(40, 24)(x)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    np.testing.assert_allclose(y, e / e.sum(axis=1, keepdims=True), rtol=1e-5, atol=1e-6)


def test_macro_and_compile_time_branch():
    x = RNG.standard_normal((4, 8)).astype(ml_dtypes.bfloat16)
    np.testing.assert_array_equal(scaled_copy(4, 8)(x), x.astype(np.float32) * 4)
    np.testing.assert_array_equal(scaled_copy(4, 8, factor=3.0, twice=False)(x),
                                  x.astype(np.float32) * 3)


def test_fp8_cast_is_bit_exact():
    x = (RNG.standard_normal((8, 16)) * 100).astype(np.float32)
    q = fp8_quantize(8, 16)(x)
    assert q.dtype == ml_dtypes.float8_e4m3fn
    np.testing.assert_array_equal(q.view(np.uint8), x.astype(ml_dtypes.float8_e4m3fn).view(np.uint8))


def test_atomic_add_split_k():
    a = RNG.standard_normal((64, 128)).astype(np.float32)
    b = RNG.standard_normal((128, 64)).astype(np.float32)
    np.testing.assert_allclose(split_k_gemm(64, 64, 128)(a, b), a @ b, rtol=1e-4, atol=1e-4)


def test_sources():
    kernel = vector_add()
    assert "tile.kernel" in kernel.get_source("tile")
    assert "define" in kernel.get_source("cpu-llvm")
    with pytest.raises(ValueError, match="no 'wasm' source"):
        kernel.get_source("wasm")
    # PTX can be asked of any kernel; this one's dynamic size n is the
    # kernel's fourth parameter there.
    ptx = kernel.get_source("ptx")
    assert ".param .u64 vector_add_param_3" in ptx


class TestArgumentChecks:
    kernel = staticmethod(lambda: tessel.jit(out_idx=[-1], target="cpu")(matmul.fn)(64, 64, 32))

    def test_wrong_dtype_names_the_argument(self):
        with pytest.raises(TypeError, match=r"argument 'A' must have dtype float16, got float32"):
            self.kernel()(np.zeros((64, 32), np.float32), np.zeros((32, 64), np.float16))

    def test_wrong_shape_names_the_argument(self):
        with pytest.raises(ValueError, match=r"argument 'B' must have shape \(32, 64\), got \(64, 32\)"):
            self.kernel()(np.zeros((64, 32), np.float16), np.zeros((64, 32), np.float16))

    def test_wrong_rank(self):
        with pytest.raises(ValueError, match=r"argument 'A' must have 2 dimensions"):
            self.kernel()(np.zeros(64, np.float16), np.zeros((32, 64), np.float16))

    def test_non_contiguous(self):
        a = np.zeros((32, 64), np.float16).T
        with pytest.raises(ValueError, match=r"argument 'A' must be C-contiguous"):
            self.kernel()(a, np.zeros((32, 64), np.float16))

    def test_argument_count(self):
        with pytest.raises(TypeError, match=r"takes 2 arguments \(A, B\), got 1"):
            self.kernel()(np.zeros((64, 32), np.float16))

    def test_not_an_array(self):
        with pytest.raises(TypeError, match=r"argument 'A' must be a numpy array"):
            self.kernel()([[1.0]], np.zeros((32, 64), np.float16))

    def test_gpu_tensor_is_refused(self):
        class FakeCudaTensor:
            device = "cuda:0"

            def __dlpack__(self, stream=None):
                raise AssertionError("must not be read")

        with pytest.raises(ValueError, match=r"argument 'A' is on device cuda:0"):
            self.kernel()(FakeCudaTensor(), np.zeros((32, 64), np.float16))


def test_unsupported_binding_names_the_value_and_its_type():
    blob = object()

    @tessel.jit(target="cpu")
    def factory(n=4):
        @T.prim_func
        def main(A: T.Tensor((n,), "float32")):
            with T.Kernel(1) as bx:
                A[0] = blob
        return main

    with pytest.raises(tessel.CompileError, match=r"'blob' is bound to a Python object"):
        factory()


def test_factory_argument_type_is_checked():
    with pytest.raises(TypeError, match=r"argument 'M' is a object"):
        tessel.jit(target="cpu")(matmul.fn)(object(), 64, 64)


def test_tesselc_and_jit_emit_identical_ir():
    kernel = tessel.jit(out_idx=[-1], target="cpu")(matmul.fn)(256, 128, 64)
    tesselc = os.path.join(os.environ.get("TESSEL_BUILD_DIR", os.path.join(REPO, "build")),
                           "bin", "tesselc")
    out = subprocess.run([tesselc, os.path.join(REPO, "examples", "gemm", "gemm.py"),
                          "--entry", "matmul", "-D", "M=256", "-D", "N=128", "-D", "K=64",
                          "--emit", "tile"], capture_output=True, text=True, check=True)
    assert out.stdout == kernel.get_source("tile")
    assert "tile.gemm" in out.stdout


def test_dlpack_producers_are_accepted():
    class Producer:
        """A CPU tensor from another library, seen only through DLPack."""

        def __init__(self, array):
            self.array = array

        def __dlpack__(self, stream=None, **kwargs):
            return self.array.__dlpack__()

        def __dlpack_device__(self):
            return self.array.__dlpack_device__()

    kernel = vector_add()
    a = RNG.standard_normal(50).astype(np.float32)
    b = RNG.standard_normal(50).astype(np.float32)
    np.testing.assert_array_equal(kernel(Producer(a), Producer(b)), a + b)


def test_read_only_argument_the_kernel_writes_is_refused():
    kernel = tessel.jit(target="cpu")(split_k_gemm.fn)(64, 64, 128)
    kernel.out_idx = []
    a = RNG.standard_normal((64, 128)).astype(np.float32)
    b = RNG.standard_normal((128, 64)).astype(np.float32)
    c = np.zeros((64, 64), np.float32)
    c.flags.writeable = False
    with pytest.raises(ValueError, match=r"argument 'C' is read-only, but the kernel writes it"):
        kernel(a, b, c)
    a.flags.writeable = False  # read-only inputs the kernel only reads are fine
    c = np.zeros((64, 64), np.float32)
    kernel(a, b, c)
    np.testing.assert_allclose(c, a @ b, rtol=1e-4, atol=1e-4)


SCALE = 2.0


def test_changed_global_is_not_served_from_the_cache():
    global SCALE

    @tessel.jit(out_idx=[-1], target="cpu")
    def scaled(n=8):
        @T.prim_func
        def main(X: T.Tensor((n,), "float32"), Y: T.Tensor((n,), "float32")):
            with T.Kernel(1) as bx:
                for i in T.Parallel(n):
                    Y[i] = X[i] * SCALE
        return main

    x = np.arange(8, dtype=np.float32)
    np.testing.assert_array_equal(scaled()(x), x * 2)
    SCALE = 3.0
    try:
        np.testing.assert_array_equal(scaled()(x), x * 3)
    finally:
        SCALE = 2.0


def test_kernel_without_source_is_a_clear_error():
    namespace = {"T": T, "tessel": tessel}
    exec("def made_at_runtime(n=4):\n    pass\n", namespace)
    with pytest.raises(tessel.CompileError, match=r"cannot read the source of 'made_at_runtime'"):
        tessel.jit(target="cpu")(namespace["made_at_runtime"])()


@tessel.jit(out_idx=[-1], target="cpu")
def clamp_twice(n=64):
    # A helper called in kernel code returns a value computed in straight-line
    # code (macro or plain def); compile-time branches may choose the return.
    @T.macro
    def clamp(x, lo, hi):
        return T.min(T.max(x, lo), hi)

    def twice_if(x, enabled):
        if enabled:
            return x * 2
        return x

    @T.prim_func
    def main(X: T.Tensor((n,), "float32"), Y: T.Tensor((n,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            for i in T.Parallel(n):
                Y[i] = twice_if(clamp(X[i], -1.0, 1.0), True) + twice_if(X[i], False)

    return main


def test_helpers_return_values_in_kernels():
    x = RNG.standard_normal(64).astype(np.float32) * 2
    np.testing.assert_array_equal(clamp_twice()(x), np.clip(x, -1, 1) * 2 + x)


def test_scalar_parameters_on_the_cpu():
    kernel = scaled_prefix()
    x = RNG.standard_normal(64).astype(np.float32)
    want = x * np.float32(2.5) + np.float32(3) + np.float32(0.25)
    want[10:] = 0
    np.testing.assert_allclose(kernel(x, 2.5, 10, 3, 0.25, False), want, rtol=1e-6)
    np.testing.assert_allclose(kernel(x, np.float32(2.5), np.int64(10), 3, 0.25, True),
                               -want, rtol=1e-6)
    # Integral floats are integers; others, arrays and out-of-range values are not.
    np.testing.assert_allclose(kernel(x, 2.5, 10.0, 3, 0.25, False), want, rtol=1e-6)
    with pytest.raises(TypeError, match=r"argument 'count' is a int32 scalar; 2.5 is not an integer"):
        kernel(x, 2.5, 2.5, 3, 0.25, False)
    with pytest.raises(ValueError, match=r"argument 'count' is a int32 scalar; 4294967296 is "
                                         r"out of its range \[-2147483648, 2147483647\]"):
        kernel(x, 2.5, 2**32, 3, 0.25, False)
    with pytest.raises(TypeError, match=r"argument 'alpha' is a float32 scalar; pass a number, "
                                        r"got ndarray"):
        kernel(x, x, 10, 3, 0.25, False)


FACTOR_ONLY_THE_MACRO_USES = 3.0


@T.macro
def _scale_by_module_constant(buf, n):
    for i in T.Parallel(n):
        buf[i] = buf[i] * FACTOR_ONLY_THE_MACRO_USES


@tessel.jit(out_idx=[-1], target="cpu")
def macro_constant(n=32):
    @T.prim_func
    def main(X: T.Tensor((n,), "float32"), Y: T.Tensor((n,), "float32")):
        with T.Kernel(1, threads=32) as bx:
            x = T.alloc_fragment((n,), "float32")
            T.copy(X, x)
            _scale_by_module_constant(x, n)
            T.copy(x, Y)

    return main


def test_names_only_a_macro_uses_reach_the_frontend():
    x = RNG.standard_normal(32).astype(np.float32)
    np.testing.assert_allclose(macro_constant()(x), x * 3.0, rtol=1e-6)


AUTO_SCRIPT = r"""
import sys
sys.path.insert(0, {python!r})
import tessel
print(sys.modules["tessel.jit"]._resolve_target("auto"))
"""


@pytest.mark.parametrize("driver,want", [("fake", "cuda:sm_90a"), ("none", "cpu")])
def test_auto_target_follows_the_gpu(driver, want, tmp_path):
    # "auto" is the cuda target when the driver sees a Hopper GPU (here the
    # fake driver, which reports compute capability 9.0), else the CPU.
    import glob

    fakes = glob.glob(os.path.join(REPO, "build", "**", "libtessel-fake-cuda.so"), recursive=True)
    if driver == "fake" and not fakes:
        pytest.skip("the fake CUDA driver is not built")
    env = dict(os.environ, TESSEL_CUDA_DRIVER=fakes[0] if driver == "fake"
               else str(tmp_path / "no-libcuda.so"))
    env.pop("TESSEL_TARGET", None)
    out = subprocess.run([sys.executable, "-c", AUTO_SCRIPT.format(
        python=PYTHON_DIR)], env=env, capture_output=True, text=True,
        check=True)
    assert out.stdout.strip() == want
    env["TESSEL_TARGET"] = "cpu"
    out = subprocess.run([sys.executable, "-c", AUTO_SCRIPT.format(
        python=PYTHON_DIR)], env=env, capture_output=True, text=True,
        check=True)
    assert out.stdout.strip() == "cpu"
