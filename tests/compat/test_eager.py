"""The eager style of current TileLang: the decorated function is the
kernel; tensors annotated in its body, sizes from T.const, outputs from
T.empty; compiled once per sizes and arguments."""

import numpy as np
import pytest

import tessel
import tessel.language as T
import compat_kernels as K
from conftest import on


def test_eager_call_runs_and_returns_the_output(target):
    rng = np.random.default_rng(0)
    a, b = (rng.standard_normal((70, 50)).astype(np.float32) for _ in range(2))
    np.testing.assert_allclose(on(target, K.eager_add)(a, b), a + b)


def test_eager_compiles_once_per_shape():
    add = on("cpu", K.eager_add)
    a = np.ones((32, 32), np.float32)
    add(a, a)
    add(a + 1, a)
    assert len(add._cache) == 1
    add(np.ones((64, 32), np.float32), np.ones((64, 32), np.float32))
    assert len(add._cache) == 2
    add(a, a, block_M=16)
    assert len(add._cache) == 3


def test_eager_compile_with_sizes(target):
    rng = np.random.default_rng(1)
    a = rng.uniform(-1, 1, (128, 64)).astype(np.float16)
    b = rng.uniform(-1, 1, (64, 128)).astype(np.float16)
    kernel = on(target, K.eager_matmul).compile(M=128, N=128, K=64)
    assert [p.name for p in kernel.params][:2] == ["A", "B"] and kernel.out_idx == [2]
    c = kernel(a, b)
    np.testing.assert_allclose(c.astype(np.float32), a.astype(np.float32) @ b.astype(np.float32),
                               rtol=2e-3, atol=2e-3)


def test_eager_sizes_computed_before_their_annotation(target):
    # OW = W + 2P - K + 1 is computed from T.const values before the
    # annotations that give W and K are reached.
    rng = np.random.default_rng(2)
    data = rng.standard_normal((3, 20)).astype(np.float32)
    w = rng.standard_normal(5).astype(np.float32)
    out = on(target, K.eager_box_filter)(data, w, P=2)
    padded = np.pad(data, ((0, 0), (2, 2)))
    ref = np.stack([np.convolve(row, w[::-1], mode="valid") for row in padded])
    assert out.shape == (3, 20)
    np.testing.assert_allclose(out, ref, rtol=1e-5, atol=1e-5)


def test_eager_with_a_dynamic_dimension(target):
    rows_sum = on(target, K.eager_rows_sum)
    for rows in (3, 10):
        x = np.random.default_rng(rows).standard_normal((rows, 16)).astype(np.float32)
        np.testing.assert_allclose(rows_sum(x), x.sum(axis=1), rtol=1e-5)


def test_eager_shape_mismatch_is_reported():
    with pytest.raises(ValueError, match="argument 'B' must have shape"):
        on("cpu", K.eager_add)(np.ones((32, 32), np.float32), np.ones((32, 16), np.float32))


def test_eager_missing_tensor_argument():
    with pytest.raises(TypeError, match="missing tensor argument"):
        on("cpu", K.eager_add)(np.ones((32, 32), np.float32))


def test_eager_const_not_given_is_a_located_error():
    with pytest.raises(tessel.CompileError, match="T.const 'N' has no value"):
        on("cpu", K.eager_add).compile(M=64)


@tessel.jit(target="cpu")
def never_annotates(A, B):
    M = T.const("M")
    A: T.Tensor((M,), "float32")
    C = T.empty((M,), "float32")
    return C


@tessel.jit(target="cpu")
def returns_an_input(A):
    M = T.const("M")
    A: T.Tensor((M,), "float32")
    return A


def test_eager_errors():
    with pytest.raises(TypeError, match="argument 'B' is a tensor, but the function never "
                                        "annotates it"):
        never_annotates(np.ones(4, np.float32), np.ones(4, np.float32))
    with pytest.raises(tessel.CompileError, match="an eager kernel returns the tensors it made "
                                                  "with T.empty"):
        returns_an_input(np.ones(4, np.float32))


def test_t_empty_outside_the_eager_style():
    @tessel.jit(target="cpu")
    def factory(n=4):
        @T.prim_func
        def main(A: T.Tensor((n,), "float32")):
            with T.Kernel(1) as bx:
                B = T.empty((n,), "float32")
        return main

    with pytest.raises(tessel.CompileError, match="T.empty belongs to the eager style"):
        factory()
