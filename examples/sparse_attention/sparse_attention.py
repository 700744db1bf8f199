"""DeepSeek V3.2 sparse attention (DSA): the lightning indexer, a top-k
selector, and sparse MLA over the selected tokens.

  indexer(seq, seq_kv)
      q [seq, 64, 128] e4m3, k [seq_kv, 128] e4m3, k_scale [seq_kv] fp32,
      weights [seq, 64] fp32, ks/ke [seq] int32 (query i sees keys
      ks[i] <= t < ke[i]: causal or ragged ranges)
      -> logits [seq, seq_kv] fp32 = sum_h weights[i, h] * relu(q[i, h] . k[t] * k_scale[t]),
         -inf outside the range
  topk(seq, seq_kv, k)
      logits [seq, seq_kv] -> indices [seq, k] int32: the k largest finite
      logits of each row (any order; ties broken towards lower indices),
      -1 where the row has fewer
  sparse_mla(s_q, h_q, s_kv, topk)
      q [s_q, h_q, 576], kv [s_kv, 1, 576] bf16 (values: the first 512 dims),
      indices [s_q, 1, topk] int32 (-1 and out-of-range entries ignored)
      -> out [s_q, h_q, 512] bf16, lse [s_q, h_q] fp32 (natural log; -inf
         and out 0 for a query with no valid index)
  sparse_mla_decode_fp8(batch, s_q, h_q, num_tokens, topk)
      the decode form over an FP8 KV cache (e4m3 with a scale per 128 values,
      RoPE dims in bf16), indices per (batch, query token)
"""
import tessel
import tessel.language as T

FP8 = "float8_e4m3"
D, DV = 576, 512
LOG2E = 1.44269504


@tessel.jit(out_idx=[-1])
def indexer(seq, seq_kv, heads=64, dim=128, block_N=128):
    accum = "float32"

    @T.prim_func
    def main(Q: T.Tensor((seq, heads, dim), FP8), K: T.Tensor((seq_kv, dim), FP8),
             K_scale: T.Tensor((seq_kv,), accum), W: T.Tensor((seq, heads), accum),
             KS: T.Tensor((seq,), "int32"), KE: T.Tensor((seq,), "int32"),
             Logits: T.Tensor((seq, seq_kv), accum)):
        with T.Kernel(T.ceildiv(seq_kv, block_N), seq, threads=128) as (bx, i):
            Q_s = T.alloc_shared((heads, dim), FP8)
            K_s = T.alloc_shared((block_N, dim), FP8)
            acc = T.alloc_fragment((heads, block_N), accum)
            score = T.alloc_fragment((block_N,), accum)
            T.copy(Q[i, :, :], Q_s)
            T.copy(K[bx * block_N, 0], K_s)
            T.clear(acc)
            T.gemm(Q_s, K_s, acc, transpose_B=True)
            for h, j in T.Parallel(heads, block_N):
                t = T.min(bx * block_N + j, seq_kv - 1)
                acc[h, j] = T.max(acc[h, j] * K_scale[t], 0) * W[i, h]
            T.reduce_sum(acc, score, dim=0)
            ks = KS[i]
            ke = KE[i]
            for j in T.Parallel(block_N):
                t = bx * block_N + j
                if t < seq_kv:
                    Logits[i, t] = T.if_then_else((t >= ks) & (t < ke), score[j],
                                                  -T.infinity(accum))

    return main


@tessel.jit(out_idx=[-1])
def topk(seq, seq_kv, k, block=1024, threads=128):
    """Radix select per row (one block each), 8 bits at a time: four passes
    over the row build a 256-bin histogram of the next key digit among the
    keys that match the digits chosen so far (shared-memory atomics, one
    histogram per warp), and pick the digit's bin where the k-th largest
    key falls; then a compaction pass writes the indices above the
    threshold and the first of those equal to it. Keys are the logits' bits
    made to order as integers do. Five passes over the row in all."""
    chunks = (seq_kv + block - 1) // block
    per_thread = (seq_kv + threads - 1) // threads
    warps = threads // 32
    assert threads % 32 == 0
    levels = 0
    while (1 << levels) < block:
        levels += 1
    assert block == 1 << levels and levels % 2 == 0, "block must be a power of 4"
    accum = "float32"

    @T.macro
    def key(x):
        # x's bits, negatives' magnitude bits flipped, offset to be
        # non-negative: keys order as the floats do.
        bits = T.reinterpret(x, "int32")
        return T.cast(T.if_then_else(bits >= 0, bits, bits ^ 0x7FFFFFFF), "int64") + 2147483648

    @T.macro
    def warp_sum(hist, b, w):
        # hist[0, b] + ... + hist[w, b], unrolled at compile time.
        if w == 0:
            return hist[0, b]
        return warp_sum(hist, b, w - 1) + hist[w, b]

    @T.prim_func
    def main(Logits: T.Tensor((seq, seq_kv), accum), Indices: T.Tensor((seq, k), "int32")):
        with T.Kernel(seq, threads=threads) as i:
            hist = T.alloc_shared((warps, 256), "int32")
            # Suffix sums of the bins (ping-pong): suffix[b] = keys in bins >= b.
            suffix = T.alloc_shared((256,), "int32")
            suffix2 = T.alloc_shared((256,), "int32")
            # The chosen bin and how many keys lie in the bins above it.
            found = T.alloc_shared((2,), "int32")
            # The compaction's flags and their prefix sums (ping-pong).
            own = T.alloc_shared((block,), "int32")
            scan = T.alloc_shared((block,), "int32")
            scan2 = T.alloc_shared((block,), "int32")
            # 0: the threshold's digits so far, 1: how many to take (k, or
            # every finite logit if fewer), 2: how many of them are above
            # the threshold, 3: above ones written so far, 4: equal ones met
            # so far, 5: how many still to find among keys matching 0.
            state = T.alloc_local((6,), "int64")
            state[0] = 0
            for p in T.serial(4):
                shift = 24 - 8 * p
                for w, b in T.Parallel(warps, 256):
                    hist[w, b] = 0
                for j in T.Parallel(threads):
                    for c in T.serial(per_thread):
                        t = c * threads + j
                        x = Logits[i, T.min(t, seq_kv - 1)]
                        kx = key(x)
                        if (t < seq_kv) & (x > -T.infinity(accum)) & (
                                (kx >> (shift + 8)) == (state[0] >> (shift + 8))):
                            T.atomic_add(hist[j // 32, T.cast((kx >> shift) & 255, "int32")], 1)
                for b in T.Parallel(256):
                    suffix[b] = warp_sum(hist, b, warps - 1)
                for s in T.serial(4):
                    d = 1 << (2 * s)
                    for b in T.Parallel(256):
                        suffix2[b] = suffix[b] + T.if_then_else(b + d < 256, suffix[T.min(b + d, 255)], 0)
                    for b in T.Parallel(256):
                        suffix[b] = suffix2[b] + T.if_then_else(b + 2 * d < 256,
                                                                suffix2[T.min(b + 2 * d, 255)], 0)
                if p == 0:
                    # Every finite key is in the first histogram.
                    state[1] = T.min(T.cast(suffix[0], "int64"), k)
                    state[5] = state[1]
                for q in T.Parallel(2):
                    found[q] = 0
                # The bin holding the state[5]-th largest matching key:
                # at least that many at or above it, fewer above it.
                for b in T.Parallel(256):
                    above = T.if_then_else(b < 255, suffix[T.min(b + 1, 255)], 0)
                    if (suffix[b] >= state[5]) & (above < state[5]):
                        found[0] = b
                        found[1] = above
                state[0] = state[0] | (T.cast(found[0], "int64") << shift)
                state[5] = state[5] - found[1]
            state[2] = state[1] - state[5]
            # Compaction, a chunk at a time: keys above the threshold go to
            # [0, above) in index order, the first (take - above) equal ones
            # after them. Each flag is 1 (above) or 65536 (equal), so one
            # prefix sum (Hillis-Steele, log2(block) steps) counts both.
            state[3] = 0
            state[4] = 0
            for c in T.serial(chunks):
                for j in T.Parallel(block):
                    t = c * block + j
                    x = Logits[i, T.min(t, seq_kv - 1)]
                    valid = (t < seq_kv) & (x > -T.infinity(accum))
                    f = T.if_then_else(valid & (key(x) > state[0]), 1,
                                       T.if_then_else(valid & (key(x) == state[0]), 65536, 0))
                    own[j] = f
                    scan[j] = f
                for s in T.serial(levels // 2):
                    d = 1 << (2 * s)
                    for j in T.Parallel(block):
                        scan2[j] = scan[j] + T.if_then_else(j >= d, scan[T.max(j - d, 0)], 0)
                    for j in T.Parallel(block):
                        scan[j] = scan2[j] + T.if_then_else(j >= 2 * d, scan2[T.max(j - 2 * d, 0)], 0)
                for j in T.Parallel(block):
                    t = c * block + j
                    before = scan[j] - own[j]
                    if own[j] == 1:
                        Indices[i, state[3] + (before & 0xFFFF)] = t
                    if own[j] == 65536:
                        rank = state[4] + (before >> 16)
                        if rank < state[1] - state[2]:
                            Indices[i, state[2] + rank] = t
                state[3] += scan[block - 1] & 0xFFFF
                state[4] += scan[block - 1] >> 16
            for p in T.Parallel(k):
                if p >= state[1]:
                    Indices[i, p] = -1

    return main


@T.macro
def _attend_chunk(Q_s, K_s, V_s, P_s, ok, acc_s, acc_s_cast, acc_o, m, m_prev, rescale,
                  row_sum, l, rows, block_N, scale):
    """One chunk of gathered tokens (K_s; ok[j] < 0: no token) into the
    online softmax: scores, masking, running max and sums, P (through
    shared memory) times the values (the first 512 dims of K_s)."""
    accum = "float32"
    T.clear(acc_s)
    T.gemm(Q_s, K_s, acc_s, transpose_B=True)
    for r, j in T.Parallel(rows, block_N):
        acc_s[r, j] = T.if_then_else(ok[j] >= 0, acc_s[r, j], -T.infinity(accum))
    T.copy(m, m_prev)
    T.reduce_max(acc_s, m, dim=1, clear=False)
    for r in T.Parallel(rows):
        rescale[r] = T.exp2(m_prev[r] * scale - m[r] * scale)
    for r, d in T.Parallel(rows, DV):
        acc_o[r, d] *= rescale[r]
    for r, j in T.Parallel(rows, block_N):
        acc_s[r, j] = T.exp2(acc_s[r, j] * scale - m[r] * scale)
    T.reduce_sum(acc_s, row_sum, dim=1)
    for r in T.Parallel(rows):
        l[r] = l[r] * rescale[r] + row_sum[r]
    T.copy(acc_s, acc_s_cast)
    T.copy(acc_s_cast, P_s)
    for j, d in T.Parallel(block_N, DV):
        V_s[j, d] = K_s[j, d]
    T.gemm(P_s, V_s, acc_o)


@tessel.jit(out_idx=[-2, -1])
def sparse_mla(s_q, h_q, s_kv, topk, block_H=64, block_N=64, threads=256, dtype="bfloat16"):
    heads = min(block_H, h_q)
    assert h_q % heads == 0
    head_blocks = h_q // heads
    rows = block_H
    scale = D ** -0.5 * LOG2E
    accum = "float32"

    @T.prim_func
    def main(Q: T.Tensor((s_q, h_q, D), dtype), KV: T.Tensor((s_kv, 1, D), dtype),
             Indices: T.Tensor((s_q, 1, topk), "int32"),
             Out: T.Tensor((s_q, h_q, DV), dtype), LSE: T.Tensor((s_q, h_q), accum)):
        with T.Kernel(head_blocks, s_q, threads=threads) as (hb, i):
            h0 = hb * heads
            Q_s = T.alloc_shared((rows, D), dtype)
            K_s = T.alloc_shared((block_N, D), dtype)
            V_s = T.alloc_shared((block_N, DV), dtype)
            P_s = T.alloc_shared((rows, block_N), dtype)
            ok = T.alloc_shared((block_N,), "int32")
            acc_s = T.alloc_fragment((rows, block_N), accum)
            acc_s_cast = T.alloc_fragment((rows, block_N), dtype)
            acc_o = T.alloc_fragment((rows, DV), accum)
            m = T.alloc_fragment((rows,), accum)
            m_prev = T.alloc_fragment((rows,), accum)
            rescale = T.alloc_fragment((rows,), accum)
            row_sum = T.alloc_fragment((rows,), accum)
            l = T.alloc_fragment((rows,), accum)
            if heads < rows:
                T.clear(Q_s)
            T.copy(Q[i, h0:h0 + heads, :], Q_s[0:heads, :])
            T.fill(acc_o, 0)
            T.fill(l, 0)
            T.fill(m, -T.infinity(accum))
            for c in T.Pipelined(T.ceildiv(topk, block_N), num_stages=1):
                # Gather the chunk's tokens; invalid ones read token 0 (any
                # finite row: they are masked out of the scores, so their P
                # is 0).
                for j in T.Parallel(block_N):
                    slot = c * block_N + j
                    idx = T.if_then_else(slot < topk, Indices[i, 0, T.min(slot, topk - 1)], -1)
                    ok[j] = T.if_then_else((idx >= 0) & (idx < s_kv), idx, -1)
                # Every thread moves 16-byte pieces of the gathered rows
                # (the loop's accesses are contiguous along d).
                for j, d in T.Parallel(block_N, D):
                    K_s[j, d] = KV[T.max(ok[j], 0), 0, d]
                _attend_chunk(Q_s, K_s, V_s, P_s, ok, acc_s, acc_s_cast, acc_o, m, m_prev,
                              rescale, row_sum, l, rows, block_N, scale)
            for r, d in T.Parallel(rows, DV):
                acc_o[r, d] = T.if_then_else(l[r] > 0, acc_o[r, d] / l[r], 0)
            if heads < rows:
                O_s = T.alloc_shared((rows, DV), dtype)
                T.copy(acc_o, O_s)
                T.copy(O_s[0:heads, :], Out[i, h0:h0 + heads, :])
            else:
                T.copy(acc_o, Out[i, h0:h0 + heads, :])
            for r in T.Parallel(rows):
                if r < heads:
                    LSE[i, h0 + r] = T.if_then_else(
                        l[r] > 0, T.log(l[r]) + m[r] * (scale / LOG2E), -T.infinity(accum))

    return main


@tessel.jit(out_idx=[-2, -1])
def sparse_mla_decode_fp8(batch, s_q, h_q, num_tokens, topk, block_H=64, block_N=64,
                          threads=256, dtype="bfloat16"):
    """Sparse MLA decode over an FP8 KV cache, DeepSeek V3.2's layout in three
    tensors: per token 512 e4m3 values with one fp32 scale per 128 of them
    (`kv_nope`, `kv_scale`), and the 64 RoPE dims in bf16 (`kv_rope`).
    indices [batch, s_q, topk] are token slots of the cache (-1 and
    out-of-range ignored); out [batch, s_q, h_q, 512], lse [batch, s_q, h_q].
    Tokens are dequantized to bf16 as they are gathered."""
    heads = min(block_H, h_q)
    assert h_q % heads == 0
    head_blocks = h_q // heads
    rows = block_H
    scale = D ** -0.5 * LOG2E
    accum = "float32"

    @T.prim_func
    def main(Q: T.Tensor((batch, s_q, h_q, D), dtype),
             Nope: T.Tensor((num_tokens, DV), FP8), Scale: T.Tensor((num_tokens, DV // 128), accum),
             Rope: T.Tensor((num_tokens, D - DV), dtype),
             Indices: T.Tensor((batch, s_q, topk), "int32"),
             Out: T.Tensor((batch, s_q, h_q, DV), dtype), LSE: T.Tensor((batch, s_q, h_q), accum)):
        with T.Kernel(head_blocks, s_q, batch, threads=threads) as (hb, s, b):
            h0 = hb * heads
            Q_s = T.alloc_shared((rows, D), dtype)
            K_s = T.alloc_shared((block_N, D), dtype)
            V_s = T.alloc_shared((block_N, DV), dtype)
            P_s = T.alloc_shared((rows, block_N), dtype)
            ok = T.alloc_shared((block_N,), "int32")
            acc_s = T.alloc_fragment((rows, block_N), accum)
            acc_s_cast = T.alloc_fragment((rows, block_N), dtype)
            acc_o = T.alloc_fragment((rows, DV), accum)
            m = T.alloc_fragment((rows,), accum)
            m_prev = T.alloc_fragment((rows,), accum)
            rescale = T.alloc_fragment((rows,), accum)
            row_sum = T.alloc_fragment((rows,), accum)
            l = T.alloc_fragment((rows,), accum)
            if heads < rows:
                T.clear(Q_s)
            T.copy(Q[b, s, h0:h0 + heads, :], Q_s[0:heads, :])
            T.fill(acc_o, 0)
            T.fill(l, 0)
            T.fill(m, -T.infinity(accum))
            for c in T.Pipelined(T.ceildiv(topk, block_N), num_stages=1):
                for j in T.Parallel(block_N):
                    slot = c * block_N + j
                    idx = T.if_then_else(slot < topk, Indices[b, s, T.min(slot, topk - 1)], -1)
                    ok[j] = T.if_then_else((idx >= 0) & (idx < num_tokens), idx, -1)
                # Dequantize as gathered: e4m3 times its 128-wide block's
                # scale, rounded to bf16; the RoPE part as stored.
                for j, d in T.Parallel(block_N, DV):
                    t = T.max(ok[j], 0)
                    K_s[j, d] = T.cast(T.cast(Nope[t, d], accum) * Scale[t, d // 128], dtype)
                for j, d in T.Parallel(block_N, D - DV):
                    K_s[j, DV + d] = Rope[T.max(ok[j], 0), d]
                _attend_chunk(Q_s, K_s, V_s, P_s, ok, acc_s, acc_s_cast, acc_o, m, m_prev,
                              rescale, row_sum, l, rows, block_N, scale)
            for r, d in T.Parallel(rows, DV):
                acc_o[r, d] = T.if_then_else(l[r] > 0, acc_o[r, d] / l[r], 0)
            if heads < rows:
                O_s = T.alloc_shared((rows, DV), dtype)
                T.copy(acc_o, O_s)
                T.copy(O_s[0:heads, :], Out[b, s, h0:h0 + heads, :])
            else:
                T.copy(acc_o, Out[b, s, h0:h0 + heads, :])
            for r in T.Parallel(rows):
                if r < heads:
                    LSE[b, s, h0 + r] = T.if_then_else(
                        l[r] > 0, T.log(l[r]) + m[r] * (scale / LOG2E), -T.infinity(accum))

    return main
