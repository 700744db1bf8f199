//===- Block.cpp - scheduling a block's threads and what they wait for -----===//
//
// Threads run one at a time until they wait; when none can run, the oldest
// async copy lands (the latest point the program allows), and when nothing
// is in flight either, the block is deadlocked and every warp's waiting
// instruction is reported.
//
//===----------------------------------------------------------------------===//

#include "lib/Emulator/Machine.h"

#include "lib/Emulator/Opcodes.h"
#include "lib/Emulator/Racecheck.h"
#include "lib/Emulator/Wgmma.h"

#include <algorithm>
#include <sstream>

namespace tessel::emu {

void Block::wake(uint32_t thread) {
  Thread &t = threads[thread];
  if (t.state != ThreadState::Blocked)
    return;
  t.state = ThreadState::Ready;
  t.waitReason.clear();
  ready.push_back(thread);
}

void Block::run() {
  const Options &opt = launch->options;
  ready.clear();
  for (uint32_t i = 0; i < threads.size(); ++i)
    ready.push_back(i);
  if (opt.seed)
    std::shuffle(ready.begin(), ready.end(), rng);
  while (true) {
    while (!ready.empty()) {
      uint32_t id;
      if (opt.seed && ready.size() > 1) {
        size_t pick = rng() % ready.size();
        id = ready[pick];
        ready.erase(ready.begin() + long(pick));
        // Under a seed, async copies may also land early.
        if (!async.empty() && rng() % 8 == 0)
          landOne();
      } else {
        id = ready.front();
        ready.pop_front();
      }
      Thread &t = threads[id];
      if (t.state != ThreadState::Ready)
        continue;
      runThread(t);
    }
    if (live == 0)
      break;
    if (landOne())
      continue;
    throw EmuError(ErrLaunchTimeout,
                   "deadlock in block (" + std::to_string(ctaid[0]) + ", " +
                       std::to_string(ctaid[1]) + ", " + std::to_string(ctaid[2]) +
                       "): every live thread waits and nothing is in flight\n" +
                       describeWaits());
  }
  // Stores toward global memory complete even when no one waits for them.
  while (!async.empty())
    landOne();
}

bool Block::landOne() {
  if (async.empty())
    return false;
  size_t pick = 0;
  if (launch->options.seed)
    pick = rng() % async.size();
  AsyncOp op = std::move(async[pick]);
  async.erase(async.begin() + long(pick));
  op.land(*this);
  progress();
  return true;
}

void Block::landCpAsync(uint32_t thread, uint64_t keep) {
  uint64_t committed = cpAsyncCommitted[thread];
  for (size_t i = 0; i < async.size();) {
    AsyncOp &op = async[i];
    if (op.isCpAsync && op.issuer == thread && op.group + keep < committed) {
      AsyncOp done = std::move(op);
      async.erase(async.begin() + long(i));
      done.land(*this);
    } else {
      ++i;
    }
  }
}

void Block::landBulk(uint32_t thread, uint64_t keep) {
  uint64_t committed = bulkCommitted[thread];
  for (size_t i = 0; i < async.size();) {
    AsyncOp &op = async[i];
    if (op.isBulk && op.issuer == thread && op.group + keep < committed) {
      AsyncOp done = std::move(op);
      async.erase(async.begin() + long(i));
      done.land(*this);
    } else {
      ++i;
    }
  }
}

void Block::collective(Thread &t, uint64_t group, uint64_t key,
                       const std::vector<uint32_t> &members,
                       const std::function<void(const std::vector<uint32_t> &)> &action) {
  uint64_t id = (group << 32) | t.cur;
  Collective &c = collectives[id];
  if (c.arrived.empty()) {
    c.pc = t.cur;
    c.key = key;
    c.members = members;
    for (uint32_t m : members)
      if (threads[m].state == ThreadState::Exited)
        t.fail(ErrIllegalInstruction,
               "this collective waits for thread " + std::to_string(m) +
                   ", which has exited (its member mask names an exited lane)");
  } else if (c.key != key) {
    t.fail(ErrIllegalInstruction,
           "threads reach this collective with different member masks or operands "
           "that must agree");
  }
  if (std::find(c.members.begin(), c.members.end(), t.linear) == c.members.end())
    t.fail(ErrIllegalInstruction, "this thread executes a collective whose member mask "
                                  "does not include it");
  c.arrived.push_back(t.linear);
  if (c.arrived.size() < c.members.size()) {
    t.state = ThreadState::Blocked;
    t.waitReason = "for the rest of its warp or warpgroup at this instruction";
    return;
  }
  std::vector<uint32_t> arrived = std::move(c.arrived);
  collectives.erase(id);
  retryCollective = false;
  progress();
  action(arrived);
  if (retryCollective) {
    retryCollective = false;
    for (uint32_t m : arrived) {
      Thread &member = threads[m];
      member.state = ThreadState::Blocked;
      member.pc = member.cur;
      member.waitReason = t.waitReason;
      registerWaiters.push_back(m);
    }
    return;
  }
  for (uint32_t m : arrived)
    if (m != t.linear)
      wake(m);
}

MBarrier &Block::mbarrier(Thread &t, uint64_t address) {
  if (address % 8 || address + 8 > sharedMem.size())
    t.fail(ErrIllegalAddress, "mbarrier address " + std::to_string(address) +
                                  " is not an 8-byte aligned shared memory address "
                                  "inside the block's shared memory");
  auto it = mbarriers.find(uint32_t(address));
  if (it == mbarriers.end())
    t.fail(ErrIllegalInstruction, "the mbarrier at shared address " + std::to_string(address) +
                                      " was never initialized (mbarrier.init)");
  return it->second;
}

namespace {
void completePhase(Block &b, MBarrier &m) {
  m.phase++;
  m.pending = m.expected;
  m.tx = 0;
  std::vector<uint32_t> waiters = std::move(m.waiters);
  m.waiters.clear();
  for (uint32_t w : waiters)
    b.wake(w);
}
} // namespace

void Block::arriveOn(uint32_t address, uint32_t count, const Thread *by) {
  auto it = mbarriers.find(address);
  if (it == mbarriers.end()) {
    if (by)
      by->fail(ErrIllegalInstruction, "arrive on an mbarrier that was never initialized");
    throw EmuError(ErrIllegalInstruction, "an async copy completes on shared address " +
                                              std::to_string(address) +
                                              ", which holds no initialized mbarrier");
  }
  MBarrier &m = it->second;
  if (count > m.pending) {
    std::string what = "more arrivals on the mbarrier at shared address " +
                       std::to_string(address) + " than its phase expects (" +
                       std::to_string(m.expected) + ", initialized at PTX line " +
                       std::to_string(m.initLine) + ")";
    if (by)
      by->fail(ErrIllegalInstruction, what);
    throw EmuError(ErrIllegalInstruction, what);
  }
  m.pending -= count;
  progress();
  if (m.pending == 0 && m.tx == 0)
    completePhase(*this, m);
}

void Block::completeTx(uint32_t address, int64_t bytes, const Thread *by) {
  auto it = mbarriers.find(address);
  if (it == mbarriers.end()) {
    std::string what = "an async copy completes on shared address " + std::to_string(address) +
                       ", which holds no initialized mbarrier";
    if (by)
      by->fail(ErrIllegalInstruction, what);
    throw EmuError(ErrIllegalInstruction, what);
  }
  MBarrier &m = it->second;
  m.tx -= bytes;
  progress();
  if (m.pending == 0 && m.tx == 0)
    completePhase(*this, m);
}

std::string Block::describeWaits() const {
  std::ostringstream os;
  // One line per warp: its first waiting thread's instruction and reason.
  uint32_t warps = uint32_t((threads.size() + 31) / 32);
  for (uint32_t w = 0; w < warps; ++w) {
    const Thread *first = nullptr;
    uint32_t waiting = 0, exited = 0;
    for (uint32_t l = 0; l < 32 && w * 32 + l < threads.size(); ++l) {
      const Thread &t = threads[w * 32 + l];
      if (t.state == ThreadState::Exited) {
        ++exited;
        continue;
      }
      ++waiting;
      if (!first)
        first = &t;
    }
    if (!first) {
      os << "  warp " << w << ": exited\n";
      continue;
    }
    os << "  warp " << w << " (" << waiting << " thread" << (waiting == 1 ? "" : "s")
       << " from " << first->linear << "): " << describeInstruction(*this, first->cur) << " "
       << first->waitReason;
    if (exited)
      os << " (" << exited << " exited)";
    os << "\n";
  }
  for (const auto &[address, m] : mbarriers)
    if (!m.waiters.empty())
      os << "  mbarrier at shared address " << address << " (initialized at PTX line "
         << m.initLine << "): phase " << m.phase << ", " << m.pending << " of " << m.expected
         << " arrivals pending, tx-count " << m.tx
         << (m.pending == 0 && m.tx < 0 ? " (more bytes arrived than were expected)" : "")
         << (m.pending == 0 && m.tx > 0 ? " (expected bytes that no copy will deliver)" : "")
         << "\n";
  for (int i = 0; i < 16; ++i)
    if (barriers[i].arrived)
      os << "  barrier " << i << ": " << barriers[i].arrived << " of "
         << (barriers[i].expected ? std::to_string(barriers[i].expected)
                                  : std::to_string(live) + " (all live)")
         << " threads arrived\n";
  return os.str();
}

Block::~Block() = default;

} // namespace tessel::emu
