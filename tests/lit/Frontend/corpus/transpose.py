# RUN: tesselc %s --entry transpose -D M=256 -D N=128 | FileCheck %s
# A tiled transpose through shared memory.
import tessel.language as T

# CHECK-LABEL: func.func @transpose
# CHECK: tile.copy {{.+}} to {{.+}} : memref<256x128xf16, #tile.scope<global>> to memref<32x32xf16, #tile.scope<shared>>
# CHECK: tile.parallel [32, 32]
# CHECK: memref.load %{{.+}}[%[[J:.+]], %[[I:.+]]] : memref<32x32xf16, #tile.scope<shared>>


def transpose(M, N, b=32):
    @T.prim_func
    def main(X: T.Tensor((M, N), "float16"), Y: T.Tensor((N, M), "float16")):
        with T.Kernel(N // b, M // b) as (bx, by):
            t = T.alloc_shared((b, b), "float16")
            u = T.alloc_shared((b, b), "float16")
            T.copy(X[by * b, bx * b], t)
            for i, j in T.Parallel(b, b):
                u[i, j] = t[j, i]
            T.copy(u, Y[bx * b, by * b])
    return main
