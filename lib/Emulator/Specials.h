//===- Specials.h - special registers as fixed register slots -----*- C++ -*-===//
//
// %tid.x, %ctaid.y, %laneid, ... are read-only per thread: the emulator
// keeps them in the first slots of every thread's registers, filled when
// the thread starts, so reading one costs what reading a register does.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_LIB_EMULATOR_SPECIALS_H
#define TESSEL_LIB_EMULATOR_SPECIALS_H

#include <cstdint>
#include <string>

namespace tessel::emu {

enum SpecialSlot : uint32_t {
  SpTidX, SpTidY, SpTidZ, SpNtidX, SpNtidY, SpNtidZ,
  SpCtaidX, SpCtaidY, SpCtaidZ, SpNctaidX, SpNctaidY, SpNctaidZ,
  SpLaneid, SpWarpid, SpNwarpid, SpSmid, SpNsmid, SpGridid,
  SpLanemaskEq, SpLanemaskLe, SpLanemaskLt, SpLanemaskGe, SpLanemaskGt,
  SpClusterCtarank, SpClusterNctarank,
  SpClusteridX, SpClusteridY, SpClusteridZ, SpNclusteridX, SpNclusteridY, SpNclusteridZ,
  SpClusterCtaidX, SpClusterCtaidY, SpClusterCtaidZ,
  SpClusterNctaidX, SpClusterNctaidY, SpClusterNctaidZ,
  SpIsExplicitCluster, SpDynamicSmemSize, SpTotalSmemSize, SpAggrSmemSize,
  kNumSpecialSlots,
};

/// The slot of a special register's name ("%tid.x"), or -1.
int specialSlot(const std::string &name);
const char *specialName(uint32_t slot);

} // namespace tessel::emu

#endif // TESSEL_LIB_EMULATOR_SPECIALS_H
