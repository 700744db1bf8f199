"""numpy reference for FlashAttention forward."""
import numpy as np


def attention(q, k, v, is_causal=False):
    """q, k, v: [batch, seq, heads, dim]; computed in float64."""
    q, k, v = (x.astype(np.float64) for x in (q, k, v))
    scores = np.einsum("bqhd,bkhd->bhqk", q, k) / np.sqrt(q.shape[-1])
    if is_causal:
        n = q.shape[1]
        mask = np.tril(np.ones((n, n), dtype=bool))
        scores = np.where(mask, scores, -np.inf)
    scores -= scores.max(axis=-1, keepdims=True)
    p = np.exp(scores)
    p /= p.sum(axis=-1, keepdims=True)
    return np.einsum("bhqk,bkhd->bqhd", p, v)
