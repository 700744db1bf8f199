# A device while loop (a run-time condition) becomes an scf.while in the tile
# IR and a loop in the PTX; one whose body shares memory between threads is
# refused on the cuda target (threads may leave it at different times, so no
# barrier can order it).
# RUN: tesselc %s --entry steps -D N=64 --emit tile | FileCheck %s --check-prefix=TILE
# RUN: tesselc %s --entry steps -D N=64 --emit ptx | FileCheck %s --check-prefix=PTX
# RUN: not tesselc %s --entry shared_in_loop -D N=64 --emit ptx 2>&1 | FileCheck %s --check-prefix=SHARED
# TILE: scf.while : () -> () {
# TILE: scf.condition
# PTX: $L__BB0_[[LOOP:[0-9]+]]:
# PTX: bra{{.*}} $L__BB0_[[LOOP]];
# SHARED: device-while.py:38:13: error: this while loop's body shares memory between threads

import tessel
import tessel.language as T


def steps(N):
    @T.prim_func
    def main(A: T.Tensor((N,), "int32"), S: T.Tensor((N,), "int32")):
        with T.Kernel(1, threads=64) as bx:
            for i in T.Parallel(N):
                v = T.alloc_var("int32", init=A[i])
                n = T.alloc_var("int32", init=0)
                while v > 1:
                    v = T.if_then_else(v % 2 == 0, v // 2, 3 * v + 1)
                    n += 1
                S[i] = n
    return main


def shared_in_loop(N):
    @T.prim_func
    def main(A: T.Tensor((N,), "int32"), S: T.Tensor((N,), "int32")):
        with T.Kernel(1, threads=64) as bx:
            buf = T.alloc_shared((N,), "int32")
            k = T.alloc_var("int32", init=A[0])
            while k > 0:
                for i in T.Parallel(N):
                    buf[i] = A[i] + k
                k -= 1
            for i in T.Parallel(N):
                S[i] = buf[N - 1 - i]
    return main
