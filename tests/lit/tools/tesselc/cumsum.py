# T.cumsum is a scan in shared memory: a tile.parallel over the other
# dimensions whose iterations walk their line with an scf.for from 1
# (x[k] += x[k - 1]; reverse: x[n-1-k] += x[n-k]). A fragment is scanned
# through a shared copy and copied into the destination.
# RUN: tesselc %s --entry scan -D M=16 -D N=32 --emit tile | FileCheck %s
# CHECK: %[[S:.+]] = tile.alloc : memref<16x32xf32, #tile.scope<shared>>
# CHECK: %[[F:.+]] = tile.alloc : memref<16x32xf32, #tile.scope<fragment>>
# CHECK: tile.parallel [16] {
# CHECK-NEXT: ^bb0(%[[I:.+]]: index):
# CHECK: scf.for %[[K:.+]] = %c1{{.*}} to %c32{{.*}} step
# CHECK: %[[P:.+]] = arith.subi %[[K]], %c1
# CHECK: %[[X:.+]] = memref.load %[[S]][%[[I]], %[[K]]]
# CHECK: %[[Y:.+]] = memref.load %[[S]][%[[I]], %[[P]]]
# CHECK: %[[Z:.+]] = arith.addf %[[X]], %[[Y]]
# CHECK: memref.store %[[Z]], %[[S]][%[[I]], %[[K]]]
# CHECK: %[[W:.+]] = tile.alloc : memref<16x32xf32, #tile.scope<shared>>
# CHECK: tile.copy %[[F]]{{.*}} to %[[W]]
# CHECK: tile.parallel [32] {
# CHECK: arith.subi %c15
# CHECK: tile.copy %[[W]]{{.*}} to %[[F]]

import tessel
import tessel.language as T


def scan(M, N):
    @T.prim_func
    def main(A: T.Tensor((M, N), "float32"), B: T.Tensor((M, N), "float32")):
        with T.Kernel(1, threads=128) as bx:
            s = T.alloc_shared((M, N), "float32")
            f = T.alloc_fragment((M, N), "float32")
            T.copy(A, s)
            T.cumsum(s, dim=1)
            T.copy(s, f)
            T.cumsum(f, dim=0, reverse=True)
            T.copy(f, B)

    return main
