// nvidia-insert-proxy-fences: a generic-proxy write to shared memory that a
// warpgroup MMA (async proxy) later reads gets an nvvm.fence.proxy right
// after the writing statement; barriers do not clear the need.
// RUN: tessel-opt %s --nvidia-insert-proxy-fences -split-input-file | FileCheck %s

// Two thread copies feed a wgmma: each is fenced. The explicit barrier in
// between does not replace a fence. The copy out of the accumulator writes
// global memory only.
// CHECK-LABEL: func.func @copies_then_wgmma
// CHECK: tile.copy {{.+}} to %[[AS:.+]][
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: tile.copy {{.+}} to %[[BS:.+]][
// CHECK-NEXT: nvvm.fence.proxy
// CHECK-NEXT: tile.barrier
// CHECK-NEXT: tile.gemm
// CHECK-NEXT: tile.copy
// CHECK-NOT: nvvm.fence.proxy
// CHECK: return
func.func @copies_then_wgmma(%a: memref<64x32xf16, #tile.scope<global>>, %b: memref<32x64xf16, #tile.scope<global>>, %c: memref<64x64xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %as = tile.alloc {tessel.shared_offset = 0 : i64} : memref<64x32xf16, #tile.scope<shared>>
    %bs = tile.alloc {tessel.shared_offset = 4096 : i64} : memref<32x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.copy %a[%c0, %c0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<64x32xf16, #tile.scope<global>> to memref<64x32xf16, #tile.scope<shared>>
    tile.copy %b[%c0, %c0] [32, 64] to %bs[%c0, %c0] [32, 64] : memref<32x64xf16, #tile.scope<global>> to memref<32x64xf16, #tile.scope<shared>>
    tile.barrier
    tile.gemm %as, %bs, %acc {mma = #tile.mma<kind = wgmma, gridM = 1, gridN = 1>} : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    tile.copy %acc[%c0, %c0] [64, 64] to %c[%c0, %c0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<64x64xf32, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// mma.sync reads its shared operands with ordinary loads: no fence. Nor
// for a shared tile no MMA reads.
// CHECK-LABEL: func.func @mma_sync_and_unread
// CHECK-NOT: nvvm.fence.proxy
// CHECK: return
func.func @mma_sync_and_unread(%a: memref<32x32xf16, #tile.scope<global>>, %b: memref<32x32xf16, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(64) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %zero = arith.constant 0.0 : f16
    %as = tile.alloc {tessel.shared_offset = 0 : i64} : memref<32x32xf16, #tile.scope<shared>>
    %bs = tile.alloc {tessel.shared_offset = 2048 : i64} : memref<32x32xf16, #tile.scope<shared>>
    %other = tile.alloc {tessel.shared_offset = 4096 : i64} : memref<32x32xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<32x32xf32, #tile.scope<fragment>>
    tile.copy %a[%c0, %c0] [32, 32] to %as[%c0, %c0] [32, 32] : memref<32x32xf16, #tile.scope<global>> to memref<32x32xf16, #tile.scope<shared>>
    tile.copy %b[%c0, %c0] [32, 32] to %bs[%c0, %c0] [32, 32] : memref<32x32xf16, #tile.scope<global>> to memref<32x32xf16, #tile.scope<shared>>
    tile.fill %other, %zero : memref<32x32xf16, #tile.scope<shared>>
    tile.gemm %as, %bs, %acc transpose_b {mma = #tile.mma<kind = mma_sync, gridM = 1, gridN = 2>} : memref<32x32xf16, #tile.scope<shared>>, memref<32x32xf16, #tile.scope<shared>>, memref<32x32xf32, #tile.scope<fragment>>
    tile.yield
  }
  return
}

// -----

// Memory the planner reused: %scratch, written by a T.Parallel body, shares
// bytes with %bs, which a later copy refills and the wgmma reads. Both
// writes reach the wgmma unfenced; each is fenced. A write to bytes the
// wgmma does not read (%far) is not.
// CHECK-LABEL: func.func @reused_bytes
// CHECK: tile.parallel
// CHECK: memref.store
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.fence.proxy
// CHECK-NEXT: tile.fill %[[FAR:.+]], %{{.+}} : memref<16x16xf16
// CHECK-NEXT: tile.copy
// CHECK-NEXT: nvvm.fence.proxy
// CHECK-NEXT: tile.gemm
func.func @reused_bytes(%b: memref<32x64xf16, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %zero = arith.constant 0.0 : f16
    %scratch = tile.alloc {tessel.shared_offset = 4096 : i64} : memref<16x16xf16, #tile.scope<shared>>
    %far = tile.alloc {tessel.shared_offset = 16384 : i64} : memref<16x16xf16, #tile.scope<shared>>
    %as = tile.alloc : memref<64x32xf16, #tile.scope<fragment>>
    %bs = tile.alloc {tessel.shared_offset = 4096 : i64} : memref<32x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.parallel [16, 16] {
    ^bb0(%i: index, %j: index):
      memref.store %zero, %scratch[%i, %j] : memref<16x16xf16, #tile.scope<shared>>
      tile.yield
    }
    tile.fill %far, %zero : memref<16x16xf16, #tile.scope<shared>>
    tile.copy %b[%c0, %c0] [32, 64] to %bs[%c0, %c0] [32, 64] : memref<32x64xf16, #tile.scope<global>> to memref<32x64xf16, #tile.scope<shared>>
    tile.gemm %as, %bs, %acc {mma = #tile.mma<kind = wgmma, gridM = 1, gridN = 1>} : memref<64x32xf16, #tile.scope<fragment>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    tile.yield
  }
  return
}

// -----

// Around a loop: the write at the end of an iteration reaches the wgmma at
// the top of the next one, so it is fenced inside the loop. A fence already
// after a write is not repeated. A write in one arm of a branch reaches the
// gemm after it.
// CHECK-LABEL: func.func @loops_and_branches
// CHECK: scf.for
// CHECK-NEXT: tile.gemm
// CHECK-NEXT: tile.fill %[[PS:.+]], %{{.+}} : memref<64x32xf16
// CHECK-NEXT: nvvm.fence.proxy
// CHECK-NEXT: {{^ *}}}
// CHECK: scf.if
// CHECK-NEXT: tile.fill
// CHECK-NEXT: nvvm.fence.proxy
// CHECK-NOT: nvvm.fence.proxy
// CHECK: tile.gemm
func.func @loops_and_branches(%flag: i1) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %zero = arith.constant 0.0 : f16
    %ps = tile.alloc {tessel.shared_offset = 0 : i64} : memref<64x32xf16, #tile.scope<shared>>
    %bs = tile.alloc {tessel.shared_offset = 4096 : i64} : memref<32x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    scf.for %i = %c0 to %c4 step %c1 {
      tile.gemm %ps, %bs, %acc {mma = #tile.mma<kind = wgmma, gridM = 1, gridN = 1>} : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
      tile.fill %ps, %zero : memref<64x32xf16, #tile.scope<shared>>
    }
    scf.if %flag {
      tile.fill %bs, %zero : memref<32x64xf16, #tile.scope<shared>>
      nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
    }
    tile.gemm %ps, %bs, %acc {mma = #tile.mma<kind = wgmma, gridM = 1, gridN = 1>} : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    tile.yield
  }
  return
}

// -----

// In a T.Pipelined body with order= and stage=, the fence is a statement
// of its own: emitted right after its writer, in the writer's stage. The
// copies that run ahead are the pipeline's to order, not this pass's.
// CHECK-LABEL: func.func @pipelined_order
// CHECK: tile.pipelined {{.+}} stages 2 order [1, 2, 3, 0] stage [0, 1, 1, 1]
// CHECK: tile.copy {{.+}} {tessel.ahead}
// CHECK-NEXT: tile.fill
// CHECK-NEXT: nvvm.fence.proxy
// CHECK-NEXT: tile.gemm
func.func @pipelined_order(%a: memref<64x128xf16, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c32 = arith.constant 32 : index
    %zero = arith.constant 0.0 : f16
    %as = tile.alloc {tessel.staged} : memref<64x32xf16, #tile.scope<shared>>
    %bs = tile.alloc {tessel.shared_offset = 0 : i64} : memref<32x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.pipelined %c0 to %c4 step %c1 stages 2 order [1, 2, 0] stage [0, 1, 1] {
    ^bb0(%k: index):
      %k0 = arith.muli %k, %c32 : index
      tile.copy %a[%c0, %k0] [64, 32] to %as[%c0, %c0] [64, 32] {tessel.ahead} : memref<64x128xf16, #tile.scope<global>> to memref<64x32xf16, #tile.scope<shared>>
      tile.fill %bs, %zero : memref<32x64xf16, #tile.scope<shared>>
      tile.gemm %as, %bs, %acc {mma = #tile.mma<kind = wgmma, gridM = 1, gridN = 1>} : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
      tile.yield
    }
    tile.yield
  }
  return
}
