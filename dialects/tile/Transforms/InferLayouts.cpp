//===- InferLayouts.cpp - fragment layouts from the tensor-core accumulator ===//

#include "dialects/tile/IR/TileOps.h"
#include "dialects/tile/Transforms/Layouts.h"
#include "dialects/tile/Transforms/Passes.h"
#include "dialects/tile/Transforms/Target.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/MathExtras.h"

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

LogicalResult inferKernel(KernelOp kernel, const TargetInfo &target) {
  MLIRContext *ctx = kernel.getContext();
  int64_t threads = kernel.getThreads();
  struct Accumulator {
    MmaAttr mma;
    int64_t m, n;
  };
  DenseMap<Value, Accumulator> accumulators;

  // 1. Each gemm runs on the first of the target's MMA kinds its
  //    accumulator fits (recorded as its `mma` attribute), and the
  //    accumulator takes that kind's layout.
  WalkResult seeded = kernel.walk([&](GemmOp gemm) {
    AllocOp c = fragmentAlloc(gemm.getC());
    if (!c)
      return WalkResult::advance();
    int64_t m = c.getType().getDimSize(0), n = c.getType().getDimSize(1);
    MmaAttr mma = gemm.getMmaAttr();
    SmallVector<MmaKind> kinds = target.mmaKinds(
        gemm.getA().getType().getElementType(), gemm.getB().getType().getElementType());
    for (MmaKind kind : kinds) {
      if (mma)
        break;
      if (std::optional<MmaAttr> split =
              target.splitMma(ctx, kind, gemm.getPolicy(), threads, m, n))
        mma = *split;
    }
    if (!mma) {
      InFlightDiagnostic diag = gemm.emitError("no MMA of target ")
                                << target.name() << " fits a " << m << "x" << n
                                << " accumulator in a block of " << threads
                                << " threads with policy "
                                << stringifyGemmWarpPolicy(gemm.getPolicy());
      for (MmaKind kind : kinds)
        diag << "; " << target.mmaRequirement(kind);
      return WalkResult::interrupt();
    }
    gemm.setMmaAttr(mma);
    accumulators[c.getResult()] = {mma, m, n};
    if (!c.getLayout() &&
        failed(setLayout(c, target.accumulatorLayout(mma, m, n))))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (seeded.wasInterrupted())
    return failure();

  // 2. Propagate until nothing changes: copies between equal-shaped
  //    fragments carry a layout across, row reductions of an accumulator take
  //    its rows, and in a T.Parallel that indexes an accumulator by (i, j) a
  //    fragment indexed by (i, j) takes the accumulator layout and one
  //    indexed by (i) its rows. A fragment that already has another layout
  //    is a conflict, reported with both places.
  auto impose = [&](AllocOp target, FragmentLayoutAttr layout, Operation *why,
                    AllocOp source) -> FailureOr<bool> {
    if (std::optional<FragmentLayoutAttr> have = target.getLayout()) {
      if (*have == layout)
        return false;
      InFlightDiagnostic diag = why->emitError("conflicting layouts for a fragment: it has ")
                                << *have << " but this use needs " << layout;
      diag.attachNote(target.getLoc()) << "the fragment is allocated here";
      if (source)
        diag.attachNote(source.getLoc()) << "the layout comes from this fragment";
      return failure();
    }
    if (failed(setLayout(target, layout)))
      return failure();
    return true;
  };
  auto accumulatorOf = [&](Value v) -> const Accumulator * {
    auto it = accumulators.find(v);
    return it == accumulators.end() ? nullptr : &it->second;
  };
  for (bool changed = true; changed;) {
    changed = false;
    bool failedAny = false;
    auto note = [&](FailureOr<bool> r) {
      if (failed(r))
        failedAny = true;
      else
        changed |= *r;
    };
    kernel.walk([&](Operation *op) {
      if (failedAny)
        return WalkResult::interrupt();
      if (auto copy = dyn_cast<CopyOp>(op)) {
        AllocOp src = fragmentAlloc(copy.getSrc()), dst = fragmentAlloc(copy.getDst());
        if (!src || !dst || src.getType().getShape() != dst.getType().getShape())
          return WalkResult::advance();
        if (src.getLayout() && !dst.getLayout())
          note(impose(dst, *src.getLayout(), op, src));
        else if (dst.getLayout() && !src.getLayout())
          note(impose(src, *dst.getLayout(), op, dst));
        if (const Accumulator *acc = accumulatorOf(copy.getSrc()))
          changed |= accumulators.try_emplace(copy.getDst(), *acc).second;
        return WalkResult::advance();
      }
      if (auto reduce = dyn_cast<ReduceOp>(op)) {
        const Accumulator *acc = accumulatorOf(reduce.getSrc());
        AllocOp dst = fragmentAlloc(reduce.getDst());
        if (acc && dst && reduce.getDim() == 1 && dst.getType().getRank() == 1)
          note(impose(dst, target.accumulatorRowLayout(acc->mma, acc->m, acc->n), op,
                      fragmentAlloc(reduce.getSrc())));
        return WalkResult::advance();
      }
      auto parallel = dyn_cast<ParallelOp>(op);
      if (!parallel || parallel.getExtents().size() != 2)
        return WalkResult::advance();
      Block &body = parallel.getBody().front();
      Value iv0 = body.getArgument(0), iv1 = body.getArgument(1);
      // The fragments the body reads or writes, with their indices.
      SmallVector<std::pair<Value, SmallVector<Value>>> accesses;
      parallel.walk([&](Operation *inner) {
        if (auto load = dyn_cast<memref::LoadOp>(inner))
          accesses.push_back({load.getMemRef(), SmallVector<Value>(load.getIndices())});
        else if (auto store = dyn_cast<memref::StoreOp>(inner))
          accesses.push_back({store.getMemRef(), SmallVector<Value>(store.getIndices())});
      });
      // The anchor: an accumulator indexed by the loop's indices, in their
      // order or swapped (`for h, j in T.Parallel(H, N): acc[j, h]`, an
      // accumulator walked transposed). (r, c) are the indices of its rows
      // and columns.
      const Accumulator *anchor = nullptr;
      AllocOp anchorAlloc;
      Value r, c;
      for (bool swapped : {false, true}) {
        Value ri = swapped ? iv1 : iv0, ci = swapped ? iv0 : iv1;
        for (auto &[buffer, indices] : accesses)
          if (const Accumulator *acc = accumulatorOf(buffer))
            if (!anchor && indices == SmallVector<Value>{ri, ci} &&
                parallel.getExtents() ==
                    (swapped ? ArrayRef<int64_t>{acc->n, acc->m}
                             : ArrayRef<int64_t>{acc->m, acc->n})) {
              anchor = acc;
              anchorAlloc = fragmentAlloc(buffer);
              r = ri;
              c = ci;
            }
      }
      if (!anchor)
        return WalkResult::advance();
      for (auto &[buffer, indices] : accesses) {
        AllocOp alloc = fragmentAlloc(buffer);
        if (!alloc || alloc == anchorAlloc)
          continue;
        ArrayRef<int64_t> shape = alloc.getType().getShape();
        if (indices == SmallVector<Value>{r, c} &&
            shape == ArrayRef<int64_t>{anchor->m, anchor->n}) {
          note(impose(alloc, target.accumulatorLayout(anchor->mma, anchor->m, anchor->n),
                      parallel, anchorAlloc));
          changed |= accumulators.try_emplace(buffer, *anchor).second;
        } else if (indices == SmallVector<Value>{c, r} &&
                   shape == ArrayRef<int64_t>{anchor->n, anchor->m}) {
          // Indexed the other way round: the accumulator layout transposed,
          // so that each thread holds (j, i) where it holds (i, j) and the
          // loop needs no exchange between threads.
          note(impose(alloc,
                      transposedLayout(target.accumulatorLayout(anchor->mma, anchor->m,
                                                                anchor->n)),
                      parallel, anchorAlloc));
        } else if (indices == SmallVector<Value>{r} &&
                   shape == ArrayRef<int64_t>{anchor->m}) {
          note(impose(alloc, target.accumulatorRowLayout(anchor->mma, anchor->m, anchor->n),
                      parallel, anchorAlloc));
        }
        if (failedAny)
          return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (failedAny)
      return failure();
  }

  // 3. The results of a reduction over a fragment that is not an
  //    accumulator (its elements will be dealt out below, so each row is
  //    spread over many threads) are kept by every thread: whoever later
  //    uses a row's result with the row's elements has it in a register.
  //    Only for small results and power-of-two blocks.
  constexpr int64_t kReplicatedLimit = 256;
  WalkResult replicated = kernel.walk([&](ReduceOp reduce) {
    AllocOp src = fragmentAlloc(reduce.getSrc()), dst = fragmentAlloc(reduce.getDst());
    if (!src || !dst || src.getLayout() || dst.getLayout() ||
        !llvm::isPowerOf2_64(threads) ||
        dst.getType().getNumElements() > kReplicatedLimit)
      return WalkResult::advance();
    if (failed(setLayout(dst, replicatedLayout(ctx, dst.getType().getShape(), threads))))
      return WalkResult::interrupt();
    return WalkResult::advance();
  });
  if (replicated.wasInterrupted())
    return failure();

  // 3b. A fragment of the same shape that a T.Parallel computes from a
  //     replicated one, index for index (`scale[i] = amax[i] / 448`), is
  //     replicated too: every thread computes every element, so the loop
  //     needs no exchange between threads. Repeated until nothing changes.
  for (bool changed = true; changed;) {
    changed = false;
    WalkResult spread = kernel.walk([&](ParallelOp parallel) {
      Block &body = parallel.getBody().front();
      SmallVector<Value> ivs(body.getArguments());
      SmallVector<AllocOp> replicatedHere, pending;
      parallel.walk([&](Operation *inner) {
        Value buffer;
        SmallVector<Value> indices;
        if (auto load = dyn_cast<memref::LoadOp>(inner)) {
          buffer = load.getMemRef();
          indices.assign(load.getIndices().begin(), load.getIndices().end());
        } else if (auto store = dyn_cast<memref::StoreOp>(inner)) {
          buffer = store.getMemRef();
          indices.assign(store.getIndices().begin(), store.getIndices().end());
        }
        AllocOp alloc = buffer ? fragmentAlloc(buffer) : AllocOp();
        if (!alloc || indices != ivs ||
            alloc.getType().getShape() != parallel.getExtents())
          return;
        FragmentLayoutAttr rep =
            replicatedLayout(ctx, alloc.getType().getShape(), threads);
        if (alloc.getLayout() && *alloc.getLayout() == rep)
          replicatedHere.push_back(alloc);
        else if (!alloc.getLayout())
          pending.push_back(alloc);
      });
      if (replicatedHere.empty())
        return WalkResult::advance();
      for (AllocOp alloc : pending) {
        if (alloc.getLayout() || alloc.getType().getNumElements() > kReplicatedLimit)
          continue;
        if (failed(setLayout(alloc, replicatedLayout(ctx, alloc.getType().getShape(),
                                                     threads))))
          return WalkResult::interrupt();
        changed = true;
      }
      return WalkResult::advance();
    });
    if (spread.wasInterrupted())
      return failure();
  }

  // 4. Everything else is dealt out in row-major order.
  WalkResult result = kernel.walk([&](AllocOp alloc) {
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
  using Base::Base;
  void runOnOperation() override {
    const TargetInfo *target = lookupTarget(targetName);
    if (!target) {
      getOperation()->emitError("tile-infer-layouts: unknown target '")
          << targetName << "' (registered: "
          << llvm::join(registeredTargets(), ", ") << ")";
      return signalPassFailure();
    }
    bool anyFailed = false;
    getOperation()->walk([&](KernelOp kernel) {
      anyFailed |= failed(inferKernel(kernel, *target));
    });
    if (anyFailed)
      signalPassFailure();
  }
};

} // namespace
