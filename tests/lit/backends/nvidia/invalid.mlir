// RUN: tessel-opt %s -split-input-file -tile-infer-layouts -tile-plan-memory -tile-lower-to-nvvm -verify-diagnostics
// What the cuda target cannot map yet is a located error.

// expected-error @below {{argument 0's dimension 0 is dynamic without a T.dynamic name; the cuda target passes dynamic dimensions by name}}
func.func @dynamic_grid(%x: memref<?xf32, #tile.scope<global>>) {
  %c0 = arith.constant 0 : index
  %n = memref.dim %x, %c0 : memref<?xf32, #tile.scope<global>>
  tile.kernel grid(%n) threads(128) {
  ^bb0(%bx: index):
    tile.yield
  }
  return
}

// -----

func.func @print_local(%x: memref<4xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %l = tile.alloc : memref<2xf32, #tile.scope<local>>
    // expected-error @below {{T.print of a T.alloc_local buffer is not supported on the cuda target; print its elements}}
    tile.print "hello" %l : memref<2xf32, #tile.scope<local>>
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
// reads another thread's register. (In the compiler's pipeline
// tile-convert-layouts first turns such a read into one from a shared copy;
// this checks what the lowering reports without it, as for a fragment the
// loop also writes.)
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
    %acc = tile.alloc : memref<64x64xi32, #tile.scope<local>>
    // expected-error @below {{the gemm accumulator must be an int32 fragment}}
    tile.gemm %as, %bs, %acc : memref<64x32xi8, #tile.scope<shared>>, memref<32x64xi8, #tile.scope<shared>>, memref<64x64xi32, #tile.scope<local>>
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
    // expected-error @below {{float32 gemms are not supported on the cuda target (wgmma's tf32 would round the operands to 10 mantissa bits); T.copy the tiles to bfloat16 or float16 ones}}
    tile.gemm %as, %bs, %acc : memref<64x32xf32, #tile.scope<shared>>, memref<32x64xf32, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    tile.yield
  }
  return
}

// -----

func.func @stage_gemm_ahead(%a: memref<64x128xf16, #tile.scope<global>>, %b: memref<128x64xf16, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c32 = arith.constant 32 : index
    %as = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<32x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.pipelined %c0 to %c4 step %c1 stages 3 stage [0, 1, 0] {
    ^bb0(%k: index):
      %k0 = arith.muli %k, %c32 : index
      
      tile.copy %a[%c0, %k0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<64x128xf16, #tile.scope<global>> to memref<64x32xf16, #tile.scope<shared>>
      
      tile.copy %b[%k0, %c0] [32, 64] to %bs[%c0, %c0] [32, 64] : memref<128x64xf16, #tile.scope<global>> to memref<32x64xf16, #tile.scope<shared>>
      // expected-error @below {{stage= puts this statement in stage 0, ahead of the compute, but only copies from global into shared memory run ahead}}
      tile.gemm %as, %bs, %acc : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
      tile.yield
    }
    tile.yield
  }
  return
}

// -----

func.func @stage_transposing_copy_ahead(%a: memref<64x128xf8E4M3FN, #tile.scope<global>>, %b: memref<128x64xf8E4M3FN, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c32 = arith.constant 32 : index
    %as = tile.alloc : memref<64x32xf8E4M3FN, #tile.scope<shared>>
    %bs = tile.alloc : memref<32x64xf8E4M3FN, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.pipelined %c0 to %c4 step %c1 stages 3 stage [0, 0, 2] {
    ^bb0(%k: index):
      %k0 = arith.muli %k, %c32 : index
      
      tile.copy %a[%c0, %k0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<64x128xf8E4M3FN, #tile.scope<global>> to memref<64x32xf8E4M3FN, #tile.scope<shared>>
      // expected-error @below {{stage= puts this copy in stage 0, but it cannot run ahead}}
      tile.copy %b[%k0, %c0] [32, 64] to %bs[%c0, %c0] [32, 64] : memref<128x64xf8E4M3FN, #tile.scope<global>> to memref<32x64xf8E4M3FN, #tile.scope<shared>>
      
      tile.gemm %as, %bs, %acc : memref<64x32xf8E4M3FN, #tile.scope<shared>>, memref<32x64xf8E4M3FN, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
      tile.yield
    }
    tile.yield
  }
  return
}

// -----

func.func @stage_middle(%a: memref<64x128xf16, #tile.scope<global>>, %b: memref<128x64xf16, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c32 = arith.constant 32 : index
    %as = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<32x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.pipelined %c0 to %c4 step %c1 stages 3 stage [0, 1, 2] {
    ^bb0(%k: index):
      %k0 = arith.muli %k, %c32 : index
      
      tile.copy %a[%c0, %k0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<64x128xf16, #tile.scope<global>> to memref<64x32xf16, #tile.scope<shared>>
      // expected-error @below {{stage= gives this statement stage 1; Tessel pipelines two stages for now: 0 (issued 2 iterations ahead) and 2 (the compute)}}
      tile.copy %b[%k0, %c0] [32, 64] to %bs[%c0, %c0] [32, 64] : memref<128x64xf16, #tile.scope<global>> to memref<32x64xf16, #tile.scope<shared>>
      
      tile.gemm %as, %bs, %acc : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
      tile.yield
    }
    tile.yield
  }
  return
}

// -----

func.func @order_gemm_before_its_operand(%a: memref<64x128xf8E4M3FN, #tile.scope<global>>, %b: memref<128x64xf8E4M3FN, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c32 = arith.constant 32 : index
    %as = tile.alloc : memref<64x32xf8E4M3FN, #tile.scope<shared>>
    %bs = tile.alloc : memref<32x64xf8E4M3FN, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.pipelined %c0 to %c4 step %c1 stages 3 order [0, 2, 1] {
    ^bb0(%k: index):
      %k0 = arith.muli %k, %c32 : index
      
      tile.copy %a[%c0, %k0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<64x128xf8E4M3FN, #tile.scope<global>> to memref<64x32xf8E4M3FN, #tile.scope<shared>>
      
      // expected-note @below {{the earlier statement}}
      tile.copy %b[%k0, %c0] [32, 64] to %bs[%c0, %c0] [32, 64] : memref<128x64xf8E4M3FN, #tile.scope<global>> to memref<32x64xf8E4M3FN, #tile.scope<shared>>
      // expected-error @below {{order= runs this statement before an earlier one in the loop body that uses a tile it writes, or writes a tile it uses}}
      tile.gemm %as, %bs, %acc : memref<64x32xf8E4M3FN, #tile.scope<shared>>, memref<32x64xf8E4M3FN, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
      tile.yield
    }
    tile.yield
  }
  return
}

// -----

// A region of a fragment moves to or from memory element by element; between
// two fragments only whole ones are copied.
func.func @fragment_region_between_fragments() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %f = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    %g = tile.alloc : memref<32x64xf32, #tile.scope<fragment>>
    // expected-error @below {{the cuda target copies whole fragments between fragments; copy a region through shared memory}}
    tile.copy %f[%c0, %c0] [32, 64] to %g[%c0, %c0] [32, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<32x64xf32, #tile.scope<fragment>>
    tile.yield
  }
  return
}

// -----

// Which threads hold a fragment region is decided at compile time.
func.func @fragment_region_dynamic_offset(%x: memref<64x64xf32, #tile.scope<global>>) {
  %c2 = arith.constant 2 : index
  tile.kernel grid(%c2) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c32 = arith.constant 32 : index
    %row = arith.muli %bx, %c32 : index
    %f = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    // expected-error @below {{on the cuda target a fragment region's offsets must be constants}}
    tile.copy %f[%row, %c0] [32, 64] to %x[%c0, %c0] [32, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<64x64xf32, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

func.func @two_kernels(%x: memref<128xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    tile.yield
  }
  // expected-error @below {{tile-lower-to-nvvm lowers one T.Kernel per prim_func; tessel.jit compiles a prim_func with several one kernel at a time}}
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    tile.yield
  }
  return
}
