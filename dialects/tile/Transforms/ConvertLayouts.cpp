//===- ConvertLayouts.cpp - fragment reads another thread's element -------===//
//
// A T.Parallel over a fragment runs each iteration on the thread that holds
// the fragment's element (its anchor: the fragment indexed by the loop's
// indices, in order or, for a 2-d loop, swapped). A read of another fragment
// whose element, for some iteration, lives in another thread — a bias or
// column scale kept in a 1-d fragment (`acc[i, j] + bias[j]`), a fragment
// read reversed or shifted — cannot come from a register; nor can any
// fragment read in a T.Parallel over no fragment (its iterations are dealt
// to the threads round robin: `S[i, j] *= scale[i]` over a shared tile). This pass makes
// the exchange explicit: the fragment is copied into a shared tile of its
// shape just before the loop, and the loop reads the tile. The lowering
// orders the copy and the reads with a barrier, as for any shared tile.
//
// Reads only: a fragment the loop also writes is left alone (the lowering
// reports the access). A read whose index evalIndex cannot evaluate from
// the loop's indices and constants (`lse[k, j]` inside `for k in
// T.serial(n)`) goes through the shared copy too: no register holds an
// element chosen at run time.
//
//===----------------------------------------------------------------------===//

#include "dialects/tile/IR/TileOps.h"
#include "dialects/tile/Transforms/Layouts.h"
#include "dialects/tile/Transforms/Passes.h"
#include "dialects/tile/Transforms/Target.h"
#include "dialects/tile/Transforms/ThreadMap.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace tessel::tile {
#define GEN_PASS_DEF_TILECONVERTLAYOUTSPASS
#include "dialects/tile/Transforms/Passes.h.inc"
} // namespace tessel::tile

using namespace mlir;
using namespace tessel::tile;

namespace {

AllocOp fragmentAlloc(Value v) {
  auto alloc = v.getDefiningOp<AllocOp>();
  if (!alloc || getMemoryScope(alloc.getType()) != MemoryScope::Fragment ||
      !alloc.getLayout())
    return nullptr;
  return alloc;
}

/// True when some iteration reads an element of `source` that the thread
/// running it does not hold, or holds in a register that differs from
/// thread to thread for the same iteration slot, or may (an index known only at run time: an
/// enclosing serial loop's index, a value loaded from memory); std::nullopt
/// when an index falls outside the fragment (the lowering reports it).
std::optional<bool> readsElsewhere(const ThreadMap &anchor, ArrayRef<Value> anchorIvs,
                                   const ThreadMap &source, memref::LoadOp load) {
  DenseMap<Value, int64_t> env;
  // The register (slot) of `source` each anchor slot reads: the lowering
  // names one per slot, the same in every thread.
  SmallVector<int64_t> slotOf(anchor.slots(), -1);
  for (int64_t t = 0; t < anchor.threads(); ++t)
    for (int64_t s = 0; s < anchor.slots(); ++s) {
      int64_t e = anchor.elementAt(t, s);
      if (e < 0)
        continue;
      SmallVector<int64_t> iv = anchor.delinearize(e);
      for (auto [v, x] : llvm::zip(anchorIvs, iv))
        env[v] = x;
      SmallVector<int64_t> index;
      for (Value i : load.getIndices()) {
        std::optional<int64_t> x = evalIndex(i, env);
        if (!x)
          return true;
        index.push_back(*x);
      }
      for (auto [x, d] : llvm::zip(index, source.shape()))
        if (x < 0 || x >= d)
          return std::nullopt; // out of bounds: the lowering reports it
      int64_t linear = source.linearize(index);
      if (!source.holds(t, linear))
        return true;
      int64_t slot = source.holderOf(linear).second;
      if (slotOf[s] >= 0 && slotOf[s] != slot)
        return true;
      slotOf[s] = slot;
    }
  return false;
}

/// A shared tile of `fragment`'s shape, allocated beside it (plan-memory
/// gives it space for its lifetime) and filled with the fragment just
/// before `user`.
Value sharedCopyBefore(AllocOp fragment, Operation *user) {
  MemRefType type = fragment.getType();
  OpBuilder b(fragment);
  b.setInsertionPointAfter(fragment);
  auto tile = AllocOp::create(b, fragment.getLoc(),
                              withMemoryScope(type, MemoryScope::Shared), nullptr);
  b.setInsertionPoint(user);
  Location loc = user->getLoc();
  SmallVector<Value> offsets(type.getRank(), arith::ConstantIndexOp::create(b, loc, 0));
  DenseI64ArrayAttr sizes = b.getDenseI64ArrayAttr(type.getShape());
  CopyOp::create(b, loc, fragment.getResult(), offsets, sizes, tile.getResult(), offsets, sizes);
  return tile.getResult();
}

/// A fragment A operand the gemm's MMA cannot read from registers as it is
/// (its layout, element type or split: the target's registerOperandLayout)
/// is read from a shared copy made just before the gemm.
void convertGemmOperands(Operation *root, const TargetInfo &target) {
  root->walk([&](GemmOp gemm) {
    AllocOp a = fragmentAlloc(gemm.getA());
    MmaAttr mma = gemm.getMmaAttr();
    if (!a || !mma)
      return;
    MemRefType type = a.getType();
    if (type.getRank() != 2)
      return;
    FragmentLayoutAttr want;
    if (!gemm.getTransposeA())
      want = target.registerOperandLayout(mma, type.getElementType(), type.getDimSize(0),
                                          type.getDimSize(1));
    if (want && sameLayout(a.getLayoutAttr(), want, type.getShape()))
      return;
    Value tile = sharedCopyBefore(a, gemm);
    gemm->setOperand(0, tile);
  });
}

struct TileConvertLayoutsPass
    : public tessel::tile::impl::TileConvertLayoutsPassBase<TileConvertLayoutsPass> {
  using Base::Base;
  void runOnOperation() override {
    const TargetInfo *target = lookupTarget(targetName);
    if (!target) {
      getOperation()->emitError("tile-convert-layouts: unknown target '")
          << targetName << "' (registered: " << llvm::join(registeredTargets(), ", ") << ")";
      return signalPassFailure();
    }
    convertGemmOperands(getOperation(), *target);
    SmallVector<ParallelOp> loops;
    getOperation()->walk([&](ParallelOp p) { loops.push_back(p); });
    DenseMap<AllocOp, std::optional<ThreadMap>> maps;
    auto mapOf = [&](AllocOp alloc) -> const ThreadMap * {
      auto it = maps.find(alloc);
      if (it == maps.end())
        it = maps.try_emplace(alloc, ThreadMap::build(*alloc.getLayout(),
                                                      alloc.getType().getShape()))
                 .first;
      return it->second ? &*it->second : nullptr;
    };
    for (ParallelOp parallel : loops) {
      std::optional<ParallelAnchor> found = findParallelAnchor(parallel);
      AllocOp anchor = found ? found->fragment.getDefiningOp<AllocOp>() : AllocOp();
      if (found && (!anchor || !anchor.getLayout()))
        continue;
      ArrayRef<Value> anchorIvs = found ? ArrayRef<Value>(found->indices) : ArrayRef<Value>();
      const ThreadMap *anchorMap = anchor ? mapOf(anchor) : nullptr;
      if (anchor && !anchorMap)
        continue;
      // Fragments the loop writes stay as they are.
      llvm::SmallPtrSet<Value, 4> written;
      parallel.walk([&](memref::StoreOp s) { written.insert(s.getMemref()); });
      // Loads grouped by fragment: one shared copy per fragment and loop.
      llvm::MapVector<AllocOp, SmallVector<memref::LoadOp>> convert;
      parallel.walk([&](memref::LoadOp load) {
        AllocOp source = fragmentAlloc(load.getMemref());
        if (!source || source == anchor || written.contains(load.getMemref()))
          return;
        // A loop over no fragment deals its iterations to the threads round
        // robin: no thread owns what it reads from a fragment.
        if (!anchor) {
          convert[source].push_back(load);
          return;
        }
        const ThreadMap *sourceMap = mapOf(source);
        if (!sourceMap || sourceMap->threads() != anchorMap->threads())
          return;
        // Out-of-bounds accesses stay: the lowering reports them.
        std::optional<bool> elsewhere =
            readsElsewhere(*anchorMap, anchorIvs, *sourceMap, load);
        if (elsewhere && *elsewhere)
          convert[source].push_back(load);
      });
      for (auto &[source, loads] : convert) {
        Value tile = sharedCopyBefore(source, parallel);
        for (memref::LoadOp load : loads)
          load.getMemrefMutable().assign(tile);
      }
    }
  }
};

} // namespace
