//===- ScalarFragments.cpp - fragments used as scalars become locals ------===//

#include "backends/nvidia/Passes.h"

#include "dialects/tile/IR/TileOps.h"

namespace tessel::nvidia {
#define GEN_PASS_DEF_NVIDIASCALARFRAGMENTSPASS
#include "backends/nvidia/Passes.h.inc"
} // namespace tessel::nvidia

using namespace mlir;
using namespace tessel::tile;

namespace {

/// The largest fragment held whole by every thread (registers per thread).
constexpr int64_t kMaxElements = 128;

bool insideParallel(Operation *op) {
  for (Operation *p = op->getParentOp(); p && !isa<KernelOp>(p); p = p->getParentOp())
    if (isa<ParallelOp>(p))
      return true;
  return false;
}

bool onChipFragment(Value v) {
  return getMemoryScope(cast<MemRefType>(v.getType())) == MemoryScope::Fragment;
}

struct NVIDIAScalarFragmentsPass
    : public tessel::nvidia::impl::NVIDIAScalarFragmentsPassBase<NVIDIAScalarFragmentsPass> {
  void runOnOperation() override {
    getOperation()->walk([](AllocOp alloc) {
      MemRefType type = alloc.getType();
      if (getMemoryScope(type) != MemoryScope::Fragment || !type.hasStaticShape() ||
          type.getNumElements() > kMaxElements)
        return;
      bool scalarUse = false;
      for (Operation *user : alloc->getUsers()) {
        if (isa<memref::LoadOp, memref::StoreOp>(user)) {
          scalarUse |= !insideParallel(user);
          continue;
        }
        if (isa<FillOp>(user))
          continue;
        // A copy to or from global or shared memory: each thread moves the
        // whole buffer; another fragment would need a layout for this one.
        if (auto copy = dyn_cast<CopyOp>(user);
            copy && !(copy.getSrc() == alloc && onChipFragment(copy.getDst())) &&
            !(copy.getDst() == alloc && onChipFragment(copy.getSrc())))
          continue;
        return; // a gemm, a reduction, anything that needs a layout
      }
      if (!scalarUse)
        return;
      alloc.getResult().setType(MemRefType::get(
          type.getShape(), type.getElementType(), MemRefLayoutAttrInterface(),
          MemoryScopeAttr::get(type.getContext(), MemoryScope::Local)));
    });
  }
};

} // namespace
