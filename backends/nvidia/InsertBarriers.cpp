//===- InsertBarriers.cpp - block barriers from shared-memory dependences -===//
//
// Places a `tile.barrier` wherever one thread's shared-memory access must
// wait for another's: before a statement that reads bytes written since the
// last barrier, or writes bytes read or written since; before a loop when
// anything is outstanding, and at the end of an iteration that leaves
// outstanding something a later statement conflicts with (shared bytes, or
// a global tensor the threads stored to and a later statement reads); after
// thread 0's scalar global stores, before the threads touch global memory. It follows statements (copies, fills, gemms,
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
using namespace tessel::nvidia;

namespace {

using Ranges = SharedRanges;
using InFlight = InFlightWgmma;

/// Shared bytes read and written since the last barrier, and whether
/// thread 0 alone stored to global memory since.
struct SyncState {
  Ranges reads, writes;
  bool globalWrite = false;
  /// Global tensors the threads stored to since the last barrier: a loop
  /// body ends with a barrier when a later statement reads one (it may be
  /// another thread's element, stored the iteration before).
  SmallVector<Value> tensorWrites;
  bool pending() const { return !reads.empty() || !writes.empty() || globalWrite; }
  void merge(const SyncState &o) {
    addRanges(reads, o.reads);
    addRanges(writes, o.writes);
    globalWrite |= o.globalWrite;
    for (Value v : o.tensorWrites)
      if (!llvm::is_contained(tensorWrites, v))
        tensorWrites.push_back(v);
  }
};

bool isGlobalTensor(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && getMemoryScope(type) == MemoryScope::Global;
}

/// The global tensors `op` (a statement, nested ops included) stores to
/// (atomic adds commute: they need no order among themselves).
SmallVector<Value> tensorsWritten(Operation *op) {
  SmallVector<Value> written;
  auto add = [&](Value v) {
    if (isGlobalTensor(v) && !llvm::is_contained(written, v))
      written.push_back(v);
  };
  op->walk([&](Operation *inner) {
    if (auto store = dyn_cast<memref::StoreOp>(inner))
      add(store.getMemref());
    else if (auto copy = dyn_cast<CopyOp>(inner))
      add(copy.getDst());
    else if (auto fill = dyn_cast<FillOp>(inner))
      add(fill.getDst());
  });
  return written;
}


class Analysis {
public:
  explicit Analysis(KernelOp kernel) : threads(kernel.getThreads()) {}
  /// A statement needed a barrier no barrier can give (an error reported).
  bool failed = false;
  /// Barriers placed so far.
  int64_t placed = 0;

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

  void wait() {
    if (wgmma.empty())
      return;
    addRanges(sync.reads, wgmma.shared);
    wgmma = InFlight();
    waited = true;
  }

  /// A barrier (after a wait, when the statement waited) right before `op`.
  void barrierBefore(Operation *op) {
    OpBuilder b(op);
    if (waited) {
      auto w = NVVM::WgmmaWaitGroupSyncOp::create(b, op->getLoc(), 0);
      placeStatement(w, op, /*after=*/false);
    }
    auto barrier = BarrierOp::create(b, op->getLoc());
    placeStatement(barrier, op, /*after=*/false);
    sync = SyncState();
    ++placed;
  }

  /// What every statement that may run after an iteration of `loop` ends
  /// (before the kernel does) reads and writes: the loop's body (the next
  /// iteration), what follows the loop, and for each loop around it, its
  /// whole body and what follows it. A staged pipelined loop among them
  /// writes its stage area.
  void laterAccesses(Operation *loop, Ranges &reads, Ranges &writes,
                     SmallVector<Value> &tensorsRead) {
    auto collect = [&](Operation *root) {
      root->walk([&](Operation *inner) {
        Value read;
        if (auto load = dyn_cast<memref::LoadOp>(inner))
          read = load.getMemref();
        else if (auto copy = dyn_cast<CopyOp>(inner))
          read = copy.getSrc();
        if (read && isGlobalTensor(read) && !llvm::is_contained(tensorsRead, read))
          tensorsRead.push_back(read);
        // A staged loop refills its stage area at the top of its
        // iterations (the copies run ahead are the area's writers).
        if (isa<PipelinedOp>(inner) && inner->hasAttr(kStagesAttr)) {
          writes.push_back(SharedBytes{inner});
          return;
        }
        if (auto reduce = dyn_cast<ReduceOp>(inner); reduce && throughScratch(reduce)) {
          SharedBytes scratch;
          scratch.scratch = true;
          reads.push_back(scratch);
          writes.push_back(scratch);
          return;
        }
        Ranges asyncReads;
        sharedAccesses(inner, reads, writes, asyncReads);
        addRanges(reads, asyncReads);
      });
    };
    collect(loop);
    for (Operation *cur = loop; cur && !isa<KernelOp>(cur); cur = cur->getParentOp()) {
      for (Operation *next = cur->getNextNode(); next; next = next->getNextNode())
        collect(next);
      Operation *parent = cur->getParentOp();
      if (parent && isa<scf::ForOp, scf::WhileOp, PipelinedOp>(parent))
        collect(parent);
    }
  }

  /// The end of an iteration of `loop`: a barrier as its body's last
  /// statement when what is outstanding meets a later access (a write
  /// anything later touches, a read something later writes; thread 0's
  /// global stores always). Otherwise the outstanding accesses stay
  /// outstanding after the loop.
  void endOfIteration(Operation *loop, Block &body) {
    if ((sync.pending() || !sync.tensorWrites.empty()) && conflictsLater(loop))
      barrierAtEnd(body, loop->getLoc());
  }

  /// Whether what is outstanding at the end of an iteration of `loop` meets
  /// a later access.
  bool conflictsLater(Operation *loop) {
    if (sync.globalWrite)
      return true;
    Ranges reads, writes;
    SmallVector<Value> tensors;
    laterAccesses(loop, reads, writes, tensors);
    bool conflict = llvm::any_of(sync.tensorWrites,
                                 [&](Value t) { return llvm::is_contained(tensors, t); });
    for (const SharedBytes &w : sync.writes)
      conflict |= overlapsAny(reads, w) || overlapsAny(writes, w);
    for (const SharedBytes &r : sync.reads)
      conflict |= overlapsAny(writes, r);
    return conflict;
  }

  /// A barrier as the last statement of loop body `body`.
  void barrierAtEnd(Block &body, Location loc) {
    OpBuilder b(body.getTerminator());
    auto barrier = BarrierOp::create(b, loc);
    placeStatement(barrier, nullptr, /*after=*/false);
    sync = SyncState();
    ++placed;
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
    if (op->hasAttr(kAheadAttr) || isPure(op) ||
        isa<NVVM::FenceProxyOp, memref::DimOp, CastOp>(op))
      return;
    if (auto forOp = dyn_cast<scf::ForOp>(op))
      return loop(op, *forOp.getBody(), std::nullopt);
    if (auto ifOp = dyn_cast<scf::IfOp>(op))
      return branch(ifOp);
    if (auto whileOp = dyn_cast<scf::WhileOp>(op)) {
      if (sync.pending())
        barrierBefore(op);
      InFlight carried = wgmma;
      carried.merge(wgmmaIssuedIn(op));
      wgmma = carried;
      int64_t before = placed;
      block(whileOp.getBefore().front());
      block(whileOp.getAfter().front());
      wgmma = carried;
      // Threads may leave a device while loop at different iterations: no
      // barrier may stand in its body, and what the body leaves outstanding
      // must meet no later access.
      if (placed != before ||
          ((sync.pending() || !sync.tensorWrites.empty()) && conflictsLater(op))) {
        op->emitError("this while loop's body shares memory between threads, which "
                      "needs a block barrier inside a loop threads may leave at "
                      "different times; not supported on the cuda target yet");
        failed = true;
      }
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

  InFlight atLoopTop(Operation *loop, Block &body, ArrayRef<SharedBytes> refilled) {
    return wgmmaAtLoopTop(loop, body, wgmma, refilled);
  }

  /// A loop runs its body from a clean state: a barrier before it when
  /// anything is outstanding, one at the end of an iteration that leaves
  /// something outstanding a later statement conflicts with.
  void loop(Operation *op, Block &body, std::optional<Ranges> refilled) {
    if (sync.pending())
      barrierBefore(op);
    InFlight carried = atLoopTop(op, body, refilled ? *refilled : Ranges());
    wgmma = carried;
    block(body);
    endOfIteration(op, body);
    wgmma = carried;
  }

  void pipelined(PipelinedOp op) {
    Block &body = op.getBody().front();
    if (!op->hasAttr(kStagesAttr))
      return loop(op, body, std::nullopt);
    // The loop's stage area: every tile it stages.
    Ranges staged{SharedBytes{op}};
    bool anyCpAsync = false;
    for (Operation &st : body.without_terminator())
      if (st.hasAttr(kAheadAttr))
        anyCpAsync |= !st.hasAttr(kTmaAttr);
    // A lagged producer-fed loop waits first for what is in flight before
    // it (its drain waits only when it ran).
    if (op->hasAttr(kProducerAttr) && op->hasAttr(kInFlightAttr))
      wait();
    if (sync.pending())
      barrierBefore(op);
    if (op->hasAttr(kProducerAttr))
      return consumerLoop(op, staged);
    // The lowering refills a stage at the top of each iteration (after the
    // wgmmas reading it and a barrier) and, with cp.async, waits and
    // synchronizes the block: the body starts from a clean state, or, with
    // TMA alone, with the stages counted as written.
    InFlight carried = atLoopTop(op, body, staged);
    wgmma = carried;
    if (llvm::any_of(staged, [&](const SharedBytes &r) { return overlapsAny(wgmma.shared, r); }))
      wgmma = InFlight();
    sync = SyncState();
    if (!anyCpAsync)
      sync.writes = staged;
    block(body);
    endOfIteration(op, body);
    wgmma = carried;
  }

  /// A loop a producer warpgroup feeds: the consumers run the body on each
  /// stage; only the producer writes the stages, after the consumers
  /// release them, so their reads of the stages need no barrier.
  void consumerLoop(PipelinedOp op, const Ranges &staged) {
    Block &body = op.getBody().front();
    bool lagged = op->hasAttr(kInFlightAttr);
    InFlight carried = atLoopTop(op, body, lagged ? Ranges() : staged);
    if (lagged && !carried.empty())
      addRanges(carried.shared, staged);
    wgmma = carried;
    block(body);
    if (!lagged && llvm::any_of(staged, [&](const SharedBytes &r) {
          return overlapsAny(wgmma.shared, r);
        }))
      wait();
    llvm::erase_if(sync.reads, [&](const SharedBytes &r) {
      return llvm::is_contained(staged, r);
    });
    endOfIteration(op, body);
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
    return !reductionStaysInWarps(*src, *dst, op.getDim(), threads);
  }

  /// A store or atomic add to global memory in the kernel's scalar code:
  /// thread 0 alone makes it.
  static bool scalarGlobalUpdate(Operation *op) {
    Value dst;
    if (auto store = dyn_cast<memref::StoreOp>(op))
      dst = store.getMemref();
    else if (auto atomic = dyn_cast<AtomicAddOp>(op))
      dst = atomic.getDst();
    return dst && isGlobalTensor(dst);
  }

  static bool usesGlobal(Operation *op) {
    return op
        ->walk([&](Operation *inner) {
          for (Value v : inner->getOperands())
            if (isGlobalTensor(v))
              return WalkResult::interrupt();
          return WalkResult::advance();
        })
        .wasInterrupted();
  }

  void leaf(Operation *op) {
    // The wait the lowering (or nvidia-mma-async's op before it) makes
    // first.
    if (needsWgmmaWait(op, wgmma))
      wait();
    bool needed = sync.globalWrite && !scalarGlobalUpdate(op) && usesGlobal(op);
    if (needed)
      sync = SyncState();
    if (auto reduce = dyn_cast<ReduceOp>(op); reduce && throughScratch(reduce)) {
      SharedBytes scratch;
      scratch.scratch = true;
      needed |= overlapsAny(sync.reads, scratch) || overlapsAny(sync.writes, scratch);
      if (needed)
        barrierBefore(op);
      // Its own barrier between the partials' stores and loads leaves only
      // the loads outstanding.
      sync = SyncState();
      sync.reads.push_back(scratch);
      return;
    }
    Ranges reads, writes, asyncReads;
    sharedAccesses(op, reads, writes, asyncReads);
    for (const SharedBytes &r : reads)
      needed |= overlapsAny(sync.writes, r);
    for (const SharedBytes &r : asyncReads)
      needed |= overlapsAny(sync.writes, r);
    for (const SharedBytes &w : writes)
      needed |= overlapsAny(sync.writes, w) || overlapsAny(sync.reads, w);
    if (needed)
      barrierBefore(op);
    addRanges(sync.reads, reads);
    addRanges(sync.writes, writes);
    for (Value t : tensorsWritten(op))
      if (!llvm::is_contained(sync.tensorWrites, t))
        sync.tensorWrites.push_back(t);
    if (scalarGlobalUpdate(op))
      sync.globalWrite = true;
    if (auto gemm = dyn_cast<GemmOp>(op); gemm && isWgmma(gemm))
      wgmma.merge(wgmmaIssuedBy(gemm));
  }
};

struct NVIDIAInsertBarriersPass
    : public tessel::nvidia::impl::NVIDIAInsertBarriersPassBase<NVIDIAInsertBarriersPass> {
  void runOnOperation() override {
    bool failed = false;
    getOperation()->walk([&](KernelOp kernel) {
      Analysis analysis(kernel);
      analysis.block(kernel.getBody().front());
      failed |= analysis.failed;
      kernel->setAttr("tessel.barriers_placed", UnitAttr::get(kernel.getContext()));
    });
    if (failed)
      signalPassFailure();
  }
};

} // namespace
