# A fragment read in a T.Parallel that is not laid out over any fragment
# (its extents are not the shape of a fragment it indexes with its indices)
# has no owning thread on Hopper: a located error says so, not that the
# access is outside T.Parallel.
# RUN: not tesselc %s --entry k --emit ptx 2>&1 | FileCheck %s
# CHECK: fragment-unanchored.py:19:30: error: this T.Parallel loop is not laid out over a fragment

import tessel
import tessel.language as T


def k():
    @T.prim_func
    def main(A: T.Tensor((16, 32), "float32"), B: T.Tensor((16, 4, 8), "float32")):
        with T.Kernel(1, threads=128) as bx:
            f = T.alloc_fragment((16, 32), "float32")
            T.copy(A, f)
            for n, g, h in T.Parallel(16, 4, 8):
                B[n, g, h] = f[n, g * 8 + h]
    return main
