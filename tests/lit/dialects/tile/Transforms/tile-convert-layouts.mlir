// RUN: tessel-opt %s -tile-infer-layouts -tile-convert-layouts -split-input-file | FileCheck %s
// A T.Parallel over an accumulator that reads another fragment's element
// from another thread reads it through a shared copy made just before the
// loop; reads each thread has in its registers stay as they are.

// bias[j] beside acc[i, j]: the bias is dealt out round robin, so thread
// (holder of acc[i, j]) rarely holds bias[j].
// CHECK-LABEL: func.func @column_bias
// CHECK: %[[BIAS:.+]] = tile.alloc {layout = {{.+}}} : memref<64xf32, #tile.scope<fragment>>
// CHECK-NEXT: %[[TILE:.+]] = tile.alloc : memref<64xf32, #tile.scope<shared>>
// CHECK: tile.copy %[[BIAS]][%{{.+}}] [64] to %[[TILE]][%{{.+}}] [64]
// CHECK-NEXT: tile.parallel [64, 64]
// CHECK: memref.load %[[TILE]][%{{.+}}] : memref<64xf32, #tile.scope<shared>>
// Row values of the accumulator's own rows stay in registers.
// CHECK: memref.load %{{.+}}[%{{.+}}] : memref<64xf32, #tile.scope<fragment>>
func.func @column_bias() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %a = tile.alloc : memref<64x16xf16, #tile.scope<shared>>
    %b = tile.alloc : memref<16x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    %bias = tile.alloc : memref<64xf32, #tile.scope<fragment>>
    %rows = tile.alloc : memref<64xf32, #tile.scope<fragment>>
    tile.gemm %a, %b, %acc : memref<64x16xf16, #tile.scope<shared>>, memref<16x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    tile.reduce max %acc, %rows dim 1 : memref<64x64xf32, #tile.scope<fragment>> to memref<64xf32, #tile.scope<fragment>>
    tile.parallel [64, 64] {
    ^bb0(%i: index, %j: index):
      %x = memref.load %acc[%i, %j] : memref<64x64xf32, #tile.scope<fragment>>
      %y = memref.load %bias[%j] : memref<64xf32, #tile.scope<fragment>>
      %r = memref.load %rows[%i] : memref<64xf32, #tile.scope<fragment>>
      %s = arith.addf %x, %y : f32
      %t = arith.subf %s, %r : f32
      memref.store %t, %acc[%i, %j] : memref<64x64xf32, #tile.scope<fragment>>
      tile.yield
    }
  }
  return
}

// -----

// Element for element, the same layout: nothing to convert.
// CHECK-LABEL: func.func @aligned
// CHECK-NOT: tile.scope<shared>
// CHECK: return
func.func @aligned() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %x = tile.alloc : memref<16x64xf32, #tile.scope<fragment>>
    %y = tile.alloc : memref<16x64xf32, #tile.scope<fragment>>
    tile.parallel [16, 64] {
    ^bb0(%i: index, %j: index):
      %v = memref.load %x[%i, %j] : memref<16x64xf32, #tile.scope<fragment>>
      memref.store %v, %y[%i, %j] : memref<16x64xf32, #tile.scope<fragment>>
      tile.yield
    }
  }
  return
}

// -----

// Read reversed along j: thread t holds x[i, j] but needs x[i, 63 - j].
// CHECK-LABEL: func.func @reversed
// CHECK: tile.copy %{{.+}} to %[[T:.+]][%{{.+}}, %{{.+}}] [16, 64] : memref<16x64xf32, #tile.scope<fragment>> to memref<16x64xf32, #tile.scope<shared>>
// CHECK: memref.load %[[T]]
func.func @reversed() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c63 = arith.constant 63 : index
    %x = tile.alloc : memref<16x64xf32, #tile.scope<fragment>>
    %y = tile.alloc : memref<16x64xf32, #tile.scope<fragment>>
    tile.parallel [16, 64] {
    ^bb0(%i: index, %j: index):
      %r = arith.subi %c63, %j : index
      %v = memref.load %x[%i, %r] : memref<16x64xf32, #tile.scope<fragment>>
      memref.store %v, %y[%i, %j] : memref<16x64xf32, #tile.scope<fragment>>
      tile.yield
    }
  }
  return
}

// -----

// A fragment the loop also writes is left to the lowering.
// CHECK-LABEL: func.func @written
// CHECK-NOT: tile.copy
// CHECK: return
func.func @written() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c63 = arith.constant 63 : index
    %x = tile.alloc : memref<16x64xf32, #tile.scope<fragment>>
    %y = tile.alloc : memref<16x64xf32, #tile.scope<fragment>>
    tile.parallel [16, 64] {
    ^bb0(%i: index, %j: index):
      %r = arith.subi %c63, %j : index
      %v = memref.load %x[%i, %r] : memref<16x64xf32, #tile.scope<fragment>>
      memref.store %v, %y[%i, %j] : memref<16x64xf32, #tile.scope<fragment>>
      memref.store %v, %x[%i, %j] : memref<16x64xf32, #tile.scope<fragment>>
      tile.yield
    }
  }
  return
}

// -----

// A loop over a shared tile has no anchor: its iterations go round robin,
// so the row scale it reads from a fragment comes through shared memory.
// CHECK-LABEL: func.func @unanchored
// CHECK: %[[SCALE:.+]] = tile.alloc {layout = {{.+}}} : memref<16xf32, #tile.scope<fragment>>
// CHECK-NEXT: %[[T:.+]] = tile.alloc : memref<16xf32, #tile.scope<shared>>
// CHECK: tile.copy %[[SCALE]]
// CHECK-NEXT: tile.parallel [16, 64]
// CHECK: memref.load %[[T]][%{{.+}}] : memref<16xf32, #tile.scope<shared>>
func.func @unanchored() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %s = tile.alloc : memref<16x64xf32, #tile.scope<shared>>
    %scale = tile.alloc : memref<16xf32, #tile.scope<fragment>>
    tile.parallel [16, 64] {
    ^bb0(%i: index, %j: index):
      %x = memref.load %s[%i, %j] : memref<16x64xf32, #tile.scope<shared>>
      %f = memref.load %scale[%i] : memref<16xf32, #tile.scope<fragment>>
      %y = arith.mulf %x, %f : f32
      memref.store %y, %s[%i, %j] : memref<16x64xf32, #tile.scope<shared>>
      tile.yield
    }
  }
  return
}

// -----

// lse[k, j] inside a serial loop over k: the element is chosen at run time,
// so no register holds it; the read goes through a shared copy made before
// the T.Parallel (inside the serial loop, where the fragment is current).
// CHECK-LABEL: func.func @serial_index
// CHECK: %[[LSE:.+]] = tile.alloc {layout = {{.+}}} : memref<4x128xf32, #tile.scope<fragment>>
// CHECK-NEXT: %[[TILE:.+]] = tile.alloc : memref<4x128xf32, #tile.scope<shared>>
// CHECK: scf.for %[[K:.+]] =
// CHECK: tile.copy %[[LSE]]{{.+}} to %[[TILE]]
// CHECK-NEXT: tile.parallel [128]
// CHECK: memref.load %[[TILE]][%[[K]], %{{.+}}] : memref<4x128xf32, #tile.scope<shared>>
func.func @serial_index() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %lse = tile.alloc : memref<4x128xf32, #tile.scope<fragment>>
    %sum = tile.alloc : memref<128xf32, #tile.scope<fragment>>
    scf.for %k = %c0 to %c4 step %c1 {
      tile.parallel [128] {
      ^bb0(%j: index):
        %x = memref.load %lse[%k, %j] : memref<4x128xf32, #tile.scope<fragment>>
        %s = memref.load %sum[%j] : memref<128xf32, #tile.scope<fragment>>
        %t = arith.addf %s, %x : f32
        memref.store %t, %sum[%j] : memref<128xf32, #tile.scope<fragment>>
        tile.yield
      }
    }
  }
  return
}

// -----

// A reduction result read beside the rows it came from, when the rows are
// dealt round robin (8 x 64 over 128 threads): each thread holds mean[i],
// but in a register that differs from thread to thread for the same
// iteration, which one register name per iteration cannot say; the read
// goes through a shared copy.
// CHECK-LABEL: func.func @row_value_in_varying_registers
// CHECK: %[[MEAN:.+]] = tile.alloc {layout = {{.+}}} : memref<8xf32, #tile.scope<fragment>>
// CHECK-NEXT: %[[TILE:.+]] = tile.alloc : memref<8xf32, #tile.scope<shared>>
// CHECK: tile.copy %[[MEAN]]{{.+}} to %[[TILE]]
// CHECK-NEXT: tile.parallel [8, 64]
// CHECK: memref.load %[[TILE]]
func.func @row_value_in_varying_registers() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %x = tile.alloc : memref<8x64xf32, #tile.scope<fragment>>
    %mean = tile.alloc : memref<8xf32, #tile.scope<fragment>>
    tile.reduce sum %x, %mean dim 1 : memref<8x64xf32, #tile.scope<fragment>> to memref<8xf32, #tile.scope<fragment>>
    tile.parallel [8, 64] {
    ^bb0(%i: index, %j: index):
      %v = memref.load %x[%i, %j] : memref<8x64xf32, #tile.scope<fragment>>
      %m = memref.load %mean[%i] : memref<8xf32, #tile.scope<fragment>>
      %d = arith.subf %v, %m : f32
      memref.store %d, %x[%i, %j] : memref<8x64xf32, #tile.scope<fragment>>
      tile.yield
    }
  }
  return
}
