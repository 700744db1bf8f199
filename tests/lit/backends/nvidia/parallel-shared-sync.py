# A T.Parallel loop with no fragment to follow deals its iterations to the
# threads round-robin: 1024 iterations, 128 threads. Accesses contiguous in
# the innermost index (x[j], x[j + c] with c a multiple of the lane count)
# move as 16-byte vectors: each thread runs 4 consecutive int32 iterations
# at once, 2 rounds. Other accesses (a[j - 1]) stay per element.
# The loop's shared accesses are ordered against earlier ones once, before
# the loop; its iterations are independent, so no round gets a barrier of
# its own (a scan step reading a[j - 1] while writing b[j] used to get one
# per element). A later loop reading what this one wrote still waits.
# RUN: rm -rf %t && tesselc %s --entry shift_add --emit ptx -o %t
# RUN: FileCheck %s < %t/shift_add.ptx
# RUN: tesselc %s --entry gather --emit ptx -o %t
# RUN: FileCheck %s --check-prefix=GATHER < %t/gather.ptx
# RUN: tesselc %s --entry histogram --emit ptx -o %t
# RUN: FileCheck %s --check-prefix=HIST < %t/histogram.ptx
# RUN: tesselc %s --entry row_sums --emit ptx -o %t
# RUN: FileCheck %s --check-prefix=ROWS < %t/row_sums.ptx
# Instructions are compared with PTX's .loc lines (source positions) between
# them allowed: `CHECK-NOT: {{^[[:space:]]+[a-z]}}` is "no instruction in between".
# CHECK-LABEL: .visible .entry shift_add(
# The first loop: X into a (times 2) as vectors, no barrier inside.
# CHECK: ld.global.v4.b32
# CHECK-NOT: bar.sync
# CHECK: st.shared.v4.b32
# CHECK-NOT: bar.sync
# CHECK: ld.global.v4.b32
# CHECK-NOT: bar.sync
# CHECK: st.shared.v4.b32
# CHECK-NOT: {{^[[:space:]]+[a-z]}}
# CHECK: bar.sync 0;
# The second loop: b[j] = a[j] + a[j - 1]; a[j] and b[j] as vectors.
# CHECK-NOT: {{^[[:space:]]+[a-z]}}
# CHECK: ld.shared.v4.b32
# CHECK: ld.shared.b32
# CHECK-NOT: bar.sync
# CHECK: st.shared.v4.b32
# CHECK-NOT: bar.sync
# CHECK: st.shared.v4.b32
# CHECK-NOT: {{^[[:space:]]+[a-z]}}
# CHECK: bar.sync 0;
# The third loop reads b into Y.
# CHECK-NOT: bar.sync
# CHECK: st.global.v4.b32
# CHECK-NOT: bar.sync
# CHECK: st.global.v4.b32
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


# Sparse attention's gather: row ok[j] of KV, for 64 rows of 576 bf16. The
# row index does not depend on the innermost index, so each thread reads its
# token index from shared memory and moves 8 columns (16 bytes) at a time.
# A row index past the tensor (here > 4095) reads zeros: the vector load is
# guarded, not the store.
# GATHER-LABEL: .visible .entry gather(
# GATHER: bar.sync 0;
# GATHER-DAG: ld.shared.b32
# GATHER-DAG: setp.gt.s32 {{%p[0-9]+}}, {{%r[0-9]+}}, 4095;
# GATHER-DAG: ld.global.v4.b32
# GATHER-DAG: st.shared.v4.b32
# GATHER-NOT: ld.global.b16
# GATHER-NOT: st.shared.b16
# GATHER: ret;
@tessel.jit
def gather(rows=64, n=4096, d=576):
    @T.prim_func
    def main(KV: T.Tensor((n, d), "bfloat16"), Idx: T.Tensor((rows,), "int32"),
             Out: T.Tensor((rows, d), "bfloat16")):
        with T.Kernel(1, threads=256) as bx:
            ok = T.alloc_shared((rows,), "int32")
            K_s = T.alloc_shared((rows, d), "bfloat16")
            for j in T.Parallel(rows):
                ok[j] = Idx[j]
            for j, c in T.Parallel(rows, d):
                K_s[j, c] = KV[T.max(ok[j], 0), c]
            T.copy(K_s, Out)

    return main


# Shared-memory atomics in a T.Parallel: the histogram is cleared, then one
# barrier, then each thread's 8 atomics (1024 values, 128 threads) with no
# barrier between them; one barrier before the bins are read.
# HIST-LABEL: .visible .entry histogram(
# HIST: st.shared
# HIST: bar.sync 0;
# HIST-NOT: bar.sync
# HIST-COUNT-8: atom.shared.add.u32
# HIST-NOT: atom.shared
# HIST: bar.sync 0;
# HIST-NOT: atom.shared
# HIST: ret;
@tessel.jit
def histogram(n=1024, bins=64):
    @T.prim_func
    def main(X: T.Tensor((n,), "int32"), H: T.Tensor((bins,), "int32")):
        with T.Kernel(1, threads=128) as bx:
            h = T.alloc_shared((bins,), "int32")
            for b in T.Parallel(bins):
                h[b] = 0
            for j in T.Parallel(n):
                T.atomic_add(h[X[j] & (bins - 1)], 1)
            for b in T.Parallel(bins):
                H[b] = h[b]

    return main


# A serial loop inside a T.Parallel runs per iteration, and the last round
# of 100 iterations over 128 threads is predicated: no barrier may be
# inside it (one there could hang), only before the T.Parallel and after.
# ROWS-LABEL: .visible .entry row_sums(
# ROWS: bar.sync 0;
# ROWS: setp.{{.*}}99
# ROWS-NOT: bar.sync
# ROWS: ld.shared
# ROWS-NOT: bar.sync
# ROWS: st.shared
# ROWS: bar.sync 0;
# ROWS: ret;
@tessel.jit
def row_sums(rows=100, cols=32):
    @T.prim_func
    def main(X: T.Tensor((rows, cols), "float32"), Y: T.Tensor((rows,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            x = T.alloc_shared((rows, cols), "float32")
            s = T.alloc_shared((rows,), "float32")
            T.copy(X, x)
            for r in T.Parallel(rows):
                s[r] = 0
                for c in T.serial(cols):
                    s[r] += x[r, c]
            for r in T.Parallel(rows):
                Y[r] = s[r]

    return main
