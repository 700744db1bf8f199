// nvidia-pipeline-buffers: the copies of a T.Pipelined loop that run ahead
// get `tessel.ahead`, their tiles `tessel.staged` (no storage of their own:
// tile-plan-memory skips them), the loop the number of stage buffers.
// RUN: tessel-opt %s --nvidia-pipeline-buffers -split-input-file | FileCheck %s
// RUN: tessel-opt %s --nvidia-pipeline-buffers=async-copies=false -split-input-file | FileCheck %s --check-prefix=OFF
// RUN: tessel-opt %s --nvidia-pipeline-buffers --tile-plan-memory -split-input-file | FileCheck %s --check-prefix=PLAN
// RUN: tessel-opt %s --nvidia-pipeline-buffers=tma=false -split-input-file | FileCheck %s --check-prefix=NOTMA

// A @ B with 16-bit tiles: both copies run ahead (B is read MN-major in
// place, stored as written), by TMA (tessel.tma: a tensor parameter into a
// whole swizzled tile); the accumulator is no shared tile.
// CHECK-LABEL: func.func @gemm
// CHECK: tile.kernel {{.+}} attributes {tessel.warp_registers = array<i64: 255, 40, 255>}
// CHECK: %[[AS:.+]] = tile.alloc {tessel.staged} : memref<64x32xf16, #tile.scope<shared>>
// CHECK: %[[BS:.+]] = tile.alloc {tessel.staged} : memref<32x64xf16, #tile.scope<shared>>
// Every copy that runs ahead loads by TMA and the producer can compute the
// bounds and offsets: a producer warpgroup feeds the loop, the gemm at the
// top of the body leaves its group in flight, and the kernel records the
// register split (255 at launch for 256 threads, 40 for the producer).
// CHECK: tile.pipelined {{.+}} stages 3 attributes {tessel.producer, tessel.stages = 3 : i64, tessel.wgmma_in_flight = 1 : i64}
// CHECK: tile.copy {{.+}} to %[[AS]]{{.+}} {tessel.ahead, tessel.tma}
// CHECK: tile.copy {{.+}} to %[[BS]]{{.+}} {tessel.ahead, tessel.tma}
// With tma=false they run ahead by cp.async.
// NOTMA-LABEL: func.func @gemm
// NOTMA-NOT: tessel.producer
// NOTMA-COUNT-2: {tessel.ahead} :
// NOTMA-NOT: tessel.tma
// OFF-LABEL: func.func @gemm
// OFF-NOT: tessel.
// OFF: return
// The staged tiles get no offset; the kernel's planned bytes are zero.
// PLAN-LABEL: func.func @gemm
// PLAN: tile.kernel {{.+}} attributes {tessel.shared_bytes = 0 : i64}
// PLAN-NOT: tessel.shared_offset
// PLAN: return
func.func @gemm(%a: memref<64x128xf16, #tile.scope<global>>, %b: memref<128x64xf16, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c32 = arith.constant 32 : index
    %as = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<32x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.pipelined %c0 to %c4 step %c1 stages 3 {
    ^bb0(%k: index):
      %k0 = arith.muli %k, %c32 : index
      tile.copy %a[%c0, %k0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<64x128xf16, #tile.scope<global>> to memref<64x32xf16, #tile.scope<shared>>
      tile.copy %b[%k0, %c0] [32, 64] to %bs[%c0, %c0] [32, 64] : memref<128x64xf16, #tile.scope<global>> to memref<32x64xf16, #tile.scope<shared>>
      tile.gemm %as, %bs, %acc {mma = #tile.mma<kind = wgmma, gridM = 1, gridN = 1>} : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
      tile.yield
    }
    tile.yield
  }
  return
}

// -----

// An 8-bit B of A @ B is stored transposed (K-major): its copy stays in the
// body, its tile keeps its storage. A tile also used after the loop, and a
// copy stage= puts in the compute, stay too.
// CHECK-LABEL: func.func @not_ahead
// CHECK: %[[AS:.+]] = tile.alloc {tessel.staged} : memref<64x32xf8E4M3FN, #tile.scope<shared>>
// CHECK: %[[BS:.+]] = tile.alloc : memref<32x64xf8E4M3FN, #tile.scope<shared>>
// CHECK: %[[CS:.+]] = tile.alloc : memref<64x32xf8E4M3FN, #tile.scope<shared>>
// CHECK: %[[DS:.+]] = tile.alloc : memref<64x32xf8E4M3FN, #tile.scope<shared>>
// CHECK: tile.pipelined {{.+}} attributes {tessel.producer, tessel.stages = 2 : i64, tessel.wgmma_in_flight = 1 : i64}
// CHECK: tile.copy {{.+}} to %[[AS]]{{.+}} {tessel.ahead, tessel.tma}
// CHECK: tile.copy {{.+}} to %[[BS]][{{[^{]+}} :
// CHECK: tile.copy {{.+}} to %[[CS]][{{[^{]+}} :
// CHECK: tile.copy {{.+}} to %[[DS]][{{[^{]+}} :
func.func @not_ahead(%a: memref<64x128xf8E4M3FN, #tile.scope<global>>, %b: memref<128x64xf8E4M3FN, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c32 = arith.constant 32 : index
    %as = tile.alloc : memref<64x32xf8E4M3FN, #tile.scope<shared>>
    %bs = tile.alloc : memref<32x64xf8E4M3FN, #tile.scope<shared>>
    %cs = tile.alloc : memref<64x32xf8E4M3FN, #tile.scope<shared>>
    %ds = tile.alloc : memref<64x32xf8E4M3FN, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.pipelined %c0 to %c4 step %c1 stages 2 stage [0, 0, 0, 1, 1] {
    ^bb0(%k: index):
      %k0 = arith.muli %k, %c32 : index
      tile.copy %a[%c0, %k0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<64x128xf8E4M3FN, #tile.scope<global>> to memref<64x32xf8E4M3FN, #tile.scope<shared>>
      tile.copy %b[%k0, %c0] [32, 64] to %bs[%c0, %c0] [32, 64] : memref<128x64xf8E4M3FN, #tile.scope<global>> to memref<32x64xf8E4M3FN, #tile.scope<shared>>
      tile.copy %a[%c0, %k0] [64, 32] to %cs[%c0, %c0] [64, 32] : memref<64x128xf8E4M3FN, #tile.scope<global>> to memref<64x32xf8E4M3FN, #tile.scope<shared>>
      tile.copy %a[%c0, %k0] [64, 32] to %ds[%c0, %c0] [64, 32] : memref<64x128xf8E4M3FN, #tile.scope<global>> to memref<64x32xf8E4M3FN, #tile.scope<shared>>
      tile.gemm %as, %bs, %acc {mma = #tile.mma<kind = wgmma, gridM = 1, gridN = 1>} : memref<64x32xf8E4M3FN, #tile.scope<shared>>, memref<32x64xf8E4M3FN, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
      tile.yield
    }
    tile.copy %cs[%c0, %c0] [64, 32] to %a[%c0, %c0] [64, 32] : memref<64x32xf8E4M3FN, #tile.scope<shared>> to memref<64x128xf8E4M3FN, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// Four stages of two 32 KB tiles (plus a 64 KB tile outside the loop) do
// not fit in 227 KB: the loop gets the two that do.
// CHECK-LABEL: func.func @fewer_stages
// CHECK: tile.alloc : memref<256x128xf16
// CHECK: tile.pipelined {{.+}} stages 4 attributes {tessel.producer, tessel.stages = 2 : i64, tessel.wgmma_in_flight = 1 : i64}
func.func @fewer_stages(%a: memref<128x1024xf16, #tile.scope<global>>, %big: memref<256x128xf16, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c8 = arith.constant 8 : index
    %c128 = arith.constant 128 : index
    %keep = tile.alloc : memref<256x128xf16, #tile.scope<shared>>
    %as = tile.alloc : memref<128x128xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<128x128xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<128x128xf32, #tile.scope<fragment>>
    tile.copy %big[%c0, %c0] [256, 128] to %keep[%c0, %c0] [256, 128] : memref<256x128xf16, #tile.scope<global>> to memref<256x128xf16, #tile.scope<shared>>
    tile.pipelined %c0 to %c8 step %c1 stages 4 {
    ^bb0(%k: index):
      %k0 = arith.muli %k, %c128 : index
      tile.copy %a[%c0, %k0] [128, 128] to %as[%c0, %c0] [128, 128] : memref<128x1024xf16, #tile.scope<global>> to memref<128x128xf16, #tile.scope<shared>>
      tile.copy %a[%c0, %k0] [128, 128] to %bs[%c0, %c0] [128, 128] : memref<128x1024xf16, #tile.scope<global>> to memref<128x128xf16, #tile.scope<shared>>
      tile.gemm %as, %bs, %acc transpose_b {mma = #tile.mma<kind = wgmma, gridM = 1, gridN = 1>} : memref<128x128xf16, #tile.scope<shared>>, memref<128x128xf16, #tile.scope<shared>>, memref<128x128xf32, #tile.scope<fragment>>
      tile.yield
    }
    tile.copy %keep[%c0, %c0] [256, 128] to %big[%c0, %c0] [256, 128] : memref<256x128xf16, #tile.scope<shared>> to memref<256x128xf16, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// A loop bound the kernel itself writes (a count it computes) cannot be
// known to the producer, which runs ahead of the kernel's code: the copies
// still run ahead by TMA, but the consumers issue them; no register split.
// CHECK-LABEL: func.func @bound_the_kernel_writes
// CHECK: tile.kernel grid(%{{.+}}) threads(128) {
// CHECK: tile.pipelined {{.+}} attributes {tessel.stages = 2 : i64} {
// CHECK: {tessel.ahead, tessel.tma}
// With warp-specialize=false, no loop gets a producer.
// RUN: tessel-opt %s --nvidia-pipeline-buffers=warp-specialize=false -split-input-file | FileCheck %s --check-prefix=NOWS
// NOWS-NOT: tessel.producer
// NOWS-NOT: tessel.warp_registers
func.func @bound_the_kernel_writes(%a: memref<64x128xf16, #tile.scope<global>>, %n: memref<1xindex, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c32 = arith.constant 32 : index
    memref.store %c4, %n[%c0] : memref<1xindex, #tile.scope<global>>
    %count = memref.load %n[%c0] : memref<1xindex, #tile.scope<global>>
    %as = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.pipelined %c0 to %count step %c1 stages 2 {
    ^bb0(%k: index):
      %k0 = arith.muli %k, %c32 : index
      tile.copy %a[%c0, %k0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<64x128xf16, #tile.scope<global>> to memref<64x32xf16, #tile.scope<shared>>
      tile.copy %a[%c0, %k0] [64, 32] to %bs[%c0, %c0] [64, 32] : memref<64x128xf16, #tile.scope<global>> to memref<64x32xf16, #tile.scope<shared>>
      tile.gemm %as, %bs, %acc transpose_b {mma = #tile.mma<kind = wgmma, gridM = 1, gridN = 1>} : memref<64x32xf16, #tile.scope<shared>>, memref<64x32xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
      tile.yield
    }
    tile.yield
  }
  return
}
