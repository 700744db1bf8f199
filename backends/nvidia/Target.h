//===- Target.h - Hopper as the tile passes see it ---------------*- C++ -*-===//

#ifndef TESSEL_BACKENDS_NVIDIA_TARGET_H
#define TESSEL_BACKENDS_NVIDIA_TARGET_H

#include "dialects/tile/Transforms/Layouts.h"

namespace tessel::nvidia {

/// Threads that issue one MMA of `kind` together: a warpgroup (128) for
/// wgmma, a warp (32) for mma.sync.
int64_t mmaUnitThreads(tile::MmaKind kind);

/// The split `mma` records, in the terms the layout builders take.
tile::WarpgroupGrid mmaGrid(tile::MmaAttr mma);

/// Registers the NVIDIA targets (`sm_90a`) with the tile passes' target
/// registry. Idempotent.
void registerNVIDIATargets();

} // namespace tessel::nvidia

#endif // TESSEL_BACKENDS_NVIDIA_TARGET_H
