# RUN: tesselc %s --entry matmul_nt -D M=512 -D N=256 -D K=256 -D dtype=bfloat16 | FileCheck %s
# B stored [N, K]: the gemm reads it transposed; dtype comes from -D as a dtype name.
import tessel
import tessel.language as T

# CHECK-LABEL: func.func @matmul_nt
# CHECK-SAME: memref<256x256xbf16, #tile.scope<global>>
# CHECK: tile.alloc : memref<128x64xbf16, #tile.scope<shared>>
# CHECK: tile.copy {{.+}} [128, 64] to {{.+}} [128, 64] : memref<256x256xbf16, #tile.scope<global>> to memref<128x64xbf16, #tile.scope<shared>>
# CHECK: tile.gemm {{.+}} transpose_b :


@tessel.jit(out_idx=[-1])
def matmul_nt(M, N, K, block_M=128, block_N=128, block_K=64, dtype="float16"):
    @T.prim_func
    def main(A: T.Tensor((M, K), dtype), B: T.Tensor((N, K), dtype), C: T.Tensor((M, N), dtype)):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=256) as (bx, by):
            A_s = T.alloc_shared((block_M, block_K), dtype)
            B_s = T.alloc_shared((block_N, block_K), dtype)
            C_f = T.alloc_fragment((block_M, block_N), "float32")
            T.clear(C_f)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=2):
                T.copy(A[by * block_M, k * block_K], A_s)
                T.copy(B[bx * block_N, k * block_K], B_s)
                T.gemm(A_s, B_s, C_f, transpose_B=True)
            T.copy(C_f, C[by * block_M, bx * block_N])
    return main
