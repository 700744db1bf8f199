"""Whole TileLang-style programs (programs.py) against numpy, on the CPU
backend and on the emulator."""

import ml_dtypes
import numpy as np

import compat_programs as P
from conftest import on

E4M3 = ml_dtypes.float8_e4m3fn
BF16 = ml_dtypes.bfloat16


def test_act_quant(target):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((64, 256)) * 3).astype(BF16)
    y, s = on(target, P.act_quant)(64, 256)(x)
    xf = x.astype(np.float32).reshape(64, 2, 128)
    ref_s = np.maximum(np.abs(xf).max(axis=2), 1e-4) / 448.0
    np.testing.assert_allclose(s, ref_s, rtol=1e-6)
    ref_y = np.clip(xf / ref_s[:, :, None], -448, 448).reshape(64, 256)
    # One fp8 rounding (3 mantissa bits): within half an ulp of e4m3.
    np.testing.assert_allclose(y.astype(np.float32), ref_y.astype(E4M3).astype(np.float32),
                               rtol=0.0625, atol=2 ** -9)


def test_fp8_gemm_block_scaled(target):
    rng = np.random.default_rng(1)
    m, n, k = 64, 128, 256
    a = rng.uniform(-1, 1, (m, k)).astype(E4M3)
    b = rng.uniform(-1, 1, (n, k)).astype(E4M3)
    a_s = rng.uniform(0.5, 2, (m, k // 128)).astype(np.float32)
    b_s = rng.uniform(0.5, 2, (n // 128, k // 128)).astype(np.float32)
    d = on(target, P.fp8_gemm_block_scaled)(m, n, k)(a, a_s, b, b_s)
    af = a.astype(np.float32) * np.repeat(a_s, 128, axis=1)
    bf = b.astype(np.float32) * np.repeat(np.repeat(b_s, 128, axis=0), 128, axis=1)
    np.testing.assert_allclose(d.astype(np.float32), af @ bf.T, rtol=1e-2, atol=1e-2)


def _attention_ref(q, k, v, causal):
    qf, kf, vf = (x.astype(np.float64) for x in (q, k, v))
    s = np.einsum("bqhd,bkhd->bhqk", qf, kf) / np.sqrt(q.shape[-1])
    if causal:
        n = q.shape[1]
        s = np.where(np.tril(np.ones((n, n), bool)), s, -np.inf)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    return np.einsum("bhqk,bkhd->bqhd", p, vf)


def test_attention(target):
    rng = np.random.default_rng(2)
    for causal in (False, True):
        q, k, v = (rng.standard_normal((1, 128, 2, 64)).astype(np.float16) for _ in range(3))
        out = on(target, P.attention)(1, 2, 128, 64, is_causal=causal)(q, k, v)
        np.testing.assert_allclose(out.astype(np.float64), _attention_ref(q, k, v, causal),
                                   rtol=2e-2, atol=2e-2)


def test_rms_norm(target):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((48, 256)).astype(np.float16)
    w = rng.uniform(0.5, 1.5, 256).astype(np.float16)
    y = on(target, P.rms_norm)(48, 256)(x, w)
    xf = x.astype(np.float32)
    ref = xf / np.sqrt((xf * xf).mean(axis=1, keepdims=True) + 1e-6) * w.astype(np.float32)
    np.testing.assert_allclose(y.astype(np.float32), ref, rtol=1e-2, atol=1e-2)


def test_bias_gelu_eager(target):
    rng = np.random.default_rng(4)
    x = rng.standard_normal((5, 300)).astype(np.float32)
    bias = rng.standard_normal(300).astype(np.float32)
    y = on(target, P.bias_gelu)(x, bias)
    v = x + bias
    ref = 0.5 * v * (1 + np.tanh(0.7978845608 * (v + 0.044715 * v ** 3)))
    np.testing.assert_allclose(y, ref, rtol=1e-4, atol=1e-5)
