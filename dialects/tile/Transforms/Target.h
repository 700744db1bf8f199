//===- Target.h - what the core passes ask of a backend's target -*- C++ -*-===//
//
// The tile passes that depend on the hardware (which MMA a gemm runs on and
// what its accumulator layout is, how many registers a thread may hold) ask
// a TargetInfo for it and include no backend header. A backend registers its
// targets under their names (`sm_90a`) through registerTarget, once, from
// its registration hook; the passes take the name as an option.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_DIALECTS_TILE_TRANSFORMS_TARGET_H
#define TESSEL_DIALECTS_TILE_TRANSFORMS_TARGET_H

#include "dialects/tile/IR/TileAttrs.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringRef.h"

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tessel::tile {

class TargetInfo {
public:
  virtual ~TargetInfo();

  /// The name the target is registered under.
  virtual llvm::StringRef name() const = 0;
  /// Threads that run in lockstep (32 on NVIDIA GPUs).
  virtual int64_t warpSize() const = 0;

  /// The MMA kinds that can multiply A and B tiles of these element types,
  /// most preferred first.
  virtual llvm::SmallVector<MmaKind> mmaKinds(mlir::Type a, mlir::Type b) const = 0;
  /// How `threads` threads split an `m` x `n` accumulator for MMA `kind`
  /// under `policy`, or std::nullopt when the shape does not fit the kind.
  virtual std::optional<MmaAttr> splitMma(mlir::MLIRContext *ctx, MmaKind kind,
                                          GemmWarpPolicy policy, int64_t threads,
                                          int64_t m, int64_t n) const = 0;
  /// What `kind` needs of a block and a tile, for error messages ("whole
  /// 64-row slabs per warpgroup of 128 threads, ...").
  virtual std::string mmaRequirement(MmaKind kind) const = 0;
  /// The layout of an `m` x `n` accumulator under `mma`.
  virtual FragmentLayoutAttr accumulatorLayout(MmaAttr mma, int64_t m,
                                               int64_t n) const = 0;
  /// The layout of a length-`m` vector with one value per row of that
  /// accumulator, held by the threads that hold the row.
  virtual FragmentLayoutAttr accumulatorRowLayout(MmaAttr mma, int64_t m,
                                                  int64_t n) const = 0;

  /// The layout a register (fragment) A operand of an `m` x `k` A tile must
  /// have for a gemm under `mma`, or nullptr when `mma` cannot read A from
  /// registers (of element type `elt`, or split as it is): such an A goes
  /// through shared memory. By default, A is read from shared memory only.
  virtual FragmentLayoutAttr registerOperandLayout(MmaAttr mma, mlir::Type elt,
                                                   int64_t m, int64_t k) const {
    return nullptr;
  }

  /// 32-bit registers one thread may use, and a block's threads together.
  virtual int64_t registersPerThread() const = 0;
  virtual int64_t registersPerBlock() const = 0;
};

using TargetFactory = std::function<std::unique_ptr<TargetInfo>()>;

/// Makes `name` available to the passes' `target` options. Registering a
/// name twice keeps the first.
void registerTarget(llvm::StringRef name, TargetFactory factory);

/// The target registered as `name`, made on first use; null if none is.
const TargetInfo *lookupTarget(llvm::StringRef name);

/// The registered names, sorted (for messages).
std::vector<std::string> registeredTargets();

} // namespace tessel::tile

#endif // TESSEL_DIALECTS_TILE_TRANSFORMS_TARGET_H
