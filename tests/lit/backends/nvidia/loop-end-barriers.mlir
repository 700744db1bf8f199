// nvidia-insert-barriers ends a loop body with a barrier only where what an
// iteration leaves outstanding meets a later access: the next iteration's,
// one after the loop, or a pipelined loop's refill of its stages.
// RUN: tessel-opt %s -split-input-file --tile-infer-layouts --nvidia-pipeline-buffers=warp-specialize=false --tile-plan-memory --nvidia-mma-async --nvidia-insert-barriers | FileCheck %s
// RUN: tessel-opt %s -split-input-file --tile-infer-layouts --nvidia-pipeline-buffers=warp-specialize=false --tile-plan-memory --nvidia-mma-async --nvidia-insert-barriers --nvidia-insert-proxy-fences --tile-lower-to-nvvm="tma=true strict-sync=true" -o /dev/null

// Reads of a tile nothing writes again stay outstanding: no barrier ends
// the body (attention's Q, read by every iteration).
// CHECK-LABEL: func.func @read_only_tile
// CHECK: scf.for
// CHECK-NEXT: tile.parallel
// CHECK-NOT: tile.barrier
// CHECK: return
func.func @read_only_tile(%q: memref<256xf32, #tile.scope<global>>, %o: memref<4x256xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %s = tile.alloc : memref<256xf32, #tile.scope<shared>>
    tile.copy %q[%c0] [256] to %s[%c0] [256] : memref<256xf32, #tile.scope<global>> to memref<256xf32, #tile.scope<shared>>
    scf.for %k = %c0 to %c4 step %c1 {
      tile.parallel [256] {
      ^bb0(%i: index):
        %v = memref.load %s[%i] : memref<256xf32, #tile.scope<shared>>
        memref.store %v, %o[%k, %i] : memref<4x256xf32, #tile.scope<global>>
        tile.yield
      }
    }
    tile.yield
  }
  return
}

// -----

// The next iteration rewrites what this one read: a barrier ends the body.
// CHECK-LABEL: func.func @rewritten_next_iteration
// CHECK: scf.for
// CHECK: tile.barrier
// CHECK: tile.parallel
// CHECK: tile.barrier
// CHECK-NEXT: }
func.func @rewritten_next_iteration(%a: memref<4x256xf32, #tile.scope<global>>, %o: memref<4x256xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %s = tile.alloc : memref<256xf32, #tile.scope<shared>>
    scf.for %k = %c0 to %c4 step %c1 {
      tile.copy %a[%k, %c0] [1, 256] to %s[%c0] [256] : memref<4x256xf32, #tile.scope<global>> to memref<256xf32, #tile.scope<shared>>
      tile.parallel [256] {
      ^bb0(%i: index):
        %c255 = arith.constant 255 : index
        %j = arith.subi %c255, %i : index
        %v = memref.load %s[%j] : memref<256xf32, #tile.scope<shared>>
        memref.store %v, %o[%k, %i] : memref<4x256xf32, #tile.scope<global>>
        tile.yield
      }
    }
    tile.yield
  }
  return
}

// -----

// Warp MMAs read a pipelined loop's staged tiles with ordinary loads; the
// next iteration refills a stage by TMA: the body ends with a barrier so
// no warp is still reading the stage being refilled.
// CHECK-LABEL: func.func @staged_tiles_read_by_threads
// CHECK: tile.pipelined {{.+}}tessel.stages = 2
// CHECK: tile.gemm
// CHECK-NEXT: tile.barrier
// CHECK-NEXT: }
func.func @staged_tiles_read_by_threads(%a: memref<64x128xf16, #tile.scope<global>>, %b: memref<64x128xf16, #tile.scope<global>>, %c: memref<64x64xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(64) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c2 = arith.constant 2 : index
    %c64 = arith.constant 64 : index
    %as = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.pipelined %c0 to %c2 step %c1 stages 2 {
    ^bb0(%k: index):
      %k0 = arith.muli %k, %c64 : index
      tile.copy %a[%c0, %k0] [64, 64] to %as[%c0, %c0] [64, 64] : memref<64x128xf16, #tile.scope<global>> to memref<64x64xf16, #tile.scope<shared>>
      tile.copy %b[%c0, %k0] [64, 64] to %bs[%c0, %c0] [64, 64] : memref<64x128xf16, #tile.scope<global>> to memref<64x64xf16, #tile.scope<shared>>
      tile.gemm %as, %bs, %acc transpose_b : memref<64x64xf16, #tile.scope<shared>>, memref<64x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
      tile.yield
    }
    tile.copy %acc[%c0, %c0] [64, 64] to %c[%c0, %c0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<64x64xf32, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// Global memory: an iteration reads elements of a tensor other threads
// stored the iteration before, so the body ends with a barrier although
// its only shared access is a read of a tile nothing writes.
// CHECK-LABEL: func.func @recurrence
// CHECK: scf.for
// CHECK: tile.barrier
// CHECK-NEXT: {{^ *}}}
func.func @recurrence(%a: memref<256xf32, #tile.scope<global>>, %o: memref<8x256xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c8 = arith.constant 8 : index
    %y = tile.alloc : memref<256xf32, #tile.scope<shared>>
    tile.copy %a[%c0] [256] to %y[%c0] [256] : memref<256xf32, #tile.scope<global>> to memref<256xf32, #tile.scope<shared>>
    scf.for %k = %c1 to %c8 step %c1 {
      tile.parallel [256] {
      ^bb0(%i: index):
        %c255 = arith.constant 255 : index
        %j = arith.subi %c255, %i : index
        %km = arith.subi %k, %c1 : index
        %p = memref.load %o[%km, %j] : memref<8x256xf32, #tile.scope<global>>
        %v = memref.load %y[%i] : memref<256xf32, #tile.scope<shared>>
        %s = arith.addf %p, %v : f32
        memref.store %s, %o[%k, %i] : memref<8x256xf32, #tile.scope<global>>
        tile.yield
      }
    }
    tile.yield
  }
  return
}
