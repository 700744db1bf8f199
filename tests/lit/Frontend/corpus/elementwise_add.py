# RUN: tesselc %s --entry add | FileCheck %s
# A vector add over a dynamic length.
import tessel
import tessel.language as T

# CHECK-LABEL: func.func @add
# CHECK-SAME: memref<?xf32, #tile.scope<global>>
# CHECK: memref.dim
# CHECK: tile.kernel grid(
# CHECK: tile.parallel [256]
# CHECK: arith.addf


@tessel.jit(out_idx=[-1])
def add(block=256):
    n = T.dynamic("n")

    @T.prim_func
    def main(A: T.Tensor((n,), "float32"), B: T.Tensor((n,), "float32"), C: T.Tensor((n,), "float32")):
        with T.Kernel(T.ceildiv(n, block), threads=256) as bx:
            a = T.alloc_fragment((block,), "float32")
            b = T.alloc_fragment((block,), "float32")
            T.copy(A[bx * block], a)
            T.copy(B[bx * block], b)
            for i in T.Parallel(block):
                a[i] = a[i] + b[i]
            T.copy(a, C[bx * block])
    return main
