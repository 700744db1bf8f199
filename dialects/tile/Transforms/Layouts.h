//===- Layouts.h - fragment layouts Tessel knows how to build -----*- C++ -*-===//

#ifndef TESSEL_DIALECTS_TILE_TRANSFORMS_LAYOUTS_H
#define TESSEL_DIALECTS_TILE_TRANSFORMS_LAYOUTS_H

#include "dialects/tile/IR/TileAttrs.h"
#include "dialects/tile/IR/TileOps.h"

#include "llvm/ADT/DenseMap.h"

#include <optional>

namespace tessel::tile {

/// How a block's MMA units split a gemm's M x N output tile: warpgroups of
/// 128 threads for warpgroup MMA (wgmma), each covering 64 accumulator rows
/// per instruction, or warps of 32 threads for warp MMA (mma.sync), 16 rows.
/// Within a unit, every warp holds 16-row slabs in the same pattern: each
/// thread two adjacent columns of every 8-column group, in two rows 8 apart.
struct WarpgroupGrid {
  int64_t alongM = 1, alongN = 1;
  int64_t unitThreads = 128;
  int64_t slabRows() const { return unitThreads / 2; }
};

/// The split of an m x n tile over `units` MMA units of `unitThreads`
/// threads under `policy`, or std::nullopt if no split gives each unit whole
/// slabs of rows and 8-column groups. `full_row` and `full_col` are
/// preferences: when no split along that direction alone fits, the one that
/// goes furthest along it.
std::optional<WarpgroupGrid> splitMmaUnits(GemmWarpPolicy policy, int64_t units,
                                           int64_t unitThreads, int64_t m,
                                           int64_t n);

/// The split for `warpgroups` warpgroups (wgmma) under `policy`.
inline std::optional<WarpgroupGrid> splitWarpgroups(GemmWarpPolicy policy,
                                                    int64_t warpgroups,
                                                    int64_t m, int64_t n) {
  return splitMmaUnits(policy, warpgroups, 128, m, n);
}

/// The MMA accumulator layout of an M x N tile.
FragmentLayoutAttr accumulatorLayout(mlir::MLIRContext *ctx, WarpgroupGrid grid,
                                     int64_t m, int64_t n);

/// The layout of a length-M vector holding one value per accumulator row.
FragmentLayoutAttr accumulatorRowLayout(mlir::MLIRContext *ctx,
                                        WarpgroupGrid grid, int64_t m,
                                        int64_t n);

/// The layout of a 2-d fragment holding `layout`'s fragment transposed:
/// element (j, i) where `layout` has (i, j).
FragmentLayoutAttr transposedLayout(FragmentLayoutAttr layout);

/// Elements in row-major order, dealt round-robin to `threads` threads.
FragmentLayoutAttr blockedLayout(mlir::MLIRContext *ctx,
                                 llvm::ArrayRef<int64_t> shape, int64_t threads);

/// Every thread holds the whole fragment (slot = row-major index): the
/// layout of a reduction's results when the rows are spread over the whole
/// block. `threads` must be a power of two.
FragmentLayoutAttr replicatedLayout(mlir::MLIRContext *ctx,
                                    llvm::ArrayRef<int64_t> shape, int64_t threads);

/// The value of `expr` at `dims` (no symbols), without building new
/// expressions.
int64_t evaluateAffine(mlir::AffineExpr expr, llvm::ArrayRef<int64_t> dims);

/// An affine map without symbols flattened into a postfix program, for
/// evaluating a layout at every element of a tile (tens of thousands of
/// points) without walking the uniqued expression trees each time.
class AffineEvaluator {
public:
  explicit AffineEvaluator(mlir::AffineMap map);
  /// Writes the map's results at `dims` into `results` (one per result).
  void evaluate(llvm::ArrayRef<int64_t> dims,
                llvm::MutableArrayRef<int64_t> results) const;

private:
  enum class Code : uint8_t { Constant, Dim, Add, Mul, Mod, FloorDiv, CeilDiv, End };
  struct Step {
    Code code;
    int64_t value; // the constant, or the dimension's position
  };
  void append(mlir::AffineExpr expr);
  llvm::SmallVector<Step, 32> program;
  unsigned depth = 0, maxDepth = 0;
};

/// The value of index `v` given values for some block arguments, if `v` is
/// built from them and constants by integer arithmetic (+ - *, signed
/// division, remainder, floor and ceiling division, min, max, index casts).
std::optional<int64_t> evalIndex(mlir::Value v,
                                 const llvm::DenseMap<mlir::Value, int64_t> &env,
                                 int depth = 0);

/// The fragment a tile.parallel is laid out over: the first fragment the
/// body reads or writes indexed by exactly the loop's indices, with the
/// loop's shape; else, for a 2-d loop, one indexed by them swapped (walked
/// transposed). `indices` are the loop's indices in the fragment's order.
/// Every backend that runs a loop's iterations on the threads holding its
/// anchor's elements, and every pass that reasons about them, uses this.
struct ParallelAnchor {
  mlir::Value fragment;
  llvm::SmallVector<mlir::Value> indices;
};
std::optional<ParallelAnchor> findParallelAnchor(ParallelOp parallel);

/// True when `layout` gives every element of `shape` a (thread, slot) pair,
/// threads in range, and no two elements of one replica the same pair.
bool isValidLayout(FragmentLayoutAttr layout, llvm::ArrayRef<int64_t> shape);

} // namespace tessel::tile

#endif // TESSEL_DIALECTS_TILE_TRANSFORMS_LAYOUTS_H
