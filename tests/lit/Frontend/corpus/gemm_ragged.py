# RUN: tesselc %s --entry gemm -D M=100 -D N=70 -D K=96 | FileCheck %s
# M, N, K not multiples of the blocks: the grid rounds up, copies are guarded.
import tessel.language as T

# CHECK-LABEL: func.func @gemm
# CHECK-SAME: memref<100x96xf32, #tile.scope<global>>
# CHECK: %[[C2:.+]] = arith.constant 2 : index
# CHECK: tile.kernel grid(%[[C2]], %{{.+}})
# CHECK: tile.pipelined {{.+}} stages 2


def gemm(M, N, K, b=64, bk=32):
    @T.prim_func
    def main(A: T.Tensor((M, K), "float32"), B: T.Tensor((K, N), "float32"), C: T.Tensor((M, N), "float32")):
        with T.Kernel(T.ceildiv(N, b), T.ceildiv(M, b)) as (bx, by):
            A_s = T.alloc_shared((b, bk), "float32")
            B_s = T.alloc_shared((bk, b), "float32")
            acc = T.alloc_fragment((b, b), "float32")
            T.clear(acc)
            for k in T.Pipelined(T.ceildiv(K, bk), num_stages=2):
                T.copy(A[by * b, k * bk], A_s)
                T.copy(B[k * bk, bx * b], B_s)
                T.gemm(A_s, B_s, acc)
            T.copy(acc, C[by * b, bx * b])
    return main
