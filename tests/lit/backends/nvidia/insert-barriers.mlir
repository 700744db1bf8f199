// nvidia-insert-barriers: a tile.barrier wherever one thread's shared
// access depends on another's, by the tiles' planned byte ranges.
// RUN: tessel-opt %s --tile-infer-layouts --nvidia-insert-barriers -split-input-file | FileCheck %s
// Lowered with strict-sync, every barrier between statements is the
// pass's: the lowering adds none (it would be an error).
// RUN: tessel-opt %s --tile-infer-layouts --nvidia-insert-barriers -split-input-file | tessel-opt -split-input-file --tile-lower-to-nvvm=strict-sync=true -o /dev/null

// Written, then read by other threads: a barrier between. Two reads in a
// row need none; writing what was read needs one. The kernel is marked.
// CHECK-LABEL: func.func @raw_war
// CHECK: tile.kernel {{.+}} attributes {tessel.barriers_placed}
// CHECK: tile.copy %{{.+}} to %[[AS:[0-9a-z_]+]][
// CHECK-NEXT: tile.barrier
// CHECK-NEXT: tile.copy %[[AS]]{{.+}} to %{{.+}} : memref<64x32xf16, #tile.scope<shared>> to memref<64x32xf16, #tile.scope<global>>
// CHECK-NEXT: tile.copy %[[AS]]{{.+}} to %{{.+}} : memref<64x32xf16, #tile.scope<shared>> to memref<64x32xf16, #tile.scope<global>>
// CHECK-NEXT: tile.barrier
// CHECK-NEXT: tile.fill %[[AS]]
// A tile at other bytes: no barrier.
// CHECK-NEXT: tile.fill %{{.+}} : memref<16xf32, #tile.scope<shared>>
// CHECK-NEXT: {{^ *}}}
func.func @raw_war(%a: memref<64x32xf16, #tile.scope<global>>, %o: memref<64x32xf16, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %zero = arith.constant 0.0 : f16
    %zf = arith.constant 0.0 : f32
    %as = tile.alloc {tessel.shared_offset = 0 : i64} : memref<64x32xf16, #tile.scope<shared>>
    %other = tile.alloc {tessel.shared_offset = 4096 : i64} : memref<16xf32, #tile.scope<shared>>
    tile.copy %a[%c0, %c0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<64x32xf16, #tile.scope<global>> to memref<64x32xf16, #tile.scope<shared>>
    tile.copy %as[%c0, %c0] [64, 32] to %o[%c0, %c0] [64, 32] : memref<64x32xf16, #tile.scope<shared>> to memref<64x32xf16, #tile.scope<global>>
    tile.copy %as[%c0, %c0] [64, 32] to %o[%c0, %c0] [64, 32] : memref<64x32xf16, #tile.scope<shared>> to memref<64x32xf16, #tile.scope<global>>
    tile.fill %as, %zero : memref<64x32xf16, #tile.scope<shared>>
    tile.fill %other, %zf : memref<16xf32, #tile.scope<shared>>
    tile.yield
  }
  return
}

// -----

// Memory tile-plan-memory reused: %b's bytes were %a's, so writing %b after
// reading %a waits for every thread's read.
// CHECK-LABEL: func.func @reused_bytes
// CHECK: tile.parallel
// CHECK: memref.load %[[A:[0-9a-z_]+]][
// CHECK: }
// CHECK-NEXT: tile.barrier
// CHECK-NEXT: tile.fill
func.func @reused_bytes(%o: memref<64xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(64) {
  ^bb0(%bx: index):
    %zf = arith.constant 0.0 : f32
    %a = tile.alloc {tessel.shared_offset = 0 : i64} : memref<64xf32, #tile.scope<shared>>
    %b = tile.alloc {tessel.shared_offset = 128 : i64} : memref<32xf32, #tile.scope<shared>>
    tile.parallel [64] {
    ^bb0(%i: index):
      %v = memref.load %a[%i] : memref<64xf32, #tile.scope<shared>>
      memref.store %v, %o[%i] : memref<64xf32, #tile.scope<global>>
      tile.yield
    }
    tile.fill %b, %zf : memref<32xf32, #tile.scope<shared>>
    tile.yield
  }
  return
}

// -----

// Loops start clean: a barrier before one when anything is outstanding, and
// as the last statement of a body that leaves something outstanding. The
// arms of a branch start from the same state; what either leaves is
// outstanding after it.
// CHECK-LABEL: func.func @loops_and_branches
// CHECK: tile.fill %[[S:[0-9a-z_]+]], %{{.+}} : memref<64xf32
// CHECK-NEXT: tile.barrier
// CHECK-NEXT: scf.for
// CHECK-NEXT: tile.parallel
// CHECK: tile.barrier
// CHECK-NEXT: }
// CHECK-NEXT: scf.if
// CHECK-NEXT: tile.fill %[[S]]
// CHECK-NEXT: }
// CHECK-NEXT: tile.barrier
// CHECK-NEXT: tile.parallel
func.func @loops_and_branches(%flag: i1, %o: memref<64xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(64) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %zf = arith.constant 0.0 : f32
    %s = tile.alloc {tessel.shared_offset = 0 : i64} : memref<64xf32, #tile.scope<shared>>
    tile.fill %s, %zf : memref<64xf32, #tile.scope<shared>>
    scf.for %k = %c0 to %c4 step %c1 {
      tile.parallel [64] {
      ^bb0(%i: index):
        %v = memref.load %s[%i] : memref<64xf32, #tile.scope<shared>>
        memref.store %v, %o[%i] : memref<64xf32, #tile.scope<global>>
        tile.yield
      }
    }
    scf.if %flag {
      tile.fill %s, %zf : memref<64xf32, #tile.scope<shared>>
    }
    tile.parallel [64] {
    ^bb0(%i: index):
      %v = memref.load %s[%i] : memref<64xf32, #tile.scope<shared>>
      memref.store %v, %o[%i] : memref<64xf32, #tile.scope<global>>
      tile.yield
    }
    tile.yield
  }
  return
}

// -----

// wgmma reads its shared operands until a wait: the gemm itself needs the
// barrier after the threads' copy; rewriting the operand afterwards needs
// the wait first, then a barrier (the wgmma's reads, now done, count as
// every thread's).
// CHECK-LABEL: func.func @wgmma_in_flight
// CHECK: tile.copy {{.+}} to %[[AS:[0-9a-z_]+]][
// CHECK-NEXT: tile.barrier
// CHECK-NEXT: tile.gemm %[[AS]]
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT: tile.barrier
// CHECK-NEXT: tile.fill %[[AS]]
func.func @wgmma_in_flight(%a: memref<64x32xf16, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %zero = arith.constant 0.0 : f16
    %as = tile.alloc {tessel.shared_offset = 0 : i64} : memref<64x32xf16, #tile.scope<shared>>
    %bs = tile.alloc {tessel.shared_offset = 4096 : i64} : memref<32x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.copy %a[%c0, %c0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<64x32xf16, #tile.scope<global>> to memref<64x32xf16, #tile.scope<shared>>
    tile.gemm %as, %bs, %acc : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    tile.fill %as, %zero : memref<64x32xf16, #tile.scope<shared>>
    tile.yield
  }
  return
}

// -----

// Thread 0 alone stores a scalar to global memory; before the threads read
// global memory again, a barrier.
// CHECK-LABEL: func.func @scalar_global_store
// CHECK: memref.store
// CHECK-NEXT: tile.barrier
// CHECK-NEXT: tile.parallel
func.func @scalar_global_store(%o: memref<64xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(64) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %one = arith.constant 1.0 : f32
    memref.store %one, %o[%c0] : memref<64xf32, #tile.scope<global>>
    tile.parallel [64] {
    ^bb0(%i: index):
      %v = memref.load %o[%i] : memref<64xf32, #tile.scope<global>>
      %w = arith.addf %v, %one : f32
      memref.store %w, %o[%i] : memref<64xf32, #tile.scope<global>>
      tile.yield
    }
    tile.yield
  }
  return
}

// -----

// In a T.Pipelined body with order=, statements are followed in that order
// and a barrier is a statement of its own, emitted right before the one
// that needs it (the lists grow by one entry each). Here the fill of %s
// runs first (order 0), the copy reading %s second, the fill of %t last;
// the iteration ends with the read outstanding, so a barrier ends the body.
// CHECK-LABEL: func.func @pipelined_order
// CHECK: tile.pipelined {{.+}} order [3, 0, 1, 2, 4] stage [0, 0, 0, 0, 0]
// CHECK-NEXT: ^bb0
// CHECK-NEXT: tile.fill %[[T:[0-9a-z_]+]], %{{.+}} : memref<32xf32
// CHECK-NEXT: tile.fill %[[S:[0-9a-z_]+]], %{{.+}} : memref<64xf32
// CHECK-NEXT: tile.barrier
// CHECK-NEXT: tile.copy %[[S]][
// CHECK-NEXT: tile.barrier
// CHECK-NEXT: {{^ *}}}
func.func @pipelined_order(%o: memref<64xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(64) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %zf = arith.constant 0.0 : f32
    %s = tile.alloc {tessel.shared_offset = 0 : i64} : memref<64xf32, #tile.scope<shared>>
    %t = tile.alloc {tessel.shared_offset = 256 : i64} : memref<32xf32, #tile.scope<shared>>
    tile.pipelined %c0 to %c4 step %c1 stages 1 order [2, 0, 1] stage [0, 0, 0] {
    ^bb0(%k: index):
      tile.fill %t, %zf : memref<32xf32, #tile.scope<shared>>
      tile.fill %s, %zf : memref<64xf32, #tile.scope<shared>>
      tile.copy %s[%c0] [64] to %o[%c0] [64] : memref<64xf32, #tile.scope<shared>> to memref<64xf32, #tile.scope<global>>
      tile.yield
    }
    tile.yield
  }
  return
}
