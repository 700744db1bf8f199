"""numpy reference for MLA decode over a paged KV cache, in float64."""
import numpy as np

D, DV, PAGE = 576, 512, 64


def mla_decode(q, kv_cache, block_table, cache_seqlens):
    """q [b, s_q, h_q, 576], kv_cache [blocks, 64, 1, 576], block_table
    [b, max_blocks], cache_seqlens [b] -> out [b, s_q, h_q, 512] and lse
    [b, h_q, s_q]. Query s of a sequence of n tokens sees keys
    < n - (s_q - 1 - s); none: out 0, lse -inf."""
    b, s_q, h_q, _ = q.shape
    out = np.zeros((b, s_q, h_q, DV))
    lse = np.full((b, h_q, s_q), -np.inf)
    for i in range(b):
        n = int(cache_seqlens[i])
        pages = (n + PAGE - 1) // PAGE
        kv = np.concatenate([kv_cache[block_table[i, p], :, 0, :] for p in range(pages)],
                            axis=0)[:n].astype(np.float64) if n else np.zeros((0, D))
        for s in range(s_q):
            valid = n - (s_q - 1 - s)
            if valid <= 0:
                continue
            keys = kv[:valid]
            scores = q[i, s].astype(np.float64) @ keys.T / np.sqrt(D)  # [h_q, valid]
            top = scores.max(axis=1, keepdims=True)
            p = np.exp(scores - top)
            total = p.sum(axis=1, keepdims=True)
            out[i, s] = (p / total) @ keys[:, :DV]
            lse[i, :, s] = (np.log(total) + top)[:, 0]
    return out, lse
