//===- Pipelining.h - which copies of T.Pipelined run ahead -----*- C++ -*-===//
//
// The decision nvidia-pipeline-buffers records in the IR and the lowering
// falls back to when the pass has not run (tessel-opt on lowering tests).
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_BACKENDS_NVIDIA_PIPELINING_H
#define TESSEL_BACKENDS_NVIDIA_PIPELINING_H

#include "dialects/tile/IR/TileOps.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/DenseSet.h"

#include <array>

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

/// On a staged loop: a producer warpgroup feeds it (warp specialization).
inline constexpr llvm::StringLiteral kProducerAttr = "tessel.producer";
/// On such a loop: wgmma groups each iteration leaves in flight (1).
inline constexpr llvm::StringLiteral kInFlightAttr = "tessel.wgmma_in_flight";
/// On a kernel with a producer warpgroup: registers per thread at launch,
/// the producer's and the consumers' after setmaxnreg.
inline constexpr llvm::StringLiteral kRegistersAttr = "tessel.warp_registers";

namespace lowering {
struct SharedPlacement;
} // namespace lowering

/// The tensors and tiles `kernel` stores to, copies into or adds to.
llvm::DenseSet<mlir::Value> kernelWrites(tile::KernelOp kernel);

/// Whether a producer warpgroup, which runs before the kernel's code, can
/// compute `v` for an iteration of the loop whose body is `body`: from the
/// loop index, constants, block indices, scalar parameters, extents and
/// elements of tensors `kernel` only reads (`written` lists the others).
bool producerComputable(mlir::Value v, mlir::Block &body, tile::KernelOp kernel,
                        const llvm::DenseSet<mlir::Value> &written, int depth = 0);

/// Registers per thread at launch, the producer's and the consumers' for a
/// kernel of `threads` threads plus a producer warpgroup.
std::array<int64_t, 3> warpRegisterSplit(int64_t threads);

/// The T.Pipelined loops a producer warpgroup can feed: at the kernel's top
/// level, or directly under a top-level `if` (returned with it).
llvm::SmallVector<std::pair<tile::PipelinedOp, mlir::scf::IfOp>>
specializableLoops(tile::KernelOp kernel);

/// Whether the consumers of `loop` keep one iteration's wgmma group in
/// flight: two stages or more, and every iteration issues its gemms (on
/// wgmma) unconditionally, at the top of the body.
bool keepsWgmmaInFlight(tile::PipelinedOp loop, int64_t stages);

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
