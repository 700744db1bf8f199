// RUN: tessel-opt %s -tile-infer-layouts -split-input-file -verify-diagnostics | FileCheck %s
// Fragments get thread layouts: gemm accumulators the MMA one (warpgroup MMA
// where it fits, else warp MMA), their
// row reductions the matching rows, everything else row-major round robin.

// Two warpgroups, full_row: each takes 64 of the 128 rows.
// CHECK-LABEL: func.func @attention_like
// CHECK: tile.alloc {layout = #tile.fragment<map = (d0, d1) -> ((d0 floordiv 64 + d1 floordiv 64) * 128 + ((d0 mod 64) floordiv 16) * 32 + (d0 mod 8) * 4 + (d1 mod 8) floordiv 2, {{.+}}), threads = 256>} : memref<128x64xf32, #tile.scope<fragment>>
// CHECK: tile.alloc {layout = #tile.fragment<map = (d0) -> ((d0 floordiv 64) * 128 + ((d0 mod 64) floordiv 16) * 32 + (d0 mod 8) * 4, {{.+}}), threads = 256, replicate = 4>} : memref<128xf32, #tile.scope<fragment>>
// CHECK: tile.alloc {layout = #tile.fragment<map = (d0, d1) -> ((d0 * 8 + d1) mod 256, (d0 * 8 + d1) floordiv 256), threads = 256>} : memref<4x8xf32, #tile.scope<fragment>>
// CHECK: tile.gemm {{.+}} policy full_row {mma = #tile.mma<kind = wgmma, gridM = 2, gridN = 1>}
func.func @attention_like() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(256) {
  ^bb0(%bx: index):
    %q = tile.alloc : memref<128x64xf16, #tile.scope<shared>>
    %k = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
    %s = tile.alloc : memref<128x64xf32, #tile.scope<fragment>>
    %m = tile.alloc : memref<128xf32, #tile.scope<fragment>>
    %x = tile.alloc : memref<4x8xf32, #tile.scope<fragment>>
    tile.gemm %q, %k, %s transpose_b policy full_row : memref<128x64xf16, #tile.scope<shared>>, memref<64x64xf16, #tile.scope<shared>>, memref<128x64xf32, #tile.scope<fragment>>
    tile.reduce max %s, %m dim 1 : memref<128x64xf32, #tile.scope<fragment>> to memref<128xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// full_col splits along N: warpgroup = column half; a given layout is kept.
// CHECK-LABEL: func.func @full_col_and_given
// CHECK: tile.alloc {layout = #tile.fragment<map = (d0, d1) -> (((d0 floordiv 64) * 2 + d1 floordiv 32) * 128
// CHECK: tile.alloc {layout = #tile.fragment<map = (d0, d1) -> (d0, d1), threads = 256>} : memref<8x8xf32
func.func @full_col_and_given() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(256) {
  ^bb0(%bx: index):
    %a = tile.alloc : memref<64x16xf16, #tile.scope<shared>>
    %b = tile.alloc : memref<16x64xf16, #tile.scope<shared>>
    %c = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    %given = tile.alloc {layout = #tile.fragment<map = (i, j) -> (i, j), threads = 256>} : memref<8x8xf32, #tile.scope<fragment>>
    tile.gemm %a, %b, %c policy full_col : memref<64x16xf16, #tile.scope<shared>>, memref<16x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// A block of 64 threads has no warpgroup: the gemm runs on warp MMA, two
// warps of 32 threads side by side (columns 0-31, then 32-63), each holding
// four 16-row slabs.
// CHECK-LABEL: func.func @two_warps
// CHECK: tile.alloc {layout = #tile.fragment<map = (d0, d1) -> (((d0 floordiv 64) * 2 + d1 floordiv 32) * 32 + (d0 mod 8) * 4 + (d1 mod 8) floordiv 2, ((((d0 mod 64) floordiv 16) * 4 + (d1 mod 32) floordiv 8) * 2 + (d0 mod 16) floordiv 8) * 2 + d1 mod 2), threads = 64>} : memref<64x64xf32
// CHECK: tile.gemm {{.+}} {mma = #tile.mma<kind = mma_sync, gridM = 1, gridN = 2>}
func.func @two_warps() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(64) {
  ^bb0(%bx: index):
    %a = tile.alloc : memref<64x16xf16, #tile.scope<shared>>
    %b = tile.alloc : memref<16x64xf16, #tile.scope<shared>>
    %c = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.gemm %a, %b, %c : memref<64x16xf16, #tile.scope<shared>>, memref<16x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// 32 rows are no 64-row slab: warp MMA, the four warps side by side along N
// (32x16 each, the squarest split).
// CHECK-LABEL: func.func @thirty_two_rows
// CHECK: tile.gemm {{.+}} {mma = #tile.mma<kind = mma_sync, gridM = 1, gridN = 4>}
// CHECK: tile.reduce
func.func @thirty_two_rows() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %a = tile.alloc : memref<32x16xf16, #tile.scope<shared>>
    %b = tile.alloc : memref<16x64xf16, #tile.scope<shared>>
    %c = tile.alloc : memref<32x64xf32, #tile.scope<fragment>>
    %r = tile.alloc : memref<32xf32, #tile.scope<fragment>>
    tile.gemm %a, %b, %c : memref<32x16xf16, #tile.scope<shared>>, memref<16x64xf16, #tile.scope<shared>>, memref<32x64xf32, #tile.scope<fragment>>
    tile.reduce max %c, %r dim 1 : memref<32x64xf32, #tile.scope<fragment>> to memref<32xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// A warpgroup-sized accumulator keeps warpgroup MMA.
// CHECK-LABEL: func.func @warpgroup
// CHECK: tile.gemm {{.+}} {mma = #tile.mma<kind = wgmma, gridM = 1, gridN = 1>}
func.func @warpgroup() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %a = tile.alloc : memref<64x16xf16, #tile.scope<shared>>
    %b = tile.alloc : memref<16x64xf16, #tile.scope<shared>>
    %c = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.gemm %a, %b, %c : memref<64x16xf16, #tile.scope<shared>>, memref<16x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// Three warps cannot split 64x64 into 16-row slabs and 8-column groups, and
// 96 threads are no warpgroup: each kind says what it needs.
func.func @nothing_fits() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(96) {
  ^bb0(%bx: index):
    %a = tile.alloc : memref<64x16xf16, #tile.scope<shared>>
    %b = tile.alloc : memref<16x64xf16, #tile.scope<shared>>
    %c = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    // expected-error @+1 {{no MMA of target sm_90a fits a 64x64 accumulator in a block of 96 threads with policy square; wgmma needs warpgroups of 128 threads, each holding whole 64-row slabs and 8-column groups of the accumulator; mma.sync needs warps of 32 threads, each holding whole 16-row slabs and 8-column groups of the accumulator}}
    tile.gemm %a, %b, %c : memref<64x16xf16, #tile.scope<shared>>, memref<16x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// An unknown target is an error, naming the registered ones.
// RUN: not tessel-opt %s -tile-infer-layouts=target=sm_12x 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// UNKNOWN: unknown target 'sm_12x' (registered: sm_90a)

// -----

// Layouts flow through fragment copies, row reductions and T.Parallel loops
// that index an accumulator: the softmax pattern of attention.
// CHECK-LABEL: func.func @propagation
// CHECK: %[[S:.+]] = tile.alloc {layout = #tile.fragment<map = (d0, d1) -> ((d0 floordiv 64 + d1 floordiv 64) * 128 + {{.+}}, threads = 128>} : memref<64x64xf32
// CHECK: %[[P:.+]] = tile.alloc {layout = #tile.fragment<map = (d0, d1) -> ((d0 floordiv 64 + d1 floordiv 64) * 128 + {{.+}}, threads = 128>} : memref<64x64xf16
// CHECK: %[[M:.+]] = tile.alloc {layout = #tile.fragment<map = (d0) -> {{.+}}, threads = 128, replicate = 4>} : memref<64xf32
// CHECK: %[[SCALE:.+]] = tile.alloc {layout = #tile.fragment<map = (d0) -> {{.+}}, threads = 128, replicate = 4>} : memref<64xf32
func.func @propagation() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %q = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %k = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %s = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    %p = tile.alloc : memref<64x64xf16, #tile.scope<fragment>>
    %m = tile.alloc : memref<64xf32, #tile.scope<fragment>>
    %scale = tile.alloc : memref<64xf32, #tile.scope<fragment>>
    tile.gemm %q, %k, %s transpose_b : memref<64x32xf16, #tile.scope<shared>>, memref<64x32xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    tile.reduce max %s, %m dim 1 : memref<64x64xf32, #tile.scope<fragment>> to memref<64xf32, #tile.scope<fragment>>
    tile.parallel [64, 64] {
    ^bb0(%i: index, %j: index):
      %x = memref.load %s[%i, %j] : memref<64x64xf32, #tile.scope<fragment>>
      %y = memref.load %scale[%i] : memref<64xf32, #tile.scope<fragment>>
      %z = arith.mulf %x, %y : f32
      memref.store %z, %s[%i, %j] : memref<64x64xf32, #tile.scope<fragment>>
    }
    %c0 = arith.constant 0 : index
    tile.copy %s[%c0, %c0] [64, 64] to %p[%c0, %c0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<64x64xf16, #tile.scope<fragment>>
  }
  return
}

// -----

// A fragment whose given layout disagrees with what a loop needs.
func.func @conflict() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %q = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %k = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %s = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    // expected-note @+1 {{the fragment is allocated here}}
    %r = tile.alloc {layout = #tile.fragment<map = (i) -> (i, 0), threads = 128>} : memref<64xf32, #tile.scope<fragment>>
    // expected-note @-3 {{the layout comes from this fragment}}
    tile.gemm %q, %k, %s transpose_b : memref<64x32xf16, #tile.scope<shared>>, memref<64x32xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    // expected-error @+1 {{conflicting layouts for a fragment: it has #tile.fragment<map = (d0) -> (d0, 0), threads = 128> but this use needs}}
    tile.parallel [64, 64] {
    ^bb0(%i: index, %j: index):
      %x = memref.load %s[%i, %j] : memref<64x64xf32, #tile.scope<fragment>>
      %y = memref.load %r[%i] : memref<64xf32, #tile.scope<fragment>>
    }
  }
  return
}

// -----

// A row reduction of a fragment that is not an accumulator: its elements are
// dealt out row-major (each 512-wide row over all 128 threads), so the
// results are kept by every thread (replicate = threads): the T.Parallel that
// subtracts a row's maximum finds it in a register wherever it runs.
// CHECK-LABEL: func.func @softmax_like
// CHECK: tile.alloc {layout = #tile.fragment<map = (d0, d1) -> (d1 mod 128, d0 * 4 + d1 floordiv 128), threads = 128>} : memref<8x512xf32, #tile.scope<fragment>>
// CHECK: tile.alloc {layout = #tile.fragment<map = (d0) -> (0, d0), threads = 128, replicate = 128>} : memref<8xf32, #tile.scope<fragment>>
func.func @softmax_like() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %x = tile.alloc : memref<8x512xf32, #tile.scope<fragment>>
    %m = tile.alloc : memref<8xf32, #tile.scope<fragment>>
    tile.reduce max %x, %m dim 1 : memref<8x512xf32, #tile.scope<fragment>> to memref<8xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// A fragment a T.Parallel computes element for element from a replicated
// reduction result (a quantizer's scale = amax / 448, a norm's rsqrt) is
// replicated too, and so is one computed from that; a fragment indexed
// otherwise keeps the row-major deal.
// CHECK-LABEL: func.func @replicated_spreads
// CHECK: %[[AMAX:.+]] = tile.alloc {layout = #tile.fragment<map = (d0) -> (0, d0), threads = 128, replicate = 128>} : memref<8xf32
// CHECK: %[[SCALE:.+]] = tile.alloc {layout = #tile.fragment<map = (d0) -> (0, d0), threads = 128, replicate = 128>} : memref<8xf32
// CHECK: %[[INV:.+]] = tile.alloc {layout = #tile.fragment<map = (d0) -> (0, d0), threads = 128, replicate = 128>} : memref<8xf32
// CHECK: %[[OTHER:.+]] = tile.alloc {layout = #tile.fragment<map = (d0) -> (d0 mod 128, d0 floordiv 128), threads = 128>} : memref<4xf32
func.func @replicated_spreads() {
  %c1 = arith.constant 1 : index
  %c448 = arith.constant 448.0 : f32
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %x = tile.alloc : memref<8x512xf32, #tile.scope<fragment>>
    %amax = tile.alloc : memref<8xf32, #tile.scope<fragment>>
    %scale = tile.alloc : memref<8xf32, #tile.scope<fragment>>
    %inv = tile.alloc : memref<8xf32, #tile.scope<fragment>>
    %other = tile.alloc : memref<4xf32, #tile.scope<fragment>>
    tile.reduce absmax %x, %amax dim 1 : memref<8x512xf32, #tile.scope<fragment>> to memref<8xf32, #tile.scope<fragment>>
    tile.parallel [8] {
    ^bb0(%i: index):
      %a = memref.load %amax[%i] : memref<8xf32, #tile.scope<fragment>>
      %s = arith.divf %a, %c448 : f32
      memref.store %s, %scale[%i] : memref<8xf32, #tile.scope<fragment>>
    }
    tile.parallel [8] {
    ^bb0(%i: index):
      %s = memref.load %scale[%i] : memref<8xf32, #tile.scope<fragment>>
      %r = arith.divf %c448, %s : f32
      memref.store %r, %inv[%i] : memref<8xf32, #tile.scope<fragment>>
    }
    tile.parallel [4] {
    ^bb0(%i: index):
      memref.store %c448, %other[%i] : memref<4xf32, #tile.scope<fragment>>
    }
  }
  return
}

// -----

// An accumulator walked transposed (`for h, j in T.Parallel(H, N):
// acc[j, h]`) anchors the loop too; a fragment indexed [h, j] there takes
// the accumulator layout transposed (the thread holding acc[j, h] holds
// t[h, j]), so the loop exchanges nothing between threads.
// CHECK-LABEL: func.func @walked_transposed
// CHECK: tile.alloc {layout = #tile.fragment<map = (d0, d1) -> ((d0 floordiv 64 + d1 floordiv 32) * 128 + ((d0 mod 64) floordiv 16) * 32 + (d0 mod 8) * 4 + (d1 mod 8) floordiv 2, ((((d0 mod 64) floordiv 64) * 4 + (d1 mod 32) floordiv 8) * 2 + (d0 mod 16) floordiv 8) * 2 + d1 mod 2), threads = 128>} : memref<64x32xf32
// CHECK: tile.alloc {layout = #tile.fragment<map = (d0, d1) -> ((d1 floordiv 64 + d0 floordiv 32) * 128 + ((d1 mod 64) floordiv 16) * 32 + (d1 mod 8) * 4 + (d0 mod 8) floordiv 2, ((((d1 mod 64) floordiv 64) * 4 + (d0 mod 32) floordiv 8) * 2 + (d1 mod 16) floordiv 8) * 2 + d0 mod 2), threads = 128>} : memref<32x64xf32
func.func @walked_transposed() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %k = tile.alloc : memref<64x32xbf16, #tile.scope<shared>>
    %q = tile.alloc : memref<32x32xbf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x32xf32, #tile.scope<fragment>>
    %t = tile.alloc : memref<32x64xf32, #tile.scope<fragment>>
    tile.gemm %k, %q, %acc transpose_b : memref<64x32xbf16, #tile.scope<shared>>, memref<32x32xbf16, #tile.scope<shared>>, memref<64x32xf32, #tile.scope<fragment>>
    tile.parallel [32, 64] {
    ^bb0(%h: index, %j: index):
      %x = memref.load %acc[%j, %h] : memref<64x32xf32, #tile.scope<fragment>>
      memref.store %x, %t[%h, %j] : memref<32x64xf32, #tile.scope<fragment>>
      tile.yield
    }
  }
  return
}

// -----

// full_row is a preference: 64 rows over two warpgroups would be 32-row
// slabs, so the split goes along N.
// CHECK-LABEL: func.func @full_row_yields
// CHECK: tile.gemm {{.+}} policy full_row {mma = #tile.mma<kind = wgmma, gridM = 1, gridN = 2>}
func.func @full_row_yields() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(256) {
  ^bb0(%bx: index):
    %a = tile.alloc : memref<64x16xf16, #tile.scope<shared>>
    %b = tile.alloc : memref<16x64xf16, #tile.scope<shared>>
    %c = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.gemm %a, %b, %c policy full_row : memref<64x16xf16, #tile.scope<shared>>, memref<16x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
  }
  return
}
