// RUN: tessel-opt %s -split-input-file -tile-infer-layouts -nvidia-pipeline-buffers=tma=false -tile-plan-memory -nvidia-mma-async -nvidia-insert-barriers -nvidia-insert-proxy-fences -tile-lower-to-nvvm=strict-sync=true -canonicalize | FileCheck %s
// RUN: tessel-opt %s -split-input-file -tile-infer-layouts -nvidia-pipeline-buffers=async-copies=false -tile-plan-memory -nvidia-mma-async -nvidia-insert-barriers -nvidia-insert-proxy-fences -tile-lower-to-nvvm="async-copies=false strict-sync=true" | FileCheck %s --check-prefix=NOASYNC
// RUN: tessel-opt %s -split-input-file -tile-infer-layouts -nvidia-pipeline-buffers=warp-specialize=false -tile-plan-memory -nvidia-mma-async -nvidia-insert-barriers -nvidia-insert-proxy-fences -tile-lower-to-nvvm="tma=true strict-sync=true" | FileCheck %s --check-prefix=TMA
// RUN: tessel-opt %s -split-input-file -tile-infer-layouts -nvidia-pipeline-buffers -tile-plan-memory -nvidia-mma-async -nvidia-insert-barriers -nvidia-insert-proxy-fences -tile-lower-to-nvvm="tma=true warp-specialize=true strict-sync=true" | FileCheck %s --check-prefix=WS
// Thread mapping, shared-memory placement and wgmma lowering for sm_90a.

// A 64x64x32 fp16 gemm: one warpgroup, both operands from shared memory.
// The tiles are copied in 16-byte vectors into 64-byte-swizzled rows,
// fenced for the async proxy, synchronized, then multiplied by two
// m64n64k16 wgmmas and waited for. Every tile of this grid lies inside its
// tensor (block index <= 1, times 64, plus 64 <= 128), so no access is
// guarded.
// CHECK-LABEL: func.func @gemm_ss
// CHECK-SAME: (%{{.+}}: !llvm.ptr<1>, %{{.+}}: !llvm.ptr<1>, %{{.+}}: !llvm.ptr<1>)
// CHECK-SAME: tessel.grid = array<i32: 2, 2, 1>
// CHECK-SAME: tessel.shared_bytes = 8192
// CHECK-SAME: tessel.threads = 128
// CHECK: %[[SMEM:.+]] = llvm.mlir.addressof @__tessel_smem : !llvm.ptr<3>
// CHECK: %[[ACC:.+]] = llvm.alloca %{{.+}} x !llvm.array<32 x f32> : (i64) -> !llvm.ptr
// CHECK: nvvm.read.ptx.sreg.tid.x
// CHECK: nvvm.read.ptx.sreg.ctaid.x
// CHECK-NOT: scf.if
// Global -> shared: a whole vector per thread.
// CHECK: llvm.load %{{.+}} {alignment = 16 : i64} : !llvm.ptr<1> -> vector<8xf16>
// The 64-byte swizzle: chunk ^= (byte offset >> 7) & 3.
// CHECK: arith.shrui %{{.+}}, %c7
// CHECK: arith.andi %{{.+}}, %c3
// CHECK: arith.xori
// Each copy's threads fence their writes for wgmma's async proxy right
// after the copy (nvidia-insert-proxy-fences); one barrier before the gemm.
// CHECK: llvm.store %{{.+}}, %{{.+}} {alignment = 16 : i64} : vector<8xf16>, !llvm.ptr<3>
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NOT: nvvm.barrier0
// CHECK: llvm.store %{{.+}}, %{{.+}} {alignment = 16 : i64} : vector<8xf16>, !llvm.ptr<3>
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: nvvm.barrier0
// Both K steps are one asm statement on the 32 accumulator registers: the
// first step clears (scale-d from the operand that is 0 with clear_accum),
// the second accumulates. Only the base descriptors (B's $64, A's $65) are
// operands; each step adds its K offset in 16-byte units inside the
// statement: A is K-major (16 f16 columns of a 128-byte-swizzled tile: 32
// bytes, 2 units); B of A @ B is read MN-major in place (transpose bit 1;
// 16 rows of 128 bytes: 128 units).
// The wgmma.fence opens the asm statement: the copies that set up its tied
// accumulator operands come before the fence, as it requires.
// CHECK-NOT: nvvm.wgmma.fence.aligned
// CHECK: llvm.inline_asm has_side_effects "{\0A.reg .pred first, rest;\0A.reg .b64 da, db;\0Awgmma.fence.sync.aligned;\0Asetp.ne.b32 first, $66, 0;\0Asetp.ne.b32 rest, $67, 0;
// CHECK-SAME: add.s64 db, $64, 0;\0Aadd.s64 da, $65, 0;\0Awgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {$0, {{.+}}, $31}, da, db, first, 1, 1, 0, 1;
// CHECK-SAME: add.s64 db, $64, 128;\0Aadd.s64 da, $65, 2;\0Awgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {$0, {{.+}}, $31}, da, db, rest, 1, 1, 0, 1;
// CHECK-SAME: "=f,{{.+}},0,1,2,{{.+}},31,l,l,r,r" {{.+}}, %c0_i32, %c1_i32 :
// CHECK-NOT: wgmma.mma_async
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// The result leaves registers two columns at a time (the accumulator layout
// gives each thread column pairs), as one 4-byte store.
// CHECK: llvm.load %[[ACC]]
// CHECK: arith.truncf %{{.+}} : f32 to f16
// CHECK: llvm.insertelement
// CHECK: llvm.store %{{.+}}, %{{.+}} {alignment = 4 : i64} : vector<2xf16>, !llvm.ptr<1>
// CHECK-NOT: scf.if
// CHECK: return
func.func @gemm_ss(%a: memref<128x32xf16, #tile.scope<global>>, %b: memref<32x128xf16, #tile.scope<global>>,
                   %c: memref<128x128xf16, #tile.scope<global>>) {
  %c2 = arith.constant 2 : index
  tile.kernel grid(%c2, %c2) threads(128) {
  ^bb0(%bx: index, %by: index):
    %c0 = arith.constant 0 : index
    %c64 = arith.constant 64 : index
    %as = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<32x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    %m0 = arith.muli %by, %c64 : index
    %n0 = arith.muli %bx, %c64 : index
    tile.copy %a[%m0, %c0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<128x32xf16, #tile.scope<global>> to memref<64x32xf16, #tile.scope<shared>>
    tile.copy %b[%c0, %n0] [32, 64] to %bs[%c0, %c0] [32, 64] : memref<32x128xf16, #tile.scope<global>> to memref<32x64xf16, #tile.scope<shared>>
    tile.gemm %as, %bs, %acc clear_accum : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    tile.copy %acc[%c0, %c0] [64, 64] to %c[%m0, %n0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<128x128xf16, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// A barrier between the thread-written tiles and the gemm (here an explicit
// T.barrier(); in FlashAttention the one before the K loop) orders the
// writes for the threads, not for wgmma's async proxy: the writes are
// fenced right after they are made, before that barrier, and the gemm
// needs no second barrier.
// CHECK-LABEL: func.func @gemm_after_barrier
// Each copy's threads fence their writes for wgmma's async proxy right
// after the copy (nvidia-insert-proxy-fences); one barrier before the gemm.
// CHECK: llvm.store %{{.+}}, %{{.+}} {alignment = 16 : i64} : vector<8xf16>, !llvm.ptr<3>
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NOT: nvvm.barrier0
// CHECK: llvm.store %{{.+}}, %{{.+}} {alignment = 16 : i64} : vector<8xf16>, !llvm.ptr<3>
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: nvvm.barrier0
// CHECK-NOT: nvvm.barrier0
// CHECK: wgmma.fence.sync.aligned;{{.*}}wgmma.mma_async
func.func @gemm_after_barrier(%a: memref<64x32xf16, #tile.scope<global>>, %b: memref<32x64xf16, #tile.scope<global>>,
                              %c: memref<64x64xf16, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %as = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<32x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.copy %a[%c0, %c0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<64x32xf16, #tile.scope<global>> to memref<64x32xf16, #tile.scope<shared>>
    tile.copy %b[%c0, %c0] [32, 64] to %bs[%c0, %c0] [32, 64] : memref<32x64xf16, #tile.scope<global>> to memref<32x64xf16, #tile.scope<shared>>
    tile.barrier
    tile.gemm %as, %bs, %acc clear_accum : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    tile.copy %acc[%c0, %c0] [64, 64] to %c[%c0, %c0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<64x64xf16, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// The same gemm on tensors whose edges cut the last tiles (100 rows, 2
// blocks of 64): loads outside the tensor read zero and stores outside are
// dropped, a whole vector at a time.
// CHECK-LABEL: func.func @gemm_edges
// CHECK: scf.if %{{.+}} -> (vector<8xf16>)
// CHECK: llvm.load %{{.+}} {alignment = 16 : i64} : !llvm.ptr<1> -> vector<8xf16>
// CHECK: wgmma.mma_async.sync.aligned.m64n64k16
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: scf.if %{{.+}} {
// CHECK: llvm.store %{{.+}}, %{{.+}} {alignment = 4 : i64} : vector<2xf16>, !llvm.ptr<1>
func.func @gemm_edges(%a: memref<100x32xf16, #tile.scope<global>>, %b: memref<32x128xf16, #tile.scope<global>>,
                      %c: memref<100x128xf16, #tile.scope<global>>) {
  %c2 = arith.constant 2 : index
  tile.kernel grid(%c2, %c2) threads(128) {
  ^bb0(%bx: index, %by: index):
    %c0 = arith.constant 0 : index
    %c64 = arith.constant 64 : index
    %as = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<32x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    %m0 = arith.muli %by, %c64 : index
    %n0 = arith.muli %bx, %c64 : index
    tile.copy %a[%m0, %c0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<100x32xf16, #tile.scope<global>> to memref<64x32xf16, #tile.scope<shared>>
    tile.copy %b[%c0, %n0] [32, 64] to %bs[%c0, %c0] [32, 64] : memref<32x128xf16, #tile.scope<global>> to memref<32x64xf16, #tile.scope<shared>>
    tile.gemm %as, %bs, %acc clear_accum : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    tile.copy %acc[%c0, %c0] [64, 64] to %c[%m0, %n0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<100x128xf16, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// A row reduction of an accumulator: each thread combines its own two
// columns per 8-column group, then the four lanes of a row exchange
// partial maxima with two butterfly shuffles.
// CHECK-LABEL: func.func @row_max
// CHECK: arith.maximumf
// CHECK: nvvm.shfl.sync bfly %{{.+}}, %{{.+}}, %c1_i32, %c31_i32 : f32 -> f32
// CHECK: arith.maximumf
// CHECK: nvvm.shfl.sync bfly %{{.+}}, %{{.+}}, %c2_i32, %c31_i32 : f32 -> f32
// CHECK: arith.maximumf
func.func @row_max(%a: memref<64x16xf16, #tile.scope<global>>, %b: memref<16x16xf16, #tile.scope<global>>,
                   %out: memref<64xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %as = tile.alloc : memref<64x16xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<16x16xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x16xf32, #tile.scope<fragment>>
    %m = tile.alloc : memref<64xf32, #tile.scope<fragment>>
    tile.copy %a[%c0, %c0] [64, 16] to %as[%c0, %c0] [64, 16] : memref<64x16xf16, #tile.scope<global>> to memref<64x16xf16, #tile.scope<shared>>
    tile.copy %b[%c0, %c0] [16, 16] to %bs[%c0, %c0] [16, 16] : memref<16x16xf16, #tile.scope<global>> to memref<16x16xf16, #tile.scope<shared>>
    tile.gemm %as, %bs, %acc clear_accum : memref<64x16xf16, #tile.scope<shared>>, memref<16x16xf16, #tile.scope<shared>>, memref<64x16xf32, #tile.scope<fragment>>
    tile.reduce max %acc, %m dim 1 : memref<64x16xf32, #tile.scope<fragment>> to memref<64xf32, #tile.scope<fragment>>
    tile.copy %m[%c0] [64] to %out[%c0] [64] : memref<64xf32, #tile.scope<fragment>> to memref<64xf32, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// T.Parallel over an accumulator runs, on each thread, exactly the
// iterations whose elements it holds: each fragment access is a register
// slot (eight per thread here), with no loop left. Where an index is needed
// (the copy out), (i, j) comes from the thread index by shifts and masks,
// computed once next to the thread index.
// CHECK-LABEL: func.func @scale
// CHECK: %[[TID:.+]] = arith.index_cast %{{.+}} : i32 to index
// CHECK-DAG: %[[ROWQ:.+]] = arith.shrui %[[TID]], %c2
// CHECK-DAG: arith.andi %[[ROWQ]], %c7
// CHECK-DAG: arith.andi %[[TID]], %c3
// CHECK: wgmma.mma_async.sync.aligned.m64n16k16.f32.f16.f16 {{.+}}, da, db, first, 1, 1, 0, 1;
// CHECK-COUNT-8: math.exp2
// CHECK-NOT: math.exp2
// A register A operand (P x V in attention) is inline PTX: upstream has
// no op for it.
// CHECK: llvm.inline_asm has_side_effects {{.*}}wgmma.mma_async.sync.aligned.m64n16k16.f32.f16.f16
func.func @scale(%a: memref<64x16xf16, #tile.scope<global>>, %b: memref<16x16xf16, #tile.scope<global>>,
                 %out: memref<64x16xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %as = tile.alloc : memref<64x16xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<16x16xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x16xf32, #tile.scope<fragment>>
    %p = tile.alloc : memref<64x16xf16, #tile.scope<fragment>>
    %o = tile.alloc : memref<64x16xf32, #tile.scope<fragment>>
    tile.copy %a[%c0, %c0] [64, 16] to %as[%c0, %c0] [64, 16] : memref<64x16xf16, #tile.scope<global>> to memref<64x16xf16, #tile.scope<shared>>
    tile.copy %b[%c0, %c0] [16, 16] to %bs[%c0, %c0] [16, 16] : memref<16x16xf16, #tile.scope<global>> to memref<16x16xf16, #tile.scope<shared>>
    tile.gemm %as, %bs, %acc clear_accum policy full_row : memref<64x16xf16, #tile.scope<shared>>, memref<16x16xf16, #tile.scope<shared>>, memref<64x16xf32, #tile.scope<fragment>>
    tile.parallel [64, 16] {
    ^bb0(%i: index, %j: index):
      %x = memref.load %acc[%i, %j] : memref<64x16xf32, #tile.scope<fragment>>
      %y = math.exp2 %x : f32
      memref.store %y, %acc[%i, %j] : memref<64x16xf32, #tile.scope<fragment>>
      tile.yield
    }
    tile.copy %acc[%c0, %c0] [64, 16] to %p[%c0, %c0] [64, 16] : memref<64x16xf32, #tile.scope<fragment>> to memref<64x16xf16, #tile.scope<fragment>>
    tile.gemm %p, %bs, %o clear_accum policy full_row : memref<64x16xf16, #tile.scope<fragment>>, memref<16x16xf16, #tile.scope<shared>>, memref<64x16xf32, #tile.scope<fragment>>
    tile.copy %o[%c0, %c0] [64, 16] to %out[%c0, %c0] [64, 16] : memref<64x16xf32, #tile.scope<fragment>> to memref<64x16xf32, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// Without a fragment, T.Parallel deals iterations round-robin: 200
// iterations over 128 threads is two rounds, the second predicated. The
// index then stays inside the 200-element tensor: no bounds guard.
// CHECK-LABEL: func.func @elementwise
// CHECK: scf.for %[[K:.+]] = %c0 to %c2 step %c1
// CHECK: %[[Q:.+]] = arith.addi %{{.+}}, %{{.+}} : index
// CHECK: arith.cmpi ult, %[[Q]], %c200
// CHECK: scf.if
// CHECK-NOT: scf.if
// CHECK: llvm.load %{{.+}} : !llvm.ptr<1> -> f32
// CHECK: arith.addf
// CHECK: llvm.store %{{.+}}, %{{.+}} : f32, !llvm.ptr<1>
func.func @elementwise(%x: memref<200xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    tile.parallel [200] {
    ^bb0(%i: index):
      %v = memref.load %x[%i] : memref<200xf32, #tile.scope<global>>
      %one = arith.constant 1.0 : f32
      %w = arith.addf %v, %one : f32
      memref.store %w, %x[%i] : memref<200xf32, #tile.scope<global>>
      tile.yield
    }
    tile.yield
  }
  return
}

// -----

// Two gemms into different accumulators: the second is issued while the
// first is still in flight, and one wait, placed before the first use of a
// result, covers both.
// CHECK-LABEL: func.func @independent_gemms
// CHECK: wgmma.fence.sync.aligned;{{.*}}wgmma.mma_async.sync.aligned.m64n64k16
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NOT: nvvm.wgmma.wait.group.sync.aligned
// CHECK: wgmma.fence.sync.aligned;{{.*}}wgmma.mma_async.sync.aligned.m64n64k16
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK-NOT: nvvm.wgmma.wait.group.sync.aligned
// CHECK: llvm.store {{.+}} : vector<2xf16>, !llvm.ptr<1>
// CHECK: return
func.func @independent_gemms(%a: memref<64x32xf16, #tile.scope<global>>, %b: memref<32x64xf16, #tile.scope<global>>,
                             %c: memref<64x64xf16, #tile.scope<global>>, %d: memref<64x64xf16, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %as = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<32x64xf16, #tile.scope<shared>>
    %acc0 = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    %acc1 = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.copy %a[%c0, %c0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<64x32xf16, #tile.scope<global>> to memref<64x32xf16, #tile.scope<shared>>
    tile.copy %b[%c0, %c0] [32, 64] to %bs[%c0, %c0] [32, 64] : memref<32x64xf16, #tile.scope<global>> to memref<32x64xf16, #tile.scope<shared>>
    tile.gemm %as, %bs, %acc0 clear_accum : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    tile.gemm %as, %bs, %acc1 clear_accum : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    tile.copy %acc0[%c0, %c0] [64, 64] to %c[%c0, %c0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<64x64xf16, #tile.scope<global>>
    tile.copy %acc1[%c0, %c0] [64, 64] to %d[%c0, %c0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<64x64xf16, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// In a K loop the gemm is left in flight at the end of an iteration; the
// next iteration's copy into the operand tiles first waits for it, then
// synchronizes the block (other threads' wgmmas may still read the tiles),
// and only then writes. After the loop the accumulator is waited for before
// it is stored.
// CHECK-LABEL: func.func @k_loop
// CHECK: scf.for
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: llvm.inline_asm has_side_effects "", "=f
// CHECK: nvvm.barrier0
// CHECK: llvm.store {{.+}} : vector<8xf16>, !llvm.ptr<3>
// CHECK: nvvm.barrier0
// CHECK: wgmma.mma_async.sync.aligned.m64n64k16
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NOT: nvvm.wgmma.wait.group.sync.aligned
// CHECK: }
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: llvm.store {{.+}} : vector<2xf16>, !llvm.ptr<1>
func.func @k_loop(%a: memref<64x128xf16, #tile.scope<global>>, %b: memref<128x64xf16, #tile.scope<global>>,
                  %c: memref<64x64xf16, #tile.scope<global>>) {
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
    tile.pipelined %c0 to %c4 step %c1 stages 1 {
    ^bb0(%k: index):
      %k0 = arith.muli %k, %c32 : index
      tile.copy %a[%c0, %k0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<64x128xf16, #tile.scope<global>> to memref<64x32xf16, #tile.scope<shared>>
      tile.copy %b[%k0, %c0] [32, 64] to %bs[%c0, %c0] [32, 64] : memref<128x64xf16, #tile.scope<global>> to memref<32x64xf16, #tile.scope<shared>>
      tile.gemm %as, %bs, %acc : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
      tile.yield
    }
    tile.copy %acc[%c0, %c0] [64, 64] to %c[%c0, %c0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<64x64xf16, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// A row maximum over a fragment dealt out row-major (every thread holds
// part of every row) into a result every thread keeps: each thread combines
// its four elements of a row, the warp's lanes combine by butterfly (five
// shuffles), lane 0 of each of the four warps writes the warp's partial
// past the planned tiles (here at byte 0: no shared tiles), and after a
// barrier each thread combines the four partials of each row.
// CHECK-LABEL: func.func @row_max_blocked
// CHECK-SAME: tessel.shared_bytes = 128
// CHECK-COUNT-3: arith.maximumf
// CHECK: nvvm.shfl.sync bfly %{{.+}}, %{{.+}}, %c1_i32, %c31_i32 : f32 -> f32
// CHECK: nvvm.shfl.sync bfly %{{.+}}, %{{.+}}, %c16_i32, %c31_i32 : f32 -> f32
// CHECK: scf.if
// CHECK: llvm.store %{{.+}}, %{{.+}} : f32, !llvm.ptr<3>
// CHECK: nvvm.barrier0
// CHECK: llvm.load %{{.+}} : !llvm.ptr<3> -> f32
// CHECK-COUNT-3: llvm.load %{{.+}} : !llvm.ptr<3> -> f32
func.func @row_max_blocked(%x: memref<8x512xf32, #tile.scope<global>>, %out: memref<8xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %f = tile.alloc : memref<8x512xf32, #tile.scope<fragment>>
    %m = tile.alloc : memref<8xf32, #tile.scope<fragment>>
    tile.copy %x[%c0, %c0] [8, 512] to %f[%c0, %c0] [8, 512] : memref<8x512xf32, #tile.scope<global>> to memref<8x512xf32, #tile.scope<fragment>>
    tile.reduce max %f, %m dim 1 : memref<8x512xf32, #tile.scope<fragment>> to memref<8xf32, #tile.scope<fragment>>
    tile.copy %m[%c0] [8] to %out[%c0] [8] : memref<8xf32, #tile.scope<fragment>> to memref<8xf32, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// T.Pipelined(num_stages=3): A's and B's tiles are copied in 16-byte pieces
// as written (B of A @ B is read MN-major in place), so both run two
// iterations ahead with cp.async into three stage buffers each
// (nvidia-pipeline-buffers stages them: they have no planned storage of
// their own, so shared bytes are the 3 x 8192 of the stages).
// Prologue: a loop over stages 0 and 1, one commit group each. Each iteration waits for
// the wgmma that read the stage it refills, issues iteration i+2 into stage
// (i+2) % 3, commits, waits until at most two groups are in flight (its own
// has landed), fences for the async proxy and synchronizes the block.
// With tma=true, A's tile (64x32 f16, 64-byte swizzle) and B's (32x64 f16,
// 128-byte swizzle) come by tensor copies: a descriptor parameter each after the
// tensors (passed by value), three barriers after the stages (24576 + 24
// bytes), 8192 bytes announced per stage.
// TMA-LABEL: func.func @pipelined_k_loop
// TMA-SAME: %{{.+}}: !llvm.ptr {llvm.align = 64 : i64, llvm.byval = !llvm.array<128 x i8>, tessel.grid_constant}
// TMA-SAME: tessel.shared_bytes = 24600
// TMA-SAME: tessel.tensor_maps = [{box = array<i64: 64, 32>, param = 3 : i64, swizzle = 64 : i64, tensor = 0 : i64}, {box = array<i64: 32, 64>, param = 4 : i64, swizzle = 128 : i64, tensor = 1 : i64}]
// TMA: mbarrier.init.shared::cta.b64
// TMA: mbarrier.arrive.expect_tx.shared::cta.b64 _, [$0], $1;", "r,r" %{{.+}}, %c8192_i32
// TMA: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// TMA: mbarrier.try_wait.parity.shared::cta.b64
// With warp-specialize=true as well, a producer warpgroup (threads 128-255)
// feeds the loop. Thread 0 creates a full barrier (1 arrival: the
// producer's expect_tx) and an empty barrier (128 arrivals: every consumer)
// per stage, after the three stages (24576 + 48 bytes); the whole block
// synchronizes once. The consumers (tid < 128) run the kernel, with named
// barriers over their 128 threads only (none in this loop: no thread
// copies); per iteration they wait for the stage's full barrier, compute,
// wait for the previous iteration's wgmma group (this one stays in flight)
// and release the stage it read; after the loop, the last group. The producer gives up registers and one thread runs the
// loop: wait until the stage is released, announce its bytes, issue TMA.
// WS-LABEL: func.func @pipelined_k_loop
// WS-SAME: tessel.shared_bytes = 24624
// WS-SAME: tessel.threads = 256
// WS-SAME: tessel.warp_specialized = array<i64: 255, 40, 255>
// WS: %[[T0:.+]] = arith.cmpi eq, %{{.+}}, %c0 : index
// WS-NEXT: scf.if %[[T0]] {
// WS: %c24576
// WS: mbarrier.init.shared::cta.b64 [$0], $1;", "r,r" %{{.+}}, %c1_i32
// WS: %c24600
// WS: mbarrier.init.shared::cta.b64 [$0], $1;", "r,r" %{{.+}}, %c128_i32
// WS-COUNT-2: mbarrier.init.shared::cta.b64 [$0], $1;", "r,r" %{{.+}}, %c{{1|128}}_i32
// WS: mbarrier.init.shared::cta.b64 [$0], $1;", "r,r" %{{.+}}, %c1_i32
// WS: mbarrier.init.shared::cta.b64 [$0], $1;", "r,r" %{{.+}}, %c128_i32
// WS-NEXT: fence.mbarrier_init.release.cluster;
// WS: nvvm.barrier0
// WS-NEXT: %[[CONSUMER:.+]] = arith.cmpi ult, %{{.+}}, %c128 : index
// WS-NEXT: scf.if %[[CONSUMER]] {
// WS-NOT: nvvm.setmaxregister
// WS: scf.for
// WS: mbarrier.try_wait.parity.shared::cta.b64
// WS-NOT: nvvm.barrier id
// WS: wgmma.mma_async.sync.aligned.m64n64k16
// WS: nvvm.wgmma.wait.group.sync.aligned 1
// WS: mbarrier.arrive.shared::cta.b64 _, [$0];", "r"
// WS: nvvm.wgmma.wait.group.sync.aligned 0
// WS: mbarrier.arrive.shared::cta.b64 _, [$0];", "r"
// WS-NOT: nvvm.barrier0
// WS: } else {
// WS-NEXT: nvvm.setmaxregister decrease 40
// WS-NEXT: %[[ELECTED:.+]] = arith.cmpi eq, %{{.+}}, %c128 : index
// WS-NEXT: scf.if %[[ELECTED]] {
// WS-NEXT: scf.for
// WS: %[[FLIPPED:.+]] = arith.xori %{{.+}}, %c1 : index
// WS: %[[PARITY:.+]] = arith.index_cast %[[FLIPPED]] : index to i32
// WS: mbarrier.try_wait.parity.shared::cta.b64 done, [$0], $1;{{.+}}", "r,r" %{{.+}}, %[[PARITY]]
// WS: mbarrier.arrive.expect_tx.shared::cta.b64 _, [$0], $1;", "r,r" %{{.+}}, %c8192_i32
// WS-COUNT-2: cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes
// WS-NOT: nvvm.barrier
// WS: return
// With async-copies=false the loop runs as written, one buffer per tile.
// NOASYNC-LABEL: func.func @pipelined_k_loop
// NOASYNC-SAME: tessel.shared_bytes = 8192
// NOASYNC-NOT: nvvm.cp.async
// NOASYNC: return
// CHECK-LABEL: func.func @pipelined_k_loop
// CHECK-SAME: tessel.shared_bytes = 24576
// CHECK: scf.for %{{.+}} = %c0 to %c2 step %c1
// CHECK: nvvm.cp.async.shared.global %{{.+}}, %{{.+}}, 16, cache = cg
// CHECK: nvvm.cp.async.commit.group
// CHECK: scf.for
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: nvvm.barrier0
// CHECK: nvvm.cp.async.shared.global %{{.+}}, %{{.+}}, 16, cache = cg
// CHECK: nvvm.cp.async.commit.group
// CHECK-NEXT: nvvm.cp.async.wait.group 2
// CHECK-NEXT: nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
// CHECK-NEXT: nvvm.barrier0
// CHECK-NOT: nvvm.cp.async.shared.global
// CHECK: wgmma.mma_async.sync.aligned.m64n64k16
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK: }
// CHECK: nvvm.cp.async.wait.group 0
func.func @pipelined_k_loop(%a: memref<64x128xf16, #tile.scope<global>>, %b: memref<128x64xf16, #tile.scope<global>>,
                            %c: memref<64x64xf16, #tile.scope<global>>) {
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
    tile.copy %acc[%c0, %c0] [64, 64] to %c[%c0, %c0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<64x64xf16, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// The same loop over a K of 104 (not a multiple of the 32-wide tile): the
// last iteration's pieces past column 104 read nothing and fill zeros
// (cp.async's source size is 0 for them, and the address stays the
// tensor's own).
// CHECK-LABEL: func.func @pipelined_k_edge
// CHECK: arith.select %{{.+}}, %c16_i32, %c0_i32 : i32
// CHECK: nvvm.cp.async.shared.global %{{.+}}, %{{.+}}, 16, cache = cg, %{{.+}} : !llvm.ptr<3>, !llvm.ptr<1>, i32
func.func @pipelined_k_edge(%a: memref<64x104xf16, #tile.scope<global>>, %b: memref<104x64xf16, #tile.scope<global>>,
                            %c: memref<64x64xf16, #tile.scope<global>>) {
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
    tile.pipelined %c0 to %c4 step %c1 stages 2 {
    ^bb0(%k: index):
      %k0 = arith.muli %k, %c32 : index
      tile.copy %a[%c0, %k0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<64x104xf16, #tile.scope<global>> to memref<64x32xf16, #tile.scope<shared>>
      tile.copy %b[%k0, %c0] [32, 64] to %bs[%c0, %c0] [32, 64] : memref<104x64xf16, #tile.scope<global>> to memref<32x64xf16, #tile.scope<shared>>
      tile.gemm %as, %bs, %acc : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
      tile.yield
    }
    tile.copy %acc[%c0, %c0] [64, 64] to %c[%c0, %c0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<64x64xf16, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// Attention's loop shape: K's tile is loaded, S = Q K^T, P = S (a use of
// S), O += P V. What an iteration leaves in flight is the second gemm (O, P
// and V's tile), which neither the K load nor the first gemm of the next
// iteration touches: so the iteration starts with no wait, and PV of
// iteration i-1 runs under the K load and QK^T of iteration i. (Assuming
// every gemm of the body in flight at the top would put a wait before the
// K load.) The wait comes when S is used.
// CHECK-LABEL: func.func @attention_overlap
// CHECK: scf.for
// CHECK-NOT: nvvm.wgmma.wait.group.sync.aligned
// CHECK: wgmma.mma_async.sync.aligned.m64n64k16
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NEXT: nvvm.wgmma.wait.group.sync.aligned 0
// CHECK: arith.truncf
// CHECK: wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {{.+}}, {$65, $66, $67, $68}, db, first
// CHECK: nvvm.wgmma.commit.group.sync.aligned
// CHECK-NOT: nvvm.wgmma.wait.group.sync.aligned
// CHECK: }
// CHECK: nvvm.wgmma.wait.group.sync.aligned 0
func.func @attention_overlap(%q: memref<64x64xf16, #tile.scope<global>>, %k: memref<64x64xf16, #tile.scope<global>>,
                             %v: memref<64x64xf16, #tile.scope<global>>, %o: memref<64x64xf16, #tile.scope<global>>) {
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
    %zero = arith.constant 0.0 : f32
    tile.fill %acc, %zero : memref<64x64xf32, #tile.scope<fragment>>
    tile.copy %q[%c0, %c0] [64, 64] to %qs[%c0, %c0] [64, 64] : memref<64x64xf16, #tile.scope<global>> to memref<64x64xf16, #tile.scope<shared>>
    tile.copy %k[%c0, %c0] [64, 64] to %ks[%c0, %c0] [64, 64] : memref<64x64xf16, #tile.scope<global>> to memref<64x64xf16, #tile.scope<shared>>
    tile.copy %v[%c0, %c0] [64, 64] to %vs[%c0, %c0] [64, 64] : memref<64x64xf16, #tile.scope<global>> to memref<64x64xf16, #tile.scope<shared>>
    tile.pipelined %c0 to %c4 step %c1 stages 1 {
    ^bb0(%i: index):
      tile.copy %k[%c0, %c0] [64, 64] to %ks[%c0, %c0] [64, 64] : memref<64x64xf16, #tile.scope<global>> to memref<64x64xf16, #tile.scope<shared>>
      tile.gemm %qs, %ks, %s transpose_b clear_accum : memref<64x64xf16, #tile.scope<shared>>, memref<64x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
      tile.parallel [64, 64] {
      ^bb0(%r: index, %c: index):
        %x = memref.load %s[%r, %c] : memref<64x64xf32, #tile.scope<fragment>>
        %h = arith.truncf %x : f32 to f16
        memref.store %h, %p[%r, %c] : memref<64x64xf16, #tile.scope<fragment>>
        tile.yield
      }
      tile.gemm %p, %vs, %acc : memref<64x64xf16, #tile.scope<fragment>>, memref<64x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
      tile.yield
    }
    tile.copy %acc[%c0, %c0] [64, 64] to %o[%c0, %c0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<64x64xf16, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// Warp MMA loads K-adjacent pairs, so B of A @ B on mma.sync (a 64-thread
// block) is stored K-major and its copy transposes: each thread takes an
// 8x8 block (32x64 = 32 blocks, threads 0-31), loads its eight 16-byte rows,
// regroups them in registers and stores eight 16-byte columns.
// CHECK-LABEL: func.func @transposing_copy
// CHECK: scf.if
// CHECK-COUNT-8: llvm.load %{{.+}} {alignment = 16 : i64} : !llvm.ptr<1> -> vector<8xf16>
// CHECK-COUNT-8: llvm.extractelement
// CHECK: llvm.store %{{.+}}, %{{.+}} {alignment = 16 : i64} : vector<8xf16>, !llvm.ptr<3>
// CHECK-NOT: llvm.store %{{.+}}, %{{.+}} : f16, !llvm.ptr<3>
// CHECK: mma.sync.aligned.m16n8k16
func.func @transposing_copy(%a: memref<64x32xf16, #tile.scope<global>>, %b: memref<32x64xf16, #tile.scope<global>>,
                            %c: memref<64x64xf16, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(64) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %as = tile.alloc : memref<64x32xf16, #tile.scope<shared>>
    %bs = tile.alloc : memref<32x64xf16, #tile.scope<shared>>
    %acc = tile.alloc : memref<64x64xf32, #tile.scope<fragment>>
    tile.copy %b[%c0, %c0] [32, 64] to %bs[%c0, %c0] [32, 64] : memref<32x64xf16, #tile.scope<global>> to memref<32x64xf16, #tile.scope<shared>>
    tile.copy %a[%c0, %c0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<64x32xf16, #tile.scope<global>> to memref<64x32xf16, #tile.scope<shared>>
    tile.gemm %as, %bs, %acc clear_accum : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
    tile.copy %acc[%c0, %c0] [64, 64] to %c[%c0, %c0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<64x64xf16, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// order= and stage= as the author gives them: everything in the last stage
// (no copy runs ahead, no stage buffers), B's copy first. The order keeps
// every dependence (the copies are independent; the gemm still follows
// both); invalid.mlir has the orders and stages that are refused.
// CHECK-LABEL: func.func @pipelined_order_stage
// CHECK-SAME: tessel.shared_bytes = 8192
// CHECK-NOT: nvvm.cp.async
// CHECK: scf.for
// CHECK: llvm.getelementptr %arg1
// CHECK: llvm.getelementptr %arg0
// CHECK: wgmma.mma_async
func.func @pipelined_order_stage(%a: memref<64x128xf16, #tile.scope<global>>, %b: memref<128x64xf16, #tile.scope<global>>,
                                 %c: memref<64x64xf16, #tile.scope<global>>) {
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
    tile.pipelined %c0 to %c4 step %c1 stages 2 order [1, 0, 2] stage [1, 1, 1] {
    ^bb0(%k: index):
      %k0 = arith.muli %k, %c32 : index
      tile.copy %a[%c0, %k0] [64, 32] to %as[%c0, %c0] [64, 32] : memref<64x128xf16, #tile.scope<global>> to memref<64x32xf16, #tile.scope<shared>>
      tile.copy %b[%k0, %c0] [32, 64] to %bs[%c0, %c0] [32, 64] : memref<128x64xf16, #tile.scope<global>> to memref<32x64xf16, #tile.scope<shared>>
      tile.gemm %as, %bs, %acc : memref<64x32xf16, #tile.scope<shared>>, memref<32x64xf16, #tile.scope<shared>>, memref<64x64xf32, #tile.scope<fragment>>
      tile.yield
    }
    tile.copy %acc[%c0, %c0] [64, 64] to %c[%c0, %c0] [64, 64] : memref<64x64xf32, #tile.scope<fragment>> to memref<64x64xf16, #tile.scope<global>>
    tile.yield
  }
  return
}

// -----

// The kernel's scalar code runs in every thread; a store into a global
// tensor there is thread 0's alone, so every thread reads it back only after
// a barrier. Nothing reads %s after the second store: no barrier follows it.
// CHECK-LABEL: func.func @scalar_store_then_read
// CHECK: %[[T0:.+]] = arith.cmpi eq, %{{.+}}, %c0 : index
// CHECK: scf.if %[[T0]]
// CHECK-NEXT: llvm.store %{{.+}}, %{{.+}} : f32, !llvm.ptr<1>
// CHECK-NEXT: }
// CHECK-NEXT: nvvm.barrier0
// CHECK: llvm.load %{{.+}} : !llvm.ptr<1> -> f32
// CHECK: llvm.store %{{.+}}, %{{.+}} : f32, !llvm.ptr<1>
// CHECK-NOT: nvvm.barrier0
// CHECK: return
func.func @scalar_store_then_read(%s: memref<2xf32, #tile.scope<global>>) {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(128) {
  ^bb0(%bx: index):
    %c0 = arith.constant 0 : index
    %one = arith.constant 1.0 : f32
    memref.store %one, %s[%c0] : memref<2xf32, #tile.scope<global>>
    %v = memref.load %s[%c0] : memref<2xf32, #tile.scope<global>>
    %w = arith.addf %v, %one : f32
    memref.store %w, %s[%c1] : memref<2xf32, #tile.scope<global>>
    tile.yield
  }
  return
}
