# RUN: tesselc %s --entry softmax -D M=1024 -D N=128 | FileCheck %s
# Row softmax: reduce max, exponentiate, reduce sum, normalize.
import tessel.language as T

# CHECK-LABEL: func.func @softmax
# CHECK: tile.reduce max {{.+}} dim 1 : memref<32x128xf32, #tile.scope<fragment>> to memref<32xf32, #tile.scope<fragment>>
# CHECK: tile.parallel [32, 128]
# CHECK: math.exp
# CHECK: tile.reduce sum
# CHECK: arith.divf


def softmax(M, N, block_M=32):
    @T.prim_func
    def main(X: T.Tensor((M, N), "float16"), Y: T.Tensor((M, N), "float16")):
        with T.Kernel(T.ceildiv(M, block_M), threads=128) as bx:
            x = T.alloc_fragment((block_M, N), "float32")
            row_max = T.alloc_fragment((block_M,), "float32")
            row_sum = T.alloc_fragment((block_M,), "float32")
            T.copy(X[bx * block_M, 0], x)
            T.reduce_max(x, row_max, dim=1)
            for i, j in T.Parallel(block_M, N):
                x[i, j] = T.exp(x[i, j] - row_max[i])
            T.reduce_sum(x, row_sum, dim=1)
            for i, j in T.Parallel(block_M, N):
                x[i, j] = x[i, j] / row_sum[i]
            T.copy(x, Y[bx * block_M, 0])
    return main
