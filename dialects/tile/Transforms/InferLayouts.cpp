//===- InferLayouts.cpp - fragment layouts from the tensor-core accumulator ===//

#include "dialects/tile/IR/TileOps.h"
#include "dialects/tile/Transforms/Layouts.h"
#include "dialects/tile/Transforms/Passes.h"

namespace tessel::tile {
#define GEN_PASS_DEF_TILEINFERLAYOUTSPASS
#include "dialects/tile/Transforms/Passes.h.inc"
} // namespace tessel::tile

#define DEBUG_TYPE "tile-infer-layouts"

using namespace mlir;
using namespace tessel::tile;

namespace {

/// The fragment allocation behind a buffer value, if it is one.
AllocOp fragmentAlloc(Value v) {
  auto alloc = v.getDefiningOp<AllocOp>();
  if (!alloc || getMemoryScope(alloc.getType()) != MemoryScope::Fragment)
    return nullptr;
  return alloc;
}

/// Small layouts are checked exhaustively: a wrong formula is a compiler bug
/// better caught here than as wrong numbers on a GPU.
constexpr int64_t kSelfCheckLimit = 1 << 16;

LogicalResult setLayout(AllocOp alloc, FragmentLayoutAttr layout) {
  MemRefType type = alloc.getType();
  if (type.getNumElements() <= kSelfCheckLimit &&
      !isValidLayout(layout, type.getShape()))
    return alloc.emitError("internal error: the inferred layout ")
           << layout << " does not map this fragment one-to-one";
  alloc.setLayoutAttr(layout);
  return success();
}

LogicalResult inferKernel(KernelOp kernel) {
  MLIRContext *ctx = kernel.getContext();
  int64_t threads = kernel.getThreads();
  struct Accumulator {
    WarpgroupGrid grid;
    int64_t m, n;
  };
  DenseMap<Value, Accumulator> accumulators;

  // 1. Gemm accumulators take the warpgroup-MMA layout.
  WalkResult result = kernel.walk([&](GemmOp gemm) {
    AllocOp c = fragmentAlloc(gemm.getC());
    if (!c)
      return WalkResult::advance();
    if (threads % 128) {
      gemm.emitError("T.gemm on Hopper needs the kernel's threads to be a "
                     "multiple of 128 (one warpgroup), got ")
          << threads;
      return WalkResult::interrupt();
    }
    int64_t m = c.getType().getDimSize(0), n = c.getType().getDimSize(1);
    std::optional<WarpgroupGrid> grid =
        splitWarpgroups(gemm.getPolicy(), threads / 128, m, n);
    if (!grid) {
      gemm.emitError("cannot split a ")
          << m << "x" << n << " accumulator over " << threads / 128
          << " warpgroups with policy " << stringifyGemmWarpPolicy(gemm.getPolicy())
          << ": each warpgroup needs whole 64-row slabs and 8-column groups";
      return WalkResult::interrupt();
    }
    accumulators[c.getResult()] = {*grid, m, n};
    if (!c.getLayout() &&
        failed(setLayout(c, accumulatorLayout(ctx, *grid, m, n))))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return failure();

  // 2. Row reductions of an accumulator follow its rows.
  result = kernel.walk([&](ReduceOp reduce) {
    auto it = accumulators.find(reduce.getSrc());
    AllocOp dst = fragmentAlloc(reduce.getDst());
    if (it == accumulators.end() || !dst || dst.getLayout() ||
        reduce.getDim() != 1 || dst.getType().getRank() != 1)
      return WalkResult::advance();
    const Accumulator &acc = it->second;
    if (failed(setLayout(dst, accumulatorRowLayout(ctx, acc.grid, acc.m, acc.n))))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return failure();

  // 3. Everything else is dealt out in row-major order.
  result = kernel.walk([&](AllocOp alloc) {
    if (getMemoryScope(alloc.getType()) != MemoryScope::Fragment ||
        alloc.getLayout())
      return WalkResult::advance();
    if (failed(setLayout(alloc, blockedLayout(ctx, alloc.getType().getShape(),
                                              threads))))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
}

struct TileInferLayoutsPass
    : public tessel::tile::impl::TileInferLayoutsPassBase<TileInferLayoutsPass> {
  void runOnOperation() override {
    bool anyFailed = false;
    getOperation()->walk([&](KernelOp kernel) {
      anyFailed |= failed(inferKernel(kernel));
    });
    if (anyFailed)
      signalPassFailure();
  }
};

} // namespace
