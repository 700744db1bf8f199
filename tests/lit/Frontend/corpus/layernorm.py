# RUN: tesselc %s --entry layernorm -D M=256 -D N=512 | FileCheck %s
# LayerNorm with an rsqrt of the variance plus epsilon.
import tessel.language as T

# CHECK-LABEL: func.func @layernorm
# CHECK: tile.reduce sum
# CHECK: arith.constant 9.99999974E-6 : f32
# CHECK: math.rsqrt


def layernorm(M, N, block_M=8, eps=1e-5):
    @T.prim_func
    def main(X: T.Tensor((M, N), "float32"), W: T.Tensor((N,), "float32"), Y: T.Tensor((M, N), "float32")):
        with T.Kernel(M // block_M) as bx:
            x = T.alloc_fragment((block_M, N), "float32")
            w = T.alloc_fragment((N,), "float32")
            sq = T.alloc_fragment((block_M, N), "float32")
            mean = T.alloc_fragment((block_M,), "float32")
            var = T.alloc_fragment((block_M,), "float32")
            T.copy(X[bx * block_M, 0], x)
            T.copy(W, w)
            T.reduce_sum(x, mean, dim=1)
            for i in T.Parallel(block_M):
                mean[i] = mean[i] / N
            for i, j in T.Parallel(block_M, N):
                x[i, j] = x[i, j] - mean[i]
                sq[i, j] = x[i, j] * x[i, j]
            T.reduce_sum(sq, var, dim=1)
            for i, j in T.Parallel(block_M, N):
                x[i, j] = x[i, j] * T.rsqrt(var[i] / N + eps) * w[j]
            T.copy(x, Y[bx * block_M, 0])
    return main
