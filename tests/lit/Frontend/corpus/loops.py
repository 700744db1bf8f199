# RUN: tesselc %s --entry loops -D N=16 | FileCheck %s
# T.serial, T.unroll and range inside a kernel are device loops.
import tessel.language as T

# CHECK-LABEL: func.func @loops
# CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} {
# CHECK: scf.for {{.+}} {
# CHECK: } {tessel.unroll}
# CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} {


def loops(N):
    @T.prim_func
    def main(X: T.Tensor((N, N), "float32")):
        with T.Kernel(1) as bx:
            acc = T.alloc_local((1,), "float32")
            acc[0] = 0.0
            for i in T.serial(N):
                for j in T.unroll(4):
                    acc[0] += X[i, j]
            for i in range(2, N, 2):
                X[i, 0] = acc[0]
    return main
