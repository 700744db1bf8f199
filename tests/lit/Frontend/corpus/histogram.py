# RUN: tesselc %s --entry histogram -D N=4096 -D bins=64 | FileCheck %s
# Element atomics into global memory, with integer index arithmetic.
import tessel.language as T

# CHECK-LABEL: func.func @histogram
# CHECK-SAME: memref<64xi32, #tile.scope<global>>
# CHECK: arith.remsi
# CHECK: tile.atomic_add %{{.+}}, %arg1[%{{.+}}] : memref<64xi32, #tile.scope<global>>


def histogram(N, bins, block=256):
    @T.prim_func
    def main(X: T.Tensor((N,), "int32"), H: T.Tensor((bins,), "int32")):
        with T.Kernel(N // block, threads=block) as bx:
            for i in T.Parallel(block):
                T.atomic_add(H[X[bx * block + i] % bins], 1)
    return main
