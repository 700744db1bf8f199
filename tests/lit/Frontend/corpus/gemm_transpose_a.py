# RUN: tesselc %s --entry matmul_tn -D M=128 -D N=128 -D K=256 | FileCheck %s
# A stored [K, M] and read transposed, with a full-column warp policy.
import tessel.language as T

# CHECK-LABEL: func.func @matmul_tn
# CHECK: tile.alloc : memref<32x64xf16, #tile.scope<shared>>
# CHECK: tile.gemm {{.+}} transpose_a policy full_col : memref<32x64xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>


def matmul_tn(M, N, K, bm=64, bn=64, bk=32):
    @T.prim_func
    def main(A: T.Tensor((K, M), "float16"), B: T.Tensor((K, N), "float16"), C: T.Tensor((M, N), "float32")):
        with T.Kernel(T.ceildiv(N, bn), T.ceildiv(M, bm)) as (bx, by):
            A_s = T.alloc_shared((bk, bm), "float16")
            B_s = T.alloc_shared((bk, bn), "float16")
            acc = T.alloc_fragment((bm, bn), "float32")
            T.clear(acc)
            for k in T.Pipelined(K // bk, num_stages=2):
                T.copy(A[k * bk, by * bm], A_s)
                T.copy(B[k * bk, bx * bn], B_s)
                T.gemm(A_s, B_s, acc, transpose_A=True, policy=T.GemmWarpPolicy.FullCol)
            T.copy(acc, C[by * bm, bx * bn])
    return main
