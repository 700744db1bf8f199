//===- Passes.h - passes of the CPU backend -----------------------*- C++ -*-===//

#ifndef TESSEL_BACKENDS_CPU_PASSES_H
#define TESSEL_BACKENDS_CPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "dialects/tile/IR/TileAttrs.h"
#include "mlir/Pass/Pass.h"

namespace tessel::cpu {

#define GEN_PASS_DECL
#include "backends/cpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "backends/cpu/Passes.h.inc"

/// Converts a scalar to `to` with the language's rules (round to nearest
/// even, truncation toward zero for float to int), routing f16, bf16 and
/// fp8 through f32 so that only f32 <-> small-float conversions remain.
mlir::Value convertScalar(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Value value, mlir::Type to);

/// The value a cleared reduction starts from (-inf for max, 0 for sums).
mlir::Value reductionIdentity(mlir::OpBuilder &b, mlir::Location loc,
                              tessel::tile::ReduceKind kind, mlir::Type t);

/// Indices into one side of a tile.copy: dimensions of size 1 stay at their
/// offset, the others are offset + the next of `ivs`, in order.
llvm::SmallVector<mlir::Value> regionIndices(mlir::OpBuilder &b, mlir::Location loc,
                                             mlir::ValueRange offsets,
                                             llvm::ArrayRef<int64_t> sizes,
                                             mlir::ValueRange ivs);

/// acc combined with x by `kind` (abs kinds: x must already be |x|).
mlir::Value reductionCombine(mlir::OpBuilder &b, mlir::Location loc,
                             tessel::tile::ReduceKind kind, mlir::Value acc,
                             mlir::Value x);

} // namespace tessel::cpu

#endif // TESSEL_BACKENDS_CPU_PASSES_H
