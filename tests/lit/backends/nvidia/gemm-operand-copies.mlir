// nvidia-gemm-operand-copies: the first gemm keeps a shared tile; a later
// gemm that needs it stored the other way (an MN-major operand the MMA
// cannot read in place: 8-bit, or any on warp MMA) reads a second tile,
// refreshed by a copy just before it. Tiles read the same way, 16-bit tiles
// read both ways by warpgroup MMA (wgmma's transpose bits), and a gemm's
// fragment operands are left alone.
// RUN: tessel-opt %s --nvidia-gemm-operand-copies -split-input-file | FileCheck %s

// Warp MMA: %kv is B with transpose_b (K-major), then B without (MN-major).
// CHECK-LABEL: func.func @mla_like_mma_sync
// CHECK: %[[Q:.+]] = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
// CHECK-NEXT: %[[KV:.+]] = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
// CHECK-NEXT: %[[KV2:.+]] = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
// CHECK: tile.gemm %[[Q]], %[[KV]], %{{.+}} transpose_b
// CHECK: tile.copy %[[KV]][%{{.+}}, %{{.+}}] [64, 64] to %[[KV2]][%{{.+}}, %{{.+}}] [64, 64]
// CHECK-NEXT: tile.gemm %{{.+}}, %[[KV2]], %{{.+}} :
// CHECK-NEXT: tile.gemm %[[Q]], %[[KV]], %{{.+}} transpose_b
// CHECK-NOT: tile.copy
func.func @mla_like_mma_sync(%n: index) {
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    %q = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
    %kv = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
    %p = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
    %s = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    %o = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.gemm %q, %kv, %s transpose_b {mma = #tile.mma<kind = mma_sync, gridM = 4, gridN = 1>}
        : memref<64x64xf16, #tile.scope<shared>>, memref<64x64xf16, #tile.scope<shared>>,
          memref<64x64xf32, #tile.scope<fragment>>
    tile.gemm %p, %kv, %o {mma = #tile.mma<kind = mma_sync, gridM = 4, gridN = 1>}
        : memref<64x64xf16, #tile.scope<shared>>, memref<64x64xf16, #tile.scope<shared>>,
          memref<64x64xf32, #tile.scope<fragment>>
    tile.gemm %q, %kv, %s transpose_b {mma = #tile.mma<kind = mma_sync, gridM = 4, gridN = 1>}
        : memref<64x64xf16, #tile.scope<shared>>, memref<64x64xf16, #tile.scope<shared>>,
          memref<64x64xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// Warpgroup MMA on 16-bit tiles reads both ways in place: no copy.
// CHECK-LABEL: func.func @mla_like_wgmma
// CHECK-NOT: tile.copy
// CHECK: return
func.func @mla_like_wgmma(%n: index) {
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    %q = tile.alloc : memref<64x64xbf16, #tile.scope<shared>>
    %kv = tile.alloc : memref<64x64xbf16, #tile.scope<shared>>
    %p = tile.alloc : memref<64x64xbf16, #tile.scope<shared>>
    %s = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    %o = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.gemm %q, %kv, %s transpose_b {mma = #tile.mma<kind = wgmma, gridM = 1, gridN = 1>}
        : memref<64x64xbf16, #tile.scope<shared>>, memref<64x64xbf16, #tile.scope<shared>>,
          memref<64x64xf32, #tile.scope<fragment>>
    tile.gemm %p, %kv, %o {mma = #tile.mma<kind = wgmma, gridM = 1, gridN = 1>}
        : memref<64x64xbf16, #tile.scope<shared>>, memref<64x64xbf16, #tile.scope<shared>>,
          memref<64x64xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// 8-bit operands are read K-major only, even by warpgroup MMA.
// CHECK-LABEL: func.func @fp8_both_ways
// CHECK: tile.alloc
// CHECK-NEXT: %[[KV:.+]] = tile.alloc : memref<64x64xf8E4M3FN, #tile.scope<shared>>
// CHECK-NEXT: %[[KV2:.+]] = tile.alloc : memref<64x64xf8E4M3FN, #tile.scope<shared>>
// CHECK: tile.gemm %{{[0-9a-z_]+}}, %[[KV]], %{{[0-9a-z_]+}} transpose_b
// CHECK: tile.copy %[[KV]]{{.+}} to %[[KV2]]
// CHECK-NEXT: tile.gemm %{{[0-9a-z_]+}}, %[[KV2]], %{{[0-9a-z_]+}} {mma
func.func @fp8_both_ways(%n: index) {
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    %q = tile.alloc : memref<64x64xf8E4M3FN, #tile.scope<shared>>
    %kv = tile.alloc : memref<64x64xf8E4M3FN, #tile.scope<shared>>
    %s = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.gemm %q, %kv, %s transpose_b {mma = #tile.mma<kind = wgmma, gridM = 1, gridN = 1>}
        : memref<64x64xf8E4M3FN, #tile.scope<shared>>, memref<64x64xf8E4M3FN, #tile.scope<shared>>,
          memref<64x64xf32, #tile.scope<fragment>>
    tile.gemm %q, %kv, %s {mma = #tile.mma<kind = wgmma, gridM = 1, gridN = 1>}
        : memref<64x64xf8E4M3FN, #tile.scope<shared>>, memref<64x64xf8E4M3FN, #tile.scope<shared>>,
          memref<64x64xf32, #tile.scope<fragment>>
  }
  return
}
