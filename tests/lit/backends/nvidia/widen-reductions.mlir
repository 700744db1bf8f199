// nvidia-widen-reductions: a reduction of an f16 fragment runs in f32, through
// f32 fragments converted from the source and into the destination, each
// conversion a tile.parallel; without clear the destination's old values are
// converted in first.
// Reductions of f32 fragments are left alone.
// RUN: tessel-opt %s --nvidia-widen-reductions | FileCheck %s

// CHECK-LABEL: func.func @narrow
// CHECK: %[[X:.+]] = tile.alloc : memref<64x32xf16, #tile.scope<fragment>>
// CHECK: %[[M:.+]] = tile.alloc : memref<64xf16, #tile.scope<fragment>>
// CHECK: %[[XW:.+]] = tile.alloc : memref<64x32xf32, #tile.scope<fragment>>
// CHECK-NEXT: tile.parallel [64, 32] {
// CHECK: memref.load %[[X]]
// CHECK-NEXT: arith.extf %{{.+}} : f16 to f32
// CHECK-NEXT: memref.store %{{.+}}, %[[XW]]
// CHECK: %[[MW:.+]] = tile.alloc : memref<64xf32, #tile.scope<fragment>>
// CHECK-NEXT: tile.reduce max %[[XW]], %[[MW]] dim 1 : memref<64x32xf32, #tile.scope<fragment>> to memref<64xf32, #tile.scope<fragment>>
// CHECK-NEXT: tile.parallel [64] {
// CHECK: memref.load %[[MW]]
// CHECK-NEXT: arith.truncf %{{.+}} : f32 to f16
// CHECK-NEXT: memref.store %{{.+}}, %[[M]]
// CHECK: %[[XW2:.+]] = tile.alloc : memref<64x32xf32, #tile.scope<fragment>>
// CHECK: %[[SW:.+]] = tile.alloc : memref<64xf32, #tile.scope<fragment>>
// CHECK-NEXT: tile.parallel [64] {
// CHECK: memref.load %[[M]]
// CHECK-NEXT: arith.extf
// CHECK-NEXT: memref.store %{{.+}}, %[[SW]]
// CHECK: tile.reduce sum %[[XW2]], %[[SW]] dim 1 {clear = false}
// CHECK: arith.truncf
// CHECK: %[[W:.+]] = tile.alloc : memref<64x32xf32, #tile.scope<fragment>>
// CHECK-NEXT: %[[WM:.+]] = tile.alloc : memref<64xf32, #tile.scope<fragment>>
// CHECK-NEXT: tile.reduce max %[[W]], %[[WM]] dim 1 : memref<64x32xf32
// CHECK-NOT: tile.parallel
func.func @narrow(%n: index) {
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    %x = tile.alloc : memref<64x32xf16, #tile.scope<fragment>>
    %m = tile.alloc : memref<64xf16, #tile.scope<fragment>>
    tile.reduce max %x, %m dim 1 : memref<64x32xf16, #tile.scope<fragment>> to memref<64xf16, #tile.scope<fragment>>
    tile.reduce sum %x, %m dim 1 {clear = false} : memref<64x32xf16, #tile.scope<fragment>> to memref<64xf16, #tile.scope<fragment>>
    %w = tile.alloc : memref<64x32xf32, #tile.scope<fragment>>
    %mw = tile.alloc : memref<64xf32, #tile.scope<fragment>>
    tile.reduce max %w, %mw dim 1 : memref<64x32xf32, #tile.scope<fragment>> to memref<64xf32, #tile.scope<fragment>>
  }
  return
}
