//===- LowerSync.cpp - barriers, proxy fences, wgmma waits ----------------===//
//
// Part of the tile-lower-to-nvvm pass (LowerTileToNVVM.cpp); KernelEmitter.h
// declares the emitter these methods belong to.
//
//===----------------------------------------------------------------------===//

#include "backends/nvidia/KernelEmitter.h"
#include "backends/nvidia/SyncAnalysis.h"

#define DEBUG_TYPE "tile-lower-to-nvvm"

namespace tessel::nvidia::lowering {

//===----------------------------------------------------------------------===//
// Synchronization
//===----------------------------------------------------------------------===//

void KernelEmitter::fenceProxyAsync() {
  // One fence covers this thread's generic writes: none twice in a row.
  Block *block = b.getInsertionBlock();
  Block::iterator ip = b.getInsertionPoint();
  if (ip != block->begin() && isa<NVVM::FenceProxyOp>(*std::prev(ip)))
    return;
  NVVM::FenceProxyOp::create(
      b, loc, NVVM::ProxyKind::async_shared,
      NVVM::SharedSpaceAttr::get(ctx, NVVM::SharedSpace::shared_cta));
}

void KernelEmitter::barrier() {
  // Proxy fences are nvidia-insert-proxy-fences' decision, not the
  // barrier's: a barrier alone never orders a generic write before an
  // async-proxy read.
  if (specialized) {
    // Only the consumers run the kernel's code: a named barrier for them
    // (barrier 0 would wait for the producer too).
    NVVM::BarrierOp::create(b, loc, Type(), i32(1), i32(threads),
                            NVVM::BarrierReductionAttr(), Value());
  } else {
    NVVM::Barrier0Op::create(b, loc);
  }
  sync = SyncState();
}

void KernelEmitter::waitForWgmma() {
  if (wgmma.empty())
    return;
  NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 0);
  // Keep later uses of the accumulators below the wait: their registers go
  // through an empty asm statement the compiler cannot move (one statement
  // for up to 128 registers).
  Type f32 = b.getF32Type();
  for (Value acc : wgmma.accumulators) {
    const Buffer &C = *buffers.find(acc)->second;
    for (int64_t first = 0; first < C.map->slots(); first += 128) {
      int64_t count = std::min<int64_t>(128, C.map->slots() - first);
      SmallVector<Value> regs;
      std::string constraints;
      for (int64_t r = 0; r < count; ++r) {
        regs.push_back(load(slotAddress(C, cst(first + r)), f32));
        constraints += "=f,";
      }
      for (int64_t r = 0; r < count; ++r)
        constraints += std::to_string(r) + (r + 1 < count ? "," : "");
      auto structType =
          LLVM::LLVMStructType::getLiteral(ctx, SmallVector<Type>(count, f32));
      Value pinned =
          inlineAsm(structType, regs, "", constraints);
      for (int64_t r = 0; r < count; ++r)
        store(LLVM::ExtractValueOp::create(b, loc, pinned, r),
              slotAddress(C, cst(first + r)));
    }
  }
  // This thread's wgmmas are done, other threads' maybe not: the bytes they
  // read now count as ordinary reads, which a writer must barrier after.
  sync.reads.append(wgmma.shared.begin(), wgmma.shared.end());
  wgmma = PendingWgmma();
}

PendingWgmma KernelEmitter::wgmmaIssuedIn(Operation *root) {
  PendingWgmma issued;
  root->walk([&](GemmOp gemm) {
    // Warp MMAs (mma.sync) complete in order: nothing of theirs is in flight.
    if (!isWgmma(gemm))
      return;
    auto it = buffers.find(gemm.getC());
    if (it == buffers.end() || it->second->space != Space::Fragment)
      return;
    issued.accumulators.push_back(gemm.getC());
    for (Value operand : {gemm.getA(), gemm.getB()}) {
      auto buf = buffers.find(operand);
      if (buf == buffers.end())
        continue;
      if (buf->second->space == Space::Fragment)
        issued.registerOperands.push_back(operand);
      else if (buf->second->space == Space::Shared)
        issued.shared.push_back(sharedRange(*buf->second));
    }
  });
  return issued;
}

PendingWgmma KernelEmitter::wgmmaAtLoopTop(
    Operation *loop, Block &body,
    std::optional<std::pair<int64_t, int64_t>> refilled) {
  // One iteration from `start`: the same waits the emission will place,
  // or fewer (which only keeps more in flight: safe).
  auto iterate = [&](PendingWgmma p) {
    if (refilled && SyncState::overlaps(p.shared, *refilled))
      p = PendingWgmma();
    for (Operation &op : body.without_terminator()) {
      if (auto gemm = dyn_cast<GemmOp>(&op)) {
        if (!isWgmma(gemm)) {
          if (p.touches(gemm.getC()) || p.touches(gemm.getA()))
            p = PendingWgmma();
          continue;
        }
        if (p.touches(gemm.getA()) || p.touches(gemm.getB()) ||
            llvm::is_contained(p.registerOperands, gemm.getC()))
          p = PendingWgmma();
        p.merge(wgmmaIssuedIn(gemm));
        continue;
      }
      if (isa<scf::ForOp, scf::IfOp, scf::WhileOp, PipelinedOp>(&op)) {
        p.merge(wgmmaIssuedIn(&op)); // nested: no waits assumed
        continue;
      }
      if (p.touchedBy(&op)) {
        p = PendingWgmma();
        continue;
      }
      if (auto copy = dyn_cast<CopyOp>(&op); copy && !issuedAhead.contains(copy)) {
        auto dst = buffers.find(copy.getDst());
        if (dst != buffers.end() && dst->second->space == Space::Shared &&
            SyncState::overlaps(p.shared, sharedRange(*dst->second)))
          p = PendingWgmma();
      }
    }
    return p;
  };
  PendingWgmma entry = wgmma, top = wgmma;
  for (int round = 0; round < 4; ++round) {
    PendingWgmma next = entry;
    next.merge(iterate(top));
    if (next.accumulators.size() == top.accumulators.size() &&
        next.registerOperands.size() == top.registerOperands.size() &&
        next.shared.size() == top.shared.size())
      return top;
    top = next;
  }
  // No fixpoint in a few rounds: everything the loop issues.
  top.merge(wgmmaIssuedIn(loop));
  return top;
}

void KernelEmitter::waitIfTouchesWgmma(Operation *op) {
  if (wgmma.touchedBy(op))
    statementWait();
}

/// A barrier before reading bytes other threads wrote, or before writing
/// bytes other threads may still read or write. wgmma's reads (through the
/// async proxy) need the same barrier; the proxy fence before it is
/// nvidia-insert-proxy-fences' (an nvvm.fence.proxy in the tile IR).
void KernelEmitter::beforeSharedAccess(ArrayRef<const Buffer *> reads,
                                       ArrayRef<const Buffer *> writes,
                                       ArrayRef<const Buffer *> asyncReads) {
  auto range = [](const Buffer *buf) { return sharedRange(*buf); };
  // Bytes an in-flight wgmma reads are written only after it completes
  // (and, through the barrier below, after every thread's has: the wait
  // turns its ranges into ordinary reads).
  for (const Buffer *w : writes)
    if (SyncState::overlaps(wgmma.shared, range(w)))
      statementWait();
  bool needed = false;
  for (const Buffer *r : reads)
    needed |= SyncState::overlaps(sync.writes, range(r));
  for (const Buffer *r : asyncReads)
    needed |= SyncState::overlaps(sync.writes, range(r));
  for (const Buffer *w : writes)
    needed |= SyncState::overlaps(sync.writes, range(w)) ||
              SyncState::overlaps(sync.reads, range(w));
  if (needed)
    statementBarrier();
  for (const Buffer *r : reads)
    sync.reads.push_back(range(r));
  // Async reads are recorded by the gemm as in flight (PendingWgmma) until
  // a wait turns them into ordinary reads.
  for (const Buffer *w : writes)
    sync.writes.push_back(range(w));
}

void KernelEmitter::beforeSharedRanges(
    ArrayRef<std::pair<int64_t, int64_t>> reads,
    ArrayRef<std::pair<int64_t, int64_t>> writes, bool statement) {
  bool needed = false;
  for (auto r : reads)
    needed |= SyncState::overlaps(sync.writes, r);
  for (auto w : writes)
    needed |= SyncState::overlaps(sync.writes, w) ||
              SyncState::overlaps(sync.reads, w);
  if (needed) {
    if (statement)
      statementBarrier();
    else
      barrier();
  }
  sync.reads.append(reads.begin(), reads.end());
  sync.writes.append(writes.begin(), writes.end());
}

} // namespace tessel::nvidia::lowering
