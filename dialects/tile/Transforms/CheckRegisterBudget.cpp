//===- CheckRegisterBudget.cpp - refuse tiles past the register file ------===//
//
// A fragment or local buffer lives in registers. One that needs more than a
// thread can have (255 on sm_90a) or, over the block's threads, more than
// the register file (64K on sm_90a; the target says) cannot be compiled into
// anything but spills,
// and getting there took LLVM minutes and gigabytes. Refused up front, at
// the allocation's line, naming the buffer's registers per thread and the
// budget. The estimate is each buffer on its own (what its layout gives a
// thread, 32-bit registers, sub-word elements packed), so it never refuses
// a kernel that compiles without spills today.
//
//===----------------------------------------------------------------------===//

#include "dialects/tile/IR/TileOps.h"
#include "dialects/tile/Transforms/Passes.h"
#include "dialects/tile/Transforms/Target.h"
#include "dialects/tile/Transforms/ThreadMap.h"

#include "llvm/ADT/StringExtras.h"

namespace tessel::tile {
#define GEN_PASS_DEF_TILECHECKREGISTERBUDGETPASS
#include "dialects/tile/Transforms/Passes.h.inc"
} // namespace tessel::tile

using namespace mlir;
using namespace tessel::tile;

namespace {

/// The buffer in messages: its name where the location has one, and its
/// shape and element type (the error points at the allocation's line).
std::string nameOf(AllocOp alloc) {
  MemRefType type = alloc.getType();
  std::string text;
  llvm::raw_string_ostream os(text);
  if (auto loc = dyn_cast<NameLoc>(alloc.getLoc()))
    os << "'" << loc.getName().str() << "' ";
  os << "(";
  llvm::interleave(type.getShape(), os, "x");
  os << "x" << type.getElementType() << ")";
  return text;
}

struct TileCheckRegisterBudgetPass
    : public tessel::tile::impl::TileCheckRegisterBudgetPassBase<
          TileCheckRegisterBudgetPass> {
  using Base::Base;
  void runOnOperation() override {
    const TargetInfo *target = lookupTarget(targetName);
    if (!target) {
      getOperation()->emitError("tile-check-register-budget: unknown target '")
          << targetName << "' (registered: "
          << llvm::join(registeredTargets(), ", ") << ")";
      return signalPassFailure();
    }
    const int64_t kRegistersPerThread = target->registersPerThread();
    const int64_t kRegistersPerBlock = target->registersPerBlock();
    getOperation()->walk([&](KernelOp kernel) {
      int64_t threads = kernel.getThreads();
      kernel.walk([&](AllocOp alloc) {
        MemRefType type = alloc.getType();
        std::optional<MemoryScope> scope = getMemoryScope(type);
        if (!scope || (*scope != MemoryScope::Fragment && *scope != MemoryScope::Local) ||
            !type.hasStaticShape() || !type.getElementType().isIntOrFloat())
          return;
        // Elements one thread holds: a local buffer whole, a fragment what
        // its layout gives each thread (no layout yet: an even share).
        int64_t elements = type.getNumElements();
        if (*scope == MemoryScope::Fragment) {
          std::optional<ThreadMap> map;
          if (FragmentLayoutAttr layout = alloc.getLayoutAttr())
            map = ThreadMap::build(layout, type.getShape());
          elements = map ? map->slots() : (elements + threads - 1) / std::max<int64_t>(threads, 1);
        }
        int64_t bits = std::max<int64_t>(8, type.getElementType().getIntOrFloatBitWidth());
        int64_t registers = (elements * bits + 31) / 32;
        const char *kind = *scope == MemoryScope::Fragment ? "fragment" : "local buffer";
        if (registers > kRegistersPerThread) {
          alloc.emitError() << "the " << kind << " " << nameOf(alloc) << " needs " << registers
                            << " registers per thread (" << elements << " elements of "
                            << type.getElementType() << " per thread over " << threads
                            << " threads); a thread has at most " << kRegistersPerThread
                            << ": use more threads, a smaller tile, or shared memory "
                               "(T.alloc_shared)";
          signalPassFailure();
        } else if (registers * threads > kRegistersPerBlock) {
          alloc.emitError() << "the " << kind << " " << nameOf(alloc) << " needs " << registers
                            << " registers per thread, " << registers * threads << " over the "
                            << threads << " threads of the block; a block has at most "
                            << kRegistersPerBlock << ": use a smaller tile or shared "
                               "memory (T.alloc_shared)";
          signalPassFailure();
        }
      });
    });
  }
};

} // namespace
