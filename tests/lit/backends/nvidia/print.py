# T.print on the cuda target goes through vprintf: a line per call with the
# message ('%' escaped) and the block and thread; a fragment's elements are
# printed by the threads holding them, a shared tile's by thread 0 after the
# barrier that orders the writes before it; a T.alloc_local buffer is refused.
# REQUIRES: ptxas
# RUN: rm -rf %t && tesselc %s --entry prints --emit ptx,manifest -o %t
# RUN: FileCheck %s < %t/prints.ptx
# RUN: FileCheck %s --check-prefix=MANIFEST < %t/prints.json
# RUN: not tesselc %s --entry prints_local --emit ptx -o %t 2>&1 | FileCheck %s --check-prefix=LOCAL
# CHECK: .extern .func (.param .b32 func_retval0) vprintf
# "first 100%% [block %lld %lld %lld thread %lld] %g\n"
# CHECK: __tessel_fmt_0[51] = {102, 105, 114, 115, 116, 32, 49, 48, 48, 37, 37, 32, 91, 98, 108, 111, 99, 107,
# CHECK-LABEL: .visible .entry prints(
# The shared tile is written by the T.Parallel; the two scalar lines; then a
# barrier before thread 0 reads the tile to print it.
# CHECK: st.shared
# CHECK: call.uni (retval0), vprintf,
# CHECK: call.uni (retval0), vprintf,
# CHECK: bar.sync 0;
# CHECK: call.uni (retval0), vprintf,
# MANIFEST: "spill_bytes": 0,
# LOCAL: print.py:[[# @LINE + 29]]:13: error: T.print of a T.alloc_local buffer is not supported on the cuda target; print its elements
import tessel
import tessel.language as T


@tessel.jit
def prints(N=64):
    @T.prim_func
    def main(X: T.Tensor((N,), "float32"), Y: T.Tensor((4, 8), "int32")):
        with T.Kernel(2, threads=128) as bx:
            s = T.alloc_shared((4,), "float32")
            f = T.alloc_fragment((N,), "float32")
            T.copy(X, f)
            for i in T.Parallel(4):
                s[i] = X[i] * 2.0
            T.print(X[0], msg="first 100%")
            T.print(bx, msg="block")
            T.print(s, msg="s")
            T.print(f, msg="f")
            T.print(Y, msg="Y")
    return main


@tessel.jit
def prints_local(N=64):
    @T.prim_func
    def main(X: T.Tensor((N,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            acc = T.alloc_local((2,), "float32")
            T.print(acc)
    return main
