//===- ScalarBuilders.h - scalar code both backends build ------*- C++ -*-===//
//
// Conversions with the language's rules, reduction identities and combines,
// and the indices of a tile.copy: what the CPU lowering (tile-lower-to-loops)
// and the NVIDIA one (tile-lower-to-nvvm) both emit, so they agree.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_DIALECTS_TILE_TRANSFORMS_SCALARBUILDERS_H
#define TESSEL_DIALECTS_TILE_TRANSFORMS_SCALARBUILDERS_H

#include "dialects/tile/IR/TileAttrs.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/SmallVector.h"

namespace tessel::tile {

/// Converts a scalar to `to` with the language's rules (round to nearest
/// even, truncation toward zero for float to int), routing f16, bf16 and
/// fp8 through f32 so that only f32 <-> small-float conversions remain.
mlir::Value convertScalar(mlir::OpBuilder &b, mlir::Location loc,
                          mlir::Value value, mlir::Type to);

/// The value a cleared reduction starts from (-inf for max, 0 for sums).
mlir::Value reductionIdentity(mlir::OpBuilder &b, mlir::Location loc,
                              ReduceKind kind, mlir::Type t);

/// acc combined with x by `kind` (abs kinds: x must already be |x|).
mlir::Value reductionCombine(mlir::OpBuilder &b, mlir::Location loc,
                             ReduceKind kind, mlir::Value acc, mlir::Value x);

/// Indices into one side of a tile.copy: dimensions of size 1 stay at their
/// offset, the others are offset + the next of `ivs`, in order.
llvm::SmallVector<mlir::Value> regionIndices(mlir::OpBuilder &b, mlir::Location loc,
                                             mlir::ValueRange offsets,
                                             llvm::ArrayRef<int64_t> sizes,
                                             mlir::ValueRange ivs);

} // namespace tessel::tile

#endif // TESSEL_DIALECTS_TILE_TRANSFORMS_SCALARBUILDERS_H
