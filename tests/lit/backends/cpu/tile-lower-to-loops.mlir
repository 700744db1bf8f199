// RUN: tessel-opt %s -tile-lower-to-loops -split-input-file | FileCheck %s
// Tile programs become sequential loops over plain memrefs.

// The grid is a loop nest with x innermost; tiles are heap buffers freed at
// the end of each block; barriers vanish; scopes are dropped.
// CHECK-LABEL: func.func @grid
// CHECK-SAME: (%[[A:.+]]: memref<64xf32>, %[[NX:.+]]: index, %[[NY:.+]]: index)
// CHECK: %[[UX:.+]] = arith.select %{{.+}}, %{{.+}}, %[[NX]] : index
// CHECK: %[[UY:.+]] = arith.select %{{.+}}, %{{.+}}, %[[NY]] : index
// CHECK: scf.for %[[BY:.+]] = %{{.+}} to %[[UY]]
// CHECK-NEXT: scf.for %[[BX:.+]] = %{{.+}} to %[[UX]]
// CHECK: %[[T:.+]] = memref.alloc() : memref<16xf32>
// CHECK-NOT: tile.barrier
// CHECK: memref.dealloc %[[T]] : memref<16xf32>
// CHECK-NOT: tile.
func.func @grid(%A: memref<64xf32, #tile.scope<global>>, %nx: index, %ny: index) {
  tile.kernel grid(%nx, %ny) threads(32) {
  ^bb0(%bx: index, %by: index):
    %t = tile.alloc : memref<16xf32, #tile.scope<shared>>
    tile.barrier
  }
  return
}

// -----

// Copies guard the global side: reads outside are zero, writes outside dropped.
// CHECK-LABEL: func.func @copy_guards
// CHECK: scf.for %[[I:.+]] =
// CHECK: %[[IN:.+]] = arith.cmpi ult, %{{.+}}, %{{.+}} : index
// CHECK: %[[V:.+]] = scf.if %[[IN]] -> (f16) {
// CHECK: memref.load %{{.+}} : memref<?xf16>
// CHECK: } else {
// CHECK: arith.constant 0.000000e+00 : f16
// CHECK: %[[W:.+]] = arith.extf %[[V]] : f16 to f32
// CHECK: memref.store %[[W]]
// CHECK: scf.for
// CHECK: scf.if %{{.+}} {
// CHECK-NEXT: memref.store %{{.+}} : memref<?xf32>
func.func @copy_guards(%A: memref<?xf16>, %B: memref<?xf32>, %i: index) {
  %c0 = arith.constant 0 : index
  tile.kernel grid(%i) threads(32) {
  ^bb0(%bx: index):
    %s = tile.alloc : memref<16xf32, #tile.scope<fragment>>
    tile.copy %A[%bx] [16] to %s[%c0] [16] : memref<?xf16> to memref<16xf32, #tile.scope<fragment>>
    tile.copy %s[%c0] [16] to %B[%bx] [16] : memref<16xf32, #tile.scope<fragment>> to memref<?xf32>
  }
  return
}

// -----

// A gemm converts its inputs to the accumulator type once, then accumulates
// over K in a loop-carried scalar.
// CHECK-LABEL: func.func @gemm
// CHECK: %[[CA:.+]] = memref.alloc() : memref<4x8xf32>
// CHECK: %[[CB:.+]] = memref.alloc() : memref<8x2xf32>
// CHECK: %[[INIT:.+]] = memref.load %{{.+}} : memref<4x2xf32>
// CHECK: scf.for %{{.+}} = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[INIT]]) -> (f32)
// CHECK: %[[P:.+]] = arith.mulf
// CHECK: arith.addf %[[ACC]], %[[P]] : f32
// CHECK: memref.dealloc %[[CA]]
func.func @gemm(%n: index) {
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    %a = tile.alloc : memref<4x8xbf16, #tile.scope<shared>>
    %b = tile.alloc : memref<8x2xbf16, #tile.scope<shared>>
    %c = tile.alloc : memref<4x2xf32, #tile.scope<fragment>>
    tile.gemm %a, %b, %c : memref<4x8xbf16, #tile.scope<shared>>, memref<8x2xbf16, #tile.scope<shared>>, memref<4x2xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// A max reduction starts from -inf when it clears the destination.
// CHECK-LABEL: func.func @reduce
// CHECK: %[[NEG:.+]] = arith.constant 0xFF800000 : f32
// CHECK: scf.for {{.+}} iter_args(%[[M:.+]] = %[[NEG]]) -> (f32)
// CHECK: arith.maximumf %[[M]], %{{.+}} : f32
func.func @reduce(%n: index) {
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    %s = tile.alloc : memref<4x8xf32, #tile.scope<fragment>>
    %m = tile.alloc : memref<4xf32, #tile.scope<fragment>>
    tile.reduce max %s, %m dim 1 : memref<4x8xf32, #tile.scope<fragment>> to memref<4xf32, #tile.scope<fragment>>
  }
  return
}

// -----

// Parallel and pipelined loops become scf.for; atomics a read-modify-write.
// CHECK-LABEL: func.func @loops
// CHECK: scf.for %[[BX:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK-NEXT: scf.for %[[K:.+]] = %{{.+}} to %{{.+}} step %{{.+}} {
// CHECK: scf.for %[[I:.+]] =
// CHECK: %[[OLD:.+]] = memref.load %{{.+}}[%[[I]]] : memref<8xf32>
// CHECK: %[[NEW:.+]] = arith.addf %[[OLD]]
// CHECK: memref.store %[[NEW]], %{{.+}}[%[[I]]] : memref<8xf32>
func.func @loops(%out: memref<8xf32>, %n: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %one = arith.constant 1.0 : f32
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    tile.pipelined %c0 to %n step %c1 stages 2 {
    ^bb0(%k: index):
      tile.parallel [8] {
      ^bb0(%i: index):
        tile.atomic_add %one, %out[%i] : memref<8xf32>
      }
    }
  }
  return
}

// -----

// An atomic add that yields the previous element: the load's value in bounds,
// zero past the tensor's edge (where nothing is added).
// CHECK-LABEL: func.func @atomic_previous
// CHECK: %[[PREV:.+]] = scf.if %{{.+}} -> (i32) {
// CHECK-NEXT: %[[OLD:.+]] = memref.load %{{.+}}[%{{.+}}] : memref<?xi32>
// CHECK-NEXT: %[[NEW:.+]] = arith.addi %[[OLD]]
// CHECK-NEXT: memref.store %[[NEW]]
// CHECK-NEXT: scf.yield %[[OLD]] : i32
// CHECK: } else {
// CHECK: scf.yield %{{.+}} : i32
// CHECK: memref.store %[[PREV]], %{{.+}}[%{{.+}}] : memref<?xi32>
func.func @atomic_previous(%count: memref<?xi32, #tile.scope<global>>,
                           %out: memref<?xi32, #tile.scope<global>>, %n: index) {
  %c0 = arith.constant 0 : index
  %one = arith.constant 1 : i32
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    %old = tile.atomic_add %one, %count[%c0] {memory_order = "acq_rel"} : memref<?xi32, #tile.scope<global>> -> i32
    memref.store %old, %out[%bx] : memref<?xi32, #tile.scope<global>>
  }
  return
}

// -----

// A grid extent known only at run time is checked against CUDA's limits
// before the loops: out of range, the runner is told (the launch fails) and
// no block runs. Constant extents are the frontend's to check.
// CHECK: func.func private @tessel_cpu_grid_error(i64, i64)
// CHECK-LABEL: func.func @dynamic_grid
// CHECK: %[[LOW:.+]] = arith.cmpi slt, %[[N:.+]], %{{.+}} : index
// CHECK: %[[HIGH:.+]] = arith.cmpi sgt, %[[N]], %{{.+}} : index
// CHECK: %[[BAD:.+]] = arith.ori %[[LOW]], %[[HIGH]] : i1
// CHECK: scf.if %[[BAD]] {
// CHECK:   func.call @tessel_cpu_grid_error(%{{.+}}, %{{.+}}) : (i64, i64) -> ()
// CHECK: %[[UB:.+]] = arith.select %[[BAD]], %{{.+}}, %[[N]] : index
// CHECK-NOT: tessel_cpu_grid_error
// CHECK: scf.for %{{.+}} = %{{.+}} to %[[UB]]
func.func @dynamic_grid(%A: memref<4xf32, #tile.scope<global>>, %n: index) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%n, %c1) threads(32) {
  ^bb0(%bx: index, %by: index):
  }
  return
}
