# RUN: tesselc %s --entry gemm_promote -D M=128 -D N=128 -D K=512 | FileCheck %s
# Each K block is multiplied into a cleared temporary and added to the
# accumulator in fp32 (the promotion pattern of FP8 GEMMs).
import tessel.language as T

# CHECK-LABEL: func.func @gemm_promote
# CHECK: tile.pipelined
# CHECK: tile.gemm {{.+}} clear_accum :
# CHECK: tile.parallel [64, 64]
# CHECK: memref.load
# CHECK: arith.addf
# CHECK: memref.store


def gemm_promote(M, N, K, bm=64, bn=64, bk=128):
    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((K, N), "float16"), C: T.Tensor((M, N), "float32")):
        with T.Kernel(N // bn, M // bm, threads=128) as (bx, by):
            A_s = T.alloc_shared((bm, bk), "float16")
            B_s = T.alloc_shared((bk, bn), "float16")
            part = T.alloc_fragment((bm, bn), "float32")
            acc = T.alloc_fragment((bm, bn), "float32")
            T.clear(acc)
            for k in T.Pipelined(K // bk, num_stages=2):
                T.copy(A[by * bm, k * bk], A_s)
                T.copy(B[k * bk, bx * bn], B_s)
                T.gemm(A_s, B_s, part, clear_accum=True)
                for i, j in T.Parallel(bm, bn):
                    acc[i, j] += part[i, j]
            T.copy(acc, C[by * bm, bx * bn])
    return main
