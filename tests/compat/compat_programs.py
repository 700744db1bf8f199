"""Whole programs in the style production TileLang code is written in
(module-level dtype names, T.Tensor[...] annotations, pass_configs, the
factory computing sizes with Python), import swap aside."""

import tessel as tilelang
import tessel.language as T

BF16 = T.bfloat16
FP16 = T.float16
FP32 = T.float32
FP8 = T.float8_e4m3fn
FP8_MAX = 448.0

PASS_CONFIGS = {
    tilelang.PassConfigKey.TL_DISABLE_WARP_SPECIALIZED: True,
    tilelang.PassConfigKey.TL_DISABLE_TMA_LOWER: False,
}


@tilelang.jit(out_idx=[1, 2], pass_configs=PASS_CONFIGS)
def act_quant(M, N, group=128, in_dtype=BF16, blk_m=32):
    """Per-token, per-group fp8 quantization: y = x / s, s = amax / 448 per
    (row, 128-column group); amax is reduced from bf16 into f32."""
    groups = tilelang.cdiv(N, group)

    @T.prim_func
    def main(X: T.Tensor[(M, N), in_dtype], Y: T.Tensor[(M, N), FP8],
             S: T.Tensor[(M, groups), FP32]):
        with T.Kernel(T.ceildiv(M, blk_m), groups, threads=128) as (bx, by):
            x_shared = T.alloc_shared((blk_m, group), in_dtype)
            x_local = T.alloc_fragment((blk_m, group), in_dtype)
            amax = T.alloc_fragment((blk_m,), FP32)
            y_local = T.alloc_fragment((blk_m, group), FP8)
            s_local = T.alloc_fragment((blk_m,), FP32)
            T.copy(X[bx * blk_m, by * group], x_shared)
            T.copy(x_shared, x_local)
            T.reduce_absmax(x_local, amax, dim=1)
            for i in T.Parallel(blk_m):
                amax[i] = T.max(amax[i], 1e-4)
                s_local[i] = amax[i] / FP8_MAX
            for i, j in T.Parallel(blk_m, group):
                y_local[i, j] = T.clamp(x_local[i, j] / s_local[i], -FP8_MAX, FP8_MAX)
            T.copy(y_local, Y[bx * blk_m, by * group])
            for i in T.Parallel(blk_m):
                S[bx * blk_m + i, by] = s_local[i]

    return main


@tilelang.jit(out_idx=[-1])
def fp8_gemm_block_scaled(M, N, K, block_M=64, block_N=128, out_dtype=BF16, num_stages=2):
    """D = A @ B^T with A per (row, 128-K block) and B per (128x128 block)
    scales, promoted into an f32 accumulator after every K block."""
    block_K = 128

    @T.prim_func
    def main(A: T.Tensor[(M, K), FP8], A_s: T.Tensor[(M, tilelang.cdiv(K, 128)), FP32],
             B: T.Tensor[(N, K), FP8],
             B_s: T.Tensor[(tilelang.cdiv(N, 128), tilelang.cdiv(K, 128)), FP32],
             D: T.Tensor[(M, N), out_dtype]):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
            A_shared = T.alloc_shared((block_M, block_K), FP8)
            B_shared = T.alloc_shared((block_N, block_K), FP8)
            part = T.alloc_fragment((block_M, block_N), FP32)
            acc = T.alloc_fragment((block_M, block_N), FP32)
            T.clear(acc)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=num_stages):
                T.copy(A[by * block_M, k * block_K], A_shared)
                T.copy(B[bx * block_N, k * block_K], B_shared)
                T.gemm(A_shared, B_shared, part, transpose_B=True, clear_accum=True)
                b_scale = B_s[bx * block_N // 128, k]
                for i, j in T.Parallel(block_M, block_N):
                    acc[i, j] += part[i, j] * A_s[by * block_M + i, k] * b_scale
            T.copy(acc, D[by * block_M, bx * block_N])

    return main


@tilelang.jit(out_idx=[3])
def attention(batch, heads, seq_len, dim, is_causal=False, block_M=64, block_N=64,
              dtype=FP16):
    scale = (1.0 / dim) ** 0.5 * 1.44269504  # log2(e)
    shape = [batch, seq_len, heads, dim]

    @T.prim_func
    def main(Q: T.Tensor(shape, dtype), K: T.Tensor(shape, dtype), V: T.Tensor(shape, dtype),
             Output: T.Tensor(shape, dtype)):
        with T.Kernel(T.ceildiv(seq_len, block_M), heads, batch, threads=128) as (bx, by, bz):
            Q_shared = T.alloc_shared([block_M, dim], dtype)
            K_shared = T.alloc_shared([block_N, dim], dtype)
            V_shared = T.alloc_shared([block_N, dim], dtype)
            acc_s = T.alloc_fragment([block_M, block_N], FP32)
            acc_s_cast = T.alloc_fragment([block_M, block_N], dtype)
            acc_o = T.alloc_fragment([block_M, dim], FP32)
            scores_max = T.alloc_fragment([block_M], FP32)
            scores_max_prev = T.alloc_fragment([block_M], FP32)
            scores_scale = T.alloc_fragment([block_M], FP32)
            scores_sum = T.alloc_fragment([block_M], FP32)
            logsum = T.alloc_fragment([block_M], FP32)

            T.copy(Q[bz, bx * block_M:(bx + 1) * block_M, by, :], Q_shared)
            T.fill(acc_o, 0)
            T.fill(logsum, 0)
            T.fill(scores_max, -T.infinity(FP32))
            loop_range = (T.ceildiv((bx + 1) * block_M, block_N) if is_causal
                          else T.ceildiv(seq_len, block_N))
            for k in T.Pipelined(loop_range, num_stages=1):
                T.copy(K[bz, k * block_N:(k + 1) * block_N, by, :], K_shared)
                if is_causal:
                    for i, j in T.Parallel(block_M, block_N):
                        acc_s[i, j] = T.if_then_else(bx * block_M + i >= k * block_N + j, 0,
                                                     -T.infinity(acc_s.dtype))
                else:
                    T.clear(acc_s)
                T.gemm(Q_shared, K_shared, acc_s, transpose_B=True,
                       policy=T.GemmWarpPolicy.FullRow)
                T.copy(V[bz, k * block_N:(k + 1) * block_N, by, :], V_shared)
                T.copy(scores_max, scores_max_prev)
                T.reduce_max(acc_s, scores_max, dim=1, clear=False)
                for i in T.Parallel(block_M):
                    scores_scale[i] = T.exp2(scores_max_prev[i] * scale - scores_max[i] * scale)
                for i, j in T.Parallel(block_M, dim):
                    acc_o[i, j] *= scores_scale[i]
                for i, j in T.Parallel(block_M, block_N):
                    acc_s[i, j] = T.exp2(acc_s[i, j] * scale - scores_max[i] * scale)
                T.copy(acc_s, acc_s_cast)
                T.gemm(acc_s_cast, V_shared, acc_o, policy=T.GemmWarpPolicy.FullRow)
                T.reduce_sum(acc_s, scores_sum, dim=1)
                for i in T.Parallel(block_M):
                    logsum[i] = logsum[i] * scores_scale[i] + scores_sum[i]
            for i, j in T.Parallel(block_M, dim):
                acc_o[i, j] /= logsum[i]
            T.copy(acc_o, Output[bz, bx * block_M:(bx + 1) * block_M, by, :])

    return main


@tilelang.jit(out_idx=[-1])
def rms_norm(M, N, blk_m=16, dtype=FP16, eps=1e-6):
    """y = x * rsqrt(mean(x^2) + eps) * w; the fp16 row is divided by its
    f32 norm (mixed-dtype arithmetic)."""

    @T.prim_func
    def main(X: T.Tensor((M, N), dtype), W: T.Tensor((N,), dtype), Y: T.Tensor((M, N), dtype)):
        with T.Kernel(T.ceildiv(M, blk_m), threads=128) as bx:
            x_shared = T.alloc_shared((blk_m, N), dtype)
            x_local = T.alloc_fragment((blk_m, N), dtype)
            sq = T.alloc_fragment((blk_m, N), FP32)
            ss = T.alloc_fragment((blk_m,), FP32)
            norm = T.alloc_fragment((blk_m,), FP32)
            T.copy(X[bx * blk_m:(bx + 1) * blk_m, :], x_shared)
            T.copy(x_shared, x_local)
            for i, j in T.Parallel(blk_m, N):
                sq[i, j] = T.Cast(FP32, x_local[i, j]) * x_local[i, j]
            T.reduce_sum(sq, ss, dim=1)
            for i in T.Parallel(blk_m):
                norm[i] = T.sqrt(ss[i] / N + eps)
            for i, j in T.Parallel(blk_m, N):
                x_local[i, j] = x_local[i, j] / norm[i] * W[j]
            T.copy(x_local, Y[bx * blk_m:(bx + 1) * blk_m, :])

    return main


@tilelang.jit
def bias_gelu(X, bias, block=256):
    """Eager: y = gelu_tanh(x + bias) over rows of any length."""
    rows, cols = T.const("rows, cols")
    X: T.Tensor((rows, cols), FP32)
    bias: T.Tensor((cols,), FP32)
    Y = T.empty((rows, cols), FP32)
    with T.Kernel(rows, T.ceildiv(cols, block), threads=128) as (r, c):
        for j in T.Parallel(block):
            col = c * block + j
            if col < cols:
                v = X[r, col] + bias[col]
                inner = 0.7978845608 * (v + 0.044715 * v * v * v)
                Y[r, col] = 0.5 * v * (1.0 + T.tanh(inner))
    return Y
