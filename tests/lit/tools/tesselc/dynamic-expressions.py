# Arithmetic on dynamic dimensions before the kernel binds them (in the
# factory, in annotations) is kept as an expression: a tensor dimension it
# gives is named by it (in the grid grammar, `mul(seq,4)`), it is computed
# where the kernel uses it, and a C launcher takes it as a parameter with a C
# name.
# RUN: tesselc %s --entry rows -D heads=4 --emit tile | FileCheck %s
# RUN: rm -rf %t && tesselc %s --entry rows -D heads=4 --emit header,manifest -o %t
# RUN: FileCheck %s --check-prefix=HEADER < %t/rows.h
# RUN: FileCheck %s --check-prefix=MANIFEST < %t/rows.json
# CHECK-LABEL: func.func @rows(%arg0: memref<?x8xf32, #tile.scope<global>>, %arg1: memref<?x4xf32, #tile.scope<global>>)
# CHECK-SAME: tessel.dynamic_dims = {{\[\["mul\(seq,4\)", ""\], \["seq", ""\]\]}}
# The grid's seq * heads is Q's first extent, which that expression names.
# CHECK: %[[DIM:.+]] = memref.dim %arg0, %{{.+}}
# CHECK: %[[GRID:.+]] = arith.ceildivsi %[[DIM]], %c32
# CHECK: tile.kernel grid(%[[GRID]])
# HEADER: dim_mul_seq_4: int64_t (= mul(seq,4))
# HEADER: int64_t dim_mul_seq_4,
# HEADER-NEXT: int64_t seq);
# MANIFEST: "grid_expr": ["ceildiv(mul(seq,4), 32)", "", ""]

import tessel
import tessel.language as T


def rows(heads, block=32):
    seq = T.dynamic("seq")
    grid = T.ceildiv(seq * heads, block)

    @T.prim_func
    def main(Q: T.Tensor((seq * heads, 8), "float32"), W: T.Tensor((seq, heads), "float32")):
        with T.Kernel(grid, threads=128) as bx:
            for r, d in T.Parallel(block, 8):
                if bx * block + r < seq * heads:
                    Q[bx * block + r, d] = W[(bx * block + r) // heads, (bx * block + r) % heads]

    return main
