# RUN: tesselc %s --entry quantize -D M=128 -D K=512 | FileCheck %s
# Per-token, per-128 block FP8 quantization: absmax, scale, cast to e4m3.
import tessel.language as T

# CHECK-LABEL: func.func @quantize
# CHECK: tile.reduce absmax {{.+}} dim 1 : memref<32x128xf32, #tile.scope<fragment>> to memref<32xf32, #tile.scope<fragment>>
# CHECK: arith.constant 4.480000e+02
# CHECK: arith.divf
# CHECK: tile.cast %{{.+}} : f32 to f8E4M3FN


def quantize(M, K, bm=32, group=128):
    @T.prim_func
    def main(X: T.Tensor((M, K), "bfloat16"), Q: T.Tensor((M, K), "float8_e4m3fn"),
             S: T.Tensor((M, K // group), "float32")):
        with T.Kernel(K // group, M // bm, threads=128) as (bx, by):
            x = T.alloc_fragment((bm, group), "float32")
            amax = T.alloc_fragment((bm,), "float32")
            T.copy(X[by * bm, bx * group], x)
            T.reduce_absmax(x, amax, dim=1)
            for i in T.Parallel(bm):
                amax[i] = T.max(amax[i], 1e-4) / 448.0
                S[by * bm + i, bx] = amax[i]
            for i, j in T.Parallel(bm, group):
                Q[by * bm + i, bx * group + j] = T.cast(x[i, j] / amax[i], "float8_e4m3")
    return main
