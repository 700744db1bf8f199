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

#endif // TESSEL_CPU_PASSES
