//===- ExecAsync.cpp - mbarriers, cp.async and async-group waits -----------===//
//
// An mbarrier's state (phase, pending arrivals, transaction count) lives
// beside the shared memory it is declared in. A wait on a phase that has
// not completed blocks the thread, which re-executes the wait when the
// phase completes. cp.async copies land at the wait_group that covers
// them, the latest point the program allows.
//
//===----------------------------------------------------------------------===//

#include "lib/Emulator/Exec.h"
#include "lib/Emulator/Racecheck.h"
#include "lib/Emulator/Shadow.h"
#include "lib/Emulator/Tma.h"

namespace tessel::emu {

AsyncOp issueAsync(Thread &t) {
  AsyncOp op;
  op.id = t.block->nextAsyncId++;
  op.issuer = t.linear;
  op.pc = t.cur;
  return op;
}

namespace {

/// An mbarrier operand's shared address (generic addresses converted).
uint32_t mbarAddress(Thread &t, const Instr &in, const Operand &m) {
  uint64_t a = address(t, m);
  if (in.space == Space::Generic) {
    if ((a >> 48) != 2)
      t.fail(ErrIllegalAddress, "the mbarrier's generic address is not in shared memory");
    a &= kWindowMask;
  }
  return uint32_t(a);
}

void execMbarrierInit(Thread &t, const Instr &in) {
  Block &b = *t.block;
  uint32_t a = mbarAddress(t, in, in.ops[0]);
  uint64_t count = t.val(in.ops[1]);
  if (a % 8 || a + 8 > b.sharedMem.size())
    t.fail(ErrMisalignedAddress, "mbarrier.init at shared address " + std::to_string(a) +
                                     ": not 8-byte aligned inside the block's shared memory");
  if (count < 1 || count >= (uint64_t(1) << 20))
    t.fail(ErrIllegalInstruction, "mbarrier.init with count " + std::to_string(count) +
                                      "; it must be 1 to 2^20-1");
  auto it = b.mbarriers.find(a);
  if (it != b.mbarriers.end()) {
    MBarrier &m = it->second;
    if (m.pending != m.expected || m.tx != 0 || !m.waiters.empty())
      t.fail(ErrIllegalInstruction,
             "mbarrier.init re-initializes the mbarrier at shared address " + std::to_string(a) +
                 " while it is in use (initialized at PTX line " + std::to_string(m.initLine) +
                 "; " + std::to_string(m.expected - m.pending) + " arrivals and tx-count " +
                 std::to_string(m.tx) + " in its current phase)");
  }
  MBarrier m;
  m.expected = m.pending = uint32_t(count);
  m.initLine = in.ptxLine;
  b.mbarriers[a] = m;
  b.progress();
}

void execMbarrierArrive(Thread &t, const Instr &in) {
  Block &b = *t.block;
  uint32_t a = mbarAddress(t, in, in.ops[1]);
  MBarrier &m = b.mbarrier(t, a);
  uint32_t count = 1;
  if (in.mods & ModExpectTx)
    m.tx += int64_t(t.val(in.ops[2]));
  else if (in.nops > 2)
    count = uint32_t(t.val(in.ops[2]));
  if (in.op == OpMbarrierArriveDrop) {
    if (count > m.expected)
      t.fail(ErrIllegalInstruction, "mbarrier.arrive_drop drops more arrivals than expected");
    m.expected -= count;
  }
  t.set(in.ops[0], m.phase);
  if (b.launch->options.racecheck)
    racecheckRelease(b, t.linear, a);
  b.arriveOn(a, count, &t);
}

void execMbarrierTx(Thread &t, const Instr &in) {
  Block &b = *t.block;
  uint32_t a = mbarAddress(t, in, in.ops[0]);
  MBarrier &m = b.mbarrier(t, a);
  int64_t bytes = int64_t(t.val(in.ops[1]));
  if (in.op == OpMbarrierExpectTx) {
    m.tx += bytes;
    b.progress();
  } else
    b.completeTx(a, bytes, &t);
}

void execMbarrierWait(Thread &t, const Instr &in) {
  Block &b = *t.block;
  uint32_t a = mbarAddress(t, in, in.ops[1]);
  MBarrier &m = b.mbarrier(t, a);
  uint64_t v = t.val(in.ops[2]);
  bool done = (in.mods & ModParity) ? (m.phase & 1) != (v & 1) : m.phase > v;
  if (done) {
    if (b.launch->options.racecheck)
      racecheckAcquire(b, t.linear, a);
    t.set(in.ops[0], 1);
    return;
  }
  if (in.op == OpMbarrierTestWait) {
    // Not yet, and test_wait does not wait: false, and let the others run.
    // Polls that go on while nothing else happens are a deadlock.
    t.set(in.ops[0], 0);
    t.yieldNow = true;
    t.waitReason = "polling (mbarrier.test_wait) the mbarrier at shared address " +
                   std::to_string(a);
    if (++b.pollsSinceProgress > 1000 + 64 * uint64_t(b.threads.size()) && !b.landOne())
      throw EmuError(ErrLaunchTimeout,
                     "deadlock in block (" + std::to_string(b.ctaid[0]) + ", " +
                         std::to_string(b.ctaid[1]) + ", " + std::to_string(b.ctaid[2]) +
                         "): every live thread waits or polls and nothing is in flight\n" +
                         b.describeWaits());
    return;
  }
  // Not yet: wait here and run this instruction again when the phase
  // completes (a spinning try_wait loop would do the same; try_wait may
  // suspend until then).
  m.waiters.push_back(t.linear);
  t.state = ThreadState::Blocked;
  t.pc = t.cur;
  t.waitReason = "on the mbarrier at shared address " + std::to_string(a) +
                 ((in.mods & ModParity) ? " for the phase of parity " + std::to_string(v & 1)
                                        : " for phase " + std::to_string(v));
}

void execMbarrierInval(Thread &t, const Instr &in) {
  Block &b = *t.block;
  uint32_t a = mbarAddress(t, in, in.ops[0]);
  MBarrier &m = b.mbarrier(t, a);
  if (!m.waiters.empty())
    t.fail(ErrIllegalInstruction, "mbarrier.inval while threads wait on it");
  b.mbarriers.erase(a);
}

void execMbarrierPendingCount(Thread &t, const Instr &in) {
  (void)in;
  t.fail(ErrNotSupported, "mbarrier.pending_count is not emulated");
}

/// cp.async [dst], [src], cp-size{, src-size | ignore-src}: lands at the
/// wait that covers its group.
void execCpAsync(Thread &t, const Instr &in) {
  Block &b = *t.block;
  uint32_t dst = uint32_t(address(t, in.ops[0]));
  uint64_t src = address(t, in.ops[1]);
  uint32_t size = uint32_t(t.val(in.ops[2]));
  if (size != 4 && size != 8 && size != 16)
    t.fail(ErrIllegalInstruction, "cp.async copies 4, 8 or 16 bytes, not " + std::to_string(size));
  uint32_t srcSize = size;
  if (in.nops > 3 && in.ops[3].kind != Operand::None) {
    const Operand &o = in.ops[3];
    bool isPred = o.kind == Operand::Reg && b.kernel->regTypes[o.reg] == DType::Pred;
    if (isPred)
      srcSize = t.pred(o) ? 0 : size; // ignore-src
    else
      srcSize = uint32_t(std::min<uint64_t>(t.val(o), size));
  }
  if (dst % size || src % size)
    t.fail(ErrMisalignedAddress, "cp.async addresses must be aligned to its size");
  if (srcSize)
    t.globalRange(src, srcSize);
  AsyncOp op = issueAsync(t);
  op.isCpAsync = true;
  op.group = b.cpAsyncCommitted[t.linear];
  AsyncAccess access{&t, "this cp.async", t.cur, op.id};
  asyncWriteIssued(b, access, dst, size, /*asyncProxy=*/false);
  op.land = [dst, src, size, srcSize](Block &blk) {
    uint8_t *p = blk.sharedMem.data() + dst;
    if (srcSize)
      std::memcpy(p, reinterpret_cast<const void *>(src), srcSize);
    std::memset(p + srcSize, 0, size - srcSize);
    asyncWriteLanded(blk, dst, size);
  };
  b.async.push_back(std::move(op));
}

void execCpAsyncCommit(Thread &t, const Instr &) { t.block->cpAsyncCommitted[t.linear]++; }

void execCpAsyncWait(Thread &t, const Instr &in) {
  Block &b = *t.block;
  if (in.op == OpCpAsyncWaitAll) {
    b.cpAsyncCommitted[t.linear]++;
    b.landCpAsync(t.linear, 0);
    return;
  }
  b.landCpAsync(t.linear, t.val(in.ops[0]));
}

/// cp.async.mbarrier.arrive: the arrive happens when this thread's earlier
/// cp.async copies have landed.
void execCpAsyncMbarrierArrive(Thread &t, const Instr &in) {
  Block &b = *t.block;
  uint32_t a = mbarAddress(t, in, in.ops[0]);
  MBarrier &m = b.mbarrier(t, a);
  if (!(in.mods & ModNoInc))
    m.pending++;
  AsyncOp op = issueAsync(t);
  uint32_t thread = t.linear;
  op.land = [a, thread](Block &blk) {
    blk.cpAsyncCommitted[thread]++;
    blk.landCpAsync(thread, 0);
    blk.arriveOn(a, 1, nullptr);
  };
  b.async.push_back(std::move(op));
}

void execBulkCommit(Thread &t, const Instr &) { t.block->bulkCommitted[t.linear]++; }

void execBulkWait(Thread &t, const Instr &in) {
  t.block->landBulk(t.linear, t.val(in.ops[0]));
}

} // namespace

bool bindAsync(Instr &in, const DecodedOpcode &d) {
  bool hasMod = false;
  auto mod = [&](const char *m) {
    for (const std::string &x : d.mods)
      if (x == m)
        return true;
    return false;
  };
  (void)hasMod;
  switch (d.op) {
  case OpMbarrierInit: in.exec = execMbarrierInit; return in.nops == 2;
  case OpMbarrierArrive:
  case OpMbarrierArriveDrop:
    if (mod("noComplete"))
      return false;
    in.exec = execMbarrierArrive;
    return in.nops >= 2;
  case OpMbarrierExpectTx:
  case OpMbarrierCompleteTx: in.exec = execMbarrierTx; return in.nops == 2;
  case OpMbarrierTryWait:
  case OpMbarrierTestWait: in.exec = execMbarrierWait; return in.nops >= 3;
  case OpMbarrierInval: in.exec = execMbarrierInval; return true;
  case OpMbarrierPendingCount: in.exec = execMbarrierPendingCount; return true;
  case OpCpAsync: in.exec = execCpAsync; return in.nops >= 3;
  case OpCpAsyncCommit: in.exec = execCpAsyncCommit; return true;
  case OpCpAsyncWait:
  case OpCpAsyncWaitAll: in.exec = execCpAsyncWait; return true;
  case OpCpAsyncMbarrierArrive: in.exec = execCpAsyncMbarrierArrive; return true;
  case OpCpAsyncBulkCommit: in.exec = execBulkCommit; return true;
  case OpCpAsyncBulkWait: in.exec = execBulkWait; return in.nops == 1;
  case OpCpAsyncBulkTensor:
  case OpCpAsyncBulk: return bindTma(in, d);
  default: return false;
  }
}

} // namespace tessel::emu
