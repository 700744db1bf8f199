// The whole NVIDIA pipeline with strict-sync: every barrier between
// statements comes from nvidia-insert-barriers, and the lowering agrees
// with it on what is outstanding. Two cases where the lowering used to see
// hazards that are not there (and added barriers and waits the pass rightly
// left out).
// RUN: tessel-opt %s -split-input-file --tile-infer-layouts --nvidia-pipeline-buffers --tile-plan-memory --nvidia-mma-async --nvidia-insert-barriers --nvidia-insert-proxy-fences --tile-lower-to-nvvm="tma=true warp-specialize=true strict-sync=true" | FileCheck %s

// Warp MMAs (mma.sync, a 64-thread block) complete in order: nothing of
// theirs is in flight after the loop, so reading the accumulator needs no
// wgmma wait, and rewriting the operand tile afterwards only the barrier
// after the loop's reads.
// CHECK-LABEL: func.func @mma_sync_loop
// CHECK-NOT: nvvm.wgmma.wait.group
// CHECK: return
func.func @mma_sync_loop(%a: memref<32x32xf16, #tile.scope<global>>, %o: memref<32x32xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(64) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %zero = arith.constant 0.0 : f16
    %as = tile.alloc : memref<32x32xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<32x32xf32, #tile.scope<fragment>>
    tile.copy %a[%c0, %c0] [32, 32] to %as[%c0, %c0] [32, 32] : memref<32x32xf16, #tile.scope<global>> to memref<32x32xf16, #tile.scope<shared>>
    scf.for %k = %c0 to %c4 step %c1 {
      tile.gemm %as, %as, %acc transpose_b : memref<32x32xf16, #tile.scope<shared>>, memref<32x32xf16, #tile.scope<shared>>, memref<32x32xf32, #tile.scope<fragment>>
    }
    tile.parallel [32, 32] {
    ^bb0(%i: index, %j: index):
      %v = memref.load %acc[%i, %j] : memref<32x32xf32, #tile.scope<fragment>>
      memref.store %v, %o[%i, %j] : memref<32x32xf32, #tile.scope<global>>
      tile.yield
    }
    tile.fill %as, %zero : memref<32x32xf16, #tile.scope<shared>>
    tile.yield
  }
  return
}

// -----

// A loop a producer warpgroup feeds keeps a wgmma group in flight and
// drains it after the loop. Its staged tiles live in the stage area, past
// every planned tile, so writing the planned output tile after the loop
// needs no barrier; reading it back for the store to global does.
// CHECK-LABEL: func.func @specialized_then_shared_output
// CHECK-SAME: tessel.warp_specialized
// CHECK: nvvm.wgmma.wait.group.sync.aligned 1
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NOT: nvvm.barrier
// CHECK: llvm.store {{.+}} !llvm.ptr<3>
// CHECK: nvvm.barrier id = {{.+}} number_of_threads = {{.+}}
// CHECK-NOT: nvvm.barrier
// CHECK: llvm.load {{.+}} !llvm.ptr<3>
func.func @specialized_then_shared_output(%a: memref<128x256xf16, #tile.scope<global>>, %b: memref<256x128xf16, #tile.scope<global>>, %c: memref<128x128xf16, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c64 = arith.constant 64 : index
    %zf = arith.constant 0.0 : f32
    %as = tile.alloc : memref<128x64xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<64x128xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<128x128xf32, #tile.scope<fragment>>
    %cs = tile.alloc : memref<128x128xf16, #tile.scope<shared>>
    tile.fill %acc, %zf : memref<128x128xf32, #tile.scope<fragment>>
    tile.pipelined %c0 to %c4 step %c1 stages 3 {
    ^bb0(%k: index):
      %k0 = arith.muli %k, %c64 : index
      tile.copy %a[%c0, %k0] [128, 64] to %as[%c0, %c0] [128, 64] : memref<128x256xf16, #tile.scope<global>> to memref<128x64xf16, #tile.scope<shared>>
      tile.copy %b[%k0, %c0] [64, 128] to %bs[%c0, %c0] [64, 128] : memref<256x128xf16, #tile.scope<global>> to memref<64x128xf16, #tile.scope<shared>>
      tile.gemm %as, %bs, %acc : memref<128x64xf16, #tile.scope<shared>>, memref<64x128xf16, #tile.scope<shared>>, memref<128x128xf32, #tile.scope<fragment>>
      tile.yield
    }
    tile.copy %acc[%c0, %c0] [128, 128] to %cs[%c0, %c0] [128, 128] : memref<128x128xf32, #tile.scope<fragment>> to memref<128x128xf16, #tile.scope<shared>>
    tile.copy %cs[%c0, %c0] [128, 128] to %c[%c0, %c0] [128, 128] : memref<128x128xf16, #tile.scope<shared>> to memref<128x128xf16, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// A device while loop nested in a loop: the groups its gemm issues are in
// flight at the outer loop's top too (the lowering and the passes agree).
// CHECK-LABEL: func.func @for_while_wgmma
// CHECK: scf.while
func.func @for_while_wgmma(%a: memref<64x64xf16, #tile.scope<global>>, %b: memref<64x64xf16, #tile.scope<global>>, %c: memref<64x64xf32, #tile.scope<global>>, %n: memref<1xi32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %zf = arith.constant 0.0 : f32
    %two = arith.constant 2.0 : f32
    %i0 = arith.constant 0 : i32
    %i1 = arith.constant 1 : i32
    %as = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    %cnt = tile.alloc : memref<1xi32, #tile.scope<local>>
    tile.copy %a[%c0, %c0] [64, 64] to %as[%c0, %c0] [64, 64] : memref<64x64xf16, #tile.scope<global>> to memref<64x64xf16, #tile.scope<shared>>
    tile.copy %b[%c0, %c0] [64, 64] to %bs[%c0, %c0] [64, 64] : memref<64x64xf16, #tile.scope<global>> to memref<64x64xf16, #tile.scope<shared>>
    tile.fill %acc, %zf : memref<64x64xf32, #tile.scope<fragment>>
    scf.for %k = %c0 to %c4 step %c1 {
      tile.parallel [64, 64] {
      ^bb0(%i: index, %j: index):
        %x = memref.load %acc[%i, %j] : memref<64x64xf32, #tile.scope<fragment>>
        %y = arith.mulf %x, %two : f32
        memref.store %y, %acc[%i, %j] : memref<64x64xf32, #tile.scope<fragment>>
        tile.yield
      }
      %n0 = memref.load %n[%c0] : memref<1xi32, #tile.scope<global>>
      memref.store %n0, %cnt[%c0] : memref<1xi32, #tile.scope<local>>
      scf.while : () -> () {
        %v = memref.load %cnt[%c0] : memref<1xi32, #tile.scope<local>>
        %go = arith.cmpi sgt, %v, %i0 : i32
        scf.condition(%go)
      } do {
        tile.gemm %as, %bs, %acc : memref<64x64xf16, #tile.scope<shared>>, memref<64x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
        %v = memref.load %cnt[%c0] : memref<1xi32, #tile.scope<local>>
        %w = arith.subi %v, %i1 : i32
        memref.store %w, %cnt[%c0] : memref<1xi32, #tile.scope<local>>
        scf.yield
      }
    }
    tile.copy %acc[%c0, %c0] [64, 64] to %c[%c0, %c0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<64x64xf32, #tile.scope<global>>
    tile.yield
  }
  return
}
