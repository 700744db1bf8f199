# RUN: tesselc %s --entry gemm_dyn -D N=256 -D K=256 | FileCheck %s
# M is a run-time value: the kernel is compiled once for every M.
import tessel
import tessel.language as T

# CHECK-LABEL: func.func @gemm_dyn
# CHECK-SAME: memref<?x256xf16, #tile.scope<global>>
# CHECK-SAME: tessel.dynamic_dims = {{\[}}["m", ""], ["", ""], ["m", ""]]
# CHECK: %[[M:.+]] = memref.dim %arg0, %{{.+}} : memref<?x256xf16, #tile.scope<global>>
# CHECK: arith.ceildivsi %[[M]]
# CHECK: tile.kernel grid(


@tessel.jit(out_idx=[-1])
def gemm_dyn(N, K, block_M=64, block_N=64, block_K=64):
    M = T.dynamic("m")

    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((K, N), "float16"), C: T.Tensor((M, N), "float16")):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
            A_s = T.alloc_shared((block_M, block_K), "float16")
            B_s = T.alloc_shared((block_K, block_N), "float16")
            C_f = T.alloc_fragment((block_M, block_N), "float32")
            T.clear(C_f)
            for k in T.Pipelined(K // block_K, num_stages=2):
                T.copy(A[by * block_M, k * block_K], A_s)
                T.copy(B[k * block_K, bx * block_N], B_s)
                T.gemm(A_s, B_s, C_f)
            T.copy(C_f, C[by * block_M, bx * block_N])
    return main
