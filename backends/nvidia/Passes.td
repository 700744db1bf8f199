//===- Passes.td - passes of the NVIDIA backend ------------*- tablegen -*-===//

#ifndef TESSEL_NVIDIA_PASSES
#define TESSEL_NVIDIA_PASSES

include "mlir/Pass/PassBase.td"

def TileLowerToNVVMPass : Pass<"tile-lower-to-nvvm", "::mlir::ModuleOp"> {
  let summary = "Maps tile programs onto the threads of a Hopper block and lowers them to NVVM.";
  let description = [{
    Runs after `tile-infer-layouts` and `tile-plan-memory`. Each function
    holding a `tile.kernel` becomes a GPU kernel (`nvvm.kernel`) whose
    parameters are the tensors' global pointers. Inside it:

    - threads are mapped: a fragment lives in registers, each thread holding
      the elements its layout gives it; `tile.parallel` runs, on each thread,
      the iterations whose fragment elements that thread holds (or, with no
      fragment, a round-robin share of the iterations); copies between
      global and shared memory are shared out in 16-byte vectors where
      alignment allows, with tails predicated; reductions of fragments
      combine in registers, then across the threads of a row with warp
      shuffles, and across warps through shared scratch;
    - shared-memory gemm operands are stored K-major with the 32/64/128-byte
      swizzle `wgmma` reads, and `tile.gemm` becomes `wgmma.mma_async`
      (inline PTX, all K steps of an accumulator chunk in one statement)
      with a fence and a commit; the wait is deferred to the first use;
    - in `tile.pipelined` with two or more stages, global-to-shared copies
      that move 16-byte pieces as written get a shared buffer per stage and
      run stages-1 iterations ahead with `cp.async.cg` (async-copies=false
      turns this off);
    - barriers (`bar.sync`) and `fence.proxy.async` are placed where one
      thread's shared-memory writes meet another's reads.

    Kernels must have static shapes for now; anything the mapping cannot
    express is a located error.
  }];
  let options = [
    Option<"asyncCopies", "async-copies", "bool", /*default=*/"true",
           "Pipeline tile.pipelined loops' copies with cp.async">,
    Option<"tma", "tma", "bool", /*default=*/"false",
           "Load pipelined tiles stored K-major and swizzled "
           "with TMA (cp.async.bulk.tensor) completing on mbarriers; the "
           "kernel takes a TMA descriptor per such tile, listed in "
           "tessel.tensor_maps">,
    Option<"warpSpecialize", "warp-specialize", "bool", /*default=*/"false",
           "With tma: a top-level pipelined loop whose ahead copies all go "
           "by TMA is fed by a producer warpgroup added after the kernel's "
           "threads (full/empty mbarriers per stage, setmaxnreg), the "
           "kernel's threads consuming">,
    Option<"strictSync", "strict-sync", "bool", /*default=*/"false",
           "A barrier or wgmma wait between statements that nvidia-insert-barriers "
           "or nvidia-mma-async did not place is an internal error (a check "
           "for tests; by default the lowering adds it and records the count "
           "in the function's tessel.unplanned_barriers / tessel.unplanned_waits)">
  ];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::scf::SCFDialect", "::mlir::LLVM::LLVMDialect",
    "::mlir::NVVM::NVVMDialect", "::mlir::func::FuncDialect"
  ];
}

def NVIDIAGemmOperandCopiesPass : Pass<"nvidia-gemm-operand-copies", "::mlir::ModuleOp"> {
  let summary = "Gives a shared tile that gemms need stored two ways a copy for the second way.";
  let description = [{
    The lowering stores each shared gemm operand one way. K-major operands
    (K along the tile's columns) are stored as they are; so are 16-bit
    MN-major operands of warpgroup MMA, which `wgmma` reads in place through
    its transpose bits. An 8-bit MN-major operand, or an MN-major operand of
    a warp MMA (`mma.sync` loads pairs of K-adjacent elements), needs the
    tile stored transposed. When gemms need one tile stored both ways (an
    fp8 kernel reading a tile as the B of `Q K^T` and of `P V`), the first
    gemm in program order keeps the tile; every later gemm that needs the
    other way reads a second tile of the same shape instead, refreshed by a
    `tile.copy` just before that gemm, so it always sees the tile's current
    contents. The copy costs the tile's size in shared memory and a
    shared-to-shared copy per such gemm. Runs after `tile-infer-layouts`,
    which chooses each gemm's MMA kind (a gemm without one counts as
    warpgroup MMA).

    ```mlir
    tile.gemm %q, %kv, %s transpose_b {mma = #tile.mma<kind = mma_sync, ...>}
    tile.gemm %p, %kv, %o {mma = #tile.mma<kind = mma_sync, ...>}
    // becomes
    %kv2 = tile.alloc : memref<64x64xf16, #tile.scope<shared>>
    tile.gemm %q, %kv, %s transpose_b ...
    tile.copy %kv[...] to %kv2[...]
    tile.gemm %p, %kv2, %o ...
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def NVIDIAPipelineBuffersPass : Pass<"nvidia-pipeline-buffers", "::mlir::ModuleOp"> {
  let summary = "Decides which copies of each T.Pipelined loop run ahead, into how many stage buffers.";
  let description = [{
    `T.Pipelined(..., num_stages=S)` overlaps loads with compute by issuing
    some copies S-1 iterations ahead into S buffers of their tile. This pass
    makes that decision before shared memory is planned and records it:

    - `tessel.stages = S` on the `tile.pipelined` op: the stage buffers it
      gets (fewer than asked when S of them, with a full and an empty
      mbarrier each, would not fit in 227 KB next to every other shared
      tile of the kernel counted whole);
    - `tessel.ahead` on each copy that runs ahead: a copy from global into a
      whole shared tile stored as written, in 16-byte pieces, from offsets
      computed from the loop index (and elements of tensors the kernel only
      reads), whose tile nothing else writes and nothing outside the loop
      uses; what `stage=` puts in the compute stays;
    - `tessel.tma` on such a copy that TMA can move (a row-major tensor
      parameter into a whole swizzled tile stored as written: every 16-bit
      gemm operand now, B of `A @ B` included); the others use `cp.async`;
    - `tessel.staged` on that tile: it has no storage of its own, since its
      stage buffers hold every use; `tile-plan-memory` places nothing for it
      and the lowering places the stage buffers.

    - `tessel.producer` on a loop a producer warpgroup feeds (every copy
      that runs ahead loads by TMA, and the producer can compute the loop's
      bounds, the condition of a top-level `if` around it and the copies'
      offsets itself), with `tessel.wgmma_in_flight = 1` when each
      iteration issues its gemms unconditionally, so the consumers keep one
      iteration's wgmma group in flight; and on the kernel,
      `tessel.warp_registers`: registers per thread at launch, the
      producer's and the consumers' after `setmaxnreg`.

    `tile-lower-to-nvvm` then issues these copies as decided. Without this pass the lowering decides the same copies
    itself and keeps the tiles' planned storage.

    ```mlir
    %a = tile.alloc {tessel.staged} : memref<128x64xf16, #tile.scope<shared>>
    tile.pipelined %c0 to %n step %c1 stages 3 {
      tile.copy %A[...] [128, 64] to %a[...] [128, 64] {tessel.ahead} ...
      tile.gemm %a, ...
    } {tessel.stages = 3 : i64}
    ```
  }];
  let options = [
    Option<"asyncCopies", "async-copies", "bool", "true",
           "Run copies ahead at all (false: every loop runs as written)">,
    Option<"tma", "tma", "bool", "true",
           "Load the copies TMA can move by TMA (false: cp.async for all)">,
    Option<"warpSpecialize", "warp-specialize", "bool", "true",
           "Feed loops whose copies all load by TMA from a producer warpgroup">
  ];
}

def NVIDIAMmaAsyncPass : Pass<"nvidia-mma-async", "::mlir::ModuleOp"> {
  let summary = "Places the waits for wgmma groups in flight before the statements that need them.";
  let description = [{
    A wgmma gemm's MMAs run on while later statements do. This pass follows
    the groups in flight (committed by each warpgroup gemm, carried around
    loops and through branches, retired by a pipelined loop's own refills
    and by a producer-fed loop's drain) and puts
    `nvvm.wgmma.wait.group.sync.aligned 0` before each statement that must
    wait for them: one using an accumulator or register operand of a group
    in flight, a gemm reading such an accumulator as an operand or
    accumulating into such an operand, and one writing shared bytes a group
    reads. Marks each kernel `tessel.waits_placed`; `tile-lower-to-nvvm`
    then counts any wait it would still have to add between statements
    (`strict-sync` makes that an error). The waits inside a pipelined
    loop's schedule (`wait_group 1` keeping one group in flight) stay the
    lowering's. Runs after `tile-plan-memory`, before
    `nvidia-insert-barriers`.

    ```mlir
    tile.gemm %qs, %ks, %s ...
    tile.reduce max %s, %m dim 1 ...
    // becomes
    tile.gemm %qs, %ks, %s ...
    nvvm.wgmma.wait.group.sync.aligned 0
    tile.reduce max %s, %m dim 1 ...
    ```
  }];
  let dependentDialects = ["::mlir::NVVM::NVVMDialect"];
}

def NVIDIAInsertBarriersPass : Pass<"nvidia-insert-barriers", "::mlir::ModuleOp"> {
  let summary = "Places block barriers where threads' shared-memory accesses depend on each other.";
  let description = [{
    Follows the statements of each kernel in the order the lowering emits
    them (copies, fills, gemms, reductions, `T.Parallel` bodies, scalar
    loads and stores; a pipelined loop's body in `order=` order), with the
    shared bytes each reads and writes (by the offsets `tile-plan-memory`
    gave the tiles; a pipelined loop's staged tiles are its stage area), and
    places a `tile.barrier`:
    - before a statement that reads bytes written since the last barrier,
      or writes bytes read or written since;
    - before a loop when anything is outstanding, and as the last statement
      of a loop body that leaves something outstanding;
    - after thread 0's stores to global memory in the kernel's scalar code,
      before the threads next touch global memory.

    A warpgroup MMA reads its shared operands until a wait: a statement
    writing them waits first (`nvvm.wgmma.wait.group.sync.aligned 0`, placed
    before the barrier when the statement needs both), and the bytes count
    as read from then on. The pass tracks the groups in flight as the
    lowering keeps them, across loops and branches. Synchronization inside
    one statement's lowering stays there: a reduction through the scratch
    area, a pipelined loop's stage refills and mbarrier waits. Marks each
    kernel `tessel.barriers_placed`; `tile-lower-to-nvvm` then counts any
    barrier it would still have to add between statements
    (`unplanned-barriers` in `-mlir-pass-statistics`). Runs after
    `tile-plan-memory`.

    ```mlir
    tile.copy %a[...] to %as[...] : ...
    tile.gemm %as, %bs, %acc ...
    // becomes
    tile.copy %a[...] to %as[...] : ...
    tile.barrier
    tile.gemm %as, %bs, %acc ...
    ```
  }];
  let dependentDialects = ["::mlir::NVVM::NVVMDialect"];
}

def NVIDIAInsertProxyFencesPass : Pass<"nvidia-insert-proxy-fences", "::mlir::ModuleOp"> {
  let summary = "Fences generic-proxy writes to shared memory that a warpgroup MMA later reads.";
  let description = [{
    wgmma reads its shared operands through the async proxy, which a block
    barrier does not order after the threads' ordinary (generic-proxy)
    stores. The writing thread must execute `fence.proxy.async` between its
    store and the synchronization the reader waits on. This pass follows
    every statement's generic writes to shared memory (copies, fills,
    reductions, atomics, stores in `T.Parallel` bodies and scalar code)
    forward through branches and around loops, and where one reaches a
    warpgroup MMA that reads overlapping bytes (by the offsets
    `tile-plan-memory` gave the tiles, so memory reused by another tile
    counts) with no fence between, it places `nvvm.fence.proxy` right after
    the writing statement. Barriers play no part: a barrier never clears a
    pending write. Copies a pipelined loop runs ahead are left to the
    pipeline's lowering. Runs after `tile-plan-memory`.

    ```mlir
    tile.copy %q[...] to %qs[...] : ...
    // becomes
    tile.copy %q[...] to %qs[...] : ...
    nvvm.fence.proxy {kind = #nvvm.proxy_kind<async.shared>, space = #nvvm.shared_space<cta>}
    ...
    tile.gemm %qs, %ks, %acc transpose_b {mma = #tile.mma<kind = wgmma, ...>} : ...
    ```
  }];
  let dependentDialects = ["::mlir::NVVM::NVVMDialect"];
}

def NVIDIAScalarFragmentsPass : Pass<"nvidia-scalar-fragments", "::mlir::ModuleOp"> {
  let summary = "Holds small fragments that block-level code indexes as scalars in every thread.";
  let description = [{
    TileLang programs keep per-block values in small fragments
    (`T.alloc_fragment((1,))` for a running scalar, a row of mask flags read
    in a loop) and index them outside any `T.Parallel`. A fragment spreads
    its elements over threads, so such an access has no owner. A fragment of
    at most 128 elements that block-level code loads or stores, and that is
    otherwise only filled, indexed, or copied to or from global or shared
    memory, becomes a local buffer: every thread holds all of it, copies
    into it are made whole by each thread, and block-level code reads it
    anywhere. A fragment a gemm, a reduction or a fragment copy uses keeps
    its layout. Runs first, on tile IR.

    ```mlir
    %m = tile.alloc : memref<16xi32, #tile.scope<fragment>>
    %x = memref.load %m[%k] : memref<16xi32, #tile.scope<fragment>>   // not in a tile.parallel
    // becomes
    %m = tile.alloc : memref<16xi32, #tile.scope<local>>
    ```
  }];
}

def NVIDIAWidenReductionsPass : Pass<"nvidia-widen-reductions", "::mlir::ModuleOp"> {
  let summary = "Computes reductions of f16, bf16 and fp8 fragments in f32.";
  let description = [{
    The GPU combines reduction partials in f32 registers and f32 warp
    shuffles. A `tile.reduce` of a fragment of a narrower float becomes a
    conversion of the source into an f32 fragment, the reduction into an f32
    fragment (holding the destination's old values when `clear` is false),
    and a conversion of the result into the destination, each conversion a
    `tile.parallel` so that both fragments take one layout: maxima and minima
    are exact, sums are accumulated in f32 and rounded once. Runs first, on
    tile IR, so that the new fragments get layouts.

    ```mlir
    tile.reduce max %x, %m dim 1 : memref<64x64xf16, ...> to memref<64xf16, ...>
    // becomes
    %xw = tile.alloc : memref<64x64xf32, ...>
    tile.parallel [64, 64] { ... %xw[i, j] = arith.extf %x[i, j] ... }
    %mw = tile.alloc : memref<64xf32, ...>
    tile.reduce max %xw, %mw dim 1 : memref<64x64xf32, ...> to memref<64xf32, ...>
    tile.parallel [64] { ... %m[i] = arith.truncf %mw[i] ... }
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::memref::MemRefDialect"];
}

def NVIDIAFastMathPass : Pass<"nvidia-fast-math", "::mlir::ModuleOp"> {
  let summary = "Lets floating-point division and math functions use the GPU's approximate instructions.";
  let description = [{
    TileLang's `TL_ENABLE_FAST_MATH` (Tessel's `fast_math`): every
    `arith.divf` and every `math` op gets the `afn` fast-math flag, so that
    NVPTX emits `div.approx.f32` for a division (`div.rn.f32` without it)
    and approximate forms of the math functions. `exp2` is `ex2.approx`
    either way. Runs on the lowered kernel, before the conversion to LLVM.

    ```mlir
    %q = arith.divf %a, %b : f32
    // becomes
    %q = arith.divf %a, %b fastmath<afn> : f32
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect", "::mlir::math::MathDialect"];
}

#endif // TESSEL_NVIDIA_PASSES
