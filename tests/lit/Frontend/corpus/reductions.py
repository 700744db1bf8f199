# RUN: tesselc %s --entry reductions -D M=64 -D N=32 | FileCheck %s
# Every reduction kind, along both dims, clearing and accumulating.
import tessel.language as T

# CHECK-LABEL: func.func @reductions
# CHECK: tile.reduce sum {{.+}} dim 0 : memref<64x32xf32, #tile.scope<fragment>> to memref<32xf32, #tile.scope<fragment>>
# CHECK: tile.reduce max {{.+}} dim 1 : memref<64x32xf32, #tile.scope<fragment>> to memref<64xf32, #tile.scope<fragment>>
# CHECK: tile.reduce min {{.+}} dim 1 {clear = false}
# CHECK: tile.reduce abssum {{.+}} dim 0
# CHECK: tile.reduce absmax {{.+}} dim 1


def reductions(M, N):
    @T.prim_func
    def main(X: T.Tensor((M, N), "float32"), R: T.Tensor((N,), "float32"), S: T.Tensor((M,), "float32")):
        with T.Kernel(1, threads=64) as bx:
            x = T.alloc_fragment((M, N), "float32")
            cols = T.alloc_fragment((N,), "float32")
            rows = T.alloc_fragment((M,), "float32")
            T.copy(X, x)
            T.reduce_sum(x, cols, dim=0)
            T.reduce_max(x, rows, dim=1)
            T.reduce_min(x, rows, dim=-1, clear=False)
            T.reduce_abssum(x, cols, dim=0, clear=False)
            T.reduce_absmax(x, rows, dim=1, clear=False)
            T.copy(cols, R)
            T.copy(rows, S)
    return main
