# RUN: tesselc %s --entry relu_scale -D M=128 -D N=128 -D alpha=0.5 | FileCheck %s
# y = max(x, 0) * alpha, directly on global memory elements.
import tessel.language as T

# CHECK-LABEL: func.func @relu_scale
# CHECK: tile.parallel [32, 32]
# CHECK: memref.load %arg0
# CHECK: arith.maximumf
# CHECK: arith.constant 5.000000e-01 : f32
# CHECK: memref.store {{.+}}, %arg1


def relu_scale(M, N, alpha=1.0, b=32):
    @T.prim_func
    def main(X: T.Tensor((M, N), "float32"), Y: T.Tensor((M, N), "float32")):
        with T.Kernel(N // b, M // b) as (bx, by):
            for i, j in T.Parallel(b, b):
                Y[by * b + i, bx * b + j] = T.max(X[by * b + i, bx * b + j], 0.0) * alpha
    return main
