// nvidia-scalar-fragments: a small fragment that block-level code indexes
// (outside any tile.parallel) and that is otherwise filled, indexed or copied
// to or from global memory becomes a local buffer every thread holds whole.
// One that a reduction uses keeps its layout, and so does one only indexed
// inside tile.parallel.
// RUN: tessel-opt %s --nvidia-scalar-fragments | FileCheck %s

// CHECK-LABEL: func.func @scalars
// CHECK: %[[FLAGS:.+]] = tile.alloc : memref<16xi32, #tile.scope<local>>
// CHECK: %[[ONE:.+]] = tile.alloc : memref<1xf32, #tile.scope<local>>
// CHECK: %[[ROWS:.+]] = tile.alloc : memref<16x16xf32, #tile.scope<fragment>>
// CHECK: %[[MAX:.+]] = tile.alloc : memref<16xf32, #tile.scope<fragment>>
// CHECK: %[[PAR:.+]] = tile.alloc : memref<16xf32, #tile.scope<fragment>>
// CHECK: tile.copy %{{.+}} to %[[FLAGS]]
// CHECK: memref.load %[[FLAGS]]{{.*}} : memref<16xi32, #tile.scope<local>>
// CHECK: memref.store %{{.+}}, %[[ONE]]{{.*}} : memref<1xf32, #tile.scope<local>>
func.func @scalars(%M: memref<16xi32, #tile.scope<global>>, %n: index) {
  %c0 = arith.constant 0 : index
  %c3 = arith.constant 3 : index
  %z = arith.constant 0.0 : f32
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    %flags = tile.alloc : memref<16xi32, #tile.scope<fragment>>
    %one = tile.alloc : memref<1xf32, #tile.scope<fragment>>
    %rows = tile.alloc : memref<16x16xf32, #tile.scope<fragment>>
    %max = tile.alloc : memref<16xf32, #tile.scope<fragment>>
    %par = tile.alloc : memref<16xf32, #tile.scope<fragment>>
    tile.copy %M[%c0] [16] to %flags[%c0] [16] : memref<16xi32, #tile.scope<global>> to memref<16xi32, #tile.scope<fragment>>
    %f = memref.load %flags[%c3] : memref<16xi32, #tile.scope<fragment>>
    memref.store %z, %one[%c0] : memref<1xf32, #tile.scope<fragment>>
    tile.fill %rows, %z : memref<16x16xf32, #tile.scope<fragment>>
    tile.reduce max %rows, %max dim 1 : memref<16x16xf32, #tile.scope<fragment>> to memref<16xf32, #tile.scope<fragment>>
    %m = memref.load %max[%c3] : memref<16xf32, #tile.scope<fragment>>
    tile.parallel [16] {
    ^bb0(%i: index):
      memref.store %z, %par[%i] : memref<16xf32, #tile.scope<fragment>>
    }
  }
  return
}
