# RUN: tesselc %s --entry gemm -D M=512 -D N=512 -D K=64 | FileCheck %s
# T.use_swizzle records the block-order panel on the kernel.
import tessel.language as T

# CHECK-LABEL: func.func @gemm
# CHECK: tile.kernel grid({{.+}}) threads(128) attributes {tessel.swizzle_panel = 10 : i64}


def gemm(M, N, K, b=128):
    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((K, N), "float16"), C: T.Tensor((M, N), "float16")):
        with T.Kernel(N // b, M // b, threads=128) as (bx, by):
            T.use_swizzle(panel_size=10)
            A_s = T.alloc_shared((b, K), "float16")
            B_s = T.alloc_shared((K, b), "float16")
            acc = T.alloc_fragment((b, b), "float32")
            T.copy(A[by * b, 0], A_s)
            T.copy(B[0, bx * b], B_s)
            T.gemm(A_s, B_s, acc, clear_accum=True)
            T.copy(acc, C[by * b, bx * b])
    return main
