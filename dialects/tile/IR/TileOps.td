//===- TileOps.td - operations of the tile dialect ---------*- tablegen -*-===//

#ifndef TESSEL_TILE_OPS
#define TESSEL_TILE_OPS

include "dialects/tile/IR/TileDialect.td"
include "dialects/tile/IR/TileAttrs.td"
include "mlir/IR/OpBase.td"
include "mlir/IR/CommonTypeConstraints.td"
include "mlir/IR/CommonAttrConstraints.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/Interfaces/ControlFlowInterfaces.td"
include "mlir/IR/BuiltinAttributes.td"

/// A scalar a tile op can hold or compute with.
def Tile_Scalar : AnyTypeOf<[AnySignlessInteger, AnyFloat, Index]>;

//===----------------------------------------------------------------------===//
// Structure: kernel, yield, barrier
//===----------------------------------------------------------------------===//

def Tile_KernelOp : Tile_Op<"kernel", [
    SingleBlockImplicitTerminator<"YieldOp">, RecursiveMemoryEffects]> {
  let summary = "Runs its region once for every block of a 1-3 dimensional grid.";
  let description = [{
    The region's block arguments are the block's indices, one per grid
    dimension (`bx, by, bz`). `threads` is the number of threads per block;
    `cluster`, when given, groups blocks into thread-block clusters.

    ```mlir
    tile.kernel grid(%gx, %gy) threads(128) {
    ^bb0(%bx: index, %by: index):
      tile.barrier
    }
    ```
  }];
  let arguments = (ins
    Variadic<Index>:$grid,
    I64Attr:$threads,
    OptionalAttr<DenseI64ArrayAttr>:$cluster
  );
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    `grid` `(` $grid `)` `threads` `(` $threads `)` (`cluster` $cluster^)?
    attr-dict-with-keyword $body
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
}

def Tile_YieldOp : Tile_Op<"yield", [
    Pure, Terminator, ReturnLike,
    ParentOneOf<["KernelOp", "ParallelOp", "PipelinedOp"]>]> {
  let summary = "Ends the body of a kernel, parallel or pipelined region.";
  let description = [{
    Implicit in the custom form of its parents; it carries no values because
    tile programs communicate through buffers.

    ```mlir
    tile.yield
    ```
  }];
  let assemblyFormat = "attr-dict";
}

def Tile_BarrierOp : Tile_Op<"barrier"> {
  let summary = "Waits until every thread of the block reaches this point.";
  let description = [{
    Orders shared-memory writes before later reads by other threads of the
    same block. Only valid inside a `tile.kernel`.

    ```mlir
    tile.barrier
    ```
  }];
  let assemblyFormat = "attr-dict";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

def Tile_AllocOp : Tile_Op<"alloc", [
    MemoryEffects<[MemAlloc<DefaultResource>]>]> {
  let summary = "Allocates a statically shaped tile in shared, fragment or local memory for the block.";
  let description = [{
    The buffer lives until the end of the enclosing `tile.kernel`. A fragment
    may carry a `layout` saying which thread holds each element; when absent,
    the layout pass chooses one.

    ```mlir
    %a = tile.alloc : memref<128x64xf16, #tile.scope<shared>>
    %c = tile.alloc {layout = #tile.fragment<map = (i, j) -> (i, j), threads = 128>}
        : memref<128x64xf32, #tile.scope<fragment>>
    ```
  }];
  let arguments = (ins OptionalAttr<Tile_FragmentLayoutAttr>:$layout);
  let results = (outs AnyStaticShapeMemRef:$result);
  let assemblyFormat = "attr-dict `:` type($result)";
  let hasVerifier = 1;
}

def Tile_CopyOp : Tile_Op<"copy", [AttrSizedOperandSegments]> {
  let summary = "Copies a rectangular region of one buffer into a region of another, converting the element type.";
  let description = [{
    Each side names a region by its offsets (one per dimension of its buffer)
    and static sizes. The two regions must have the same shape once unit
    dimensions are dropped, so a `[1, 64, 1, 576]` slice of a 4-d tensor can
    fill a `64x576` shared tile. Elements of the source region outside its
    buffer read as zero; writes outside the destination buffer are dropped.

    ```mlir
    tile.copy %A[%i, %k] [128, 64] to %As[%c0, %c0] [128, 64]
        : memref<1024x1024xf16, #tile.scope<global>> to memref<128x64xf16, #tile.scope<shared>>
    ```
  }];
  let arguments = (ins
    AnyMemRef:$src, Variadic<Index>:$src_offsets, DenseI64ArrayAttr:$src_sizes,
    AnyMemRef:$dst, Variadic<Index>:$dst_offsets, DenseI64ArrayAttr:$dst_sizes
  );
  let assemblyFormat = [{
    $src `[` $src_offsets `]` $src_sizes `to` $dst `[` $dst_offsets `]` $dst_sizes
    attr-dict `:` type($src) `to` type($dst)
  }];
  let hasVerifier = 1;
}

def Tile_FillOp : Tile_Op<"fill", [
    TypesMatchWith<"value has the element type of dst", "dst", "value",
                   "::llvm::cast<::mlir::MemRefType>($_self).getElementType()">]> {
  let summary = "Sets every element of a shared, fragment or local tile to one value.";
  let description = [{
    `T.clear(buf)` is a fill with zero.

    ```mlir
    %zero = arith.constant 0.0 : f32
    tile.fill %acc, %zero : memref<128x128xf32, #tile.scope<fragment>>
    ```
  }];
  let arguments = (ins AnyMemRef:$dst, Tile_Scalar:$value);
  let assemblyFormat = "$dst `,` $value attr-dict `:` type($dst)";
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

def Tile_GemmOp : Tile_Op<"gemm"> {
  let summary = "Accumulates the matrix product of two tiles into a register tile: C += op(A) * op(B).";
  let description = [{
    `op(X)` is `X` or its transpose (`transpose_a`, `transpose_b`), so that
    `op(A)` is MxK and `op(B)` is KxN; `C` is MxN. `clear_accum` zeroes `C`
    first. `policy` says how warps split the output tile; `mma`, which
    `tile-infer-layouts` writes, records the MMA kind it chose and the split
    (`#tile.mma<kind = wgmma, gridM = 1, gridN = 2>`). Inputs are f16,
    bf16, f32, fp8 (e4m3/e5m2) or i8; the accumulator is f32 (f16 for f16
    inputs) or i32 for i8.

    ```mlir
    tile.gemm %As, %Bs, %Cf transpose_b
        : memref<128x64xf16, #tile.scope<shared>>, memref<128x64xf16, #tile.scope<shared>>,
          memref<128x128xf32, #tile.scope<fragment>>
    ```
  }];
  let arguments = (ins
    AnyMemRef:$a, AnyMemRef:$b, AnyMemRef:$c,
    UnitAttr:$transpose_a, UnitAttr:$transpose_b, UnitAttr:$clear_accum,
    DefaultValuedAttr<Tile_GemmWarpPolicy, "::tessel::tile::GemmWarpPolicy::Square">:$policy,
    OptionalAttr<Tile_MmaAttr>:$mma
  );
  let builders = [
    // No transposes, no clearing, the square policy, no MMA chosen yet.
    OpBuilder<(ins "::mlir::Value":$a, "::mlir::Value":$b, "::mlir::Value":$c), [{
      build($_builder, $_state, a, b, c, /*transpose_a=*/false, /*transpose_b=*/false,
            /*clear_accum=*/false, ::tessel::tile::GemmWarpPolicy::Square,
            /*mma=*/nullptr);
    }]>
  ];
  let assemblyFormat = [{
    $a `,` $b `,` $c (`transpose_a` $transpose_a^)? (`transpose_b` $transpose_b^)?
    (`clear_accum` $clear_accum^)? (`policy` $policy^)?
    attr-dict `:` type($a) `,` type($b) `,` type($c)
  }];
  let hasVerifier = 1;
}

def Tile_ReduceOp : Tile_Op<"reduce"> {
  let summary = "Reduces a tile along one dimension into a tile of one rank less.";
  let description = [{
    `dst` has the shape of `src` with dimension `dim` removed (a 1-d source
    reduces into a rank-0 or one-element buffer). With `clear` (the default)
    `dst` is overwritten; without it the result is combined with what `dst`
    holds.

    ```mlir
    tile.reduce max %S, %m dim 1
        : memref<64x128xf32, #tile.scope<fragment>> to memref<64xf32, #tile.scope<fragment>>
    ```
  }];
  let arguments = (ins
    Tile_ReduceKind:$kind, AnyMemRef:$src, AnyMemRef:$dst,
    I64Attr:$dim, DefaultValuedAttr<BoolAttr, "true">:$clear
  );
  let assemblyFormat = [{
    $kind $src `,` $dst `dim` $dim attr-dict `:` type($src) `to` type($dst)
  }];
  let hasVerifier = 1;
}

def Tile_ParallelOp : Tile_Op<"parallel", [
    SingleBlockImplicitTerminator<"YieldOp">, RecursiveMemoryEffects]> {
  let summary = "Runs its body once for every index of a static iteration space, in any order and across threads.";
  let description = [{
    The body's block arguments are the indices, one per extent. Iterations
    must not depend on one another; the thread-mapping pass distributes them
    over the block's threads following the layouts of the fragments they use.

    ```mlir
    tile.parallel [128, 64] {
    ^bb0(%i: index, %j: index):
      %x = memref.load %F[%i, %j] : memref<128x64xf32, #tile.scope<fragment>>
      memref.store %x, %G[%i, %j] : memref<128x64xf32, #tile.scope<fragment>>
    }
    ```
  }];
  let arguments = (ins DenseI64ArrayAttr:$extents);
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = "$extents attr-dict-with-keyword $body";
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let hasCanonicalizer = 1;
}

def Tile_PipelinedOp : Tile_Op<"pipelined", [
    SingleBlockImplicitTerminator<"YieldOp">, RecursiveMemoryEffects]> {
  let summary = "A sequential loop whose loads the compiler overlaps with compute across num_stages buffers.";
  let description = [{
    Iterates `%k` from `lower` to `upper` (exclusive) by `step`. With
    `num_stages = N > 1` the pipeline pass keeps N copies of the buffers the
    body fills by copy and issues the copies for later iterations while the
    current one computes. `order` and `stage`, when given, fix the position
    and the pipeline stage of each statement of the body (each operation
    that is not pure arithmetic), in body order.

    ```mlir
    tile.pipelined %c0 to %n step %c1 stages 3 {
    ^bb0(%k: index):
      tile.copy %A[%c0, %k] [128, 64] to %As[%c0, %c0] [128, 64]
          : memref<128x1024xf16, #tile.scope<global>> to memref<128x64xf16, #tile.scope<shared>>
    }
    ```
  }];
  let arguments = (ins
    Index:$lower, Index:$upper, Index:$step, I64Attr:$num_stages,
    OptionalAttr<DenseI64ArrayAttr>:$order, OptionalAttr<DenseI64ArrayAttr>:$stage
  );
  let regions = (region SizedRegion<1>:$body);
  let assemblyFormat = [{
    $lower `to` $upper `step` $step `stages` $num_stages
    (`order` $order^)? (`stage` $stage^)? attr-dict-with-keyword $body
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let hasCanonicalizer = 1;
}

def Tile_AtomicAddOp : Tile_Op<"atomic_add", [
    TypesMatchWith<"value has the element type of dst", "dst", "value",
                   "::llvm::cast<::mlir::MemRefType>($_self).getElementType()">]> {
  let summary = "Atomically adds a scalar to one element of a global or shared buffer.";
  let description = [{
    Concurrent adds from any threads and blocks are all applied; their order
    is unspecified. `memory_order` (relaxed when absent; acquire, release,
    acq_rel or seq_cst) orders the thread's other memory accesses around the
    add, as C++'s atomics do. With a result, the op also yields the element's
    value just before this add.

    ```mlir
    tile.atomic_add %v, %Out[%i, %j] : memref<64x64xf32, #tile.scope<global>>
    %old = tile.atomic_add %one, %Count[%c0] {memory_order = "acq_rel"}
        : memref<1xi32, #tile.scope<global>> -> i32
    ```
  }];
  let arguments = (ins Tile_Scalar:$value, AnyMemRef:$dst, Variadic<Index>:$indices,
                       OptionalAttr<StrAttr>:$memory_order);
  let results = (outs Optional<Tile_Scalar>:$previous);
  let assemblyFormat = [{
    $value `,` $dst `[` $indices `]` attr-dict `:` type($dst) (`->` type($previous)^)?
  }];
  let hasVerifier = 1;
}

def Tile_CastOp : Tile_Op<"cast", [Pure]> {
  let summary = "Converts a scalar to another numeric type with the language's rounding and saturation rules.";
  let description = [{
    Floats round to nearest even; float to integer truncates toward zero;
    conversions to fp8 follow that format's saturation rule. One op for every
    pair of types lets the frontend write `T.cast(x, dtype)` without choosing
    among `arith`'s conversions; the backends pick the instruction.

    ```mlir
    %h = tile.cast %x : f32 to bf16
    ```
  }];
  let arguments = (ins Tile_Scalar:$input);
  let results = (outs Tile_Scalar:$result);
  let assemblyFormat = "$input attr-dict `:` type($input) `to` type($result)";
  let hasFolder = 1;
}

def Tile_PrintOp : Tile_Op<"print"> {
  let summary = "Prints a message and the given scalars or buffers, for debugging kernels.";
  let description = [{
    On the CPU backend the output goes to standard output in program order;
    on GPUs each thread that reaches it prints.

    ```mlir
    tile.print "row max" %m : memref<64xf32, #tile.scope<fragment>>
    ```
  }];
  let arguments = (ins StrAttr:$message, Variadic<AnyType>:$values);
  let assemblyFormat = "$message ($values^ `:` type($values))? attr-dict";
  let hasVerifier = 1;
}

#endif // TESSEL_TILE_OPS
