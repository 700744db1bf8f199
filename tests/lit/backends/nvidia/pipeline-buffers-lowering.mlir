// tile-lower-to-nvvm reads nvidia-pipeline-buffers' decision: the staged
// tiles have no planned storage (tile-plan-memory: 0 bytes), so the kernel's
// shared memory is the three stages of A's and B's tiles (3 x 8192 bytes,
// from byte 0) and a full and an empty mbarrier per stage (48 bytes); both
// tiles load by TMA from the producer warpgroup.
// RUN: tessel-opt %s -tile-infer-layouts --nvidia-pipeline-buffers -tile-plan-memory -tile-lower-to-nvvm="tma=true warp-specialize=true" | FileCheck %s
// Without the pass, the lowering finds the same copies but the tiles keep
// their planned 8192 bytes below the stages.
// RUN: tessel-opt %s -tile-infer-layouts -tile-plan-memory -tile-lower-to-nvvm="tma=true warp-specialize=true" | FileCheck %s --check-prefix=NOPASS
// CHECK-LABEL: func.func @gemm
// CHECK-SAME: tessel.shared_bytes = 24624
// CHECK: %c24576
// CHECK: mbarrier.init.shared::cta.b64
// CHECK: cp.async.bulk.tensor.2d
// CHECK: cp.async.bulk.tensor.2d
// NOPASS-LABEL: func.func @gemm
// NOPASS-SAME: tessel.shared_bytes = 32816
func.func @gemm(%a: memref<64x128xf16, #tile.scope<global>>, %b: memref<128x64xf16, #tile.scope<global>>,
                %c: memref<64x64xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c32 = arith.constant 32 : index
    %as = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<32x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    %zero = arith.constant 0.0 : f32
    tile.fill %acc, %zero : memref<64x64xf32, #tile.scope<fragment>>
    tile.pipelined %c0 to %c4 step %c1 stages 3 {
    ^bb0(%k: index):
      %k0 = arith.muli %k, %c32 : index
      tile.copy %a[%c0, %k0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<64x128xf16, #tile.scope<global>> to memref<64x32xf16, #tile.scope<shared>>
      tile.copy %b[%k0, %c0] [32, 64] to %bs[%c0, %c0] [32, 64] : memref<128x64xf16, #tile.scope<global>> to memref<32x64xf16, #tile.scope<shared>>
      tile.gemm %as, %bs, %acc : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
      tile.yield
    }
    tile.copy %acc[%c0, %c0] [64, 64] to %c[%c0, %c0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<64x64xf32, #tile.scope<global>>
    tile.yield
  }
  return
}
