"""numpy references for DeepSeek V3.2 sparse attention, in float64."""
import numpy as np

D, DV = 576, 512


def indexer(q, k, k_scale, weights, ks, ke):
    """logits[i, t] = sum_h weights[i, h] relu(q[i, h] . k[t] k_scale[t]) for
    ks[i] <= t < ke[i], else -inf."""
    q, k = q.astype(np.float64), k.astype(np.float64)
    dots = np.einsum("ihd,td->iht", q, k) * k_scale.astype(np.float64)[None, None, :]
    logits = (np.maximum(dots, 0) * weights.astype(np.float64)[:, :, None]).sum(axis=1)
    t = np.arange(k.shape[0])[None, :]
    inside = (t >= ks[:, None]) & (t < ke[:, None])
    return np.where(inside, logits, -np.inf)


def topk(logits, k):
    """The k largest finite logits' indices per row as a set (sorted), -1 padded."""
    out = np.full((logits.shape[0], k), -1, np.int32)
    for i, row in enumerate(logits):
        finite = np.flatnonzero(np.isfinite(row))
        order = finite[np.argsort(-row[finite], kind="stable")][:k]
        out[i, :len(order)] = np.sort(order)
    return out


def sparse_mla(q, kv, indices):
    """q [s_q, h_q, 576], kv [s_kv, 1, 576], indices [s_q, 1, topk]."""
    s_q, h_q, _ = q.shape
    s_kv = kv.shape[0]
    out = np.zeros((s_q, h_q, DV))
    lse = np.full((s_q, h_q), -np.inf)
    for i in range(s_q):
        idx = indices[i, 0]
        idx = idx[(idx >= 0) & (idx < s_kv)]
        if not len(idx):
            continue
        keys = kv[idx, 0].astype(np.float64)
        scores = q[i].astype(np.float64) @ keys.T / np.sqrt(D)
        top = scores.max(axis=1, keepdims=True)
        p = np.exp(scores - top)
        total = p.sum(axis=1, keepdims=True)
        out[i] = (p / total) @ keys[:, :DV]
        lse[i] = (np.log(total) + top)[:, 0]
    return out, lse


def quantize_cache(kv):
    """kv [tokens, 576] -> (e4m3 [tokens, 512], fp32 scales [tokens, 4],
    rope [tokens, 64]): DeepSeek V3.2's FP8 cache, amax / 448 per 128."""
    import ml_dtypes
    nope = kv[:, :DV].astype(np.float32).reshape(-1, 4, 128)
    scale = (np.maximum(np.abs(nope).max(axis=-1), 1e-4) / 448.0).astype(np.float32)
    q = (nope / scale[..., None]).reshape(-1, DV).astype(ml_dtypes.float8_e4m3fn)
    return q, scale, kv[:, DV:]


def dequantize_cache(nope, scale, rope):
    """The cache's tokens as the kernel sees them: e4m3 times its scale,
    rounded to bf16 (the dtype attention runs in)."""
    import ml_dtypes
    values = nope.astype(np.float32).reshape(-1, 4, 128) * scale[..., None]
    values = values.reshape(-1, DV).astype(ml_dtypes.bfloat16).astype(np.float64)
    return np.concatenate([values, rope.astype(np.float64)], axis=1)


def sparse_mla_decode(q, nope, scale, rope, indices):
    """q [b, s_q, h_q, 576]; indices [b, s_q, topk] into the cache's tokens."""
    kv = dequantize_cache(nope, scale, rope)[:, None, :]
    b, s_q = q.shape[:2]
    out = np.zeros(q.shape[:3] + (DV,))
    lse = np.full(q.shape[:3], -np.inf)
    for i in range(b):
        o, l = sparse_mla(q[i], kv, indices[i][:, None, :])
        out[i], lse[i] = o, l
    return out, lse
