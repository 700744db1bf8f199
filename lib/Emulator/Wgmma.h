//===- Wgmma.h - warpgroup matrix multiply-accumulate -------------*- C++ -*-===//
//
// wgmma.mma_async runs for a whole warpgroup when its 128 threads have all
// reached it. Its operands are read from shared memory at issue (and must
// not change until its wait), its accumulator registers belong to it until
// the wgmma.wait_group that covers its group, and the product is written
// to them only there: reading them earlier is an error, as is touching them
// after the last wgmma.fence.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_LIB_EMULATOR_WGMMA_H
#define TESSEL_LIB_EMULATOR_WGMMA_H

#include "lib/Emulator/Machine.h"

#include <deque>
#include <map>
#include <vector>

namespace tessel::emu {

/// One wgmma.mma_async of a warpgroup, issued and not yet waited for.
struct WgmmaOp {
  uint32_t pc = 0;
  std::vector<uint32_t> members;  ///< the warpgroup's threads, in warpgroup order
  std::vector<uint32_t> words;    ///< shared-memory words it reads (held until done)
  std::vector<uint32_t> addresses; ///< shared address of each A then B element read
  std::vector<uint32_t> raw;      ///< their bits at issue
  std::vector<uint32_t> aFromRegs; ///< register-A elements [64 x K] as bits
  bool scaleD = true;
};

struct WarpgroupWgmma {
  std::vector<WgmmaOp> uncommitted;
  std::deque<std::vector<WgmmaOp>> groups; ///< committed, oldest first
};

struct WgmmaState {
  std::map<uint32_t, WarpgroupWgmma> warpgroups;
  std::map<uint32_t, std::vector<uint32_t>> members; ///< per warpgroup, its threads
};

/// A block whose threads exit with wgmma groups in flight.
void checkWgmmaAtExit(Block &b);

} // namespace tessel::emu

#endif // TESSEL_LIB_EMULATOR_WGMMA_H
