//===- Target.h - Hopper as the tile passes see it ---------------*- C++ -*-===//

#ifndef TESSEL_BACKENDS_NVIDIA_TARGET_H
#define TESSEL_BACKENDS_NVIDIA_TARGET_H

#include "dialects/tile/IR/TileOps.h"
#include "dialects/tile/Transforms/Layouts.h"
#include "dialects/tile/Transforms/ThreadMap.h"

namespace tessel::nvidia {

/// Threads that issue one MMA of `kind` together: a warpgroup (128) for
/// wgmma, a warp (32) for mma.sync.
int64_t mmaUnitThreads(tile::MmaKind kind);

/// The split `mma` records, in the terms the layout builders take.
tile::WarpgroupGrid mmaGrid(tile::MmaAttr mma);

/// Whether operand `operand` (0: A, 1: B) of `gemm`, a shared tile, is
/// stored transposed from its logical layout. MMAs read K-major operands
/// (K along the tile's columns) as they are; wgmma also reads 16-bit
/// MN-major ones in place (its transpose bits) when their M/N extent is
/// whole swizzle atoms each wgmma starts on; other MN-major operands (8-bit
/// ones, those of a warp MMA, which loads K-adjacent pairs, and narrow ones)
/// are stored transposed (K-major). A gemm with no MMA kind chosen yet
/// counts as wgmma.
bool gemmOperandStoredTransposed(tile::GemmOp gemm, int operand);

/// What every wgmma reading operand `operand` (0: A, 1: B) of `gemm`
/// MN-major starts on along M/N, in bytes: 64 rows of A or 256 columns of
/// B, or each warpgroup's share where the MMA is split along that side.
int64_t mnMajorGranuleBytes(tile::GemmOp gemm, int operand);

/// The element of a reduction's result (laid out as `dst`) that element
/// `e` of its source (laid out as `src`) reduces into, along `dim`.
int64_t reductionResult(const tile::ThreadMap &src, const tile::ThreadMap &dst, int64_t dim,
                        int64_t e);

/// Whether a reduction along `dim` of a fragment laid out as `src` into one
/// laid out as `dst`, in a block of `threads`, combines in registers and
/// warp shuffles alone: every thread holds the results of the elements it
/// holds, and the threads sharing a result are lanes of one warp. Otherwise
/// the lowering combines the warps' partials through the shared-memory
/// reduction scratch area, with barriers.
bool reductionStaysInWarps(const tile::ThreadMap &src, const tile::ThreadMap &dst,
                           int64_t dim, int64_t threads);

/// Registers the NVIDIA targets (`sm_90a`) with the tile passes' target
/// registry. Idempotent.
void registerNVIDIATargets();

} // namespace tessel::nvidia

#endif // TESSEL_BACKENDS_NVIDIA_TARGET_H
