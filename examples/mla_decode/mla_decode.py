"""DeepSeek MLA decode over a paged KV cache (the FlashMLA interface).

    q             [batch, s_q, h_q, 576]   bf16: 512 latent + 64 RoPE dims
    kv_cache      [num_blocks, 64, 1, 576] bf16: one KV head, pages of 64 tokens;
                                           its first 512 dims are also the values
    block_table   [batch, max_blocks]      int32: page i of sequence b
    cache_seqlens [batch]                  int32: tokens in each sequence
    out           [batch, s_q, h_q, 512]   bf16
    lse           [batch, h_q, s_q]        fp32: natural-log sum of exp of the scaled scores

With s_q > 1 (speculative tokens) the queries are the last s_q positions of
the sequence and each sees the keys up to its own (causal). A sequence of
length 0 gives out = 0 and lse = -inf. Cache slots past a sequence's end
may hold anything (NaN included): they are masked out of the scores and
zeroed out of the values.

  mla_decode          one pass over each sequence's pages
  mla_decode_split    the pages split into num_splits chunks, each block
                      writing a partial output and its lse (fp32) ...
  mla_combine         ... which this kernel merges (long contexts: more
                      blocks than batch * heads would give)
"""

import tessel
import tessel.language as T

D, DV, PAGE = 576, 512, 64
# Tokens per step: half a page, so that two stages of K (loaded ahead while
# the previous half is multiplied) fit in shared memory beside Q, V and P.
CHUNK = 32
LOG2E = 1.44269504


def _heads(h_q, block_H):
    heads = min(block_H, h_q)
    assert h_q % heads == 0, "h_q must be a multiple of block_H, or smaller"
    return heads, h_q // heads


@T.macro
def _attend(Q, KV, block_table, b, s, h0, heads, rows, valid, first, last, scale, dtype,
            acc_o, m, l):
    """Online softmax over pages [first, last) of sequence b, keys < valid,
    for query s's heads h0 .. h0 + heads: acc_o (unnormalized), the running
    row maxima m and sums l (in exp2 units of `scale`). Half a page per
    step, the next half's keys loading while this one is used."""
    accum = "float32"
    halves = PAGE // CHUNK
    Q_s = T.alloc_shared((rows, D), dtype)
    K_s = T.alloc_shared((CHUNK, D), dtype)
    V_s = T.alloc_shared((CHUNK, DV), dtype)
    # P through shared memory: both warpgroups multiply all of P by their
    # half of V's columns.
    P_s = T.alloc_shared((rows, CHUNK), dtype)
    acc_s = T.alloc_fragment((rows, CHUNK), accum)
    acc_s_cast = T.alloc_fragment((rows, CHUNK), dtype)
    m_prev = T.alloc_fragment((rows,), accum)
    rescale = T.alloc_fragment((rows,), accum)
    row_sum = T.alloc_fragment((rows,), accum)

    if heads < rows:
        T.clear(Q_s)
    T.copy(Q[b, s, h0:h0 + heads, :], Q_s[0:heads, :])
    T.fill(acc_o, 0)
    T.fill(l, 0)
    T.fill(m, -T.infinity(accum))
    for i in T.Pipelined(first * halves, last * halves, num_stages=2):
        page = block_table[b, i // halves]
        half = i % halves
        T.copy(KV[page, half * CHUNK:(half + 1) * CHUNK, 0, :], K_s)
        T.clear(acc_s)
        T.gemm(Q_s, K_s, acc_s, transpose_B=True)
        for r, j in T.Parallel(rows, CHUNK):
            acc_s[r, j] = T.if_then_else(i * CHUNK + j < valid, acc_s[r, j], -T.infinity(accum))
        T.copy(m, m_prev)
        T.reduce_max(acc_s, m, dim=1, clear=False)
        for r in T.Parallel(rows):
            rescale[r] = T.exp2(m_prev[r] * scale - m[r] * scale)
        for r, d in T.Parallel(rows, DV):
            acc_o[r, d] *= rescale[r]
        for r, j in T.Parallel(rows, CHUNK):
            acc_s[r, j] = T.exp2(acc_s[r, j] * scale - m[r] * scale)
        T.reduce_sum(acc_s, row_sum, dim=1)
        for r in T.Parallel(rows):
            l[r] = l[r] * rescale[r] + row_sum[r]
        T.copy(acc_s, acc_s_cast)
        T.copy(acc_s_cast, P_s)
        # Values past the end (in the chunk the sequence ends in) are
        # zeroed: 0 * NaN would leak.
        T.copy(K_s[0:CHUNK, 0:DV], V_s)
        if (i + 1) * CHUNK > valid:
            for j, d in T.Parallel(CHUNK, DV):
                if i * CHUNK + j >= valid:
                    V_s[j, d] = 0
        T.gemm(P_s, V_s, acc_o)


@tessel.jit(out_idx=[-2, -1])
def mla_decode(batch, s_q, h_q, num_blocks, max_blocks, block_H=64, threads=256,
               dtype="bfloat16"):
    # A block computes block_H rows (wgmma's 64-row slabs); with fewer
    # heads than that, the rows past them are zeros and never written.
    heads, head_blocks = _heads(h_q, block_H)
    rows = block_H
    scale = D ** -0.5 * LOG2E  # scores in log2 units: exp2 below
    accum = "float32"

    @T.prim_func
    def main(Q: T.Tensor((batch, s_q, h_q, D), dtype),
             KV: T.Tensor((num_blocks, PAGE, 1, D), dtype),
             block_table: T.Tensor((batch, max_blocks), "int32"),
             cache_seqlens: T.Tensor((batch,), "int32"),
             Out: T.Tensor((batch, s_q, h_q, DV), dtype),
             LSE: T.Tensor((batch, h_q, s_q), accum)):
        with T.Kernel(s_q * head_blocks, batch, threads=threads) as (bx, b):
            s = bx // head_blocks
            h0 = (bx % head_blocks) * heads
            acc_o = T.alloc_fragment((rows, DV), accum)
            m = T.alloc_fragment((rows,), accum)
            l = T.alloc_fragment((rows,), accum)
            # Query s is position seqlen - s_q + s: it sees that many keys + 1.
            valid = cache_seqlens[b] - (s_q - 1 - s)
            _attend(Q, KV, block_table, b, s, h0, heads, rows, valid, 0,
                    T.ceildiv(valid, PAGE), scale, dtype, acc_o, m, l)
            # The log-sum-exp first: ptxas then holds m and l for fewer
            # instructions (the 16-head shape spilled 8 bytes otherwise).
            for r in T.Parallel(rows):
                if r < heads:
                    LSE[b, h0 + r, s] = T.if_then_else(
                        l[r] > 0, T.log(l[r]) + m[r] * (scale / LOG2E), -T.infinity(accum))
            for r, d in T.Parallel(rows, DV):
                acc_o[r, d] = T.if_then_else(l[r] > 0, acc_o[r, d] / l[r], 0)
            # With fewer heads than rows, only the first `heads` rows leave.
            T.copy(acc_o[0:heads, :], Out[b, s, h0:h0 + heads, :])

    return main


@tessel.jit(out_idx=[-2, -1])
def mla_decode_split(batch, s_q, h_q, num_blocks, max_blocks, num_splits, block_H=64,
                     threads=256, dtype="bfloat16"):
    """Split-KV: block (., ., split) takes its share of each sequence's pages
    and writes its normalized partial output and lse (fp32) for
    mla_combine."""
    heads, head_blocks = _heads(h_q, block_H)
    rows = block_H
    scale = D ** -0.5 * LOG2E
    accum = "float32"

    @T.prim_func
    def main(Q: T.Tensor((batch, s_q, h_q, D), dtype),
             KV: T.Tensor((num_blocks, PAGE, 1, D), dtype),
             block_table: T.Tensor((batch, max_blocks), "int32"),
             cache_seqlens: T.Tensor((batch,), "int32"),
             O_part: T.Tensor((batch, s_q, h_q, num_splits, DV), accum),
             LSE_part: T.Tensor((batch, s_q, h_q, num_splits), accum)):
        with T.Kernel(s_q * head_blocks, batch, num_splits, threads=threads) as (bx, b, split):
            s = bx // head_blocks
            h0 = (bx % head_blocks) * heads
            acc_o = T.alloc_fragment((rows, DV), accum)
            m = T.alloc_fragment((rows,), accum)
            l = T.alloc_fragment((rows,), accum)
            valid = cache_seqlens[b] - (s_q - 1 - s)
            pages = T.ceildiv(valid, PAGE)
            per_split = T.ceildiv(pages, num_splits)
            first = split * per_split
            last = T.min(first + per_split, pages)
            _attend(Q, KV, block_table, b, s, h0, heads, rows, valid, first, last, scale,
                    dtype, acc_o, m, l)
            for r, d in T.Parallel(rows, DV):
                if r < heads:
                    O_part[b, s, h0 + r, split, d] = T.if_then_else(l[r] > 0,
                                                                   acc_o[r, d] / l[r], 0)
            for r in T.Parallel(rows):
                if r < heads:
                    LSE_part[b, s, h0 + r, split] = T.if_then_else(
                        l[r] > 0, T.log(l[r]) + m[r] * (scale / LOG2E), -T.infinity(accum))

    return main


@tessel.jit(out_idx=[-2, -1])
def mla_combine(batch, s_q, h_q, num_splits, dtype="bfloat16", block=128):
    """Merges mla_decode_split's partials: out = sum_i w_i O_i with
    w_i = exp(lse_i - lse), lse = log sum_i exp(lse_i); all -inf: 0, -inf."""
    accum = "float32"
    rows = batch * s_q * h_q

    @T.prim_func
    def main(O_part: T.Tensor((batch, s_q, h_q, num_splits, DV), accum),
             LSE_part: T.Tensor((batch, s_q, h_q, num_splits), accum),
             Out: T.Tensor((batch, s_q, h_q, DV), dtype),
             LSE: T.Tensor((batch, h_q, s_q), accum)):
        with T.Kernel(rows, threads=block) as r:
            b = r // (s_q * h_q)
            s = (r // h_q) % s_q
            h = r % h_q
            top = T.alloc_local((1,), accum)
            total = T.alloc_local((1,), accum)
            top[0] = -T.infinity(accum)
            for i in T.serial(num_splits):
                top[0] = T.max(top[0], LSE_part[b, s, h, i])
            total[0] = 0
            for i in T.serial(num_splits):
                total[0] += T.if_then_else(LSE_part[b, s, h, i] > -T.infinity(accum),
                                           T.exp(LSE_part[b, s, h, i] - top[0]), 0)
            for d in T.Parallel(DV):
                acc = T.alloc_local((1,), accum)
                acc[0] = 0
                for i in T.serial(num_splits):
                    acc[0] += T.if_then_else(
                        LSE_part[b, s, h, i] > -T.infinity(accum),
                        T.exp(LSE_part[b, s, h, i] - top[0]) * O_part[b, s, h, i, d], 0)
                Out[b, s, h, d] = T.if_then_else(total[0] > 0, acc[0] / total[0], 0)
            LSE[b, h, s] = T.if_then_else(total[0] > 0, T.log(total[0]) + top[0],
                                          -T.infinity(accum))

    return main
