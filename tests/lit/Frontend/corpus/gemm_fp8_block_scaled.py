# RUN: tesselc %s --entry fp8_gemm -D M=256 -D N=256 -D K=512 | FileCheck %s
# DeepSeek-V3 style FP8 GEMM: A [M, K] e4m3 with 1x128 scales, B [N, K] e4m3
# with 128x128 scales, D = A B^T in bf16, scales applied per K block in fp32.
import tessel
import tessel.language as T

# CHECK-LABEL: func.func @fp8_gemm
# CHECK-SAME: memref<256x512xf8E4M3FN, #tile.scope<global>>
# CHECK-SAME: memref<256x4xf32, #tile.scope<global>>
# CHECK-SAME: memref<2x4xf32, #tile.scope<global>>
# CHECK: tile.gemm {{.+}} transpose_b clear_accum : memref<128x128xf8E4M3FN, #tile.scope<shared>>, memref<128x128xf8E4M3FN, #tile.scope<shared>>, memref<128x128xf32, #tile.scope<fragment>>
# CHECK: tile.parallel [128, 128]
# CHECK: arith.mulf
# CHECK: tile.copy {{.+}} : memref<128x128xf32, #tile.scope<fragment>> to memref<256x256xbf16, #tile.scope<global>>


@tessel.jit(out_idx=[-1])
def fp8_gemm(M, N, K, block_M=128, block_N=128, block_K=128):
    @T.prim_func
    def main(A: T.Tensor((M, K), "float8_e4m3"), A_scale: T.Tensor((M, T.ceildiv(K, 128)), "float32"),
             B: T.Tensor((N, K), "float8_e4m3"),
             B_scale: T.Tensor((T.ceildiv(N, 128), T.ceildiv(K, 128)), "float32"),
             D: T.Tensor((M, N), "bfloat16")):
        # Two warpgroups: each holds 64 rows of both 128x128 fp32 fragments.
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=256) as (bx, by):
            A_s = T.alloc_shared((block_M, block_K), "float8_e4m3")
            B_s = T.alloc_shared((block_N, block_K), "float8_e4m3")
            part = T.alloc_fragment((block_M, block_N), "float32")
            acc = T.alloc_fragment((block_M, block_N), "float32")
            T.clear(acc)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=3):
                T.copy(A[by * block_M, k * block_K], A_s)
                T.copy(B[bx * block_N, k * block_K], B_s)
                T.gemm(A_s, B_s, part, transpose_B=True, clear_accum=True)
                b_scale = B_scale[bx, k]
                for i, j in T.Parallel(block_M, block_N):
                    acc[i, j] += part[i, j] * A_scale[by * block_M + i, k] * b_scale
            T.copy(acc, D[by * block_M, bx * block_N])
    return main
