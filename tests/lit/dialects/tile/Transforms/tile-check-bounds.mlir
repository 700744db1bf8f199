// RUN: tessel-opt %s -tile-check-bounds -split-input-file -verify-diagnostics
// Constant accesses outside on-chip tiles are reported; everything else passes.

// In-bounds copies, dynamic offsets and global edges are accepted.
func.func @in_bounds(%A: memref<64x64xf16>, %i: index) {
  %c0 = arith.constant 0 : index
  %c48 = arith.constant 48 : index
  %c60 = arith.constant 60 : index
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %s = tile.alloc : memref<64x16xf16, #tile.scope<shared>>
    tile.copy %A[%c60, %c60] [16, 16] to %s[%c48, %c0] [16, 16] : memref<64x64xf16> to memref<64x16xf16, #tile.scope<shared>>
    tile.copy %A[%i, %i] [16, 16] to %s[%i, %c0] [16, 16] : memref<64x64xf16> to memref<64x16xf16, #tile.scope<shared>>
  }
  return
}

// -----

// A copy whose destination region runs past a shared tile.
func.func @copy_past_shared(%A: memref<64x64xf16>, %i: index) {
  %c0 = arith.constant 0 : index
  %c56 = arith.constant 56 : index
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %s = tile.alloc : memref<64x16xf16, #tile.scope<shared>>
    // expected-error @+1 {{destination region [56, 72) in dim 0 is outside the tile of size 64}}
    tile.copy %A[%c0, %c0] [16, 16] to %s[%c56, %c0] [16, 16] : memref<64x64xf16> to memref<64x16xf16, #tile.scope<shared>>
  }
  return
}

// -----

// A copy reading past a fragment.
func.func @copy_from_fragment(%A: memref<64x64xf32>, %i: index) {
  %c0 = arith.constant 0 : index
  %c8 = arith.constant 8 : index
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %f = tile.alloc : memref<16x16xf32, #tile.scope<fragment>>
    // expected-error @+1 {{source region [8, 24) in dim 1 is outside the tile of size 16}}
    tile.copy %f[%c0, %c8] [16, 16] to %A[%c0, %c0] [16, 16] : memref<16x16xf32, #tile.scope<fragment>> to memref<64x64xf32>
  }
  return
}

// -----

// Element accesses: every bad one is reported, not only the first.
func.func @loads_and_stores(%i: index) {
  %c16 = arith.constant 16 : index
  %cm1 = arith.constant -1 : index
  %z = arith.constant 0.0 : f32
  tile.kernel grid(%i) threads(128) {
  ^bb0(%bx: index):
    %l = tile.alloc : memref<16xf32, #tile.scope<local>>
    // expected-error @+1 {{load region [16, 17) in dim 0 is outside the tile of size 16}}
    %x = memref.load %l[%c16] : memref<16xf32, #tile.scope<local>>
    // expected-error @+1 {{store region [-1, 0) in dim 0 is outside the tile of size 16}}
    memref.store %z, %l[%cm1] : memref<16xf32, #tile.scope<local>>
  }
  return
}
