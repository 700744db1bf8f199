# RUN: tesselc %s --entry k -D shape='(64, 32)' | FileCheck %s
# Tuple unpacking, tuple indexing, chained and augmented assignment.
import tessel.language as T

# CHECK-LABEL: func.func @k
# CHECK-SAME: memref<64x32xf32, #tile.scope<global>>
# CHECK: tile.alloc : memref<32x32xf32, #tile.scope<fragment>>
# CHECK: tile.parallel [32, 32]
# CHECK: arith.mulf
# CHECK: arith.addf


def k(shape):
    M, N = shape
    half = M // 2
    rows = cols = N
    rows -= 0
    @T.prim_func
    def main(X: T.Tensor(shape, "float32")):
        with T.Kernel(M // half) as bx:
            t = T.alloc_fragment((rows, cols), "float32")
            T.copy(X[bx * half, 0], t)
            for i, j in T.Parallel(rows, cols):
                t[i, j] *= 2.0
                t[i, j] += 1
            T.copy(t, X[bx * half, 0])
    return main
