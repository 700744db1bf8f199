// nvidia-gemm-operand-copies: the first gemm keeps a shared tile; a later
// gemm that reads it the other way (here %kv is B with transpose_b, then B
// without) reads a second tile, refreshed by a copy just before it. A tile
// read the same way by both, and a gemm's fragment operands, are left alone.
// RUN: tessel-opt %s --nvidia-gemm-operand-copies | FileCheck %s

// CHECK-LABEL: func.func @mla_like
// CHECK: %[[Q:.+]] = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
// CHECK-NEXT: %[[KV:.+]] = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
// CHECK-NEXT: %[[KV2:.+]] = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
// CHECK: tile.gemm %[[Q]], %[[KV]], %{{.+}} transpose_b
// CHECK: tile.copy %[[KV]][%{{.+}}, %{{.+}}] [64, 64] to %[[KV2]][%{{.+}}, %{{.+}}] [64, 64]
// CHECK-NEXT: tile.gemm %{{.+}}, %[[KV2]], %{{.+}} :
// CHECK-NEXT: tile.gemm %[[Q]], %[[KV]], %{{.+}} transpose_b
// CHECK-NOT: tile.copy
func.func @mla_like(%n: index) {
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    %q = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
    %kv = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
    %p = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
    %s = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    %o = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.gemm %q, %kv, %s transpose_b
        : memref<64x64xf16, #tile.scope<shared>>, memref<64x64xf16, #tile.scope<shared>>,
          memref<64x64xf32, #tile.scope<fragment>>
    tile.gemm %p, %kv, %o
        : memref<64x64xf16, #tile.scope<shared>>, memref<64x64xf16, #tile.scope<shared>>,
          memref<64x64xf32, #tile.scope<fragment>>
    tile.gemm %q, %kv, %s transpose_b
        : memref<64x64xf16, #tile.scope<shared>>, memref<64x64xf16, #tile.scope<shared>>,
          memref<64x64xf32, #tile.scope<fragment>>
  }
  return
}
