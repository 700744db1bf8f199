// RUN: tessel-opt %s -split-input-file -tile-infer-layouts -tile-plan-memory -tile-lower-to-nvvm -verify-diagnostics
// What the cuda target cannot map yet is a located error.

func.func @dynamic_grid(%x: memref<?xf32, #tile.scope<global>>) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?xf32, #tile.scope<global>>
  // expected-error @below {{the cuda target needs a grid known at compile time}}
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    tile.yield
  }
  return
}

// -----

func.func @print(%x: memref<4xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    // expected-error @below {{T.print is not supported on the cuda target yet}}
    tile.print "hello"
    tile.yield
  }
  return
}

// -----

func.func @fragment_outside_parallel(%x: memref<4xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %f = tile.alloc : memref<128xf32, #tile.scope<fragment>>
    // expected-error @below {{a fragment element can only be read or written inside T.Parallel}}
    %v = memref.load %f[%c0] : memref<128xf32, #tile.scope<fragment>>
    memref.store %v, %x[%c0] : memref<4xf32, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// Thread t holds element t of %f; iteration i reading element 127 - i
// reads another thread's register.
func.func @other_threads_element(%x: memref<128xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %f = tile.alloc : memref<128xf32, #tile.scope<fragment>>
    %g = tile.alloc : memref<128xf32, #tile.scope<fragment>>
    tile.parallel [128] {
    ^bb0(%i: index):
      %c127 = arith.constant 127 : index
      %j = arith.subi %c127, %i : index
      // expected-error @below {{but the fragment element it touches lives in thread 127}}
      %v = memref.load %f[%j] : memref<128xf32, #tile.scope<fragment>>
      memref.store %v, %g[%i] : memref<128xf32, #tile.scope<fragment>>
      tile.yield
    }
    tile.yield
  }
  return
}

// -----

func.func @int_accumulator(%a: memref<64x32xi8, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %as = tile.alloc : memref<64x32xi8, #tile.scope<shared>>
    %bs = tile.alloc : memref<32x64xi8, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xi32, #tile.scope<fragment>>
    // expected-error @below {{the gemm accumulator must be an f32 fragment}}
    tile.gemm %as, %bs, %acc : memref<64x32xi8, #tile.scope<shared>>, memref<32x64xi8, #tile.scope<shared>>, memref<64x64xi32, #tile.scope<fragment>>
    tile.yield
  }
  return
}

// -----

func.func @k_not_multiple(%a: memref<64x8xf16, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %as = tile.alloc : memref<64x24xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<24x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    // expected-error @below {{the K extent of a shared gemm operand must span 32, 64 or a multiple of 128 bytes; it spans 48 bytes}}
    tile.gemm %as, %bs, %acc : memref<64x24xf16, #tile.scope<shared>>, memref<24x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    tile.yield
  }
  return
}

// -----

func.func @tf32(%a: memref<64x32xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %as = tile.alloc : memref<64x32xf32, #tile.scope<shared>>
    %bs = tile.alloc : memref<32x64xf32, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    // expected-error @below {{wgmma takes f16, bf16, float8_e4m3 or float8_e5m2 operands}}
    tile.gemm %as, %bs, %acc : memref<64x32xf32, #tile.scope<shared>>, memref<32x64xf32, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    tile.yield
  }
  return
}

// -----

func.func @too_many_spread_results(%x: memref<2x300xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %f = tile.alloc : memref<2x300xf32, #tile.scope<fragment>>
    %cols = tile.alloc : memref<300xf32, #tile.scope<fragment>>
    // expected-error @below {{this reduction's rows are spread over threads in a way that needs a shared-memory combine, which the cuda target does for at most 256 results; this one has 300}}
    tile.reduce sum %f, %cols dim 0 : memref<2x300xf32, #tile.scope<fragment>> to memref<300xf32, #tile.scope<fragment>>
    tile.yield
  }
  return
}
