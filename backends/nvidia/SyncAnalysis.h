//===- SyncAnalysis.h - shared bytes and statements for sync passes -*- C++ -*-===//
//
// What nvidia-insert-barriers and nvidia-insert-proxy-fences share: which
// shared bytes a memref names, and how to add a statement (a barrier, a
// fence, a wait) to a block, T.Pipelined bodies with order= and stage=
// included.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_BACKENDS_NVIDIA_SYNCANALYSIS_H
#define TESSEL_BACKENDS_NVIDIA_SYNCANALYSIS_H

#include "dialects/tile/IR/TileOps.h"

#include <optional>

namespace tessel::nvidia {

/// Shared bytes, as far as the IR tells: a planned tile's byte range
/// (`tessel.shared_offset`); a staged tile's loop (the tiles a loop stages
/// share its stage area); or, for a tile without either (memory not traced
/// to its tile: it may be anywhere), nothing. `scratch` stands for
/// the reduction scratch area the lowering places after everything else.
struct SharedBytes {
  mlir::Operation *tile = nullptr;
  int64_t begin = -1, end = -1;
  bool scratch = false;
  bool overlaps(const SharedBytes &o) const {
    if (scratch || o.scratch)
      return scratch && o.scratch;
    if (begin >= 0 && o.begin >= 0)
      return begin < o.end && o.begin < end;
    // Unknown bytes may be anywhere.
    return !tile || !o.tile || tile == o.tile;
  }
  bool operator==(const SharedBytes &o) const {
    return tile == o.tile && begin == o.begin && end == o.end && scratch == o.scratch;
  }
};

/// The bytes of shared memref `memref`; nothing when it is not shared.
std::optional<SharedBytes> sharedBytesOf(mlir::Value memref);

/// Makes `added`, just inserted next to `anchor` in the same block, a
/// statement emitted right before (`after` false) or right after `anchor`
/// when the block is a T.Pipelined body with order= or stage= (lists over
/// the body's statements; `added` runs in the compute stage). With
/// `anchor` null, `added` is the body's last statement.
void placeStatement(mlir::Operation *added, mlir::Operation *anchor, bool after);

} // namespace tessel::nvidia

#endif // TESSEL_BACKENDS_NVIDIA_SYNCANALYSIS_H
