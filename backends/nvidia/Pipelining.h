//===- Pipelining.h - which copies of T.Pipelined run ahead -----*- C++ -*-===//
//
// The decision nvidia-pipeline-buffers records in the IR and the lowering
// falls back to when the pass has not run (tessel-opt on lowering tests).
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_BACKENDS_NVIDIA_PIPELINING_H
#define TESSEL_BACKENDS_NVIDIA_PIPELINING_H

#include "dialects/tile/IR/TileOps.h"

namespace tessel::nvidia {

/// The attributes of the decision: on the tile.pipelined op, the number of
/// stage buffers; on each copy that runs ahead, a unit attribute; on the
/// shared tile such a copy fills, a unit attribute saying the tile has no
/// storage of its own (tile-plan-memory places nothing for it; the lowering
/// places its stage buffers).
inline constexpr llvm::StringLiteral kStagesAttr = "tessel.stages";
inline constexpr llvm::StringLiteral kAheadAttr = "tessel.ahead";
inline constexpr llvm::StringLiteral kStagedAttr = "tessel.staged";
/// On a copy that runs ahead: it loads by TMA (else cp.async).
inline constexpr llvm::StringLiteral kTmaAttr = "tessel.tma";

namespace lowering {
struct SharedPlacement;
} // namespace lowering

/// The dimension of a TMA copy's source that runs along the tile's rows:
/// the copy window is 1 wide in every dimension but that one and the last.
std::optional<int64_t> tmaRowDim(tile::CopyOp op, llvm::ArrayRef<int64_t> tile);

/// Whether TMA can move copy `op` into its tile stored as `dst` says: a
/// row-major global tensor of rank 2 to 5 (a kernel parameter, extents
/// static but the outermost, rows 16-byte multiples) into a whole 2-d tile
/// stored as written, swizzled, in whole swizzle atoms, of at most 256 rows.
bool tmaCopyableTile(tile::CopyOp op, const lowering::SharedPlacement &dst);

/// The copies of `op`'s body that can run ahead of the compute: each moves
/// a global tile into a whole shared tile in 16-byte pieces (same element
/// type, rows and offsets 16-byte aligned, the shared tile stored as
/// written: `storedTransposed` says which are not), the shared tile is
/// written by nothing else and used nowhere outside the loop, its reads
/// come after the copy, and the source offsets are arithmetic on the
/// induction variable, values from outside the loop and elements of tensors
/// `kernel` only reads. Statements stage= puts in the compute stay.
llvm::SmallVector<tile::CopyOp>
stageableCopies(tile::PipelinedOp op, tile::KernelOp kernel,
                llvm::function_ref<bool(mlir::Value)> storedTransposed);

/// The statements order= and stage= number: the body's operations that are
/// not pure arithmetic, in body order (as the op's verifier counts them).
llvm::SmallVector<mlir::Operation *> pipelineStatements(mlir::Block &body);

} // namespace tessel::nvidia

#endif // TESSEL_BACKENDS_NVIDIA_PIPELINING_H
