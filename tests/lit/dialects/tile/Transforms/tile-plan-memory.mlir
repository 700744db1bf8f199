// RUN: tessel-opt %s -tile-plan-memory -split-input-file -verify-diagnostics | FileCheck %s
// Shared tiles get offsets; tiles whose lifetimes do not overlap share space.

// Two gemm operands live together: both are 1024-aligned, side by side. The
// output staging tile is used only after the gemm, so it reuses offset 0.
// CHECK-LABEL: func.func @reuse
// CHECK: tile.kernel {{.+}} attributes {tessel.shared_bytes = 32768 : i64}
// CHECK: %[[A:.+]] = tile.alloc {tessel.shared_offset = 0 : i64} : memref<128x64xf16
// CHECK: %[[B:.+]] = tile.alloc {tessel.shared_offset = 16384 : i64} : memref<64x128xf16
// CHECK: tile.alloc {tessel.shared_offset = 0 : i64} : memref<64x64xf32, #tile.scope<shared>>
// CHECK: tile.alloc : memref<128x128xf32, #tile.scope<fragment>>
func.func @reuse(%A: memref<128x64xf16>, %B: memref<64x128xf16>, %C: memref<64x64xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %a = tile.alloc : memref<128x64xf16, #tile.scope<shared>>
    %b = tile.alloc : memref<64x128xf16, #tile.scope<shared>>
    %out = tile.alloc : memref<64x64xf32, #tile.scope<shared>>
    %acc = tile.alloc : memref<128x128xf32, #tile.scope<fragment>>
    tile.copy %A[%c0, %c0] [128, 64] to %a[%c0, %c0] [128, 64] : memref<128x64xf16> to memref<128x64xf16, #tile.scope<shared>>
    tile.copy %B[%c0, %c0] [64, 128] to %b[%c0, %c0] [64, 128] : memref<64x128xf16> to memref<64x128xf16, #tile.scope<shared>>
    tile.gemm %a, %b, %acc : memref<128x64xf16, #tile.scope<shared>>, memref<64x128xf16, #tile.scope<shared>>, memref<128x128xf32, #tile.scope<fragment>>
    tile.copy %acc[%c0, %c0] [64, 64] to %out[%c0, %c0] [64, 64] : memref<128x128xf32, #tile.scope<fragment>> to memref<64x64xf32, #tile.scope<shared>>
    tile.copy %out[%c0, %c0] [64, 64] to %C[%c0, %c0] [64, 64] : memref<64x64xf32, #tile.scope<shared>> to memref<64x64xf32>
  }
  return
}

// -----

// Tiles not read by a gemm align to 128 bytes; uses inside a loop keep a tile
// alive for the whole loop; num_buffers multiplies the size.
// CHECK-LABEL: func.func @alignment_and_loops
// The 240-byte tile goes first, then the 16-byte one, then the 6-byte one.
// CHECK: tessel.shared_bytes = 390 : i64
// CHECK: tile.alloc {tessel.num_buffers = 3 : i64, tessel.shared_offset = 0 : i64} : memref<20xf32
// CHECK: tile.alloc {tessel.shared_offset = 384 : i64} : memref<3xf16
// CHECK: tile.alloc {tessel.shared_offset = 256 : i64} : memref<4xf32
func.func @alignment_and_loops(%X: memref<64xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(32) {
  ^bb0(%bx: index):
    %big = tile.alloc {tessel.num_buffers = 3 : i64} : memref<20xf32, #tile.scope<shared>>
    %small = tile.alloc : memref<3xf16, #tile.scope<shared>>
    %late = tile.alloc : memref<4xf32, #tile.scope<shared>>
    tile.pipelined %c0 to %n step %c1 stages 3 {
    ^bb0(%k: index):
      tile.copy %X[%k] [20] to %big[%c0] [20] : memref<64xf32> to memref<20xf32, #tile.scope<shared>>
      tile.copy %X[%k] [3] to %small[%c0] [3] : memref<64xf32> to memref<3xf16, #tile.scope<shared>>
      tile.copy %X[%k] [4] to %late[%c0] [4] : memref<64xf32> to memref<4xf32, #tile.scope<shared>>
    }
  }
  return
}

// -----

// Too much shared memory is a located error naming the largest tiles.
func.func @too_big() {
  %c1 = arith.constant 1 : index
  // expected-error @+1 {{this kernel needs 262144 bytes of shared memory, more than the 232448 a block can have}}
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    // expected-note @+1 {{this tile takes 131072 bytes}}
    %a = tile.alloc : memref<256x256xf16, #tile.scope<shared>>
    // expected-note @+1 {{this tile takes 131072 bytes}}
    %b = tile.alloc : memref<256x256xf16, #tile.scope<shared>>
    %c = tile.alloc : memref<256x256xf32, #tile.scope<fragment>>
    tile.gemm %a, %b, %c : memref<256x256xf16, #tile.scope<shared>>, memref<256x256xf16, #tile.scope<shared>>, memref<256x256xf32, #tile.scope<fragment>>
  }
  return
}
