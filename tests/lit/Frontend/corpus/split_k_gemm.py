# RUN: tesselc %s --entry split_k -D M=128 -D N=128 -D K=1024 | FileCheck %s
# Split-K: a 3-d grid, each z slice adds its partial product atomically.
import tessel.language as T

# CHECK-LABEL: func.func @split_k
# CHECK: tile.kernel grid(%{{.+}}, %{{.+}}, %{{.+}}) threads(128)
# CHECK-NEXT: ^bb0(%{{.+}}: index, %{{.+}}: index, %[[BZ:.+]]: index):
# CHECK: tile.parallel [64, 64]
# CHECK: tile.atomic_add %{{.+}}, %{{.+}}[%{{.+}}, %{{.+}}] : memref<128x128xf32, #tile.scope<global>>


def split_k(M, N, K, b=64, splits=4):
    ks = K // splits

    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((K, N), "float16"), C: T.Tensor((M, N), "float32")):
        with T.Kernel(N // b, M // b, splits, threads=128) as (bx, by, bz):
            A_s = T.alloc_shared((b, 64), "float16")
            B_s = T.alloc_shared((64, b), "float16")
            acc = T.alloc_fragment((b, b), "float32")
            T.clear(acc)
            for k in T.Pipelined(ks // 64, num_stages=2):
                T.copy(A[by * b, bz * ks + k * 64], A_s)
                T.copy(B[bz * ks + k * 64, bx * b], B_s)
                T.gemm(A_s, B_s, acc)
            T.atomic_add(C[by * b, bx * b], acc)
    return main
