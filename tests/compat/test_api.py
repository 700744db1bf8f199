"""tessel.jit, the kernel object and autotune as TileLang's are: the names a
TileLang host program calls, checked for what they do."""

import logging
import warnings

import numpy as np
import pytest

import tessel
import tessel as tilelang
import tessel.language as T
import compat_kernels as K
from conftest import on


def test_pass_configs_map_to_tessel_options():
    key = tilelang.PassConfigKey
    jf = tilelang.jit(out_idx=[-1], pass_configs={
        key.TL_DISABLE_WARP_SPECIALIZED: True, key.TL_DISABLE_TMA_LOWER: True,
        key.TL_ENABLE_FAST_MATH: True})(K.scale_rows.fn)
    assert (jf.warp_specialize, jf.tma, jf.fast_math) == (False, False, True)
    plain = tilelang.jit(out_idx=[-1])(K.scale_rows.fn)
    assert (plain.warp_specialize, plain.tma, plain.fast_math) == (True, True, False)


def test_pass_configs_without_a_tessel_meaning_are_reported_once():
    from tessel import config

    config._REPORTED.discard("tl.disable_vectorize_256")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for _ in range(2):
            tilelang.jit(pass_configs={tilelang.PassConfigKey.TL_DISABLE_VECTORIZE_256: True})(
                K.scale_rows.fn)
    messages = [str(w.message) for w in caught if "tl.disable_vectorize_256" in str(w.message)]
    assert len(messages) == 1 and "no effect in Tessel" in messages[0]


def test_unknown_pass_config_is_an_error():
    with pytest.raises(ValueError, match="unknown pass config 'fast'"):
        tilelang.jit(pass_configs={"fast": True})(K.scale_rows.fn)
    with pytest.raises(TypeError, match="must be a bool"):
        tilelang.jit(pass_configs={"tl.disable_tma_lower": "maybe"})(K.scale_rows.fn)


def test_out_idx_forms():
    with pytest.raises(TypeError, match="out_idx must be an int or a list of ints"):
        tilelang.jit(out_idx="last")(K.scale_rows.fn)
    with pytest.raises(ValueError, match="out_idx 5 is out of range for 2 parameters"):
        tilelang.jit(out_idx=5, target="cpu")(K.scale_rows.fn)(64, 16)


def test_set_log_level():
    tilelang.set_log_level("WARNING")
    assert logging.getLogger("tessel").level == logging.WARNING
    tilelang.set_log_level(logging.DEBUG)
    assert logging.getLogger("tessel").level == logging.DEBUG
    with pytest.raises(ValueError, match="unknown level"):
        tilelang.set_log_level("LOUD")


def test_integer_helpers():
    assert [tilelang.cdiv(a, 4) for a in (0, 1, 4, 5)] == [0, 1, 1, 2]
    assert [tilelang.next_power_of_2(x) for x in (0, 1, 3, 64, 65)] == [1, 1, 4, 64, 128]
    from tessel.math import cdiv, next_power_of_2
    assert cdiv(10, 3) == 4 and next_power_of_2(33) == 64


def test_fp8_type_names():
    from tessel.language.fp8 import determine_fp8_type
    assert determine_fp8_type() == "float8_e4m3fn" and determine_fp8_type("e5m2") == "float8_e5m2"
    assert T.dtype(determine_fp8_type()) == T.float8_e4m3


def test_kernel_source_and_profiler(target):
    kernel = on(target, K.scale_rows)(64, 16)
    source = kernel.get_kernel_source()
    assert (".entry" in source) if target == "cuda" else ("define" in source)
    profiler = kernel.get_profiler()
    profiler.assert_allclose(lambda a: (a.astype(np.float32) * 0.25).astype(np.float16),
                             rtol=2e-3, atol=2e-3)
    with pytest.raises(AssertionError, match="differ"):
        profiler.assert_allclose(lambda a: a * 0.5)
    assert profiler.do_bench(warmup=1, rep=5) > 0


def test_profiler_on_an_eager_kernel(target):
    kernel = on(target, K.eager_add).compile(M=64, N=48)
    assert kernel.out_idx == [2]
    kernel.get_profiler(tilelang.TensorSupplyType.Integer).assert_allclose(lambda a, b: a + b)


def test_tensor_supply():
    from tessel.utils.tensor import TensorSupplyType, get_tensor_supply

    kernel = on("cpu", K.scale_rows)(64, 16)
    make = get_tensor_supply(TensorSupplyType.One)
    a = make(kernel.params[0])
    assert a.shape == (64, 16) and a.dtype == np.float16 and (a == 1).all()


def test_testing_helpers():
    import tessel.testing

    tessel.testing.set_random_seed(7)
    first = np.random.rand()
    tessel.testing.set_random_seed(7)
    assert np.random.rand() == first
    tessel.testing.torch_assert_close(np.ones(1000), np.ones(1000) + np.eye(1000)[0])
    with pytest.raises(AssertionError, match="elements"):
        tessel.testing.torch_assert_close(np.ones(10), np.zeros(10))


# -- autotune, as TileLang's @autotune stacked on @jit ------------------------------

def _block_configs():
    return [{"block_M": 16}, {"block_M": 32}]


@tilelang.autotune(configs=_block_configs, warmup=1, rep=2)
@tilelang.jit(out_idx=[-1], target="cpu")
def tuned_scale(M, N, block_M=64):
    @T.prim_func
    def main(A: T.Tensor((M, N), "float32"), B: T.Tensor((M, N), "float32")):
        with T.Kernel(T.ceildiv(M, block_M), threads=64) as bx:
            for i, j in T.Parallel(block_M, N):
                if bx * block_M + i < M:
                    B[bx * block_M + i, j] = A[bx * block_M + i, j] * 3
    return main


def test_autotune_tunes_over_configs_from_a_function(tmp_path, monkeypatch):
    monkeypatch.setenv("TESSEL_CACHE_DIR", str(tmp_path))
    kernel = tuned_scale(40, 8)
    assert kernel.config in _block_configs()
    assert len(kernel.autotune_results) == 2
    a = np.random.default_rng(0).standard_normal((40, 8)).astype(np.float32)
    np.testing.assert_allclose(kernel(a), a * 3)


def test_autotune_with_explicit_config_values_compiles_them_untuned():
    kernel = tuned_scale(40, 8, block_M=8)
    assert not hasattr(kernel, "autotune_results")
    a = np.ones((40, 8), np.float32)
    np.testing.assert_allclose(kernel(a), 3 * a)


@tilelang.autotune(configs=[{"block_M": 16}, {"block_M": 32}], warmup=1, rep=2, timeout=10,
                   skip_check=True)
@tilelang.jit(target="cpu")
def tuned_eager(A, block_M=64):
    M, N = T.const("M, N")
    A: T.Tensor((M, N), "float32")
    B = T.empty((M, N), "float32")
    with T.Kernel(T.ceildiv(M, block_M), threads=64) as bx:
        for i, j in T.Parallel(block_M, N):
            if bx * block_M + i < M:
                B[bx * block_M + i, j] = A[bx * block_M + i, j] + 1
    return B


def test_autotune_on_an_eager_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("TESSEL_CACHE_DIR", str(tmp_path))
    a = np.random.default_rng(1).standard_normal((50, 4)).astype(np.float32)
    np.testing.assert_allclose(tuned_eager(a), a + 1)
    kernel = tuned_eager.compile(M=50, N=4)
    assert kernel.config in ({"block_M": 16}, {"block_M": 32})
    np.testing.assert_allclose(tuned_eager.compile(M=50, N=4, block_M=8)(a), a + 1)


def test_autotune_rejects_options_tilelang_does_not_have():
    with pytest.raises(TypeError, match="unknown option"):
        tilelang.autotune(configs=[{"block_M": 16}], colour="blue")


@tilelang.jit(out_idx=[-1], pass_configs={tilelang.PassConfigKey.TL_ENABLE_FAST_MATH: True})
def fast_divide(N):
    @T.prim_func
    def main(A: T.Tensor((N,), "float32"), B: T.Tensor((N,), "float32"),
             C: T.Tensor((N,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            for i in T.Parallel(N):
                C[i] = A[i] / B[i]
    return main


def test_fast_math(target):
    rng = np.random.default_rng(5)
    a = rng.standard_normal(256).astype(np.float32)
    b = rng.uniform(0.5, 2.0, 256).astype(np.float32)
    kernel = on(target, fast_divide)(256)
    if target == "cuda":
        ptx = kernel.get_source("ptx")
        assert "div.approx.f32" in ptx and "div.rn.f32" not in ptx
    # div.approx.f32 is within 2 ulp of the quotient for these divisors.
    np.testing.assert_allclose(kernel(a, b), a / b, rtol=1e-6)


def test_num_sms_from_the_device():
    from tessel.carver.arch import driver

    n = driver.get_num_sms()
    assert isinstance(n, int) and n > 0
    import os
    if os.environ.get("TESSEL_CUDA_DRIVER") == "emu":
        assert n == 132  # the emulator reports an H100


@tilelang.jit(target="cpu")
def sm_sized(A):
    from tessel.carver.arch import driver  # noqa: F401 - the frontend reads the import
    N = T.const("N")
    A: T.Tensor((N,), "float32")
    B = T.empty((N,), "float32")
    workers = driver.get_num_sms()
    with T.Kernel(workers, threads=32) as w:
        for i in T.serial(T.ceildiv(N, workers)):
            if i * workers + w < N:
                B[i * workers + w] = A[i * workers + w] + 1
    return B


def test_kernel_sized_by_the_sm_count():
    a = np.arange(300, dtype=np.float32)
    np.testing.assert_array_equal(sm_sized(a), a + 1)


def test_jit_function_get_kernel_source():
    assert "define" in on("cpu", K.scale_rows).get_kernel_source(64, 16)
