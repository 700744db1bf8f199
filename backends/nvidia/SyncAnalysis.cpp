//===- SyncAnalysis.cpp - shared bytes and statements for sync passes -----===//

#include "backends/nvidia/SyncAnalysis.h"
#include "backends/nvidia/Pipelining.h"

using namespace mlir;
using namespace tessel::tile;

std::optional<tessel::nvidia::SharedBytes> tessel::nvidia::sharedBytesOf(Value memref) {
  auto type = dyn_cast<MemRefType>(memref.getType());
  if (!type || getMemoryScope(type) != MemoryScope::Shared)
    return std::nullopt;
  auto alloc = memref.getDefiningOp<AllocOp>();
  if (!alloc)
    return SharedBytes{};
  // A staged tile lives in its loop's stage area, which the lowering
  // records as a whole: every tile the loop stages is the same bytes.
  if (alloc->hasAttr(kStagedAttr)) {
    for (Operation *user : alloc->getUsers())
      if (user->hasAttr(kAheadAttr))
        if (auto loop = user->getParentOfType<PipelinedOp>())
          return SharedBytes{loop};
    return SharedBytes{};
  }
  SharedBytes bytes{alloc};
  if (auto offset = alloc->getAttrOfType<IntegerAttr>("tessel.shared_offset")) {
    // As tile-plan-memory sizes it: a bool takes a byte, num_buffers copies.
    int64_t bits = std::max<int64_t>(8, type.getElementTypeBitWidth());
    int64_t copies = 1;
    if (auto n = alloc->getAttrOfType<IntegerAttr>("tessel.num_buffers"))
      copies = std::max<int64_t>(1, n.getInt());
    bytes.begin = offset.getInt();
    bytes.end = bytes.begin + (type.getNumElements() * bits + 7) / 8 * copies;
  }
  return bytes;
}

void tessel::nvidia::placeStatement(Operation *added, Operation *anchor, bool after) {
  auto pipe = dyn_cast_or_null<PipelinedOp>(added->getParentOp());
  if (!pipe || (!pipe.getOrder() && !pipe.getStage()))
    return;
  SmallVector<Operation *> statements = pipelineStatements(pipe.getBody().front());
  int64_t addedAt = llvm::find(statements, added) - statements.begin();
  statements.erase(statements.begin() + addedAt);
  int64_t anchorAt = anchor ? llvm::find(statements, anchor) - statements.begin() : -1;
  if (std::optional<ArrayRef<int64_t>> order = pipe.getOrder()) {
    int64_t at = anchorAt < 0 ? int64_t(order->size())
                              : (*order)[anchorAt] + (after ? 1 : 0);
    SmallVector<int64_t> next;
    for (int64_t pos : *order)
      next.push_back(pos >= at ? pos + 1 : pos);
    next.insert(next.begin() + addedAt, at);
    pipe.setOrder(next);
  }
  if (std::optional<ArrayRef<int64_t>> stage = pipe.getStage()) {
    SmallVector<int64_t> next(stage->begin(), stage->end());
    int64_t compute = next.empty() ? 0 : *llvm::max_element(next);
    next.insert(next.begin() + addedAt, compute);
    pipe.setStage(next);
  }
}

bool tessel::nvidia::overlapsAny(ArrayRef<SharedBytes> list, const SharedBytes &b) {
  return llvm::any_of(list, [&](const SharedBytes &x) { return x.overlaps(b); });
}

void tessel::nvidia::addRanges(SharedRanges &to, ArrayRef<SharedBytes> from) {
  for (const SharedBytes &b : from)
    if (!llvm::is_contained(to, b))
      to.push_back(b);
}

bool tessel::nvidia::InFlightWgmma::touchedBy(Operation *op) const {
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

void tessel::nvidia::InFlightWgmma::merge(const InFlightWgmma &o) {
  for (Value v : o.accumulators)
    if (!llvm::is_contained(accumulators, v))
      accumulators.push_back(v);
  for (Value v : o.registerOperands)
    if (!llvm::is_contained(registerOperands, v))
      registerOperands.push_back(v);
  addRanges(shared, o.shared);
}

static bool isFragment(Value v) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && getMemoryScope(type) == MemoryScope::Fragment;
}

bool tessel::nvidia::isWgmma(GemmOp gemm) {
  MmaAttr mma = gemm.getMmaAttr();
  return !mma || mma.getKind() == MmaKind::Wgmma;
}

tessel::nvidia::InFlightWgmma tessel::nvidia::wgmmaIssuedBy(GemmOp gemm) {
  InFlightWgmma issued;
  if (!isFragment(gemm.getC()))
    return issued;
  issued.accumulators.push_back(gemm.getC());
  for (Value operand : {gemm.getA(), gemm.getB()}) {
    if (isFragment(operand))
      issued.registerOperands.push_back(operand);
    else if (std::optional<SharedBytes> b = sharedBytesOf(operand))
      issued.shared.push_back(*b);
  }
  return issued;
}

tessel::nvidia::InFlightWgmma tessel::nvidia::wgmmaIssuedIn(Operation *root) {
  InFlightWgmma issued;
  root->walk([&](GemmOp gemm) {
    if (isWgmma(gemm))
      issued.merge(wgmmaIssuedBy(gemm));
  });
  return issued;
}

tessel::nvidia::InFlightWgmma
tessel::nvidia::wgmmaAtLoopTop(Operation *loop, Block &body, const InFlightWgmma &entry,
                               ArrayRef<SharedBytes> refilled) {
  // One iteration: the waits the statements need, or fewer (which only
  // keeps more in flight: safe).
  auto iterate = [&](InFlightWgmma p) {
    if (llvm::any_of(refilled, [&](const SharedBytes &r) { return overlapsAny(p.shared, r); }))
      p = InFlightWgmma();
    for (Operation &op : body.without_terminator()) {
      if (auto gemm = dyn_cast<GemmOp>(&op)) {
        if (!isWgmma(gemm)) {
          if (p.touches(gemm.getC()) || p.touches(gemm.getA()))
            p = InFlightWgmma();
          continue;
        }
        if (p.touches(gemm.getA()) || p.touches(gemm.getB()) ||
            llvm::is_contained(p.registerOperands, gemm.getC()))
          p = InFlightWgmma();
        p.merge(wgmmaIssuedBy(gemm));
        continue;
      }
      if (isa<scf::ForOp, scf::IfOp, scf::WhileOp, PipelinedOp>(&op)) {
        p.merge(wgmmaIssuedIn(&op)); // nested: no waits assumed
        continue;
      }
      if (p.touchedBy(&op)) {
        p = InFlightWgmma();
        continue;
      }
      if (auto copy = dyn_cast<CopyOp>(&op); copy && !copy->hasAttr(kAheadAttr))
        if (std::optional<SharedBytes> dst = sharedBytesOf(copy.getDst()))
          if (overlapsAny(p.shared, *dst))
            p = InFlightWgmma();
    }
    return p;
  };
  InFlightWgmma top = entry;
  for (int round = 0; round < 4; ++round) {
    InFlightWgmma next = entry;
    next.merge(iterate(top));
    if (next.size() == top.size())
      return top;
    top = next;
  }
  top.merge(wgmmaIssuedIn(loop));
  return top;
}

void tessel::nvidia::sharedAccesses(Operation *op, SharedRanges &reads, SharedRanges &writes,
                                    SharedRanges &asyncReads) {
  auto add = [](SharedRanges &to, Value v) {
    if (std::optional<SharedBytes> b = sharedBytesOf(v))
      to.push_back(*b);
  };
  if (op->hasAttr(kAheadAttr))
    return;
  if (auto gemm = dyn_cast<GemmOp>(op)) {
    SharedRanges &to = isWgmma(gemm) ? asyncReads : reads;
    add(to, gemm.getA());
    add(to, gemm.getB());
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
}

bool tessel::nvidia::needsWgmmaWait(Operation *op, const InFlightWgmma &inFlight) {
  if (inFlight.empty())
    return false;
  if (auto gemm = dyn_cast<GemmOp>(op)) {
    if (isWgmma(gemm))
      return inFlight.touches(gemm.getA()) || inFlight.touches(gemm.getB()) ||
             llvm::is_contained(inFlight.registerOperands, gemm.getC());
    return inFlight.touches(gemm.getC()) ||
           (isFragment(gemm.getA()) && inFlight.touches(gemm.getA()));
  }
  if (inFlight.touchedBy(op))
    return true;
  SharedRanges reads, writes, asyncReads;
  sharedAccesses(op, reads, writes, asyncReads);
  return llvm::any_of(writes, [&](const SharedBytes &w) { return overlapsAny(inFlight.shared, w); });
}

SmallVector<Operation *> tessel::nvidia::statementsInOrder(Block &body) {
  auto pipe = dyn_cast_or_null<PipelinedOp>(body.getParentOp());
  if (!pipe || !pipe.getOrder()) {
    SmallVector<Operation *> ops;
    for (Operation &op : body.without_terminator())
      ops.push_back(&op);
    return ops;
  }
  SmallVector<Operation *> statements = pipelineStatements(body);
  SmallVector<Operation *> ordered(statements.size());
  for (auto [st, pos] : llvm::zip(statements, *pipe.getOrder()))
    ordered[pos] = st;
  return ordered;
}
