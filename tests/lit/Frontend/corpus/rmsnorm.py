# RUN: tesselc %s --entry rmsnorm -D M=64 -D N=256 | FileCheck %s
# RMSNorm in bf16 with fp32 math.
import tessel.language as T

# CHECK-LABEL: func.func @rmsnorm
# CHECK-SAME: memref<64x256xbf16, #tile.scope<global>>
# CHECK: tile.copy {{.+}} : memref<64x256xbf16, #tile.scope<global>> to memref<4x256xf32, #tile.scope<fragment>>
# CHECK: tile.reduce sum
# CHECK: math.rsqrt


def rmsnorm(M, N, block_M=4):
    @T.prim_func
    def main(X: T.Tensor((M, N), "bfloat16"), Y: T.Tensor((M, N), "bfloat16")):
        with T.Kernel(M // block_M, threads=128) as bx:
            x = T.alloc_fragment((block_M, N), "float32")
            sq = T.alloc_fragment((block_M, N), "float32")
            s = T.alloc_fragment((block_M,), "float32")
            T.copy(X[bx * block_M, 0], x)
            for i, j in T.Parallel(block_M, N):
                sq[i, j] = x[i, j] * x[i, j]
            T.reduce_sum(sq, s, dim=1)
            for i in T.Parallel(block_M):
                s[i] = T.rsqrt(s[i] / N + 1e-6)
            for i, j in T.Parallel(block_M, N):
                x[i, j] *= s[i]
            T.copy(x, Y[bx * block_M, 0])
    return main
