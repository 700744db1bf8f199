//===- LowerControlFlow.cpp - loops and conditionals ----------------------===//
//
// Part of the tile-lower-to-nvvm pass (LowerTileToNVVM.cpp); KernelEmitter.h
// declares the emitter these methods belong to.
//
//===----------------------------------------------------------------------===//

#include "backends/nvidia/KernelEmitter.h"

#define DEBUG_TYPE "tile-lower-to-nvvm"

namespace tessel::nvidia::lowering {

//===----------------------------------------------------------------------===//
// Control flow
//===----------------------------------------------------------------------===//

/// A loop runs its body under a clean barrier state: a barrier goes before
/// the loop when something is pending, and at the end of an iteration that
/// leaves something pending (the next iteration, or the code after, may
/// conflict with it).
LogicalResult KernelEmitter::emitLoop(Operation *op, Value lb, Value ub,
                                      Value step, Block &body) {
  // A loop inside a T.Parallel body runs per iteration, on some threads
  // only (the last round is predicated): a barrier there could hang, and
  // none is needed (the T.Parallel's shared accesses were ordered before it,
  // and its iterations are independent).
  bool perThread = parallelDepth > 0;
  if (sync.pending() && !perThread)
    statementBarrier();
  // What is in flight on entry, or issued by any iteration, may be in flight
  // at the top of every iteration and after the loop.
  PendingWgmma carried = wgmmaAtLoopTop(op, body);
  wgmma = carried;
  auto loop = scf::ForOp::create(b, loc, lb, ub, step);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(loop.getBody()->getTerminator());
  map.map(body.getArgument(0), loop.getInductionVar());
  if (failed(emitBlock(body)))
    return failure();
  if (!perThread)
    endOfIteration();
  if (!carried.covers(wgmma))
    return op->emitError("internal error: an iteration leaves a wgmma in "
                         "flight that the loop's top did not account for");
  wgmma = carried;
  return success();
}


LogicalResult KernelEmitter::emitFor(scf::ForOp op) {
  if (failed(mapOperands(op)))
    return failure();
  if (!op.getInitArgs().empty()) {
    if (sync.pending())
      statementBarrier();
    PendingWgmma carried = wgmmaAtLoopTop(op, *op.getBody());
    wgmma = carried;
    SmallVector<Value> inits;
    for (Value v : op.getInitArgs())
      inits.push_back(map.lookup(v));
    auto loop = scf::ForOp::create(b, loc, map.lookup(op.getLowerBound()),
                                   map.lookup(op.getUpperBound()),
                                   map.lookup(op.getStep()), inits);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      map.map(op.getInductionVar(), loop.getInductionVar());
      for (auto [old, nv] : llvm::zip(op.getRegionIterArgs(), loop.getRegionIterArgs()))
        map.map(old, nv);
      if (failed(emitBlock(*op.getBody())))
        return failure();
      endOfIteration();
      if (!carried.covers(wgmma))
        return op->emitError("internal error: an iteration leaves a wgmma in "
                             "flight that the loop's top did not account for");
      FailureOr<SmallVector<Value>> yields =
          lookupAll(op.getBody()->getTerminator()->getOperands());
      if (failed(yields))
        return failure();
      scf::YieldOp::create(b, loc, *yields);
    }
    wgmma = carried;
    for (auto [old, nv] : llvm::zip(op.getResults(), loop.getResults()))
      map.map(old, nv);
    return success();
  }
  return emitLoop(op, map.lookup(op.getLowerBound()),
                  map.lookup(op.getUpperBound()), map.lookup(op.getStep()),
                  *op.getBody());
}

LogicalResult KernelEmitter::emitIf(scf::IfOp op) {
  if (failed(mapOperands(op)))
    return failure();
  auto ifOp = scf::IfOp::create(b, loc, op.getResultTypes(),
                                map.lookup(op.getCondition()),
                                /*withElseRegion=*/true);
  SyncState before = sync, after;
  PendingWgmma wgmmaBefore = wgmma, wgmmaAfter;
  for (auto [oldRegion, newRegion] :
       llvm::zip(op->getRegions(), ifOp->getRegions())) {
    sync = before;
    wgmma = wgmmaBefore;
    Block *newBlock = &newRegion.front();
    OpBuilder::InsertionGuard guard(b);
    if (!newBlock->empty())
      newBlock->getTerminator()->erase();
    b.setInsertionPointToEnd(newBlock);
    if (!oldRegion.empty()) {
      if (failed(emitBlock(oldRegion.front())))
        return failure();
      FailureOr<SmallVector<Value>> yields =
          lookupAll(oldRegion.front().getTerminator()->getOperands());
      if (failed(yields))
        return failure();
      scf::YieldOp::create(b, loc, *yields);
    } else {
      scf::YieldOp::create(b, loc);
    }
    after.merge(sync);
    wgmmaAfter.merge(wgmma);
  }
  sync = after;
  wgmma = wgmmaAfter;
  for (auto [old, nv] : llvm::zip(op.getResults(), ifOp.getResults()))
    map.map(old, nv);
  return success();
}

/// A device `while` (the frontend's form: no loop-carried values). Threads
/// may run different numbers of iterations, so its body may not need a
/// block barrier: one that touches shared memory another thread reads is
/// refused.
LogicalResult KernelEmitter::emitWhile(scf::WhileOp op) {
  if (!op.getInits().empty() || op.getNumResults())
    return op->emitError("a while loop with loop-carried values is not supported on the "
                         "cuda target yet");
  if (sync.pending())
    statementBarrier();
  // Any wgmma group the loop issues may be in flight anywhere in it and
  // after it.
  PendingWgmma carried = wgmma;
  carried.merge(wgmmaIssuedIn(op));
  wgmma = carried;
  auto loop = scf::WhileOp::create(b, loc, TypeRange{}, ValueRange{});
  OpBuilder::InsertionGuard guard(b);
  b.createBlock(&loop.getBefore());
  if (failed(emitBlock(op.getBefore().front())))
    return failure();
  auto condition = cast<scf::ConditionOp>(op.getBefore().front().getTerminator());
  FailureOr<Value> cond = lookup(condition.getCondition());
  if (failed(cond))
    return failure();
  scf::ConditionOp::create(b, loc, *cond, ValueRange{});
  b.createBlock(&loop.getAfter());
  if (failed(emitBlock(op.getAfter().front())))
    return failure();
  // nvidia-insert-barriers checks what the body leaves outstanding against
  // what runs later (and refuses the same way); alone, anything refuses.
  if (sync.pending() && !barriersPlaced)
    return op->emitError("this while loop's body shares memory between threads, which "
                         "needs a block barrier inside a loop threads may leave at "
                         "different times; not supported on the cuda target yet");
  scf::YieldOp::create(b, loc);
  wgmma = carried;
  return success();
}

} // namespace tessel::nvidia::lowering
