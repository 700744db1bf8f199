# Per-thread code (T.get_thread_binding, T.thread_binding, per-thread locals):
# a statement that reads the thread index or a per-thread buffer becomes a
# tile.parallel over the block's threads whose index is the thread's; x is
# the fastest coordinate (threads=(8, 16): tn = tid % 8, tk = tid / 8);
# T.alloc_local((1,)) is a fragment with one element per thread; a statement
# that reads neither (T.clear, a serial loop) stays block-level code.
# RUN: tesselc %s --entry split -D N=64 -D K=64 --emit tile | FileCheck %s
# RUN: not tesselc %s --entry barrier_in_branch -D N=64 --emit tile 2>&1 | FileCheck %s --check-prefix=SYNC
# CHECK: tile.kernel grid(%{{.+}}) threads(128)
# CHECK: %[[ACC:.+]] = tile.alloc : memref<128xf32, #tile.scope<fragment>>
# CHECK: %[[SUMS:.+]] = tile.alloc : memref<8xf32, #tile.scope<shared>>
# CHECK: tile.parallel [128] {
# CHECK-NEXT: ^bb0(%[[T:.+]]: index):
# CHECK: %[[TK:.+]] = arith.divui %[[T]], %{{.+}} : index
# CHECK: arith.cmpi eq, %[[TK]]
# CHECK: scf.if
# CHECK: %[[TN:.+]] = arith.remui %[[T]], %{{.+}} : index
# CHECK: memref.store %{{.+}}, %[[SUMS]][%[[TN]]]
# CHECK: tile.fill %[[ACC]]
# CHECK: scf.for
# CHECK-NEXT: tile.parallel [128] {
# CHECK-NEXT: ^bb0(%[[T2:.+]]: index):
# CHECK: memref.load %[[ACC]][%[[T2]]]
# CHECK: memref.store %{{.+}}, %[[ACC]][%[[T2]]]
# CHECK: tile.parallel [128] {
# CHECK: tile.atomic_add
# SYNC: thread-binding.py:[[@LINE+32]]:17: error: T.sync_threads inside a statement that runs once per thread

import tessel
import tessel.language as T


def split(N, K, BN=8, BK=16):
    @T.prim_func
    def main(A: T.Tensor((K,), "float32"), B: T.Tensor((N, K), "float32"),
             C: T.Tensor((N,), "float32")):
        with T.Kernel(T.ceildiv(N, BN), threads=(BN, BK)) as bn:
            tn = T.get_thread_binding(0)
            tk = T.get_thread_binding(1)
            acc = T.alloc_local((1,), "float32")
            sums = T.alloc_shared((BN,), "float32")
            if tk == 0:
                sums[tn] = 0
            T.clear(acc)
            for k in T.serial(K // BK):
                acc[0] += A[k * BK + tk] * B[bn * BN + tn, k * BK + tk]
            T.atomic_add(sums[tn], acc[0])
            C[bn * BN + tn] = sums[tn]

    return main


def barrier_in_branch(N):
    @T.prim_func
    def main(A: T.Tensor((N,), "float32")):
        with T.Kernel(1, threads=N) as bx:
            tx = T.get_thread_binding()
            if tx < 32:
                T.sync_threads()
                A[tx] = 1.0

    return main
