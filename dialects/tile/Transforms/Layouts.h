//===- Layouts.h - fragment layouts Tessel knows how to build -----*- C++ -*-===//

#ifndef TESSEL_DIALECTS_TILE_TRANSFORMS_LAYOUTS_H
#define TESSEL_DIALECTS_TILE_TRANSFORMS_LAYOUTS_H

#include "dialects/tile/IR/TileAttrs.h"
#include "dialects/tile/IR/TileOps.h"

#include <optional>

namespace tessel::tile {

/// How a block's warpgroups split a gemm's M x N output tile.
struct WarpgroupGrid {
  int64_t alongM = 1, alongN = 1;
};

/// The split for `warpgroups` warpgroups under `policy`, or std::nullopt if
/// no split gives each warpgroup whole 64-row slabs and 8-column groups.
std::optional<WarpgroupGrid> splitWarpgroups(GemmWarpPolicy policy,
                                             int64_t warpgroups, int64_t m,
                                             int64_t n);

/// The warpgroup-MMA accumulator layout of an M x N tile.
FragmentLayoutAttr accumulatorLayout(mlir::MLIRContext *ctx, WarpgroupGrid grid,
                                     int64_t m, int64_t n);

/// The layout of a length-M vector holding one value per accumulator row.
FragmentLayoutAttr accumulatorRowLayout(mlir::MLIRContext *ctx,
                                        WarpgroupGrid grid, int64_t m,
                                        int64_t n);

/// Elements in row-major order, dealt round-robin to `threads` threads.
FragmentLayoutAttr blockedLayout(mlir::MLIRContext *ctx,
                                 llvm::ArrayRef<int64_t> shape, int64_t threads);

/// The value of `expr` at `dims` (no symbols), without building new
/// expressions: fast enough to evaluate a layout at every element.
int64_t evaluateAffine(mlir::AffineExpr expr, llvm::ArrayRef<int64_t> dims);

/// True when `layout` gives every element of `shape` a (thread, slot) pair,
/// threads in range, and no two elements of one replica the same pair.
bool isValidLayout(FragmentLayoutAttr layout, llvm::ArrayRef<int64_t> shape);

} // namespace tessel::tile

#endif // TESSEL_DIALECTS_TILE_TRANSFORMS_LAYOUTS_H
