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

#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"

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

using SharedRanges = llvm::SmallVector<SharedBytes>;

/// Whether any of `list` overlaps `b`.
bool overlapsAny(llvm::ArrayRef<SharedBytes> list, const SharedBytes &b);
/// Appends the ranges of `from` not in `to` already.
void addRanges(SharedRanges &to, llvm::ArrayRef<SharedBytes> from);

/// wgmma groups committed and not waited for: the accumulators they write,
/// the fragments they read, the shared bytes they read (as the lowering
/// keeps them between statements).
struct InFlightWgmma {
  llvm::SmallVector<mlir::Value> accumulators, registerOperands;
  SharedRanges shared;
  bool empty() const {
    return accumulators.empty() && registerOperands.empty() && shared.empty();
  }
  bool touches(mlir::Value v) const {
    return llvm::is_contained(accumulators, v) || llvm::is_contained(registerOperands, v);
  }
  /// Whether `op`, or anything nested in it, uses such a fragment.
  bool touchedBy(mlir::Operation *op) const;
  size_t size() const {
    return accumulators.size() + registerOperands.size() + shared.size();
  }
  void merge(const InFlightWgmma &o);
};

/// Whether `gemm` runs on warpgroup MMA (no MMA kind chosen counts as one).
bool isWgmma(tile::GemmOp gemm);
/// What the wgmmas of `gemm` leave in flight; of every such gemm in `root`.
InFlightWgmma wgmmaIssuedBy(tile::GemmOp gemm);
InFlightWgmma wgmmaIssuedIn(mlir::Operation *root);

/// What may be in flight at the top of every iteration of `loop` (body
/// `body`): what is in flight on entry (`entry`), or what an iteration can
/// leave, its waits replayed (a few rounds; then everything the loop
/// issues). `refilled`: the bytes a pipelined loop refills at the top,
/// after waiting for the wgmmas reading them.
InFlightWgmma wgmmaAtLoopTop(mlir::Operation *loop, mlir::Block &body,
                             const InFlightWgmma &entry,
                             llvm::ArrayRef<SharedBytes> refilled);

/// The shared bytes statement `op` reads and writes through its threads,
/// and reads by warpgroup MMA (`asyncReads`). A T.Parallel counts its whole
/// body. Copies a pipelined loop runs ahead are the pipeline's: nothing.
void sharedAccesses(mlir::Operation *op, SharedRanges &reads, SharedRanges &writes,
                    SharedRanges &asyncReads);

/// Whether statement `op` must wait for every wgmma group `inFlight` holds
/// before it runs: it uses a fragment one writes or reads (a gemm: as an
/// operand the in-flight MMA writes, or accumulating into one it reads), or
/// it writes shared bytes one reads.
bool needsWgmmaWait(mlir::Operation *op, const InFlightWgmma &inFlight);

/// The operations of `body` in the order the lowering emits them: as
/// written, or by order= in a T.Pipelined body (its statements only).
llvm::SmallVector<mlir::Operation *> statementsInOrder(mlir::Block &body);

/// Makes `added`, just inserted next to `anchor` in the same block, a
/// statement emitted right before (`after` false) or right after `anchor`
/// when the block is a T.Pipelined body with order= or stage= (lists over
/// the body's statements; `added` runs in the compute stage). With
/// `anchor` null, `added` is the body's last statement.
void placeStatement(mlir::Operation *added, mlir::Operation *anchor, bool after);

} // namespace tessel::nvidia

#endif // TESSEL_BACKENDS_NVIDIA_SYNCANALYSIS_H
