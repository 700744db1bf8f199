//===- MmaAsync.cpp - where statements wait for wgmma groups --------------===//
//
// A warpgroup MMA runs while later statements do: its accumulator
// registers are not written, and its operands (registers or shared bytes)
// not read, until a `wgmma.wait_group`. This pass follows the groups the
// lowering keeps in flight (committed by each wgmma gemm; across loop back
// edges, branches, pipelined loops' stage refills and a producer-fed loop's
// lagged retirement) and puts `nvvm.wgmma.wait.group.sync.aligned 0`
// before each statement that must not run before they complete: one that
// uses an accumulator or register operand of a group in flight, a gemm
// reading such an accumulator or accumulating into such an operand, and one
// that writes shared bytes a group reads. Everything else overlaps the MMAs.
//
// The wgmma fence before an MMA that reads registers, and the commit after
// each gemm, belong to the gemm's lowering; so do the waits inside a
// pipelined loop's schedule (its stage refills, a producer-fed loop's
// `wait_group 1` and drain), which this pass models but does not place.
//
//===----------------------------------------------------------------------===//

#include "backends/nvidia/Passes.h"
#include "backends/nvidia/Pipelining.h"
#include "backends/nvidia/SyncAnalysis.h"

#include "dialects/tile/IR/TileOps.h"

namespace tessel::nvidia {
#define GEN_PASS_DEF_NVIDIAMMAASYNCPASS
#include "backends/nvidia/Passes.h.inc"
} // namespace tessel::nvidia

using namespace mlir;
using namespace tessel::tile;
using namespace tessel::nvidia;

namespace {

class WaitPlacement {
public:
  void block(Block &body) {
    for (Operation *op : statementsInOrder(body))
      statement(op);
  }

private:
  InFlightWgmma wgmma;

  bool readsAny(ArrayRef<SharedBytes> ranges) const {
    return llvm::any_of(ranges, [&](const SharedBytes &r) { return overlapsAny(wgmma.shared, r); });
  }

  void statement(Operation *op) {
    if (auto w = dyn_cast<NVVM::WgmmaWaitGroupSyncOp>(op)) {
      if (w.getGroup() == 0)
        wgmma = InFlightWgmma();
      return;
    }
    if (op->hasAttr(kAheadAttr) || isPure(op) ||
        isa<BarrierOp, NVVM::FenceProxyOp, memref::DimOp, CastOp>(op))
      return;
    if (auto forOp = dyn_cast<scf::ForOp>(op))
      return loop(op, *forOp.getBody(), {});
    if (auto ifOp = dyn_cast<scf::IfOp>(op)) {
      InFlightWgmma before = wgmma, after;
      for (Region &region : ifOp->getRegions()) {
        wgmma = before;
        if (!region.empty())
          block(region.front());
        after.merge(wgmma);
      }
      wgmma = after;
      return;
    }
    if (auto whileOp = dyn_cast<scf::WhileOp>(op)) {
      // Any group the loop issues may be in flight anywhere in it, and
      // after it (threads may leave it at different iterations).
      InFlightWgmma carried = wgmma;
      carried.merge(wgmmaIssuedIn(op));
      wgmma = carried;
      block(whileOp.getBefore().front());
      block(whileOp.getAfter().front());
      wgmma = carried;
      return;
    }
    if (auto pipe = dyn_cast<PipelinedOp>(op))
      return pipelined(pipe);
    if (needsWgmmaWait(op, wgmma)) {
      OpBuilder b(op);
      auto wait = NVVM::WgmmaWaitGroupSyncOp::create(b, op->getLoc(), 0);
      placeStatement(wait, op, /*after=*/false);
      wgmma = InFlightWgmma();
    }
    if (auto gemm = dyn_cast<GemmOp>(op); gemm && isWgmma(gemm))
      wgmma.merge(wgmmaIssuedBy(gemm));
  }

  /// Every iteration starts with what may be in flight at the top of any;
  /// so does the code after the loop.
  void loop(Operation *op, Block &body, ArrayRef<SharedBytes> refilled) {
    InFlightWgmma carried = wgmmaAtLoopTop(op, body, wgmma, refilled);
    wgmma = carried;
    if (readsAny(refilled))
      wgmma = InFlightWgmma();
    block(body);
    wgmma = carried;
  }

  void pipelined(PipelinedOp op) {
    Block &body = op.getBody().front();
    if (!op->hasAttr(kStagesAttr))
      return loop(op, body, {});
    SharedRanges staged{SharedBytes{op}};
    if (!op->hasAttr(kProducerAttr)) {
      // Each iteration refills a stage, after waiting for the wgmmas that
      // read the stage area.
      return loop(op, body, staged);
    }
    // Fed by a producer warpgroup: without the lag an iteration ends by
    // waiting for the wgmmas reading its stage; with it, the latest group
    // crosses the back edge (wait_group 1) and the loop's end retires all.
    bool lagged = op->hasAttr(kInFlightAttr);
    // The drain after a lagged loop waits only when the loop ran: what is
    // in flight before it is waited for first.
    if (lagged && !wgmma.empty()) {
      OpBuilder b(op);
      auto wait = NVVM::WgmmaWaitGroupSyncOp::create(b, op.getLoc(), 0);
      placeStatement(wait, op, /*after=*/false);
      wgmma = InFlightWgmma();
    }
    InFlightWgmma carried =
        wgmmaAtLoopTop(op, body, wgmma, lagged ? SharedRanges() : staged);
    if (lagged && !carried.empty())
      addRanges(carried.shared, staged);
    wgmma = carried;
    block(body);
    wgmma = carried;
    if (lagged)
      wgmma = InFlightWgmma();
  }
};

struct NVIDIAMmaAsyncPass
    : public tessel::nvidia::impl::NVIDIAMmaAsyncPassBase<NVIDIAMmaAsyncPass> {
  void runOnOperation() override {
    getOperation()->walk([](KernelOp kernel) {
      WaitPlacement().block(kernel.getBody().front());
      kernel->setAttr("tessel.waits_placed", UnitAttr::get(kernel.getContext()));
    });
  }
};

} // namespace
