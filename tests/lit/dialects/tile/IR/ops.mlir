// RUN: tessel-opt %s | tessel-opt | FileCheck %s
// RUN: tessel-opt %s --mlir-print-op-generic | tessel-opt | FileCheck %s
// Every tile op prints, re-parses and prints again to the same text.

// CHECK-LABEL: func.func @gemm_kernel
// CHECK-SAME: (%[[A:.+]]: memref<256x256xf16, #tile.scope<global>>, %[[B:.+]]: memref<256x256xf16, #tile.scope<global>>, %[[C:.+]]: memref<256x256xf32, #tile.scope<global>>)
func.func @gemm_kernel(%A: memref<256x256xf16, #tile.scope<global>>,
                       %B: memref<256x256xf16, #tile.scope<global>>,
                       %C: memref<256x256xf32, #tile.scope<global>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c4 = arith.constant 4 : index
  // CHECK: tile.kernel grid(%{{.+}}, %{{.+}}) threads(128) cluster [2, 1, 1] {
  // CHECK-NEXT: ^bb0(%[[BX:.+]]: index, %[[BY:.+]]: index):
  tile.kernel grid(%c2, %c2) threads(128) cluster [2, 1, 1] {
  ^bb0(%bx: index, %by: index):
    // CHECK: %[[AS:.+]] = tile.alloc : memref<128x64xf16, #tile.scope<shared>>
    %as = tile.alloc : memref<128x64xf16, #tile.scope<shared>>
    // CHECK: %[[BS:.+]] = tile.alloc : memref<128x64xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<128x64xf16, #tile.scope<shared>>
    // CHECK: %[[CF:.+]] = tile.alloc {layout = #tile.fragment<map = (d0, d1) -> (d0, d1), threads = 128>} : memref<128x128xf32, #tile.scope<fragment>>
    %cf = tile.alloc {layout = #tile.fragment<map = (i, j) -> (i, j), threads = 128>}
        : memref<128x128xf32, #tile.scope<fragment>>
    // CHECK: %[[ZERO:.+]] = arith.constant 0.0
    %zero = arith.constant 0.0 : f32
    // CHECK: tile.fill %[[CF]], %[[ZERO]] : memref<128x128xf32, #tile.scope<fragment>>
    tile.fill %cf, %zero : memref<128x128xf32, #tile.scope<fragment>>
    // CHECK: tile.pipelined %{{.+}} to %{{.+}} step %{{.+}} stages 3 order [0, 1, 2] stage [0, 0, 2] {
    // CHECK-NEXT: ^bb0(%[[K:.+]]: index):
    tile.pipelined %c0 to %c4 step %c1 stages 3 order [0, 1, 2] stage [0, 0, 2] {
    ^bb0(%k: index):
      // CHECK: tile.copy %[[A]][%[[BY]], %[[K]]] [128, 64] to %[[AS]][%{{.+}}, %{{.+}}] [128, 64] : memref<256x256xf16, #tile.scope<global>> to memref<128x64xf16, #tile.scope<shared>>
      tile.copy %A[%by, %k] [128, 64] to %as[%c0, %c0] [128, 64]
          : memref<256x256xf16, #tile.scope<global>> to memref<128x64xf16, #tile.scope<shared>>
      tile.copy %B[%bx, %k] [128, 64] to %bs[%c0, %c0] [128, 64]
          : memref<256x256xf16, #tile.scope<global>> to memref<128x64xf16, #tile.scope<shared>>
      // CHECK: tile.gemm %[[AS]], %[[BS]], %[[CF]] transpose_b policy full_row :
      tile.gemm %as, %bs, %cf transpose_b policy full_row
          : memref<128x64xf16, #tile.scope<shared>>, memref<128x64xf16, #tile.scope<shared>>,
            memref<128x128xf32, #tile.scope<fragment>>
    // CHECK: }
    }
    // CHECK: tile.copy %[[CF]][%{{.+}}, %{{.+}}] [128, 128] to %[[C]][%[[BY]], %[[BX]]] [128, 128]
    tile.copy %cf[%c0, %c0] [128, 128] to %C[%by, %bx] [128, 128]
        : memref<128x128xf32, #tile.scope<fragment>> to memref<256x256xf32, #tile.scope<global>>
  }
  return
}

// CHECK-LABEL: func.func @gemm_flags
func.func @gemm_flags() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(256) {
  ^bb0(%bx: index):
    %a = tile.alloc : memref<64x32xf8E4M3FN, #tile.scope<shared>>
    %b = tile.alloc : memref<64x32xf8E5M2, #tile.scope<shared>>
    %c = tile.alloc : memref<32x32xf32, #tile.scope<fragment>>
    // CHECK: tile.gemm %{{.+}}, %{{.+}}, %{{.+}} transpose_a clear_accum policy full_col : memref<64x32xf8E4M3FN, #tile.scope<shared>>, memref<64x32xf8E5M2, #tile.scope<shared>>, memref<32x32xf32, #tile.scope<fragment>>
    tile.gemm %a, %b, %c transpose_a clear_accum policy full_col
        : memref<64x32xf8E4M3FN, #tile.scope<shared>>, memref<64x32xf8E5M2, #tile.scope<shared>>,
          memref<32x32xf32, #tile.scope<fragment>>
    %ai = tile.alloc : memref<16x32xi8, #tile.scope<fragment>>
    %bi = tile.alloc : memref<32x16xi8, #tile.scope<shared>>
    %ci = tile.alloc : memref<16x16xi32, #tile.scope<local>>
    // CHECK: tile.gemm %{{.+}}, %{{.+}}, %{{.+}} : memref<16x32xi8, #tile.scope<fragment>>, memref<32x16xi8, #tile.scope<shared>>, memref<16x16xi32, #tile.scope<local>>
    tile.gemm %ai, %bi, %ci policy square
        : memref<16x32xi8, #tile.scope<fragment>>, memref<32x16xi8, #tile.scope<shared>>,
          memref<16x16xi32, #tile.scope<local>>
  }
  return
}

// CHECK-LABEL: func.func @softmax_pieces
func.func @softmax_pieces(%Out: memref<?x64xf32, #tile.scope<global>>, %n: index) {
  %c1 = arith.constant 1 : index
  %c0 = arith.constant 0 : index
  // CHECK: tile.kernel grid(%{{.+}}) threads(64) {
  tile.kernel grid(%n) threads(64) {
  ^bb0(%bx: index):
    %s = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    %m = tile.alloc : memref<64xf32, #tile.scope<fragment>>
    %t = tile.alloc : memref<f32, #tile.scope<local>>
    %v = tile.alloc : memref<64xf32, #tile.scope<fragment>>
    // CHECK: tile.reduce max %{{.+}}, %{{.+}} dim 1 : memref<64x64xf32, #tile.scope<fragment>> to memref<64xf32, #tile.scope<fragment>>
    tile.reduce max %s, %m dim 1 : memref<64x64xf32, #tile.scope<fragment>> to memref<64xf32, #tile.scope<fragment>>
    // CHECK: tile.reduce sum %{{.+}}, %{{.+}} dim 0 {clear = false} : memref<64x64xf32, #tile.scope<fragment>> to memref<64xf32, #tile.scope<fragment>>
    tile.reduce sum %s, %m dim 0 {clear = false} : memref<64x64xf32, #tile.scope<fragment>> to memref<64xf32, #tile.scope<fragment>>
    // CHECK: tile.reduce absmax %{{.+}}, %{{.+}} dim 0 : memref<64xf32, #tile.scope<fragment>> to memref<f32, #tile.scope<local>>
    tile.reduce absmax %v, %t dim 0 : memref<64xf32, #tile.scope<fragment>> to memref<f32, #tile.scope<local>>
    // CHECK: tile.reduce abssum
    tile.reduce abssum %s, %m dim 1 : memref<64x64xf32, #tile.scope<fragment>> to memref<64xf32, #tile.scope<fragment>>
    // CHECK: tile.reduce min
    tile.reduce min %s, %m dim 1 : memref<64x64xf32, #tile.scope<fragment>> to memref<64xf32, #tile.scope<fragment>>
    // CHECK: tile.parallel [64, 64] {
    // CHECK-NEXT: ^bb0(%[[I:.+]]: index, %[[J:.+]]: index):
    tile.parallel [64, 64] {
    ^bb0(%i: index, %j: index):
      // CHECK: %[[X:.+]] = memref.load %{{.+}}[%[[I]], %[[J]]]
      %x = memref.load %s[%i, %j] : memref<64x64xf32, #tile.scope<fragment>>
      // CHECK: %[[H:.+]] = tile.cast %[[X]] : f32 to bf16
      %h = tile.cast %x : f32 to bf16
      // CHECK: tile.cast %[[H]] : bf16 to f32
      %y = tile.cast %h : bf16 to f32
      // CHECK: tile.atomic_add %{{.+}}, %{{.+}}[%[[I]], %[[J]]] : memref<?x64xf32, #tile.scope<global>>
      tile.atomic_add %y, %Out[%i, %j] : memref<?x64xf32, #tile.scope<global>>
      // CHECK: %{{.+}} = tile.atomic_add %{{.+}}, %{{.+}}[%[[I]], %[[J]]] {memory_order = "acq_rel"} : memref<?x64xf32, #tile.scope<global>> -> f32
      %old = tile.atomic_add %y, %Out[%i, %j] {memory_order = "acq_rel"} : memref<?x64xf32, #tile.scope<global>> -> f32
    }
    // CHECK: tile.barrier
    tile.barrier
    // CHECK: tile.print "row max" %{{.+}}, %{{.+}} : memref<64xf32, #tile.scope<fragment>>, index
    tile.print "row max" %m, %bx : memref<64xf32, #tile.scope<fragment>>, index
    // CHECK: tile.print "done"
    tile.print "done"
  }
  return
}
