// nvidia-mma-async: a wgmma.wait_group 0 before each statement that must
// not overlap the warpgroup MMAs in flight; nothing before the others.
// RUN: tessel-opt %s --tile-infer-layouts --nvidia-mma-async -split-input-file | FileCheck %s
// Lowered with strict-sync: the lowering needs no wait the pass did not place.
// RUN: tessel-opt %s --tile-infer-layouts --tile-plan-memory --nvidia-mma-async --nvidia-insert-barriers -split-input-file | tessel-opt -split-input-file --tile-lower-to-nvvm=strict-sync=true -o /dev/null

// Two gemms into one accumulator overlap (the hardware orders them); a
// T.Parallel reading the accumulator waits; so does rewriting an operand
// tile a group reads. The kernel is marked.
// CHECK-LABEL: func.func @accumulate_then_read
// CHECK: tile.kernel {{.+}}tessel.waits_placed
// CHECK: tile.gemm
// CHECK-NEXT: tile.gemm
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT: tile.parallel
// CHECK: tile.fill %{{.+}} : memref<64x32xf16
// CHECK-NOT: nvvm.wgmma.wait.group
// CHECK: return
func.func @accumulate_then_read(%o: memref<64x64xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %zero = arith.constant 0.0 : f16
    %as = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<32x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.gemm %as, %bs, %acc : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    tile.gemm %as, %bs, %acc : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    tile.parallel [64, 64] {
    ^bb0(%i: index, %j: index):
      %v = memref.load %acc[%i, %j] : memref<64x64xf32, #tile.scope<fragment>>
      memref.store %v, %o[%i, %j] : memref<64x64xf32, #tile.scope<global>>
      tile.yield
    }
    tile.fill %as, %zero : memref<64x32xf16, #tile.scope<shared>>
    tile.yield
  }
  return
}

// -----

// Rewriting a tile an in-flight group reads waits first.
// CHECK-LABEL: func.func @overwrite_operand
// CHECK: tile.gemm
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT: tile.fill %{{.+}} : memref<32x64xf16
func.func @overwrite_operand() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %zero = arith.constant 0.0 : f16
    %as = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<32x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.gemm %as, %bs, %acc : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    tile.fill %bs, %zero : memref<32x64xf16, #tile.scope<shared>>
    tile.yield
  }
  return
}

// -----

// A group issued in a loop body is in flight at the top of the next
// iteration and after the loop: the second gemm, reading the first's
// accumulator as its register A operand, waits inside the loop; the read
// after the loop waits after it.
// CHECK-LABEL: func.func @loop_carried
// CHECK: scf.for
// CHECK-NEXT: tile.gemm %{{.+}}, %{{.+}}, %[[S:[0-9a-z_]+]] transpose_b
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT: tile.copy %[[S]]
// CHECK-NEXT: tile.gemm
// CHECK-NEXT: {{^ *}}}
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT: tile.copy
func.func @loop_carried(%o: memref<64x64xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %qs = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
    %ks = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
    %vs = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
    %s = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    %p = tile.alloc : memref<64x64xf16, #tile.scope<fragment>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    scf.for %k = %c0 to %c4 step %c1 {
      tile.gemm %qs, %ks, %s transpose_b clear_accum policy full_row : memref<64x64xf16, #tile.scope<shared>>, memref<64x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
      tile.copy %s[%c0, %c0] [64, 64] to %p[%c0, %c0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<64x64xf16, #tile.scope<fragment>>
      tile.gemm %p, %vs, %acc policy full_row : memref<64x64xf16, #tile.scope<fragment>>, memref<64x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    }
    tile.copy %acc[%c0, %c0] [64, 64] to %o[%c0, %c0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<64x64xf32, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// Warp MMAs complete in order: no waits.
// CHECK-LABEL: func.func @mma_sync
// CHECK-NOT: nvvm.wgmma.wait.group
// CHECK: return
func.func @mma_sync(%o: memref<32x32xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(64) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %as = tile.alloc : memref<32x32xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<32x32xf32, #tile.scope<fragment>>
    tile.gemm %as, %as, %acc transpose_b : memref<32x32xf16, #tile.scope<shared>>, memref<32x32xf16, #tile.scope<shared>>, memref<32x32xf32, #tile.scope<fragment>>
    tile.copy %acc[%c0, %c0] [32, 32] to %o[%c0, %c0] [32, 32] : memref<32x32xf32, #tile.scope<fragment>> to memref<32x32xf32, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// A device while loop: a group its gemm issues is in flight at the top of
// the next iteration, so the T.Parallel over the accumulator waits inside
// the loop (and the copy out after it).
// CHECK-LABEL: func.func @while_wgmma
// CHECK: scf.while
// CHECK: } do {
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT: tile.parallel
// CHECK: scf.yield
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NEXT: tile.copy
func.func @while_wgmma(%a: memref<64x64xf16, #tile.scope<global>>, %b: memref<64x64xf16, #tile.scope<global>>, %c: memref<64x64xf32, #tile.scope<global>>, %n: memref<1xi32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %zf = arith.constant 0.0 : f32
    %two = arith.constant 2.0 : f32
    %i0 = arith.constant 0 : i32
    %i1 = arith.constant 1 : i32
    %as = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    %cnt = tile.alloc : memref<1xi32, #tile.scope<local>>
    %n0 = memref.load %n[%c0] : memref<1xi32, #tile.scope<global>>
    memref.store %n0, %cnt[%c0] : memref<1xi32, #tile.scope<local>>
    tile.copy %a[%c0, %c0] [64, 64] to %as[%c0, %c0] [64, 64] : memref<64x64xf16, #tile.scope<global>> to memref<64x64xf16, #tile.scope<shared>>
    tile.copy %b[%c0, %c0] [64, 64] to %bs[%c0, %c0] [64, 64] : memref<64x64xf16, #tile.scope<global>> to memref<64x64xf16, #tile.scope<shared>>
    tile.fill %acc, %zf : memref<64x64xf32, #tile.scope<fragment>>
    scf.while : () -> () {
      %v = memref.load %cnt[%c0] : memref<1xi32, #tile.scope<local>>
      %go = arith.cmpi sgt, %v, %i0 : i32
      scf.condition(%go)
    } do {
      tile.parallel [64, 64] {
      ^bb0(%i: index, %j: index):
        %x = memref.load %acc[%i, %j] : memref<64x64xf32, #tile.scope<fragment>>
        %y = arith.mulf %x, %two : f32
        memref.store %y, %acc[%i, %j] : memref<64x64xf32, #tile.scope<fragment>>
        tile.yield
      }
      tile.gemm %as, %bs, %acc : memref<64x64xf16, #tile.scope<shared>>, memref<64x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
      %v = memref.load %cnt[%c0] : memref<1xi32, #tile.scope<local>>
      %w = arith.subi %v, %i1 : i32
      memref.store %w, %cnt[%c0] : memref<1xi32, #tile.scope<local>>
      scf.yield
    }
    tile.copy %acc[%c0, %c0] [64, 64] to %c[%c0, %c0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<64x64xf32, #tile.scope<global>>
    tile.yield
  }
  return
}
