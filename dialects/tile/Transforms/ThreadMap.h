//===- ThreadMap.h - which thread holds which fragment element ----*- C++ -*-===//
//
// A fragment layout maps an element to (thread, slot). Code generation needs
// the other direction: for a register slot, which element does each thread
// hold? ThreadMap answers that by tabulating the layout once, and expresses
// the answer as a "bit-linear" function of the thread index (each bit of the
// thread index adds a fixed offset to each coordinate), which is how every
// layout Tessel builds is shaped.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_DIALECTS_TILE_TRANSFORMS_THREADMAP_H
#define TESSEL_DIALECTS_TILE_TRANSFORMS_THREADMAP_H

#include "dialects/tile/IR/TileAttrs.h"

#include "llvm/ADT/ArrayRef.h"
#include "llvm/ADT/SmallVector.h"

#include <optional>
#include <vector>

namespace tessel::tile {

/// The coordinates a slot holds, as c + sum over thread bits b of
/// bit_b(thread) * delta[b], per dimension; threads >= validThreads hold
/// nothing in this slot.
struct SlotFormula {
  llvm::SmallVector<int64_t> base;                  // per dimension
  llvm::SmallVector<llvm::SmallVector<int64_t>> delta; // [dimension][bit]
  int64_t validThreads = 0;
};

class ThreadMap {
public:
  /// Tabulates `layout` over `shape`. Fails (std::nullopt) when the layout's
  /// replicas cannot be described by a mask of thread bits.
  static std::optional<ThreadMap> build(tile::FragmentLayoutAttr layout,
                                        llvm::ArrayRef<int64_t> shape);

  int64_t threads() const { return numThreads; }
  int64_t slots() const { return numSlots; }
  /// Thread bits along which copies are replicated (0 when not replicated).
  int64_t replicaMask() const { return mask; }
  llvm::ArrayRef<int64_t> shape() const { return dims; }

  /// The element (row-major linear index) thread `t` holds in `slot`, or -1.
  int64_t elementAt(int64_t t, int64_t slot) const {
    return table[(t & ~mask) * numSlots + slot];
  }
  /// The thread (replica 0) and slot holding element `linear`.
  std::pair<int64_t, int64_t> holderOf(int64_t linear) const {
    return holders[linear];
  }
  /// True when thread `t` holds (a replica of) element `linear`.
  bool holds(int64_t t, int64_t linear) const {
    return holders[linear].first == (t & ~mask);
  }

  llvm::SmallVector<int64_t> delinearize(int64_t linear) const;
  int64_t linearize(llvm::ArrayRef<int64_t> index) const;

  /// The bit-linear formula for `slot`, or std::nullopt when the slot's
  /// elements are not a bit-linear function of the thread index, or the
  /// threads holding something are not a prefix.
  std::optional<SlotFormula> formula(int64_t slot) const;

private:
  int64_t numThreads = 0, numSlots = 0, mask = 0;
  llvm::SmallVector<int64_t> dims;
  std::vector<int64_t> table;                         // [thread][slot]
  std::vector<std::pair<int64_t, int64_t>> holders;   // [element]
};

/// Whether `a` and `b` give every element of a fragment of `shape` the
/// same thread and slot (and the same replicas), however their maps are
/// written: a layout printed and parsed back is not the same attribute as
/// the one a pass built.
bool sameLayout(FragmentLayoutAttr a, FragmentLayoutAttr b, llvm::ArrayRef<int64_t> shape);

} // namespace tessel::tile

#endif // TESSEL_DIALECTS_TILE_TRANSFORMS_THREADMAP_H
