// Tile IR printed after tile-infer-layouts and read back lowers the same:
// the lowering compares fragment layouts by the elements each thread
// holds, not by how the layout's map happens to be written (the parser
// does not rebuild the map expression for expression).
// RUN: tessel-opt %s --tile-infer-layouts | tessel-opt --tile-plan-memory --tile-lower-to-nvvm | FileCheck %s

// CHECK-LABEL: func.func @gemm
// CHECK: wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16
// CHECK: llvm.store
func.func @gemm(%a: memref<64x32xf16, #tile.scope<global>>, %b: memref<32x64xf16, #tile.scope<global>>, %c: memref<64x64xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %as = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<32x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.copy %a[%c0, %c0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<64x32xf16, #tile.scope<global>> to memref<64x32xf16, #tile.scope<shared>>
    tile.copy %b[%c0, %c0] [32, 64] to %bs[%c0, %c0] [32, 64] : memref<32x64xf16, #tile.scope<global>> to memref<32x64xf16, #tile.scope<shared>>
    tile.gemm %as, %bs, %acc : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    tile.copy %acc[%c0, %c0] [64, 64] to %c[%c0, %c0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<64x64xf32, #tile.scope<global>>
    tile.yield
  }
  return
}
