//===- PlanMemory.cpp - shared-memory offsets with lifetime-based reuse ---===//

#include "dialects/tile/IR/TileOps.h"
#include "dialects/tile/Transforms/Passes.h"

#include "llvm/ADT/STLExtras.h"

#include <algorithm>

namespace tessel::tile {
#define GEN_PASS_DEF_TILEPLANMEMORYPASS
#include "dialects/tile/Transforms/Passes.h.inc"
} // namespace tessel::tile

#define DEBUG_TYPE "tile-plan-memory"

using namespace mlir;
using namespace tessel::tile;

namespace {

/// A shared tile and where it must live.
struct SharedTile {
  AllocOp alloc;
  int64_t bytes = 0;
  int64_t alignment = 128;
  /// Positions (in the kernel body) of its first and last use.
  int64_t begin = 0, end = 0;
  int64_t offset = -1;
};

int64_t alignUp(int64_t x, int64_t a) { return (x + a - 1) / a * a; }

/// The position of `op` in the kernel body: the index of its ancestor that
/// sits directly in `body`.
int64_t positionIn(Block &body, Operation *op,
                   const DenseMap<Operation *, int64_t> &positions) {
  Operation *top = body.findAncestorOpInBlock(*op);
  auto it = positions.find(top);
  return it == positions.end() ? 0 : it->second;
}

LogicalResult planKernel(KernelOp kernel, int64_t maxBytes) {
  Block &body = kernel.getBody().front();
  DenseMap<Operation *, int64_t> positions;
  for (auto [i, op] : llvm::enumerate(body))
    positions[&op] = i;

  SmallVector<SharedTile> tiles;
  kernel.walk([&](AllocOp alloc) {
    MemRefType type = alloc.getType();
    if (getMemoryScope(type) != MemoryScope::Shared)
      return;
    // A tile a backend stages (`tessel.staged`) lives only in its
    // pipeline's stage buffers, which the backend places.
    if (alloc->hasAttr("tessel.staged"))
      return;
    SharedTile t;
    t.alloc = alloc;
    // Sub-byte elements other than a bool (stored one per byte) would pack;
    // a bool takes a whole byte, as every backend stores it.
    int64_t elementBits = type.getElementTypeBitWidth();
    if (elementBits == 1)
      elementBits = 8;
    int64_t buffers = 1;
    if (auto n = alloc->getAttrOfType<IntegerAttr>("tessel.num_buffers"))
      buffers = std::max<int64_t>(1, n.getInt());
    t.bytes = (type.getNumElements() * elementBits + 7) / 8 * buffers;
    // A tile lives from its first use to its last; an unused one occupies
    // its allocation point only.
    t.begin = t.end = positionIn(body, alloc, positions);
    bool first = true;
    for (Operation *user : alloc->getUsers()) {
      int64_t p = positionIn(body, user, positions);
      t.begin = first ? p : std::min(t.begin, p);
      t.end = first ? p : std::max(t.end, p);
      first = false;
      if (isa<GemmOp>(user))
        t.alignment = 1024;
    }
    tiles.push_back(t);
  });

  // Largest first, each at the lowest aligned offset that no tile with an
  // overlapping lifetime occupies.
  SmallVector<SharedTile *> order;
  for (SharedTile &t : tiles)
    order.push_back(&t);
  llvm::stable_sort(order, [](SharedTile *a, SharedTile *b) {
    return a->bytes > b->bytes;
  });
  int64_t total = 0;
  SmallVector<SharedTile *> placed;
  for (SharedTile *t : order) {
    SmallVector<std::pair<int64_t, int64_t>> busy;
    for (SharedTile *p : placed)
      if (p->begin <= t->end && t->begin <= p->end)
        busy.push_back({p->offset, p->offset + p->bytes});
    llvm::sort(busy);
    int64_t offset = 0;
    for (auto [lo, hi] : busy) {
      if (alignUp(offset, t->alignment) + t->bytes <= lo)
        break;
      offset = std::max(offset, hi);
    }
    t->offset = alignUp(offset, t->alignment);
    total = std::max(total, t->offset + t->bytes);
    placed.push_back(t);
  }

  Builder b(kernel.getContext());
  for (SharedTile &t : tiles)
    t.alloc->setAttr("tessel.shared_offset", b.getI64IntegerAttr(t.offset));
  kernel->setAttr("tessel.shared_bytes", b.getI64IntegerAttr(total));
  if (total <= maxBytes)
    return success();

  InFlightDiagnostic diag = kernel.emitError()
                            << "this kernel needs " << total
                            << " bytes of shared memory, more than the "
                            << maxBytes << " a block can have";
  for (SharedTile *t : ArrayRef<SharedTile *>(order).take_front(3))
    diag.attachNote(t->alloc.getLoc())
        << "this tile takes " << t->bytes << " bytes";
  return failure();
}

struct TilePlanMemoryPass
    : public tessel::tile::impl::TilePlanMemoryPassBase<TilePlanMemoryPass> {
  using TilePlanMemoryPassBase::TilePlanMemoryPassBase;
  void runOnOperation() override {
    bool anyFailed = false;
    getOperation()->walk([&](KernelOp kernel) {
      anyFailed |= failed(planKernel(kernel, maxSharedBytes));
    });
    if (anyFailed)
      signalPassFailure();
  }
};

} // namespace
