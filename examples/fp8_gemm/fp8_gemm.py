"""DeepSeek-V3 style block-scaled FP8 GEMM, and its grouped (MoE) variants.

D[M, N] (bf16) = A[M, K] . B[N, K]^T where A and B are float8_e4m3 with fp32
scales: A per 1x128 (per row, per 128-wide K block), B per 128x128 block.
Each 128-wide K block's product comes out of the tensor cores in fp32 and
is scaled and added to the accumulator there ("promotion"), as DeepSeek-V3
describes: the fp8 accumulation never runs over more than 128 products.

  fp8_gemm          one GEMM
  fp8_gemm_grouped  contiguous MoE layout: the rows of A are grouped by expert
                    (each group padded to a multiple of block_M rows);
                    m_indices[row] names the expert of each row (-1: padding,
                    left untouched); B [G, N, K] holds one matrix per expert
  fp8_gemm_masked   masked MoE layout: A [G, max_m, K], one GEMM per expert
                    over its first masked_m[g] rows (the rest untouched)
"""
import tessel
import tessel.language as T

FP8 = "float8_e4m3"


@tessel.jit(out_idx=[-1])
def fp8_gemm(M, N, K, block_M=128, block_N=128, num_stages=3):
    block_K = 128  # the scale block: one promotion per K block

    @T.prim_func
    def main(A: T.Tensor((M, K), FP8), A_scale: T.Tensor((M, T.ceildiv(K, 128)), "float32"),
             B: T.Tensor((N, K), FP8),
             B_scale: T.Tensor((T.ceildiv(N, 128), T.ceildiv(K, 128)), "float32"),
             D: T.Tensor((M, N), "bfloat16")):
        # Two consumer warpgroups: each holds 64 rows of both fp32 fragments.
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=256) as (bx, by):
            A_s = T.alloc_shared((block_M, block_K), FP8)
            B_s = T.alloc_shared((block_N, block_K), FP8)
            part = T.alloc_fragment((block_M, block_N), "float32")
            acc = T.alloc_fragment((block_M, block_N), "float32")
            T.clear(acc)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=num_stages):
                T.copy(A[by * block_M, k * block_K], A_s)
                T.copy(B[bx * block_N, k * block_K], B_s)
                T.gemm(A_s, B_s, part, transpose_B=True, clear_accum=True)
                b_scale = B_scale[bx * block_N // 128, k]
                for i, j in T.Parallel(block_M, block_N):
                    acc[i, j] += part[i, j] * A_scale[by * block_M + i, k] * b_scale
            T.copy(acc, D[by * block_M, bx * block_N])

    return main


@tessel.jit(out_idx=[-1])
def fp8_gemm_grouped(M, N, K, G, block_M=128, block_N=128, num_stages=3):
    block_K = 128

    @T.prim_func
    def main(A: T.Tensor((M, K), FP8), A_scale: T.Tensor((M, T.ceildiv(K, 128)), "float32"),
             B: T.Tensor((G, N, K), FP8),
             B_scale: T.Tensor((G, T.ceildiv(N, 128), T.ceildiv(K, 128)), "float32"),
             m_indices: T.Tensor((M,), "int32"),
             D: T.Tensor((M, N), "bfloat16")):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=256) as (bx, by):
            A_s = T.alloc_shared((block_M, block_K), FP8)
            B_s = T.alloc_shared((block_N, block_K), FP8)
            part = T.alloc_fragment((block_M, block_N), "float32")
            acc = T.alloc_fragment((block_M, block_N), "float32")
            # Groups are padded to whole blocks: the block's first row names
            # the expert of all its rows.
            g = m_indices[by * block_M]
            if g >= 0:
                T.clear(acc)
                for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=num_stages):
                    T.copy(A[by * block_M, k * block_K], A_s)
                    T.copy(B[g, bx * block_N, k * block_K], B_s)
                    T.gemm(A_s, B_s, part, transpose_B=True, clear_accum=True)
                    b_scale = B_scale[g, bx * block_N // 128, k]
                    for i, j in T.Parallel(block_M, block_N):
                        acc[i, j] += part[i, j] * A_scale[by * block_M + i, k] * b_scale
                T.copy(acc, D[by * block_M, bx * block_N])

    return main


@tessel.jit(out_idx=[-1])
def fp8_gemm_masked(G, max_m, N, K, block_M=128, block_N=128, num_stages=3):
    block_K = 128

    @T.prim_func
    def main(A: T.Tensor((G, max_m, K), FP8),
             A_scale: T.Tensor((G, max_m, T.ceildiv(K, 128)), "float32"),
             B: T.Tensor((G, N, K), FP8),
             B_scale: T.Tensor((G, T.ceildiv(N, 128), T.ceildiv(K, 128)), "float32"),
             masked_m: T.Tensor((G,), "int32"),
             D: T.Tensor((G, max_m, N), "bfloat16")):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(max_m, block_M), G,
                      threads=256) as (bx, by, g):
            A_s = T.alloc_shared((block_M, block_K), FP8)
            B_s = T.alloc_shared((block_N, block_K), FP8)
            part = T.alloc_fragment((block_M, block_N), "float32")
            acc = T.alloc_fragment((block_M, block_N), "float32")
            rows = masked_m[g]
            if by * block_M < rows:
                T.clear(acc)
                for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=num_stages):
                    T.copy(A[g, by * block_M, k * block_K], A_s)
                    T.copy(B[g, bx * block_N, k * block_K], B_s)
                    T.gemm(A_s, B_s, part, transpose_B=True, clear_accum=True)
                    b_scale = B_scale[g, bx * block_N // 128, k]
                    for i, j in T.Parallel(block_M, block_N):
                        acc[i, j] += part[i, j] * A_scale[g, by * block_M + i, k] * b_scale
                # Rows past the group's count stay as they were.
                for i, j in T.Parallel(block_M, block_N):
                    if by * block_M + i < rows:
                        D[g, by * block_M + i, bx * block_N + j] = acc[i, j]

    return main
