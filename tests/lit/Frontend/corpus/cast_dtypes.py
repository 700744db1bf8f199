# RUN: tesselc %s --entry casts -D N=32 | FileCheck %s
# T.cast and dtype calls convert between every dtype family.
import tessel.language as T

# CHECK-LABEL: func.func @casts
# CHECK: tile.cast %{{.+}} : f32 to f16
# CHECK: tile.cast %{{.+}} : f32 to f8E5M2
# CHECK: tile.cast %{{.+}} : f32 to i32
# CHECK: tile.cast %{{.+}} : f32 to bf16


def casts(N):
    @T.prim_func
    def main(X: T.Tensor((N,), "float32"), H: T.Tensor((N,), "float16"), E: T.Tensor((N,), "float8_e5m2"),
             I: T.Tensor((N,), "int32"), B: T.Tensor((N,), "bfloat16")):
        with T.Kernel(1) as bx:
            for i in T.Parallel(N):
                H[i] = T.cast(X[i], "float16")
                E[i] = T.cast(X[i], T.float8_e5m2)
                I[i] = T.int32(X[i])
                B[i] = X[i]
    return main
