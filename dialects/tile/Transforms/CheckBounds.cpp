//===- CheckBounds.cpp - static bounds checks on on-chip tiles ------------===//

#include "dialects/tile/IR/TileOps.h"
#include "dialects/tile/Transforms/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Matchers.h"

namespace tessel::tile {
#define GEN_PASS_DEF_TILECHECKBOUNDSPASS
#include "dialects/tile/Transforms/Passes.h.inc"
} // namespace tessel::tile

#define DEBUG_TYPE "tile-check-bounds"

using namespace mlir;
using namespace tessel::tile;

namespace {

bool isOnChip(MemRefType type) {
  std::optional<MemoryScope> scope = getMemoryScope(type);
  return scope && *scope != MemoryScope::Global;
}

/// Checks a region [offset, offset + size) per dimension of an on-chip tile;
/// offsets that are not constants are skipped.
LogicalResult checkRegion(Operation *op, StringRef role, MemRefType type,
                          ValueRange offsets, ArrayRef<int64_t> sizes) {
  if (!isOnChip(type))
    return success();
  for (auto [dim, offset] : llvm::enumerate(offsets)) {
    APInt value;
    int64_t extent = type.getDimSize(dim);
    if (ShapedType::isDynamic(extent) ||
        !matchPattern(offset, m_ConstantInt(&value)))
      continue;
    int64_t begin = value.getSExtValue();
    int64_t end = begin + sizes[dim];
    if (begin < 0 || end > extent)
      return op->emitError() << role << " region [" << begin << ", " << end
                             << ") in dim " << dim
                             << " is outside the tile of size " << extent;
  }
  return success();
}

struct TileCheckBoundsPass
    : public tessel::tile::impl::TileCheckBoundsPassBase<TileCheckBoundsPass> {
  void runOnOperation() override {
    // Report every bad access, not only the first.
    bool anyFailed = false;
    getOperation()->walk([&](Operation *op) {
      LogicalResult ok = success();
      if (auto copy = dyn_cast<CopyOp>(op)) {
        ok = checkRegion(op, "source", copy.getSrc().getType(),
                         copy.getSrcOffsets(), copy.getSrcSizes());
        if (succeeded(ok))
          ok = checkRegion(op, "destination", copy.getDst().getType(),
                           copy.getDstOffsets(), copy.getDstSizes());
      } else if (auto load = dyn_cast<memref::LoadOp>(op)) {
        SmallVector<int64_t> ones(load.getIndices().size(), 1);
        ok = checkRegion(op, "load", load.getMemRefType(), load.getIndices(),
                         ones);
      } else if (auto store = dyn_cast<memref::StoreOp>(op)) {
        SmallVector<int64_t> ones(store.getIndices().size(), 1);
        ok = checkRegion(op, "store", store.getMemRefType(),
                         store.getIndices(), ones);
      }
      anyFailed |= failed(ok);
    });
    if (anyFailed)
      signalPassFailure();
  }
};

} // namespace
