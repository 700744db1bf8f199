# RUN: tesselc %s --entry batched -D B=4 -D M=128 -D N=64 | FileCheck %s
# A 3-d grid binds (bx, by, bz); a kernel with threads given as a tuple.
import tessel.language as T

# CHECK-LABEL: func.func @batched
# CHECK: tile.kernel grid(%{{.+}}, %{{.+}}, %{{.+}}) threads(256)
# CHECK-NEXT: ^bb0(%{{.+}}: index, %{{.+}}: index, %{{.+}}: index):
# CHECK: tile.copy {{.+}} [1, 32, 64] to {{.+}} [32, 64] : memref<4x128x64xf16


def batched(B, M, N, bm=32):
    @T.prim_func
    def main(X: T.Tensor((B, M, N), "float16"), Y: T.Tensor((B, M, N), "float16")):
        with T.Kernel(1, M // bm, B, threads=(128, 2)) as (bx, by, bz):
            t = T.alloc_shared((bm, N), "float16")
            T.copy(X[bz, by * bm:(by + 1) * bm, :], t)
            T.copy(t, Y[bz, by * bm:(by + 1) * bm, :])
    return main
