# RUN: tesselc %s --entry gemm -D M=1024 -D N=1024 -D K=1024 | FileCheck %s
# Four stages, 256x128 tiles, a full-row warp policy, an explicit order and stage.
import tessel
import tessel.language as T

# CHECK-LABEL: func.func @gemm
# CHECK: tile.kernel grid({{.+}}) threads(256)
# CHECK: tile.pipelined {{.+}} stages 4 order [0, 1, 2] stage [0, 0, 3]
# CHECK: tile.gemm {{.+}} policy full_row : memref<256x32xf16


@tessel.jit(out_idx=[-1])
def gemm(M, N, K, block_M=256, block_N=128, block_K=32):
    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((K, N), "float16"), C: T.Tensor((M, N), "float16")):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=256) as (bx, by):
            A_s = T.alloc_shared((block_M, block_K), "float16")
            B_s = T.alloc_shared((block_K, block_N), "float16")
            C_f = T.alloc_fragment((block_M, block_N), "float32")
            T.clear(C_f)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=4, order=[0, 1, 2], stage=[0, 0, 3]):
                T.copy(A[by * block_M, k * block_K], A_s)
                T.copy(B[k * block_K, bx * block_N], B_s)
                T.gemm(A_s, B_s, C_f, policy=T.GemmWarpPolicy.FullRow)
            T.copy(C_f, C[by * block_M, bx * block_N])
    return main
