//===- Racecheck.h - shared-memory races between unordered threads -*- C++ -*-===//
//
// With TESSEL_EMU_RACECHECK=1 every shared-memory access is checked against
// the last write and read of its word by another thread: the two must be
// ordered by a barrier, an mbarrier arrive/wait pair or bar.warp.sync
// (vector clocks, one per thread), else the launch fails naming both
// accesses. Atomics do not race with each other and are not checked.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_LIB_EMULATOR_RACECHECK_H
#define TESSEL_LIB_EMULATOR_RACECHECK_H

#include "lib/Emulator/Machine.h"

#include <map>
#include <vector>

namespace tessel::emu {

/// Vector clocks per thread and the last access of every shared word.
struct RaceState {
  struct Access {
    uint32_t thread = 0xffffffffu, clock = 0, pc = 0;
  };
  /// Per shared byte: threads may write neighbouring bytes of one word.
  struct Word {
    Access write, read;
  };
  uint32_t threads = 0;
  std::vector<uint32_t> clocks;               ///< threads x threads
  std::vector<Word> words;
  std::map<uint32_t, std::vector<uint32_t>> mbarrierClocks;

  uint32_t *clock(uint32_t t) { return clocks.data() + size_t(t) * threads; }
  void join(uint32_t *into, const uint32_t *from) {
    for (uint32_t i = 0; i < threads; ++i)
      into[i] = into[i] > from[i] ? into[i] : from[i];
  }
};

/// Creates the block's race state (racecheck mode only).
void racecheckInit(Block &b);
void racecheckAccess(Thread &t, Space space, uint64_t address, unsigned bytes, bool write);
void racecheckAtomic(Thread &t, Space space, uint64_t address, unsigned bytes);
/// A barrier completed: every thread in `arrived` released its accesses to
/// those in `waiting`, which go on after it (bar.arrive threads arrive
/// without waiting).
void racecheckBarrier(Block &b, const std::vector<uint32_t> &arrived,
                      const std::vector<uint32_t> &waiting);
/// Release on an mbarrier (arrive) and acquire from it (a wait that succeeds).
void racecheckRelease(Block &b, uint32_t thread, uint32_t mbarrier);
void racecheckAcquire(Block &b, uint32_t thread, uint32_t mbarrier);

} // namespace tessel::emu

#endif // TESSEL_LIB_EMULATOR_RACECHECK_H
