//===- InsertBarriers.cpp - block barriers from shared-memory dependences -===//
//
// Places a `tile.barrier` wherever one thread's shared-memory access must
// wait for another's: before a statement that reads bytes written since the
// last barrier, or writes bytes read or written since; before a loop when
// anything is outstanding, and at the end of an iteration that leaves
// something outstanding; after thread 0's scalar global stores, before the
// threads read global memory. It follows statements (copies, fills, gemms,
// reductions, T.Parallel bodies, scalar loads and stores) in the order the
// lowering emits them, by the byte ranges tile-plan-memory gave the tiles.
//
// wgmma reads its shared operands while later statements run: until a
// `wgmma.wait_group 0` those bytes are not yet read, and a write to them
// waits first. The pass models the groups in flight as the lowering keeps
// them; where a statement needs both a wait and a barrier it places the
// wait (nvvm.wgmma.wait.group.sync.aligned 0) before the barrier.
//
// What a statement's own lowering synchronizes stays inside it: a
// reduction through the scratch area (its barrier between the partials'
// stores and loads), a pipelined loop's stage refills and mbarrier waits.
// The pass knows what they leave outstanding.
//
//===----------------------------------------------------------------------===//

#include "backends/nvidia/Passes.h"
#include "backends/nvidia/Pipelining.h"
#include "backends/nvidia/SyncAnalysis.h"
#include "backends/nvidia/Target.h"

#include "dialects/tile/IR/TileOps.h"

namespace tessel::nvidia {
#define GEN_PASS_DEF_NVIDIAINSERTBARRIERSPASS
#include "backends/nvidia/Passes.h.inc"
} // namespace tessel::nvidia

using namespace mlir;
using namespace tessel::tile;
using tessel::nvidia::SharedBytes;

namespace {

using Ranges = SmallVector<SharedBytes>;

bool overlaps(ArrayRef<SharedBytes> list, const SharedBytes &b) {
  return llvm::any_of(list, [&](const SharedBytes &x) { return x.overlaps(b); });
}

void addAll(Ranges &to, ArrayRef<SharedBytes> from) {
  for (const SharedBytes &b : from)
    if (!llvm::is_contained(to, b))
      to.push_back(b);
}

/// Shared bytes read and written since the last barrier, and whether
/// thread 0 alone stored to global memory since.
struct SyncState {
  Ranges reads, writes;
  bool globalWrite = false;
  bool pending() const { return !reads.empty() || !writes.empty() || globalWrite; }
  void merge(const SyncState &o) {
    addAll(reads, o.reads);
    addAll(writes, o.writes);
    globalWrite |= o.globalWrite;
  }
};

/// wgmma groups committed and not waited for: the accumulators they write,
/// the fragments they read, the shared bytes they read.
struct InFlight {
  SmallVector<Value> accumulators, registerOperands;
  Ranges shared;
  bool empty() const {
    return accumulators.empty() && registerOperands.empty() && shared.empty();
  }
  bool touches(Value v) const {
    return llvm::is_contained(accumulators, v) || llvm::is_contained(registerOperands, v);
  }
  bool touchedBy(Operation *op) const {
    if (empty())
      return false;
    return op
        ->walk([&](Operation *inner) {
          return llvm::any_of(inner->getOperands(), [&](Value v) { return touches(v); })
                     ? WalkResult::interrupt()
                     : WalkResult::advance();
        })
        .wasInterrupted();
  }
  size_t size() const {
    return accumulators.size() + registerOperands.size() + shared.size();
  }
  void merge(const InFlight &o) {
    for (Value v : o.accumulators)
      if (!llvm::is_contained(accumulators, v))
        accumulators.push_back(v);
    for (Value v : o.registerOperands)
      if (!llvm::is_contained(registerOperands, v))
        registerOperands.push_back(v);
    addAll(shared, o.shared);
  }
};

std::optional<MemoryScope> scopeOf(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  if (!type)
    return std::nullopt;
  return getMemoryScope(type);
}

bool isFragment(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && getMemoryScope(type) == MemoryScope::Fragment;
}

bool isWgmma(GemmOp gemm) {
  MmaAttr mma = gemm.getMmaAttr();
  return !mma || mma.getKind() == MmaKind::Wgmma;
}

/// What the wgmmas of `gemm` leave in flight.
InFlight issuedBy(GemmOp gemm) {
  InFlight issued;
  if (!isFragment(gemm.getC()))
    return issued;
  issued.accumulators.push_back(gemm.getC());
  for (Value operand : {gemm.getA(), gemm.getB()}) {
    if (isFragment(operand))
      issued.registerOperands.push_back(operand);
    else if (std::optional<SharedBytes> b = tessel::nvidia::sharedBytesOf(operand))
      issued.shared.push_back(*b);
  }
  return issued;
}

InFlight issuedIn(Operation *root) {
  InFlight issued;
  root->walk([&](GemmOp gemm) {
    if (isWgmma(gemm))
      issued.merge(issuedBy(gemm));
  });
  return issued;
}

class Analysis {
public:
  explicit Analysis(KernelOp kernel) : threads(kernel.getThreads()) {}

  void block(Block &body) {
    for (Operation *op : statementsInOrder(body))
      statement(op);
  }

private:
  int64_t threads;
  SyncState sync;
  InFlight wgmma;
  /// Ops of a statement being looked at: whether it waited for wgmma.
  bool waited = false;

  /// The body's operations in the order the lowering emits them: as
  /// written, or by order= in a T.Pipelined body.
  static SmallVector<Operation *> statementsInOrder(Block &body) {
    auto pipe = dyn_cast_or_null<PipelinedOp>(body.getParentOp());
    if (!pipe || !pipe.getOrder()) {
      SmallVector<Operation *> ops;
      for (Operation &op : body.without_terminator())
        ops.push_back(&op);
      return ops;
    }
    SmallVector<Operation *> statements = tessel::nvidia::pipelineStatements(body);
    SmallVector<Operation *> ordered(statements.size());
    for (auto [st, pos] : llvm::zip(statements, *pipe.getOrder()))
      ordered[pos] = st;
    return ordered;
  }

  void wait() {
    if (wgmma.empty())
      return;
    addAll(sync.reads, wgmma.shared);
    wgmma = InFlight();
    waited = true;
  }

  /// A barrier (after a wait, when the statement waited) right before `op`.
  void barrierBefore(Operation *op) {
    OpBuilder b(op);
    if (waited) {
      auto w = NVVM::WgmmaWaitGroupSyncOp::create(b, op->getLoc(), 0);
      tessel::nvidia::placeStatement(w, op, /*after=*/false);
    }
    auto barrier = BarrierOp::create(b, op->getLoc());
    tessel::nvidia::placeStatement(barrier, op, /*after=*/false);
    sync = SyncState();
  }

  /// A barrier as the last statement of loop body `body`.
  void barrierAtEnd(Block &body, Location loc) {
    OpBuilder b(body.getTerminator());
    auto barrier = BarrierOp::create(b, loc);
    tessel::nvidia::placeStatement(barrier, nullptr, /*after=*/false);
    sync = SyncState();
  }

  void statement(Operation *op) {
    waited = false;
    if (isa<BarrierOp>(op)) {
      sync = SyncState();
      return;
    }
    if (auto w = dyn_cast<NVVM::WgmmaWaitGroupSyncOp>(op)) {
      if (w.getGroup() == 0)
        wait();
      return;
    }
    if (op->hasAttr(tessel::nvidia::kAheadAttr) || isPure(op) ||
        isa<NVVM::FenceProxyOp, memref::DimOp, CastOp>(op))
      return;
    if (auto forOp = dyn_cast<scf::ForOp>(op))
      return loop(op, *forOp.getBody(), std::nullopt);
    if (auto ifOp = dyn_cast<scf::IfOp>(op))
      return branch(ifOp);
    if (auto whileOp = dyn_cast<scf::WhileOp>(op)) {
      if (sync.pending())
        barrierBefore(op);
      block(whileOp.getBefore().front());
      block(whileOp.getAfter().front());
      return;
    }
    if (auto pipe = dyn_cast<PipelinedOp>(op))
      return pipelined(pipe);
    leaf(op);
  }

  void branch(scf::IfOp op) {
    SyncState before = sync, after;
    InFlight wgmmaBefore = wgmma, wgmmaAfter;
    for (Region &region : op->getRegions()) {
      sync = before;
      wgmma = wgmmaBefore;
      if (!region.empty())
        block(region.front());
      after.merge(sync);
      wgmmaAfter.merge(wgmma);
    }
    sync = after;
    wgmma = wgmmaAfter;
  }

  /// What may be in flight at the top of every iteration: what is in flight
  /// on entry or what an iteration can leave, its waits replayed (a few
  /// rounds; then everything the loop issues). `refilled` are the tiles a
  /// pipelined loop refills at the top (a wait for wgmmas reading them).
  InFlight atLoopTop(Operation *loop, Block &body, ArrayRef<SharedBytes> refilled) {
    auto iterate = [&](InFlight p) {
      if (llvm::any_of(refilled, [&](const SharedBytes &r) { return overlaps(p.shared, r); }))
        p = InFlight();
      for (Operation &op : body.without_terminator()) {
        if (auto gemm = dyn_cast<GemmOp>(&op)) {
          if (!isWgmma(gemm)) {
            if (p.touches(gemm.getC()) || p.touches(gemm.getA()))
              p = InFlight();
            continue;
          }
          if (p.touches(gemm.getA()) || p.touches(gemm.getB()) ||
              llvm::is_contained(p.registerOperands, gemm.getC()))
            p = InFlight();
          p.merge(issuedBy(gemm));
          continue;
        }
        if (isa<scf::ForOp, scf::IfOp, PipelinedOp>(&op)) {
          p.merge(issuedIn(&op));
          continue;
        }
        if (p.touchedBy(&op)) {
          p = InFlight();
          continue;
        }
        if (auto copy = dyn_cast<CopyOp>(&op); copy && !copy->hasAttr(tessel::nvidia::kAheadAttr))
          if (std::optional<SharedBytes> dst = tessel::nvidia::sharedBytesOf(copy.getDst()))
            if (overlaps(p.shared, *dst))
              p = InFlight();
      }
      return p;
    };
    InFlight entry = wgmma, top = wgmma;
    for (int round = 0; round < 4; ++round) {
      InFlight next = entry;
      next.merge(iterate(top));
      if (next.size() == top.size())
        return top;
      top = next;
    }
    top.merge(issuedIn(loop));
    return top;
  }

  /// A loop runs its body from a clean state: a barrier before it when
  /// anything is outstanding, one at the end of an iteration that leaves
  /// something outstanding.
  void loop(Operation *op, Block &body, std::optional<Ranges> refilled) {
    if (sync.pending())
      barrierBefore(op);
    InFlight carried = atLoopTop(op, body, refilled ? *refilled : Ranges());
    wgmma = carried;
    block(body);
    if (sync.pending())
      barrierAtEnd(body, op->getLoc());
    wgmma = carried;
  }

  void pipelined(PipelinedOp op) {
    Block &body = op.getBody().front();
    if (!op->hasAttr(tessel::nvidia::kStagesAttr))
      return loop(op, body, std::nullopt);
    // The loop's stage area: every tile it stages.
    Ranges staged{SharedBytes{op}};
    bool anyCpAsync = false;
    for (Operation &st : body.without_terminator())
      if (st.hasAttr(tessel::nvidia::kAheadAttr))
        anyCpAsync |= !st.hasAttr(tessel::nvidia::kTmaAttr);
    if (sync.pending())
      barrierBefore(op);
    if (op->hasAttr(tessel::nvidia::kProducerAttr))
      return consumerLoop(op, staged);
    // The lowering refills a stage at the top of each iteration (after the
    // wgmmas reading it and a barrier) and, with cp.async, waits and
    // synchronizes the block: the body starts from a clean state, or, with
    // TMA alone, with the stages counted as written.
    InFlight carried = atLoopTop(op, body, staged);
    wgmma = carried;
    if (llvm::any_of(staged, [&](const SharedBytes &r) { return overlaps(wgmma.shared, r); }))
      wgmma = InFlight();
    sync = SyncState();
    if (!anyCpAsync)
      sync.writes = staged;
    block(body);
    if (sync.pending())
      barrierAtEnd(body, op.getLoc());
    wgmma = carried;
  }

  /// A loop a producer warpgroup feeds: the consumers run the body on each
  /// stage; only the producer writes the stages, after the consumers
  /// release them, so their reads of the stages need no barrier.
  void consumerLoop(PipelinedOp op, const Ranges &staged) {
    Block &body = op.getBody().front();
    bool lagged = op->hasAttr(tessel::nvidia::kInFlightAttr);
    InFlight carried = atLoopTop(op, body, lagged ? Ranges() : staged);
    if (lagged && !carried.empty())
      addAll(carried.shared, staged);
    wgmma = carried;
    block(body);
    if (!lagged && llvm::any_of(staged, [&](const SharedBytes &r) {
          return overlaps(wgmma.shared, r);
        }))
      wait();
    llvm::erase_if(sync.reads, [&](const SharedBytes &r) {
      return llvm::is_contained(staged, r);
    });
    if (sync.pending())
      barrierAtEnd(body, op.getLoc());
    wgmma = carried;
    // After the loop the consumers retire the groups still in flight.
    if (lagged)
      wait();
  }

  /// Whether a reduction goes through the scratch area.
  bool throughScratch(ReduceOp op) {
    auto map = [](Value v) -> std::optional<ThreadMap> {
      auto alloc = v.getDefiningOp<AllocOp>();
      if (!alloc || !alloc.getLayoutAttr())
        return std::nullopt;
      return ThreadMap::build(alloc.getLayoutAttr(), alloc.getType().getShape());
    };
    std::optional<ThreadMap> src = map(op.getSrc()), dst = map(op.getDst());
    if (!src || !dst)
      return false;
    return !tessel::nvidia::reductionStaysInWarps(*src, *dst, op.getDim(), threads);
  }

  /// A store or atomic add to global memory in the kernel's scalar code:
  /// thread 0 alone makes it.
  static bool scalarGlobalUpdate(Operation *op) {
    Value dst;
    if (auto store = dyn_cast<memref::StoreOp>(op))
      dst = store.getMemref();
    else if (auto atomic = dyn_cast<AtomicAddOp>(op))
      dst = atomic.getDst();
    return dst && scopeOf(dst) == MemoryScope::Global;
  }

  static bool usesGlobal(Operation *op) {
    return op
        ->walk([&](Operation *inner) {
          for (Value v : inner->getOperands())
            if (isa<MemRefType>(v.getType()) && scopeOf(v) == MemoryScope::Global)
              return WalkResult::interrupt();
          return WalkResult::advance();
        })
        .wasInterrupted();
  }

  void leaf(Operation *op) {
    if (!isa<GemmOp>(op) && wgmma.touchedBy(op))
      wait();
    bool needed = sync.globalWrite && !scalarGlobalUpdate(op) && usesGlobal(op);
    if (needed)
      sync = SyncState();
    Ranges reads, writes, asyncReads;
    auto add = [](Ranges &to, Value v) {
      if (std::optional<SharedBytes> b = tessel::nvidia::sharedBytesOf(v))
        to.push_back(*b);
    };
    if (auto gemm = dyn_cast<GemmOp>(op)) {
      if (isWgmma(gemm)) {
        if (wgmma.touches(gemm.getA()) || wgmma.touches(gemm.getB()) ||
            llvm::is_contained(wgmma.registerOperands, gemm.getC()))
          wait();
        add(asyncReads, gemm.getA());
        add(asyncReads, gemm.getB());
      } else {
        if (wgmma.touches(gemm.getC()) || (isFragment(gemm.getA()) && wgmma.touches(gemm.getA())))
          wait();
        add(reads, gemm.getA());
        add(reads, gemm.getB());
      }
    } else if (auto reduce = dyn_cast<ReduceOp>(op)) {
      if (throughScratch(reduce)) {
        SharedBytes scratch;
        scratch.scratch = true;
        needed |= overlaps(sync.reads, scratch) || overlaps(sync.writes, scratch);
        if (needed)
          barrierBefore(op);
        // Its own barrier between the partials' stores and loads leaves
        // only the loads outstanding.
        sync = SyncState();
        sync.reads.push_back(scratch);
        return;
      }
    } else if (auto copy = dyn_cast<CopyOp>(op)) {
      add(reads, copy.getSrc());
      add(writes, copy.getDst());
    } else if (auto fill = dyn_cast<FillOp>(op)) {
      add(writes, fill.getDst());
    } else if (auto load = dyn_cast<memref::LoadOp>(op)) {
      add(reads, load.getMemref());
    } else if (auto store = dyn_cast<memref::StoreOp>(op)) {
      add(writes, store.getMemref());
    } else if (auto atomic = dyn_cast<AtomicAddOp>(op)) {
      add(reads, atomic.getDst());
      add(writes, atomic.getDst());
    } else if (auto print = dyn_cast<PrintOp>(op)) {
      for (Value v : print->getOperands())
        if (isa<MemRefType>(v.getType()))
          add(reads, v);
    } else if (isa<ParallelOp>(op)) {
      op->walk([&](Operation *inner) {
        if (auto l = dyn_cast<memref::LoadOp>(inner)) {
          add(reads, l.getMemref());
        } else if (auto s = dyn_cast<memref::StoreOp>(inner)) {
          add(writes, s.getMemref());
        } else if (auto a = dyn_cast<AtomicAddOp>(inner)) {
          add(reads, a.getDst());
          add(writes, a.getDst());
        }
      });
    }
    for (const SharedBytes &w : writes)
      if (overlaps(wgmma.shared, w))
        wait();
    for (const SharedBytes &r : reads)
      needed |= overlaps(sync.writes, r);
    for (const SharedBytes &r : asyncReads)
      needed |= overlaps(sync.writes, r);
    for (const SharedBytes &w : writes)
      needed |= overlaps(sync.writes, w) || overlaps(sync.reads, w);
    if (needed)
      barrierBefore(op);
    addAll(sync.reads, reads);
    addAll(sync.writes, writes);
    if (scalarGlobalUpdate(op))
      sync.globalWrite = true;
    if (auto gemm = dyn_cast<GemmOp>(op); gemm && isWgmma(gemm))
      wgmma.merge(issuedBy(gemm));
  }
};

struct NVIDIAInsertBarriersPass
    : public tessel::nvidia::impl::NVIDIAInsertBarriersPassBase<NVIDIAInsertBarriersPass> {
  void runOnOperation() override {
    getOperation()->walk([](KernelOp kernel) {
      Analysis(kernel).block(kernel.getBody().front());
      kernel->setAttr("tessel.barriers_placed", UnitAttr::get(kernel.getContext()));
    });
  }
};

} // namespace
