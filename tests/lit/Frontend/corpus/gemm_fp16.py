# RUN: tesselc %s --entry matmul -D M=256 -D N=256 -D K=128 | FileCheck %s
# The canonical tiled GEMM: shared tiles, a fragment accumulator, a pipelined K loop.
import tessel
import tessel.language as T

# CHECK-LABEL: func.func @matmul
# CHECK-SAME: memref<256x128xf16, #tile.scope<global>>
# CHECK: tile.kernel grid(%{{.+}}, %{{.+}}) threads(128)
# CHECK: tile.alloc : memref<128x64xf16, #tile.scope<shared>>
# CHECK: tile.alloc : memref<128x128xf32, #tile.scope<fragment>>
# CHECK: tile.fill
# CHECK: tile.pipelined %{{.+}} to %{{.+}} step %{{.+}} stages 3
# CHECK: tile.copy %{{.+}}[%{{.+}}, %{{.+}}] [128, 64] to %{{.+}}[%{{.+}}, %{{.+}}] [128, 64]
# CHECK: tile.gemm %{{.+}}, %{{.+}}, %{{.+}} : memref<128x64xf16, #tile.scope<shared>>, memref<64x128xf16, #tile.scope<shared>>, memref<128x128xf32, #tile.scope<fragment>>
# CHECK: tile.copy {{.+}} [128, 128] to {{.+}} [128, 128] : memref<128x128xf32, #tile.scope<fragment>> to memref<256x256xf16, #tile.scope<global>>


@tessel.jit(out_idx=[-1])
def matmul(M, N, K, block_M=128, block_N=128, block_K=64, dtype=T.float16, accum=T.float32):
    @T.prim_func
    def main(A: T.Tensor((M, K), dtype), B: T.Tensor((K, N), dtype), C: T.Tensor((M, N), dtype)):
        with T.Kernel(T.ceildiv(N, block_N), T.ceildiv(M, block_M), threads=128) as (bx, by):
            A_s = T.alloc_shared((block_M, block_K), dtype)
            B_s = T.alloc_shared((block_K, block_N), dtype)
            C_f = T.alloc_fragment((block_M, block_N), accum)
            T.clear(C_f)
            for k in T.Pipelined(T.ceildiv(K, block_K), num_stages=3):
                T.copy(A[by * block_M, k * block_K], A_s)
                T.copy(B[k * block_K, bx * block_N], B_s)
                T.gemm(A_s, B_s, C_f)
            T.copy(C_f, C[by * block_M, bx * block_N])
    return main
