//===- Passes.td - passes over the tile dialect ------------*- tablegen -*-===//

#ifndef TESSEL_TILE_PASSES
#define TESSEL_TILE_PASSES

include "mlir/Pass/PassBase.td"

def TileCheckBoundsPass : Pass<"tile-check-bounds"> {
  let summary = "Reports accesses to on-chip tiles that a constant index puts outside the tile.";
  let description = [{
    Shared, fragment and local tiles have static shapes, so an access whose
    indices are constants can be checked before any code runs. The pass
    reports, at the access's location, every `tile.copy` region and every
    `memref.load`/`memref.store` on such a tile that falls outside it.
    Global tensors are not checked: reads past their edge are defined to
    return zero and writes past it are dropped.

    ```mlir
    // error: destination region [120, 136) in dim 0 is outside the tile of size 128
    tile.copy %A[%c0, %c0] [16, 64] to %s[%c120, %c0] [16, 64] : ...
    ```
  }];
}

def TilePlanMemoryPass : Pass<"tile-plan-memory"> {
  let summary = "Assigns each shared-memory tile an offset, reusing space between tiles whose lifetimes do not overlap.";
  let description = [{
    Within each `tile.kernel`, a shared tile lives from its first use to its
    last (uses inside loops count at the loop). Tiles are placed largest
    first at the lowest offset that no overlapping tile occupies, aligned to
    1024 bytes when a `tile.gemm` reads them (the 128-byte swizzle the tensor
    cores need) and to 128 bytes otherwise. A `tessel.num_buffers = N`
    attribute multiplies a tile's size; a tile marked `tessel.staged` (a
    backend's pipelining gives it stage buffers of its own, such as
    `nvidia-pipeline-buffers`) gets no place. The pass writes
    `tessel.shared_offset` on every other shared `tile.alloc` and
    `tessel.shared_bytes` on the kernel, and reports a kernel that needs more
    than `max-shared-bytes`, listing its largest tiles.

    ```mlir
    %a = tile.alloc {tessel.shared_offset = 0 : i64} : memref<128x64xf16, #tile.scope<shared>>
    ```
  }];
  let options = [
    Option<"maxSharedBytes", "max-shared-bytes", "int64_t", "232448",
           "Shared memory one block may use (227 KB on Hopper)">
  ];
}

def TileInferLayoutsPass : Pass<"tile-infer-layouts"> {
  let summary = "Chooses which thread holds each element of every fragment, starting from the target's MMA accumulator layouts.";
  let description = [{
    Each `tile.gemm` with a fragment accumulator runs on the first MMA kind
    the target offers (`target`, a name a backend registered) that its
    accumulator fits; the choice is written on the gemm as
    `mma = #tile.mma<kind = ..., gridM = ..., gridN = ...>`, and the
    accumulator takes that kind's layout. On `sm_90a` that is warpgroup MMA
    (`wgmma`: the block's warpgroups split the output tile by the gemm's warp
    policy, `full_row` along M, `full_col` along N, `square` as square as
    possible, each warpgroup covering 64-row slabs) and otherwise warp MMA
    (`mma_sync`, as sm_80 kernels use: warps of 32 threads with 16-row
    slabs), for accumulators under 64 rows per warpgroup and blocks under 128
    threads. In both, each warp holds 16-row slabs, each thread two adjacent
    columns of every 8-column group in two rows 8 apart. Layouts then flow
    until nothing changes: across copies between fragments of one shape, to
    the row reduction of an accumulator (the matching row layout, replicated
    over the threads sharing a row), and through `tile.parallel` loops that
    index an accumulator by `(i, j)` (other fragments indexed `(i, j)` take
    its layout, those indexed `(i)` its rows). A fragment whose layout
    disagrees with one of these is reported with both places. Every other
    fragment is spread over the threads in row-major order. Layouts already
    present are kept. A gemm no MMA kind fits is reported with what each kind
    needs.

    ```mlir
    %c = tile.alloc {layout = #tile.fragment<map = (d0, d1) -> (...), threads = 128>}
        : memref<64x64xf32, #tile.scope<fragment>>
    tile.gemm %a, %b, %c {mma = #tile.mma<kind = wgmma, gridM = 1, gridN = 1>} : ...
    ```
  }];
  let options = [
    Option<"targetName", "target", "std::string", /*default=*/"\"sm_90a\"",
           "The registered target whose MMA kinds and layouts to use">
  ];
}

def TileConvertLayoutsPass : Pass<"tile-convert-layouts", "::mlir::ModuleOp"> {
  let summary = "Reads through shared memory the fragment elements a T.Parallel needs from other threads.";
  let description = [{
    Runs after `tile-infer-layouts`. A `tile.parallel` over a fragment runs
    each iteration on the thread that holds the fragment's element (the
    anchor: the fragment indexed by the loop's indices, in order or, for a
    2-d loop, swapped). When another fragment the loop only reads has, for
    some iteration, its element in another thread (a bias in a 1-d fragment
    read as `bias[j]` beside `acc[i, j]`, a fragment read reversed), or in a
    register that varies from thread to thread for the same iteration (a
    row mean beside rows dealt round robin), the
    pass copies that fragment into a shared tile of its shape just before
    the loop and makes the loop read the tile: an explicit layout
    conversion, in the IR, instead of an error at lowering. A loop over no
    fragment (its iterations dealt to the threads round robin, e.g. over a
    shared tile: `S[i, j] *= scale[i]`) reads every fragment that way, and
    so does a read whose index is known only at run time (`lse[k, j]`
    inside `for k in T.serial(n)`: no register holds an element chosen
    then). Fragments the loop writes, and indices outside the fragment, are
    left alone (the lowering reports them).

    ```mlir
    tile.parallel [64, 64] {
    ^bb0(%i: index, %j: index):
      %b = memref.load %bias[%j] : memref<64xf32, #tile.scope<fragment>>
    // becomes
    tile.copy %bias[%c0] [64] to %bias_s[%c0] [64] : ... to memref<64xf32, #tile.scope<shared>>
    tile.parallel [64, 64] {
    ^bb0(%i: index, %j: index):
      %b = memref.load %bias_s[%j] : memref<64xf32, #tile.scope<shared>>
    ```

    A gemm's fragment A operand the target's MMA cannot read from registers
    as it is (another layout than the target's register operand layout, an
    8-bit type, a split along N that would need all of A in every
    warpgroup, a transposed A) is read from a shared copy made just before
    the gemm, instead of an error at lowering.
  }];
  let options = [
    Option<"targetName", "target", "std::string", /*default=*/"\"sm_90a\"",
           "The registered target whose register operand layouts apply">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

def TileCheckRegisterBudgetPass : Pass<"tile-check-register-budget", "::mlir::ModuleOp"> {
  let summary = "Refuses a fragment or local buffer that cannot fit in registers.";
  let description = [{
    Runs after `tile-infer-layouts`, before lowering. A fragment (the
    elements its layout gives one thread) or a local buffer (all of it, in
    every thread) needing more 32-bit registers per thread, or over the
    block's threads, than the target allows (`sm_90a`: 255 and 64K) is a
    located error naming the buffer, its registers per thread and the
    budget. Such a kernel could only spill, and lowering it took minutes and
    gigabytes. Each buffer is counted on its own, so no kernel that compiles
    without spills is refused.
  }];
  let options = [
    Option<"targetName", "target", "std::string", /*default=*/"\"sm_90a\"",
           "The registered target whose register budget applies">
  ];
}

def ExpandFloatConversionsPass
    : Pass<"tessel-expand-float-conversions", "::mlir::ModuleOp"> {
  let summary = "Rewrites conversions between f32 and f16, bf16 and fp8 as integer arithmetic, bit-exact.";
  let description = [{
    CPUs convert f16, bf16 and the fp8 formats through library calls, or not
    at all, and GPUs convert fp8 only on some architectures; both backends
    run this pass (the NVIDIA one with only-fp8). It replaces every
    `arith.extf` from and `arith.truncf` to those types (f32 on the other side) with integer code that rounds to
    nearest even and follows each format's overflow rule: IEEE formats
    (f16, bf16, f8E5M2) overflow to infinity, f8E4M3FN (no infinity) to NaN.
    The results match `ml_dtypes` bit for bit.

    ```mlir
    %h = arith.truncf %x : f32 to f16
    // becomes bitcast, shifts, compares and selects on i32, then
    %h = arith.bitcast %bits : i16 to f16
    ```
  }];
  let options = [
    Option<"onlyFp8", "only-fp8", "bool", /*default=*/"false",
           "Expand only the fp8 conversions (GPUs convert f16 and bf16 natively)">
  ];
  let dependentDialects = ["::mlir::arith::ArithDialect"];
}

#endif // TESSEL_TILE_PASSES
