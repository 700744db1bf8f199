//===- InsertProxyFences.cpp - generic writes the async proxy reads -------===//
//
// Threads write shared memory through the generic proxy; wgmma reads its
// shared operands through the async proxy. The two are ordered only by a
// fence.proxy.async the writing thread executes after its write (and before
// the synchronization that lets the reader go on): a block barrier alone
// does not order them. This pass finds every generic write to shared bytes
// a later warpgroup MMA reads, along any path, loop back edges included,
// with no fence between, and puts `nvvm.fence.proxy` right after the
// writing statement. Barriers play no part in the analysis.
//
// Copies a T.Pipelined loop runs ahead (`tessel.ahead`) are not statements
// of this analysis: their pipeline lowering orders the stages it fills.
//
//===----------------------------------------------------------------------===//

#include "backends/nvidia/Passes.h"
#include "backends/nvidia/SyncAnalysis.h"

#include "dialects/tile/IR/TileOps.h"

namespace tessel::nvidia {
#define GEN_PASS_DEF_NVIDIAINSERTPROXYFENCESPASS
#include "backends/nvidia/Passes.h.inc"
} // namespace tessel::nvidia

using namespace mlir;
using namespace tessel::tile;

namespace {

using Bytes = tessel::nvidia::SharedBytes;

std::optional<Bytes> sharedBytes(Value memref) {
  return tessel::nvidia::sharedBytesOf(memref);
}

/// The shared bytes `op` (a statement: everything nested in it included)
/// writes through the generic proxy.
SmallVector<Bytes> genericWrites(Operation *op) {
  SmallVector<Bytes> writes;
  auto add = [&](Value memref) {
    if (std::optional<Bytes> b = sharedBytes(memref))
      writes.push_back(*b);
  };
  op->walk([&](Operation *inner) {
    if (auto copy = dyn_cast<CopyOp>(inner)) {
      if (!copy->hasAttr("tessel.ahead"))
        add(copy.getDst());
    } else if (auto fill = dyn_cast<FillOp>(inner)) {
      add(fill.getDst());
    } else if (auto reduce = dyn_cast<ReduceOp>(inner)) {
      add(reduce.getDst());
    } else if (auto atomic = dyn_cast<AtomicAddOp>(inner)) {
      add(atomic.getDst());
    } else if (auto store = dyn_cast<memref::StoreOp>(inner)) {
      add(store.getMemref());
    } else if (auto gemm = dyn_cast<GemmOp>(inner)) {
      add(gemm.getC());
    }
  });
  return writes;
}

/// The shared bytes a leaf statement reads through the async proxy: the
/// shared operands of a warpgroup MMA (a gemm without an MMA kind counts
/// as one, as the lowering reads it).
SmallVector<Bytes> asyncReads(Operation *op) {
  SmallVector<Bytes> reads;
  auto gemm = dyn_cast<GemmOp>(op);
  if (!gemm)
    return reads;
  if (MmaAttr mma = gemm.getMmaAttr(); mma && mma.getKind() != MmaKind::Wgmma)
    return reads;
  for (Value operand : {gemm.getA(), gemm.getB()})
    if (std::optional<Bytes> b = sharedBytes(operand))
      reads.push_back(*b);
  return reads;
}

/// Generic writes not yet fenced, each with the statement that made it.
struct Unfenced {
  SmallVector<std::pair<Operation *, Bytes>> writes;
  void merge(const Unfenced &o) {
    for (auto &w : o.writes)
      if (!llvm::any_of(writes, [&](auto &x) {
            return x.first == w.first && x.second.tile == w.second.tile &&
                   x.second.begin == w.second.begin;
          }))
        writes.push_back(w);
  }
};

struct Analysis {
  /// Statements whose writes reach an async read unfenced.
  llvm::SetVector<Operation *> needFence;

  Unfenced block(Block &block, Unfenced state) {
    for (Operation &op : block.without_terminator())
      state = statement(&op, std::move(state));
    return state;
  }

  /// Runs a loop body until what reaches its top stops growing (the loop
  /// may also run no iteration at all).
  Unfenced loop(Block &body, Unfenced entry) {
    Unfenced top = entry;
    for (int round = 0; round < 8; ++round) {
      Unfenced next = entry;
      next.merge(block(body, top));
      if (next.writes.size() == top.writes.size())
        return top;
      top = std::move(next);
    }
    return top;
  }

  Unfenced statement(Operation *op, Unfenced state) {
    if (isa<NVVM::FenceProxyOp>(op))
      return Unfenced();
    if (op->hasAttr("tessel.ahead"))
      return state;
    if (auto forOp = dyn_cast<scf::ForOp>(op))
      return loop(*forOp.getBody(), std::move(state));
    if (auto pipe = dyn_cast<PipelinedOp>(op))
      return loop(pipe.getBody().front(), std::move(state));
    if (auto whileOp = dyn_cast<scf::WhileOp>(op)) {
      // before; (after; before)*
      Unfenced top = block(whileOp.getBefore().front(), std::move(state));
      for (int round = 0; round < 8; ++round) {
        Unfenced next = top;
        next.merge(block(whileOp.getBefore().front(),
                         block(whileOp.getAfter().front(), top)));
        if (next.writes.size() == top.writes.size())
          break;
        top = std::move(next);
      }
      return top;
    }
    if (auto ifOp = dyn_cast<scf::IfOp>(op)) {
      Unfenced after = block(ifOp.getThenRegion().front(), state);
      if (ifOp.getElseRegion().empty())
        after.merge(state);
      else
        after.merge(block(ifOp.getElseRegion().front(), state));
      return after;
    }
    for (const Bytes &r : asyncReads(op))
      for (auto &[writer, w] : state.writes)
        if (w.overlaps(r))
          needFence.insert(writer);
    for (const Bytes &w : genericWrites(op))
      state.writes.push_back({op, w});
    return state;
  }
};

/// Puts a fence right after `writer` (in a T.Pipelined body with order=,
/// emitted right after it).
void fenceAfter(Operation *writer) {
  OpBuilder b(writer->getContext());
  b.setInsertionPointAfter(writer);
  auto fence = NVVM::FenceProxyOp::create(
      b, writer->getLoc(), NVVM::ProxyKind::async_shared,
      NVVM::SharedSpaceAttr::get(b.getContext(), NVVM::SharedSpace::shared_cta));
  tessel::nvidia::placeStatement(fence, writer, /*after=*/true);
}

struct NVIDIAInsertProxyFencesPass
    : public tessel::nvidia::impl::NVIDIAInsertProxyFencesPassBase<
          NVIDIAInsertProxyFencesPass> {
  void runOnOperation() override {
    getOperation()->walk([](KernelOp kernel) {
      Analysis analysis;
      (void)analysis.block(kernel.getBody().front(), Unfenced());
      for (Operation *writer : analysis.needFence) {
        Operation *next = writer->getNextNode();
        if (next && isa<NVVM::FenceProxyOp>(next))
          continue;
        fenceAfter(writer);
      }
    });
  }
};

} // namespace
