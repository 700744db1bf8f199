//===- LowerWarpSpecialize.cpp - producer and consumer warps --------------===//
//
// Part of the tile-lower-to-nvvm pass (LowerTileToNVVM.cpp); KernelEmitter.h
// declares the emitter these methods belong to.
//
//===----------------------------------------------------------------------===//

#include "backends/nvidia/KernelEmitter.h"
#include "backends/nvidia/Pipelining.h"

#define DEBUG_TYPE "tile-lower-to-nvvm"

namespace tessel::nvidia::lowering {

//===----------------------------------------------------------------------===//
// Warp specialization
//===----------------------------------------------------------------------===//

LogicalResult KernelEmitter::warpSpecialize(Block &body) {
  // The producer is one more warpgroup; the consumers run the kernel as
  // written, on whole warpgroups.
  if (!warpSpecializeEnabled || !tmaEnabled || threads % 128 || threads + 128 > 1024)
    return success();
  SmallVector<PipelinedOp> loops;
  // A loop under a top-level `if`: the condition the producer tests too.
  DenseMap<Operation *, scf::IfOp> guards;
  for (auto [pipe, guard] : specializableLoops(kernel)) {
    loops.push_back(pipe);
    if (guard)
      guards[pipe] = guard;
  }
  if (loops.empty())
    return success();
  // The copies' tiles must be known before the code that allocates them.
  for (Operation &op : body.without_terminator())
    if (auto alloc = dyn_cast<AllocOp>(&op);
        alloc && getMemoryScope(alloc.getType()) == MemoryScope::Shared)
      if (failed(emitAlloc(alloc)))
        return failure();
  DenseSet<Value> written = kernelWrites(kernel);
  for (PipelinedOp pipe : loops) {
    // nvidia-pipeline-buffers' decision where it ran (tessel.producer);
    // else the same analysis here.
    bool decided = pipe->hasAttr(kStagesAttr);
    if (decided && !pipe->hasAttr(kProducerAttr))
      continue;
    std::optional<PipelinePlan> plan = planPipeline(pipe, /*specialized=*/true);
    if (!plan || plan->tmaCopies.size() != plan->copies.size()) {
      if (decided)
        return pipe.emitError("internal error: nvidia-pipeline-buffers gave this "
                              "loop a producer warpgroup, but its copies do not all "
                              "load by TMA in stages that fit");
      continue;
    }
    Block &loopBody = pipe.getBody().front();
    if (!decided) {
      SmallVector<Value> known{pipe.getLower(), pipe.getUpper(), pipe.getStep()};
      if (auto it = guards.find(pipe); it != guards.end())
        known.push_back(it->second.getCondition());
      for (CopyOp c : plan->copies)
        known.append(c.getSrcOffsets().begin(), c.getSrcOffsets().end());
      if (!llvm::all_of(known, [&](Value v) {
            return producerComputable(v, loopBody, kernel, written);
          }))
        continue;
    }
    placePipeline(*plan);
    bool keepOneInFlight = decided ? pipe->hasAttr(kInFlightAttr)
                                   : keepsWgmmaInFlight(pipe, plan->stages);
    plan->schedule = WarpSchedule::standard(plan->stages, threads, keepOneInFlight);
    std::string error = nvidia::verifySchedule(plan->schedule);
    if (!error.empty())
      return pipe.emitError("internal error: the warp-specialized schedule "
                            "of this loop is unsafe: ")
             << error;
    plans[pipe] = std::move(*plan);
  }
  if (plans.empty())
    return success();

  specialized = true;
  loc = kernel.getLoc();
  // Thread 0 creates every stage barrier; the whole block (producer
  // included) waits until they exist.
  Value threadZero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, cst(0));
  guarded(threadZero, [&] {
    for (PipelinedOp pipe : loops) {
      auto it = plans.find(pipe);
      if (it == plans.end())
        continue;
      const PipelinePlan &plan = it->second;
      for (int64_t st = 0; st < plan.stages; ++st) {
        initBarrier(stageBarrier(plan, Ring::Full, cst(st)), plan.schedule.fullCount);
        initBarrier(stageBarrier(plan, Ring::Empty, cst(st)), plan.schedule.emptyCount);
      }
    }
    fenceBarrierInit();
  });
  NVVM::Barrier0Op::create(b, loc);

  // Registers: the split nvidia-pipeline-buffers recorded, else the same.
  std::array<int64_t, 3> split = warpRegisterSplit(threads);
  if (auto recorded = kernel->getAttrOfType<DenseI64ArrayAttr>(kRegistersAttr);
      recorded && recorded.size() == 3)
    split = {recorded[0], recorded[1], recorded[2]};
  auto [start, producerRegs, consumerRegs] = split;
  roleSplit = scf::IfOp::create(b, loc, ult(tid, cst(threads)), /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(roleSplit.elseBlock()->getTerminator());
    NVVM::SetMaxRegisterOp::create(b, loc, producerRegs, NVVM::SetMaxRegisterAction::decrease);
    Value elected = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, cst(threads));
    guarded(elected, [&] {
      for (PipelinedOp pipe : loops) {
        auto it = plans.find(pipe);
        if (it == plans.end())
          continue;
        auto guard = guards.find(pipe);
        if (guard == guards.end()) {
          emitProducerLoop(pipe, it->second);
          continue;
        }
        // The consumers run this loop on the branch they take; the producer
        // tests the same condition (uniform: from block indices, scalars and
        // tensors the kernel only reads) and feeds it on the same branch.
        scf::IfOp ifOp = guard->second;
        Value cond = valueAtIteration(ifOp.getCondition(), pipe.getBody().front(), Value());
        bool inThen = pipe->getParentRegion() == &ifOp.getThenRegion();
        guarded(inThen ? cond
                       : (Value)arith::XOrIOp::create(
                             b, loc, cond,
                             arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1)),
                [&] { emitProducerLoop(pipe, it->second); });
      }
    });
  }
  b.setInsertionPoint(roleSplit.thenBlock()->getTerminator());
  if (consumerRegs > start)
    NVVM::SetMaxRegisterOp::create(b, loc, consumerRegs, NVVM::SetMaxRegisterAction::increase);
  registerSplit = {start, producerRegs, consumerRegs};
  return success();
}

void KernelEmitter::emitScheduleSteps(const PipelinePlan &plan, const RoleSchedule &role,
                                      Value index, function_ref<void()> load,
                                      function_ref<LogicalResult()> read,
                                      LogicalResult &status) {
  for (const ScheduleStep &st : role.steps)
    emitScheduleStep(plan, role, st, index, /*draining=*/false, load, read, status);
}

void KernelEmitter::emitScheduleStep(const PipelinePlan &plan, const RoleSchedule &role,
                                     const ScheduleStep &st, Value index, bool draining,
                                     function_ref<void()> load,
                                     function_ref<LogicalResult()> read,
                                     LogicalResult &status) {
  // A lagged step is about iteration index - lag, and none before the first.
  if (st.lag) {
    guarded(arith::CmpIOp::create(b, loc, arith::CmpIPredicate::uge, index, cst(st.lag)),
            [&] {
              ScheduleStep now = st;
              now.lag = 0;
              emitScheduleStep(plan, role, now,
                               arith::SubIOp::create(b, loc, index, cst(st.lag)), draining,
                               load, read, status);
            });
    return;
  }
  Value stage = urem(index, plan.stages);
  {
    Value bar = stageBarrier(plan, st.ring, stage);
    switch (st.kind) {
    case ScheduleStep::Wait: {
      Value parity = arith::AndIOp::create(b, loc, udiv(index, plan.stages), cst(1));
      if (st.flip)
        parity = arith::XOrIOp::create(b, loc, parity, cst(1));
      waitParity(bar, arith::IndexCastOp::create(b, loc, b.getI32Type(), parity));
      break;
    }
    case ScheduleStep::Arrive:
      // Every thread of the role arrives once.
      assert(st.arrivals == role.threads && "one arrival per thread");
      inlineAsm(Type(), SmallVector<Value>{bar}, "mbarrier.arrive.shared::cta.b64 _, [$0];", "r");
      break;
    case ScheduleStep::ArriveExpectTx:
      arriveExpectTx(bar, plan.tmaBytes);
      break;
    case ScheduleStep::Load:
      load();
      break;
    case ScheduleStep::Read:
      if (failed(read()))
        status = failure();
      break;
    case ScheduleStep::Retire:
      // In the loop the latest group (this iteration's) stays in flight;
      // after it, nothing does. The in-flight state keeps the stage area
      // and accumulators either way (what is still running is among them).
      if (draining)
        waitForWgmma();
      else
        NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 1);
      break;
    }
  }
}

/// The producer: for every iteration, the steps of the plan's schedule,
/// its loads being the loop's TMA copies into the iteration's stage.
void KernelEmitter::emitProducerLoop(PipelinedOp op, const PipelinePlan &plan) {
  Block &body = op.getBody().front();
  loc = op.getLoc();
  Value lb = valueAtIteration(op.getLower(), body, Value());
  Value ub = valueAtIteration(op.getUpper(), body, Value());
  Value step = valueAtIteration(op.getStep(), body, Value());
  auto loop = scf::ForOp::create(b, loc, lb, ub, step);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(loop.getBody()->getTerminator());
  Value i = loop.getInductionVar();
  Value index = arith::DivUIOp::create(b, loc, arith::SubIOp::create(b, loc, i, lb), step);
  LogicalResult status = success();
  emitScheduleSteps(
      plan, plan.schedule.producer, index,
      [&] {
        Value stage = urem(index, plan.stages);
        setStage(plan, stage);
        for (CopyOp c : plan.copies) {
          loc = c.getLoc();
          emitTmaCopy(c, body, i, add(cst(plan.fullBarriers), mul(stage, 8)));
        }
        loc = op.getLoc();
      },
      [] { return success(); }, status);
  clearStage(plan);
}

/// The consumers: for every iteration, the steps of the plan's schedule,
/// the read being the loop body (its ahead copies skipped) on the
/// iteration's stage. wgmmas still reading the stage finish before the
/// consumers release it.
LogicalResult KernelEmitter::emitConsumerLoop(PipelinedOp op, const PipelinePlan &plan) {
  Block &body = op.getBody().front();
  Value lb = map.lookup(op.getLower()), ub = map.lookup(op.getUpper()),
        step = map.lookup(op.getStep());
  // The drain after a lagged loop waits only when the loop ran: what is in
  // flight before it is waited for first.
  if (!plan.schedule.consumer.drain.empty())
    statementWait();
  if (sync.pending())
    statementBarrier();
  for (CopyOp c : plan.copies)
    issuedAhead.insert(c);
  bool lagged = !plan.schedule.consumer.drain.empty();
  // The staged tiles are the stage area from here on, also for what the
  // wgmmas in flight across the loop read (they have no storage of their
  // own to stand for them).
  for (CopyOp c : plan.copies)
    buffers.find(c.getDst())->second->stageRange = plan.area;
  // Without the lag every iteration ends with nothing reading the stages in
  // flight; with it, the last iteration's wgmmas cross the back edge.
  PendingWgmma carried =
      wgmmaAtLoopTop(op, body, lagged ? std::nullopt
                                      : std::optional<std::pair<int64_t, int64_t>>(plan.area));
  // The body reads its tiles at their stage, which an access records as the
  // whole stage area.
  if (lagged && !carried.empty() && !llvm::is_contained(carried.shared, plan.area))
    carried.shared.push_back(plan.area);
  wgmma = carried;
  auto loop = scf::ForOp::create(b, loc, lb, ub, step);
  LogicalResult status = success();
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(loop.getBody()->getTerminator());
    Value i = loop.getInductionVar();
    map.map(body.getArgument(0), i);
    Value index = arith::DivUIOp::create(b, loc, arith::SubIOp::create(b, loc, i, lb), step);
    emitScheduleSteps(
        plan, plan.schedule.consumer, index, [] {},
        [&]() -> LogicalResult {
          setStage(plan, urem(index, plan.stages));
          if (failed(emitBlock(body)))
            return failure();
          loc = op.getLoc();
          if (!lagged && SyncState::overlaps(wgmma.shared, plan.area))
            waitForWgmma();
          // Only the producer writes the stages, and only after the release
          // that follows: the consumers' reads of them need no barrier.
          llvm::erase_if(sync.reads, [&](std::pair<int64_t, int64_t> r) {
            return r.first >= plan.area.first && r.second <= plan.area.second;
          });
          return success();
        },
        status);
    if (succeeded(status)) {
      endOfIteration();
      if (!carried.covers(wgmma))
        status = op->emitError("internal error: an iteration leaves a wgmma in "
                               "flight that the loop's top did not account for");
    }
  }
  for (CopyOp c : plan.copies)
    issuedAhead.erase(c);
  clearStage(plan);
  wgmma = carried;
  if (lagged && succeeded(status)) {
    // The drain, as iteration `trip count`: retire and release the last
    // iteration's stage (when the loop ran at all).
    Value trips = arith::CeilDivUIOp::create(
        b, loc, arith::SubIOp::create(b, loc, arith::MaxUIOp::create(b, loc, ub, lb), lb),
        step);
    for (const ScheduleStep &st : plan.schedule.consumer.drain)
      emitScheduleStep(plan, plan.schedule.consumer, st, trips, /*draining=*/true, [] {},
                       [] { return success(); }, status);
  }
  return status;
}

} // namespace tessel::nvidia::lowering
