//===- Tma.h - bulk tensor copies ---------------------------------*- C++ -*-===//

#ifndef TESSEL_LIB_EMULATOR_TMA_H
#define TESSEL_LIB_EMULATOR_TMA_H

#include "lib/Emulator/Opcodes.h"

namespace tessel::emu {

/// cp.async.bulk.tensor and cp.async.bulk, both directions.
bool bindTma(Instr &in, const DecodedOpcode &d);

} // namespace tessel::emu

#endif // TESSEL_LIB_EMULATOR_TMA_H
