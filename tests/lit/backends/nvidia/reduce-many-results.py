# Reductions whose rows are spread over threads combine through shared
# memory. With many results (here the 256 column sums of a 64x256 wgmma
# accumulator, whose rows lie in different warps; more than 128 results),
# each thread stores the elements it holds into a row-major copy of
# the tile in the scratch area, and after one barrier each result is a loop
# over its column: no per-result shuffle code (which grew with the number
# of results; past 256 it was refused).
# REQUIRES: ptxas
# RUN: rm -rf %t && tesselc %s --entry col_sums --emit ptx,manifest -o %t
# RUN: FileCheck %s < %t/col_sums.ptx
# RUN: FileCheck %s --check-prefix=MANIFEST < %t/col_sums.json
# CHECK-LABEL: .visible .entry col_sums(
# CHECK-NOT: shfl.sync
# CHECK: st.shared.b32
# CHECK: bar.sync 0;
# The column loop: a shared load and an add per row.
# CHECK: [[LOOP:\$L__BB0_[0-9]+]]:
# CHECK: ld.shared.b32
# CHECK: add.rn.f32
# CHECK: @%p{{[0-9]+}} bra {{.*}}[[LOOP]];
# CHECK-NOT: shfl.sync
# CHECK: ret;
# MANIFEST: "spill_bytes": 0,
import tessel
import tessel.language as T


@tessel.jit
def col_sums(cols=256, k=32):
    @T.prim_func
    def main(A: T.Tensor((64, k), "float16"), B: T.Tensor((k, cols), "float16"),
             Y: T.Tensor((cols,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            A_s = T.alloc_shared((64, k), "float16")
            B_s = T.alloc_shared((k, cols), "float16")
            acc = T.alloc_fragment((64, cols), "float32")
            y = T.alloc_fragment((cols,), "float32")
            T.copy(A, A_s)
            T.copy(B, B_s)
            T.gemm(A_s, B_s, acc, clear_accum=True)
            T.reduce_sum(acc, y, dim=0)
            T.copy(y, Y)

    return main
