# A T.Parallel loop with no fragment to follow deals its iterations to the
# threads round-robin (1024 iterations, 128 threads: 8 each). Its shared
# accesses are ordered against earlier ones once, before the loop; the
# iterations themselves are independent, so none of the 8 element steps gets
# a barrier of its own (a scan step reading a[j - 1] while writing b[j] used
# to get one per element). A later loop reading what this one wrote still
# gets its barrier.
# RUN: rm -rf %t && tesselc %s --entry shift_add --emit ptx -o %t
# RUN: FileCheck %s < %t/shift_add.ptx
# CHECK-LABEL: .visible .entry shift_add(
# The first loop: X into a, no barrier between the elements.
# CHECK-COUNT-8: st.shared.b32
# CHECK-NOT: st.shared
# CHECK: bar.sync 0;
# The second loop: b[j] = a[j] + a[j - 1], eight stores, no barrier inside.
# CHECK-NOT: bar.sync
# CHECK-COUNT-8: st.shared.b32
# CHECK-NOT: st.shared
# CHECK: bar.sync 0;
# The third loop reads b into Y.
# CHECK-NOT: bar.sync
# CHECK: st.global
# CHECK-NOT: bar.sync
# CHECK: ret;
import tessel
import tessel.language as T


@tessel.jit
def shift_add(n=1024):
    @T.prim_func
    def main(X: T.Tensor((n,), "int32"), Y: T.Tensor((n,), "int32")):
        with T.Kernel(1, threads=128) as bx:
            a = T.alloc_shared((n,), "int32")
            b = T.alloc_shared((n,), "int32")
            for j in T.Parallel(n):
                a[j] = X[j] * 2
            for j in T.Parallel(n):
                b[j] = a[j] + T.if_then_else(j >= 1, a[T.max(j - 1, 0)], 0)
            for j in T.Parallel(n):
                Y[j] = b[j] + 1

    return main
