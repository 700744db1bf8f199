"""Kernels the cuda target refuses (printing a T.alloc_local buffer, a gemm
in stage 0), for located errors."""
import tessel
import tessel.language as T


@tessel.jit
def prints(N):
    @T.prim_func
    def main(X: T.Tensor((N,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            acc = T.alloc_local((2,), "float32")
            T.print(acc)
    return main


@tessel.jit
def gemm_in_stage_zero(M, N, K, block=64):
    # stage= puts the gemm (third statement) ahead of the compute.
    @T.prim_func
    def main(A: T.Tensor((M, K), "float16"), B: T.Tensor((N, K), "float16"),
             C: T.Tensor((M, N), "float16")):
        with T.Kernel(T.ceildiv(N, block), T.ceildiv(M, block), threads=128) as (bx, by):
            A_s = T.alloc_shared((block, block), "float16")
            B_s = T.alloc_shared((block, block), "float16")
            C_f = T.alloc_fragment((block, block), "float32")
            T.clear(C_f)
            for k in T.Pipelined(T.ceildiv(K, block), num_stages=2, stage=[0, 1, 0]):
                T.copy(A[by * block, k * block], A_s)
                T.copy(B[bx * block, k * block], B_s)
                T.gemm(A_s, B_s, C_f, transpose_B=True)
            T.copy(C_f, C[by * block, bx * block])
    return main
