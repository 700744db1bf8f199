//===- Passes.td - passes of the CPU backend ---------------*- tablegen -*-===//

#ifndef TESSEL_CPU_PASSES
#define TESSEL_CPU_PASSES

include "mlir/Pass/PassBase.td"

def TileLowerToLoopsPass : Pass<"tile-lower-to-loops", "::mlir::ModuleOp"> {
  let summary = "Lowers tile programs to sequential scf loops over plain memrefs, for the CPU backend.";
  let description = [{
    The grid becomes a loop nest (one iteration per block), threads disappear
    (a block runs as one logical program), `tile.parallel` and
    `tile.pipelined` become `scf.for`, barriers vanish, and copies, gemms,
    fills and reductions become loop nests that compute exactly, in the
    accumulator's type. Reads outside a global tensor give zero; writes
    outside it are dropped. Buffers lose their `#tile.scope`.

    ```mlir
    // before
    tile.fill %acc, %zero : memref<4x4xf32, #tile.scope<fragment>>
    // after
    scf.for %i = %c0 to %c4 step %c1 {
      scf.for %j = %c0 to %c4 step %c1 {
        memref.store %zero, %acc[%i, %j] : memref<4x4xf32>
      }
    }
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect", "::mlir::math::MathDialect",
    "::mlir::memref::MemRefDialect", "::mlir::scf::SCFDialect",
    "::mlir::vector::VectorDialect"
  ];
}

def ExpandFloatConversionsPass
    : Pass<"tessel-expand-float-conversions", "::mlir::ModuleOp"> {
  let summary = "Rewrites conversions between f32 and f16, bf16 and fp8 as integer arithmetic, bit-exact.";
  let description = [{
    CPUs convert f16, bf16 and the fp8 formats through library calls, or not
    at all. This pass replaces every `arith.extf` from and `arith.truncf` to
    those types (f32 on the other side) with integer code that rounds to
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

#endif // TESSEL_CPU_PASSES
