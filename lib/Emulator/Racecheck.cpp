//===- Racecheck.cpp - shared-memory races between unordered threads -------===//

#include "lib/Emulator/Racecheck.h"

#include <algorithm>
#include <cstdio>
#include <map>

namespace tessel::emu {

void racecheckInit(Block &b) {
  auto s = std::make_unique<RaceState>();
  s->threads = uint32_t(b.threads.size());
  s->clocks.assign(size_t(s->threads) * s->threads, 0);
  for (uint32_t t = 0; t < s->threads; ++t)
    s->clock(t)[t] = 1;
  s->words.resize(b.sharedMem.size());
  b.race = std::move(s);
}

namespace {

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

bool sharedOffset(Space space, uint64_t &address) {
  if (space == Space::Shared || space == Space::SharedCluster)
    return true;
  if (space == Space::Generic && (address >> 48) == 2) {
    address &= kWindowMask;
    return true;
  }
  return false;
}

} // namespace

void racecheckAccess(Thread &t, Space space, uint64_t address, unsigned bytes, bool write) {
  Block &b = *t.block;
  RaceState *s = b.race.get();
  if (!s || !sharedOffset(space, address))
    return;
  uint32_t *mine = s->clock(t.linear);
  auto check = [&](const RaceState::Access &other, const char *kind, uint32_t word) {
    if (other.thread == 0xffffffffu || other.thread == t.linear)
      return;
    if (other.clock <= mine[other.thread])
      return;
    const Thread &o = b.threads[other.thread];
    t.fail(ErrIllegalAddress,
           std::string("shared-memory race (") + kind + ") at " + hex(word) + ": this " +
               (write ? "write" : "read") + " and the " +
               (std::string(kind) == "read after write" || std::string(kind) == "write after write"
                    ? "write"
                    : "read") +
               " by " + describeLocation(o, other.pc) +
               " are not ordered by any barrier or mbarrier");
  };
  for (uint32_t w = uint32_t(address); w < address + bytes && w < s->words.size(); ++w) {
    RaceState::Word &word = s->words[w];
    if (write) {
      check(word.write, "write after write", w);
      check(word.read, "write after read", w);
      word.write = {t.linear, mine[t.linear], t.cur};
    } else {
      check(word.write, "read after write", w);
      word.read = {t.linear, mine[t.linear], t.cur};
    }
  }
}

void racecheckAtomic(Thread &, Space, uint64_t, unsigned) {}

void racecheckBarrier(Block &b, const std::vector<uint32_t> &arrived,
                      const std::vector<uint32_t> &waiting) {
  RaceState *s = b.race.get();
  if (!s)
    return;
  std::vector<uint32_t> joined(s->threads, 0);
  for (uint32_t t : arrived)
    s->join(joined.data(), s->clock(t));
  for (uint32_t t : waiting)
    s->join(s->clock(t), joined.data());
  for (uint32_t t : arrived)
    s->clock(t)[t]++;
}

void racecheckRelease(Block &b, uint32_t thread, uint32_t mbarrier) {
  RaceState *s = b.race.get();
  if (!s)
    return;
  std::vector<uint32_t> &m = s->mbarrierClocks[mbarrier];
  if (m.empty())
    m.assign(s->threads, 0);
  s->join(m.data(), s->clock(thread));
  s->clock(thread)[thread]++;
}

void racecheckAcquire(Block &b, uint32_t thread, uint32_t mbarrier) {
  RaceState *s = b.race.get();
  if (!s)
    return;
  auto it = s->mbarrierClocks.find(mbarrier);
  if (it != s->mbarrierClocks.end())
    s->join(s->clock(thread), it->second.data());
}

} // namespace tessel::emu
