# RUN: tesselc %s --entry double_scale -D N=64 | FileCheck %s
# A T.macro is inlined at each call: two parallel loops.
import tessel.language as T

# CHECK-LABEL: func.func @double_scale
# CHECK: tile.parallel [64]
# CHECK: arith.constant 2.000000e+00
# CHECK: tile.parallel [64]
# CHECK: arith.constant 3.000000e+00


@T.macro
def scale(buf, n, factor):
    for i in T.Parallel(n):
        buf[i] = buf[i] * factor


def double_scale(N):
    @T.prim_func
    def main(X: T.Tensor((N,), "float32")):
        with T.Kernel(1) as bx:
            x = T.alloc_fragment((N,), "float32")
            T.copy(X, x)
            scale(x, N, 2.0)
            scale(x, N, factor=3.0)
            T.copy(x, X)
    return main
