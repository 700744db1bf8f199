# A T.Parallel that is not laid out over any fragment (its extents are not
# the shape of a fragment it indexes with its indices) deals its iterations
# to the threads round robin, so no thread owns the fragment elements it
# touches. Reads go through a shared copy (tile-convert-layouts): the
# fragment is stored to shared memory, a barrier, then each iteration loads
# its element. Writes are a located error, not one saying the access is
# outside T.Parallel.
# RUN: rm -rf %t && tesselc %s --entry reads --emit ptx -o %t
# RUN: FileCheck %s --check-prefix=READ < %t/reads.ptx
# RUN: not tesselc %s --entry writes --emit ptx 2>&1 | FileCheck %s --check-prefix=WRITE
# READ: st.shared
# READ: bar.sync 0;
# READ: ld.shared
# WRITE: fragment-unanchored.py:37:17: error: this T.Parallel loop is not laid out over a fragment

import tessel
import tessel.language as T


def reads():
    @T.prim_func
    def main(A: T.Tensor((16, 32), "float32"), B: T.Tensor((16, 4, 8), "float32")):
        with T.Kernel(1, threads=128) as bx:
            f = T.alloc_fragment((16, 32), "float32")
            T.copy(A, f)
            for n, g, h in T.Parallel(16, 4, 8):
                B[n, g, h] = f[n, g * 8 + h]
    return main


def writes():
    @T.prim_func
    def main(A: T.Tensor((16, 4, 8), "float32"), B: T.Tensor((16, 32), "float32")):
        with T.Kernel(1, threads=128) as bx:
            f = T.alloc_fragment((16, 32), "float32")
            for n, g, h in T.Parallel(16, 4, 8):
                f[n, g * 8 + h] = A[n, g, h]
            T.copy(f, B)
    return main
