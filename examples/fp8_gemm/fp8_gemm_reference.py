"""numpy references for the FP8 GEMMs: quantization as DeepSeek-V3 does it
(e4m3 with fp32 scales, amax / 448 per 1x128 row block of A and per 128x128
block of B), the dequantized product in float64, and the similarity
measure DeepGEMM's tests use."""
import ml_dtypes
import numpy as np

E4M3_MAX = 448.0


def _blocks(n, b=128):
    return (n + b - 1) // b


def quantize_rows(x):
    """x [..., M, K] -> (e4m3 [..., M, K], fp32 scales [..., M, ceil(K/128)])."""
    *lead, m, k = x.shape
    kb = _blocks(k)
    pad = np.zeros((*lead, m, kb * 128), np.float32)
    pad[..., :k] = x
    blocks = pad.reshape(*lead, m, kb, 128)
    amax = np.maximum(np.abs(blocks).max(axis=-1), 1e-4)
    scale = (amax / E4M3_MAX).astype(np.float32)
    q = (blocks / scale[..., None]).reshape(*lead, m, kb * 128)[..., :k]
    return q.astype(ml_dtypes.float8_e4m3fn), scale


def quantize_blocks(x):
    """x [..., N, K] -> (e4m3 [..., N, K], fp32 scales [..., ceil(N/128), ceil(K/128)])."""
    *lead, n, k = x.shape
    nb, kb = _blocks(n), _blocks(k)
    pad = np.zeros((*lead, nb * 128, kb * 128), np.float32)
    pad[..., :n, :k] = x
    blocks = pad.reshape(*lead, nb, 128, kb, 128)
    amax = np.maximum(np.abs(blocks).max(axis=(-3, -1)), 1e-4)
    scale = (amax / E4M3_MAX).astype(np.float32)
    q = (blocks / scale[..., :, None, :, None]).reshape(*lead, nb * 128, kb * 128)
    return q[..., :n, :k].astype(ml_dtypes.float8_e4m3fn), scale


def dequantize_rows(q, scale):
    k = q.shape[-1]
    return q.astype(np.float64) * np.repeat(scale, 128, axis=-1)[..., :k]


def dequantize_blocks(q, scale):
    n, k = q.shape[-2:]
    s = np.repeat(np.repeat(scale, 128, axis=-2), 128, axis=-1)[..., :n, :k]
    return q.astype(np.float64) * s


def fp8_gemm(a, a_scale, b, b_scale):
    """D = dequant(A) dequant(B)^T in float64."""
    return dequantize_rows(a, a_scale) @ np.swapaxes(dequantize_blocks(b, b_scale), -1, -2)


def difference(x, y):
    """1 - 2 sum(xy) / sum(x^2 + y^2): 0 for equal tensors (DeepGEMM's measure)."""
    x, y = np.asarray(x, np.float64), np.asarray(y, np.float64)
    denominator = (x * x + y * y).sum()
    return 0.0 if denominator == 0 else 1.0 - 2.0 * (x * y).sum() / denominator


def bf16(x):
    """x rounded to bfloat16 (the inputs' precision before quantization)."""
    return np.asarray(x, np.float32).astype(ml_dtypes.bfloat16).astype(np.float32)
