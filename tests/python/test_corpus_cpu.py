"""Every computing kernel of the frontend corpus (tests/lit/Frontend/corpus)
runs on the CPU backend and matches a numpy reference."""

import importlib.util
import os

import ml_dtypes
import numpy as np
import pytest

import tessel

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CORPUS = os.path.join(REPO, "tests", "lit", "Frontend", "corpus")
RNG = np.random.default_rng(3)
BF16, E4M3, E5M2 = ml_dtypes.bfloat16, ml_dtypes.float8_e4m3fn, ml_dtypes.float8_e5m2


def load(name, entry, out_idx, **factory_args):
    spec = importlib.util.spec_from_file_location("corpus_" + name, os.path.join(CORPUS, name + ".py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    fn = getattr(module, entry)
    fn = getattr(fn, "fn", fn)
    return tessel.jit(out_idx=out_idx, target="cpu")(fn)(**factory_args)


def randn(*shape, dtype=np.float32, scale=1.0):
    return (RNG.standard_normal(shape) * scale).astype(dtype)


def f32(x):
    return np.asarray(x).astype(np.float32)


def close(got, want, rtol=1e-3, atol=1e-3):
    np.testing.assert_allclose(f32(got), f32(want), rtol=rtol, atol=atol)


def test_gemm_fp16():
    a, b = randn(256, 128, dtype=np.float16), randn(128, 256, dtype=np.float16)
    close(load("gemm_fp16", "matmul", [-1], M=256, N=256, K=128)(a, b), f32(a) @ f32(b), 2e-3, 3e-2)


def test_gemm_bf16_transpose_b():
    a, b = randn(128, 128, dtype=BF16), randn(64, 128, dtype=BF16)
    k = load("gemm_bf16_transpose_b", "matmul_nt", [-1], M=128, N=64, K=128, dtype="bfloat16")
    close(k(a, b), f32(a) @ f32(b).T, 1e-2, 1e-1)


def test_gemm_transpose_a():
    a, b = randn(64, 128, dtype=np.float16), randn(64, 64, dtype=np.float16)
    close(load("gemm_transpose_a", "matmul_tn", [-1], M=128, N=64, K=64)(a, b), f32(a).T @ f32(b), 1e-4, 1e-3)


def test_gemm_stages4_fullrow():
    a, b = randn(256, 64, dtype=np.float16), randn(64, 128, dtype=np.float16)
    close(load("gemm_stages4_fullrow", "gemm", [-1], M=256, N=128, K=64)(a, b), f32(a) @ f32(b), 2e-3, 2e-2)


def test_gemm_clear_accum():
    a, b = randn(64, 256, dtype=np.float16), randn(256, 64, dtype=np.float16)
    close(load("gemm_clear_accum", "gemm_promote", [-1], M=64, N=64, K=256)(a, b), f32(a) @ f32(b), 1e-4, 1e-3)


def test_gemm_int8():
    a = RNG.integers(-128, 128, (128, 128)).astype(np.int8)
    b = RNG.integers(-128, 128, (128, 128)).astype(np.int8)
    got = load("gemm_int8", "gemm_i8", [-1], M=128, N=128, K=128)(a, b)
    np.testing.assert_array_equal(got, a.astype(np.int32) @ b.astype(np.int32))


def test_gemm_fp8_block_scaled():
    m, n, k = 128, 128, 256
    a_f, b_f = randn(m, k), randn(n, k)
    a_s = np.abs(a_f.reshape(m, k // 128, 128)).max(axis=2) / 448
    b_s = np.abs(b_f.reshape(1, 128, k // 128, 128)).max(axis=(1, 3)) / 448
    a_q = (a_f / np.repeat(a_s, 128, axis=1)).astype(E4M3)
    b_q = (b_f / np.repeat(b_s, 128, axis=1).repeat(128, axis=0)).astype(E4M3)
    d = load("gemm_fp8_block_scaled", "fp8_gemm", [-1], M=m, N=n, K=k)(
        a_q, a_s.astype(np.float32), b_q, b_s.astype(np.float32))
    ref = a_f.astype(np.float64) @ b_f.astype(np.float64).T
    x, y = f32(d).astype(np.float64), ref
    diff = 1 - 2 * (x * y).sum() / (x * x + y * y).sum()
    assert diff < 1e-3, diff


def test_gemm_ragged():
    a, b = randn(100, 96), randn(96, 70)
    close(load("gemm_ragged", "gemm", [-1], M=100, N=70, K=96)(a, b), a @ b, 1e-4, 1e-4)


def test_gemm_dynamic_m():
    k = load("gemm_dynamic_m", "gemm_dyn", [-1], N=64, K=128)
    for m in (64, 100):
        a, b = randn(m, 128, dtype=np.float16), randn(128, 64, dtype=np.float16)
        close(k(a, b), f32(a) @ f32(b), 2e-3, 3e-2)


def test_gemm_swizzle():
    a, b = randn(256, 64, dtype=np.float16), randn(64, 256, dtype=np.float16)
    close(load("gemm_swizzle", "gemm", [-1], M=256, N=256, K=64)(a, b), f32(a) @ f32(b), 2e-3, 2e-2)


def test_split_k_gemm():
    a, b = randn(128, 1024, dtype=np.float16), randn(1024, 128, dtype=np.float16)
    k = load("split_k_gemm", "split_k", [], M=128, N=128, K=1024)
    c = np.zeros((128, 128), np.float32)
    k(a, b, c)
    close(c, f32(a) @ f32(b), 1e-4, 1e-3)


def test_softmax():
    x = randn(64, 128, dtype=np.float16)
    e = np.exp(f32(x) - f32(x).max(axis=1, keepdims=True))
    close(load("softmax", "softmax", [-1], M=64, N=128)(x), e / e.sum(axis=1, keepdims=True), 1e-2, 1e-3)


def test_layernorm():
    x, w = randn(16, 64), randn(64)
    mu = x.mean(axis=1, keepdims=True)
    ref = (x - mu) / np.sqrt(((x - mu) ** 2).mean(axis=1, keepdims=True) + 1e-5) * w
    close(load("layernorm", "layernorm", [-1], M=16, N=64)(x, w), ref, 1e-4, 1e-4)


def test_rmsnorm():
    x = randn(8, 64, dtype=BF16)
    xf = f32(x)
    ref = xf / np.sqrt((xf * xf).mean(axis=1, keepdims=True) + 1e-6)
    close(load("rmsnorm", "rmsnorm", [-1], M=8, N=64)(x), ref, 1e-2, 1e-2)


def test_elementwise_add():
    k = load("elementwise_add", "add", [-1])
    a, b = randn(1000), randn(1000)
    np.testing.assert_array_equal(k(a, b), a + b)


def test_relu_scale():
    x = randn(64, 64)
    np.testing.assert_array_equal(load("relu_scale", "relu_scale", [-1], M=64, N=64, alpha=0.5)(x),
                                  np.maximum(x, 0) * np.float32(0.5))


def test_reductions():
    x = randn(64, 32)
    r, s = load("reductions", "reductions", [-1, -2], M=64, N=32)(x)
    close(r, x.sum(axis=0) + np.abs(x).sum(axis=0), 1e-5, 1e-4)
    np.testing.assert_array_equal(s, np.maximum(np.minimum(x.max(axis=1), x.min(axis=1)),
                                                np.abs(x).max(axis=1)))


def test_macro_twice():
    x = randn(64)
    y = x.copy()
    load("macro_twice", "double_scale", [], N=64)(y)
    np.testing.assert_array_equal(y, x * np.float32(2.0) * np.float32(3.0))


@pytest.mark.parametrize("mode,fn", [("exp", np.exp), ("log", np.log)])
def test_compile_time_branch(mode, fn):
    x = np.abs(randn(64)) + 0.5
    y = x.copy()
    load("compile_time_branch", "kernel", [], N=64, mode=mode)(y)
    close(y, fn(x), 1e-6, 1e-6)


def test_loops():
    x = randn(16, 16)
    y = x.copy()
    load("loops", "loops", [], N=16)(y)
    total = np.float32(x[:, :4].sum())
    close(y[2::2, 0], np.full(7, total), 1e-5, 1e-4)
    np.testing.assert_array_equal(y[1::2], x[1::2])


def test_cast_dtypes():
    x = randn(32, scale=30)
    h, e, i, b = load("cast_dtypes", "casts", [1, 2, 3, 4], N=32)(x)
    np.testing.assert_array_equal(h, x.astype(np.float16))
    np.testing.assert_array_equal(e.view(np.uint8), x.astype(E5M2).view(np.uint8))
    np.testing.assert_array_equal(i, np.trunc(x).astype(np.int32))
    np.testing.assert_array_equal(b.view(np.uint16), x.astype(BF16).view(np.uint16))


def test_slices_copy():
    k = randn(2, 128, 4, 576, dtype=BF16)
    o = load("slices_copy", "gather_heads", [-1], b=2, s=128, h=4, d=576)(k)
    np.testing.assert_array_equal(o.view(np.uint16), k[..., :512].view(np.uint16))


def test_tuples_and_augassign():
    x = randn(64, 32)
    y = x.copy()
    load("tuples_and_augassign", "k", [], shape=(64, 32))(y)
    np.testing.assert_array_equal(y, x * np.float32(2) + np.float32(1))


def test_grid3d():
    x = randn(4, 128, 64, dtype=np.float16)
    np.testing.assert_array_equal(load("grid3d", "batched", [-1], B=4, M=128, N=64)(x), x)


def test_mla_decode_like():
    batch, heads, max_blocks, num_blocks = 2, 16, 4, 8
    q = randn(batch, heads, 576, dtype=BF16)
    kv = randn(num_blocks, 64, 1, 576, dtype=BF16)
    table = RNG.permutation(num_blocks)[:batch * max_blocks].reshape(batch, max_blocks).astype(np.int32)
    lens = np.array([150, 0], np.int32)
    kernel = load("mla_decode_like", "mla_decode", [-1], batch=batch, heads=heads,
                  max_blocks=max_blocks, num_blocks=num_blocks)
    out = kernel(q, kv, table, lens)
    for b in range(batch):
        n = lens[b]
        if n == 0:
            np.testing.assert_array_equal(f32(out[b]), 0)
            continue
        keys = np.concatenate([f32(kv[table[b, i], :, 0]) for i in range(max_blocks)])[:n]
        s = f32(q[b]) @ keys.T / np.sqrt(576)
        p = np.exp(s - s.max(axis=1, keepdims=True))
        ref = (p / p.sum(axis=1, keepdims=True)) @ keys[:, :512]
        close(out[b], ref, 3e-2, 3e-2)


def test_docstrings_comments():
    x = randn(8)
    np.testing.assert_array_equal(load("docstrings_comments", "documented", [-1], N=8)(x), x + 1)


def test_fp8_quantize():
    x = randn(64, 256, dtype=BF16)
    q, s = load("fp8_quantize", "quantize", [1, 2], M=64, K=256)(x)
    xf = f32(x).reshape(64, 2, 128)
    scale = np.maximum(np.abs(xf).max(axis=2), np.float32(1e-4)) / np.float32(448)
    np.testing.assert_allclose(s, scale, rtol=1e-6)
    want = (xf / scale[:, :, None]).reshape(64, 256).astype(E4M3)
    np.testing.assert_array_equal(q.view(np.uint8), want.view(np.uint8))


def test_transpose():
    x = randn(128, 64, dtype=np.float16)
    np.testing.assert_array_equal(load("transpose", "transpose", [-1], M=128, N=64)(x), x.T)


def test_histogram():
    x = RNG.integers(0, 1000, 1024).astype(np.int32)
    h = np.zeros(64, np.int32)
    load("histogram", "histogram", [], N=1024, bins=64)(x, h)
    np.testing.assert_array_equal(h, np.bincount(x % 64, minlength=64))
