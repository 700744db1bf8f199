# RUN: tesselc %s --entry gemm_i8 -D M=128 -D N=128 -D K=128 | FileCheck %s
# int8 inputs accumulate in int32.
import tessel.language as T

# CHECK-LABEL: func.func @gemm_i8
# CHECK-SAME: memref<128x128xi8, #tile.scope<global>>
# CHECK: tile.gemm {{.+}} : memref<64x64xi8, #tile.scope<shared>>, memref<64x64xi8, #tile.scope<shared>>, memref<64x64xi32, #tile.scope<fragment>>


def gemm_i8(M, N, K, b=64):
    @T.prim_func
    def main(A: T.Tensor((M, K), T.int8), B: T.Tensor((K, N), T.int8), C: T.Tensor((M, N), T.int32)):
        with T.Kernel(N // b, M // b) as (bx, by):
            A_s = T.alloc_shared((b, b), T.int8)
            B_s = T.alloc_shared((b, b), T.int8)
            acc = T.alloc_fragment((b, b), T.int32)
            T.clear(acc)
            for k in T.Pipelined(K // b, num_stages=2):
                T.copy(A[by * b, k * b], A_s)
                T.copy(B[k * b, bx * b], B_s)
                T.gemm(A_s, B_s, acc)
            T.copy(acc, C[by * b, bx * b])
    return main
