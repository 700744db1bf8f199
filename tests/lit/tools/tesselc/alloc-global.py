# T.alloc_global adds a workspace argument after the parameters: the
# manifest marks it, a C launcher takes its pointer (the caller allocates
# it), out_idx keeps counting the prim_func's own parameters.
# RUN: tesselc %s --entry k -D N=128 --emit tile | FileCheck %s
# RUN: rm -rf %t && tesselc %s --entry k -D N=128 --emit manifest,header -o %t
# RUN: FileCheck %s --check-prefix=MANIFEST < %t/k.json
# RUN: FileCheck %s --check-prefix=HEADER < %t/k.h
# CHECK: func.func @k(%arg0: memref<128xf32, #tile.scope<global>>, %arg1: memref<128xf32, #tile.scope<global>>, %arg2: memref<128xf32, #tile.scope<global>>)
# CHECK-SAME: tessel.arg_names = ["A", "B", "scratch"]
# CHECK-SAME: tessel.workspaces = array<i64: 2>
# MANIFEST: {"name": "scratch", {{.*}}"workspace": true}
# HEADER: scratch: float32[128], workspace (T.alloc_global
# HEADER: CUdeviceptr scratch

import tessel
import tessel.language as T


def k(N):
    @T.prim_func
    def main(A: T.Tensor((N,), "float32"), B: T.Tensor((N,), "float32")):
        with T.Kernel(1, threads=128) as bx:
            scratch = T.alloc_global((N,), "float32")
            for i in T.Parallel(N):
                scratch[i] = A[i] * 2
            T.sync_threads()
            for i in T.Parallel(N):
                B[i] = scratch[N - 1 - i]
    return main
