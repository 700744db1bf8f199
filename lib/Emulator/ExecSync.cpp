//===- ExecSync.cpp - barriers, fences and warp collectives ----------------===//
//
// Named barriers count threads; warp collectives (shfl, vote, elect, redux,
// match, bar.warp.sync) wait for every thread of their member mask and then
// run once for all of them; setmaxnreg waits for its warpgroup and for
// registers to be free in the block's pool.
//
//===----------------------------------------------------------------------===//

#include "lib/Emulator/Exec.h"
#include "lib/Emulator/Racecheck.h"

namespace tessel::emu {

namespace {

void releaseBarrier(Block &b, NamedBarrier &nb, const Thread &self) {
  std::vector<uint32_t> waiting = std::move(nb.waiting);
  std::vector<uint32_t> arrived = std::move(nb.arrivers);
  // bar.red: every participant gets the reduction (its own instruction
  // says which: popc, and, or).
  for (uint32_t w : waiting) {
    Thread &m = b.threads[w];
    const Instr &in = b.kernel->code[m.cur];
    if (in.mods & ModRed)
      m.set(in.ops[0], in.sub == 0 ? nb.popc : in.sub == 1 ? nb.all : nb.any);
  }
  nb = NamedBarrier{};
  b.progress();
  if (b.launch->options.racecheck)
    racecheckBarrier(b, arrived, waiting);
  for (uint32_t w : waiting)
    if (w != self.linear)
      b.wake(w);
}

void execBar(Thread &t, const Instr &in) {
  Block &b = *t.block;
  // bar.red d, a{, b}, {!}c: the barrier's operands follow the destination,
  // the predicate comes last.
  bool reduce = in.mods & ModRed;
  unsigned first = reduce ? 1 : 0, last = reduce ? in.nops - 1 : in.nops;
  uint64_t id = t.val(in.ops[first]);
  if (id >= 16)
    t.fail(ErrIllegalInstruction, "barrier " + std::to_string(id) + " does not exist (0 to 15)");
  uint32_t count = 0;
  bool counted = last > first + 1 && in.ops[first + 1].kind != Operand::None;
  if (counted) {
    count = uint32_t(t.val(in.ops[first + 1]));
    if (count == 0 || count % 32)
      t.fail(ErrIllegalInstruction, "barrier " + std::to_string(id) + "'s thread count " +
                                        std::to_string(count) +
                                        " is not a positive multiple of the warp size (32)");
    if (count > b.threads.size())
      t.fail(ErrIllegalInstruction, "barrier " + std::to_string(id) + " waits for " +
                                        std::to_string(count) + " threads; the block has " +
                                        std::to_string(b.threads.size()));
  }
  NamedBarrier &nb = b.barriers[id];
  if (nb.arrived == 0) {
    nb.expected = count;
    nb.firstLine = in.ptxLine;
  } else if (nb.expected != count) {
    t.fail(ErrIllegalInstruction,
           "barrier " + std::to_string(id) + " is reached with a thread count of " +
               (count ? std::to_string(count) : std::string("all")) + " here but " +
               (nb.expected ? std::to_string(nb.expected) : std::string("all")) +
               " at PTX line " + std::to_string(nb.firstLine) + " while it is in use");
  }
  nb.arrived++;
  nb.arrivers.push_back(t.linear);
  if (reduce) {
    bool p = t.pred(in.ops[in.nops - 1]);
    nb.popc += p;
    nb.all = nb.all && p;
    nb.any = nb.any || p;
  }
  uint32_t need = nb.expected ? nb.expected : b.live;
  bool arriveOnly = in.mods & ModArrive;
  if (!arriveOnly)
    nb.waiting.push_back(t.linear);
  if (nb.arrived >= need) {
    releaseBarrier(b, nb, t);
    return;
  }
  if (!arriveOnly) {
    t.state = ThreadState::Blocked;
    t.waitReason = "at barrier " + std::to_string(id);
  }
}

void execFenceProxyAsync(Thread &t, const Instr &) { t.fenceEpoch++; }
void execNop(Thread &, const Instr &) {}

/// The block's thread ids of the lanes in `mask` of t's warp.
std::vector<uint32_t> warpMembers(const Thread &t, uint32_t mask) {
  std::vector<uint32_t> members;
  uint32_t base = t.warp * 32;
  for (uint32_t l = 0; l < 32; ++l)
    if (mask >> l & 1 && base + l < t.block->threads.size())
      members.push_back(base + l);
  return members;
}

/// The lanes of t's warp that have not exited.
uint32_t liveMask(const Thread &t) {
  uint32_t mask = 0, base = t.warp * 32;
  for (uint32_t l = 0; l < 32 && base + l < t.block->threads.size(); ++l)
    if (t.block->threads[base + l].state != ThreadState::Exited)
      mask |= 1u << l;
  return mask;
}

void execShfl(Thread &t, const Instr &in) {
  uint32_t mask = uint32_t(t.val(in.ops[4]));
  Block &b = *t.block;
  b.collective(t, t.warp, mask | uint64_t(in.sub) << 32, warpMembers(t, mask),
               [&](const std::vector<uint32_t> &members) {
    uint32_t base = t.warp * 32;
    uint32_t values[32] = {0};
    for (uint32_t id : members)
      values[id - base] = uint32_t(b.threads[id].val(in.ops[1]));
    for (uint32_t id : members) {
      Thread &m = b.threads[id];
      uint32_t lane = m.lane;
      uint32_t bval = uint32_t(m.val(in.ops[2])) & 31, c = uint32_t(m.val(in.ops[3]));
      uint32_t cval = c & 31, seg = c >> 8 & 31;
      uint32_t maxLane = (lane & seg) | (cval & ~seg), minLane = lane & seg;
      int64_t j;
      bool pval;
      switch (in.sub) {
      case 0: j = int64_t(lane) - bval; pval = j >= int64_t(maxLane); break;     // up
      case 1: j = lane + bval; pval = j <= int64_t(maxLane); break;              // down
      case 2: j = lane ^ bval; pval = j <= int64_t(maxLane); break;              // bfly
      default: j = minLane | (bval & ~seg); pval = j <= int64_t(maxLane); break; // idx
      }
      if (!pval)
        j = lane;
      if (!(mask >> j & 1))
        m.fail(ErrIllegalInstruction, "shfl.sync reads lane " + std::to_string(j) +
                                          ", which is not in its member mask");
      const Operand &d = in.ops[0];
      if (d.kind == Operand::Vec) {
        m.set(elem(m, d, 0), values[j]);
        m.set(elem(m, d, 1), pval);
      } else {
        m.set(d, values[j]);
      }
    }
  });
}

void execVote(Thread &t, const Instr &in) {
  uint32_t mask = uint32_t(t.val(in.ops[2]));
  Block &b = *t.block;
  b.collective(t, t.warp, mask | uint64_t(in.sub) << 32, warpMembers(t, mask),
               [&](const std::vector<uint32_t> &members) {
    uint32_t ballot = 0, count = 0;
    for (uint32_t id : members)
      if (b.threads[id].pred(in.ops[1]))
        ballot |= 1u << b.threads[id].lane, ++count;
    for (uint32_t id : members) {
      Thread &m = b.threads[id];
      uint64_t r;
      switch (in.sub) {
      case 0: r = count == members.size(); break;            // all
      case 1: r = count > 0; break;                          // any
      case 2: r = count == 0 || count == members.size(); break; // uni
      default: r = ballot; break;                            // ballot
      }
      m.set(in.ops[0], r);
    }
  });
}

void execElect(Thread &t, const Instr &in) {
  uint32_t mask = uint32_t(t.val(in.ops[1]));
  Block &b = *t.block;
  b.collective(t, t.warp, mask, warpMembers(t, mask), [&](const std::vector<uint32_t> &members) {
    uint32_t leader = 32;
    for (uint32_t id : members)
      leader = std::min(leader, b.threads[id].lane);
    for (uint32_t id : members) {
      Thread &m = b.threads[id];
      const Operand &d = in.ops[0];
      if (d.kind == Operand::Vec) {
        m.set(elem(m, d, 0), leader);
        m.set(elem(m, d, 1), m.lane == leader);
      } else {
        m.set(d, m.lane == leader);
      }
    }
  });
}

void execActivemask(Thread &t, const Instr &in) { t.set(in.ops[0], liveMask(t)); }

void execRedux(Thread &t, const Instr &in) {
  uint32_t mask = uint32_t(t.val(in.ops[2]));
  Block &b = *t.block;
  b.collective(t, t.warp, mask | uint64_t(in.sub) << 32, warpMembers(t, mask),
               [&](const std::vector<uint32_t> &members) {
    bool sgn = isSigned(in.type);
    int64_t acc = 0;
    bool first = true;
    for (uint32_t id : members) {
      uint32_t v = uint32_t(b.threads[id].val(in.ops[1]));
      int64_t x = sgn ? int64_t(int32_t(v)) : int64_t(v);
      if (first) {
        acc = x;
        first = false;
        continue;
      }
      switch (in.sub) {
      case 0: acc += x; break;
      case 1: acc = std::min(acc, x); break;
      case 2: acc = std::max(acc, x); break;
      case 3: acc &= x; break;
      case 4: acc |= x; break;
      default: acc ^= x; break;
      }
    }
    for (uint32_t id : members)
      b.threads[id].set(in.ops[0], uint32_t(acc));
  });
}

/// match.any.sync: the lanes whose value equals mine; match.all.sync: the
/// mask when every lane's value is the same (and p), else 0.
void execMatch(Thread &t, const Instr &in) {
  uint32_t mask = uint32_t(t.val(in.ops[2]));
  Block &b = *t.block;
  b.collective(t, t.warp, mask | uint64_t(in.sub) << 32, warpMembers(t, mask),
               [&](const std::vector<uint32_t> &members) {
    uint64_t values[32] = {0};
    uint32_t present = 0;
    for (uint32_t id : members) {
      values[b.threads[id].lane] = b.threads[id].val(in.ops[1]);
      present |= 1u << b.threads[id].lane;
    }
    if (in.type == DType::B32)
      for (uint64_t &v : values)
        v &= 0xffffffffu;
    bool same = true;
    for (uint32_t id : members)
      same = same && values[b.threads[id].lane] == values[b.threads[members[0]].lane];
    for (uint32_t id : members) {
      Thread &m = b.threads[id];
      uint32_t result = 0;
      if (in.sub == 0) {
        for (uint32_t l = 0; l < 32; ++l)
          if ((present >> l & 1) && values[l] == values[m.lane])
            result |= 1u << l;
      } else {
        result = same ? present : 0;
      }
      const Operand &d = in.ops[0];
      if (d.kind == Operand::Vec) {
        m.set(elem(m, d, 0), result);
        m.set(elem(m, d, 1), same);
      } else {
        m.set(d, result);
      }
    }
  });
}

void execBarWarpSync(Thread &t, const Instr &in) {
  uint32_t mask = uint32_t(t.val(in.ops[0]));
  Block &b = *t.block;
  b.collective(t, t.warp, mask, warpMembers(t, mask), [&](const std::vector<uint32_t> &members) {
    if (b.launch->options.racecheck)
      racecheckBarrier(b, members, members);
  });
}

void execSetmaxnreg(Thread &t, const Instr &in) {
  uint32_t want = uint32_t(t.val(in.ops[0]));
  if (want < 24 || want > 256 || want % 8)
    t.fail(ErrIllegalInstruction, "setmaxnreg's count " + std::to_string(want) +
                                      " is not a multiple of 8 from 24 to 256");
  Block &b = *t.block;
  uint32_t wg = t.warp / 4;
  std::vector<uint32_t> members;
  for (uint32_t i = wg * 128; i < wg * 128 + 128 && i < b.threads.size(); ++i)
    members.push_back(i);
  if (members.size() != 128)
    t.fail(ErrIllegalInstruction, "setmaxnreg needs a whole warpgroup of 128 threads");
  bool dec = in.mods & ModDec;
  b.collective(t, (uint64_t(1) << 20) | wg, want | uint64_t(dec) << 32, members,
               [&](const std::vector<uint32_t> &arrived) {
    uint32_t current = b.threads[arrived[0]].maxRegs;
    if (current && dec && want > current)
      t.fail(ErrIllegalInstruction, "setmaxnreg.dec to " + std::to_string(want) +
                                        " registers from " + std::to_string(current) +
                                        ": a decrease may not raise the count");
    if (current && !dec && want < current)
      t.fail(ErrIllegalInstruction, "setmaxnreg.inc to " + std::to_string(want) +
                                        " registers from " + std::to_string(current) +
                                        ": an increase may not lower the count");
    if (current && !dec) {
      // The registers come from the block's pool, what it was launched
      // with: an increase takes only what other warpgroups released with
      // setmaxnreg.dec, and waits until they have.
      uint64_t pool = uint64_t(b.launch->launchRegisters) * b.threads.size(), used = 0;
      for (size_t w = 0; w < (b.threads.size() + 127) / 128; ++w)
        if (w != wg)
          used += uint64_t(b.threads[w * 128].maxRegs) * 128;
      if (used + uint64_t(want) * 128 > pool) {
        t.waitReason = "in setmaxnreg.inc to " + std::to_string(want) +
                       " registers, for registers (the block was launched with " +
                       std::to_string(pool) + "; the other warpgroups hold " +
                       std::to_string(used) + ", this one needs " +
                       std::to_string(uint64_t(want) * 128) + ")";
        b.retryCollective = true;
        return;
      }
    }
    if (dec) {
      std::vector<uint32_t> waiters = std::move(b.registerWaiters);
      b.registerWaiters.clear();
      for (uint32_t w : waiters)
        b.wake(w);
    }
    for (uint32_t id : arrived)
      b.threads[id].maxRegs = want;
  });
}

} // namespace

bool bindSync(Instr &in, const DecodedOpcode &d) {
  auto modeIndex = [&](std::initializer_list<const char *> names) -> int {
    int i = 0;
    for (const char *n : names) {
      for (const std::string &m : d.mods)
        if (m == n)
          return i;
      ++i;
    }
    return -1;
  };
  switch (d.op) {
  case OpBar:
  case OpBarrier: {
    // bar.sync / bar.arrive / barrier.sync / barrier.arrive; bar.red is not run.
    bool sync = modeIndex({"sync"}) == 0 || d.mods.empty() || modeIndex({"cta"}) == 0;
    if (modeIndex({"red"}) == 0) {
      int mode = modeIndex({"popc", "and", "or"});
      if (mode < 0 || in.nops < 3)
        return false;
      in.sub = uint8_t(mode);
      in.mods |= ModRed;
      in.exec = execBar;
      return true;
    }
    if (modeIndex({"arrive"}) == 0)
      in.mods |= ModArrive;
    else if (!sync)
      return false;
    in.exec = execBar;
    return true;
  }
  case OpBarrierCluster:
    // A cluster of one block: the cluster barrier is the block's.
    in.exec = execNop;
    return true;
  case OpMembar:
  case OpFence:
  case OpFenceMbarrierInit:
  case OpFenceProxyOther:
    in.exec = execNop;
    return true;
  case OpFenceProxyAsync:
    // fence.proxy.async{.shared::cta,.shared::cluster}: orders this thread's
    // generic writes to shared memory before later async-proxy reads.
    in.exec = modeIndex({"global"}) == 0 ? execNop : execFenceProxyAsync;
    return true;
  case OpShfl: {
    int mode = modeIndex({"up", "down", "bfly", "idx"});
    if (mode < 0 || in.nops != 5)
      return false;
    in.sub = uint8_t(mode);
    in.exec = execShfl;
    return true;
  }
  case OpVote: {
    int mode = modeIndex({"all", "any", "uni", "ballot"});
    if (mode < 0 || in.nops != 3)
      return false;
    in.sub = uint8_t(mode);
    in.exec = execVote;
    return true;
  }
  case OpElect:
    in.exec = execElect;
    return in.nops == 2;
  case OpActivemask:
    in.exec = execActivemask;
    return true;
  case OpRedux: {
    int mode = modeIndex({"add", "min", "max", "and", "or", "xor"});
    if (mode < 0 || in.nops != 3)
      return false;
    in.sub = uint8_t(mode);
    in.exec = execRedux;
    return true;
  }
  case OpBarWarpSync:
    in.exec = execBarWarpSync;
    return true;
  case OpMatch: {
    int mode = modeIndex({"any", "all"});
    if (mode < 0 || in.nops != 3)
      return false;
    in.sub = uint8_t(mode);
    in.exec = execMatch;
    return true;
  }
  case OpSetmaxnreg:
    if (modeIndex({"dec"}) == 0)
      in.mods |= ModDec;
    in.exec = execSetmaxnreg;
    return true;
  default:
    return false;
  }
}

} // namespace tessel::emu
