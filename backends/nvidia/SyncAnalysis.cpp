//===- SyncAnalysis.cpp - shared bytes and statements for sync passes -----===//

#include "backends/nvidia/SyncAnalysis.h"
#include "backends/nvidia/Pipelining.h"

using namespace mlir;
using namespace tessel::tile;

std::optional<tessel::nvidia::SharedBytes> tessel::nvidia::sharedBytesOf(Value memref) {
  auto type = dyn_cast<MemRefType>(memref.getType());
  if (!type || getMemoryScope(type) != MemoryScope::Shared)
    return std::nullopt;
  auto alloc = memref.getDefiningOp<AllocOp>();
  if (!alloc)
    return SharedBytes{};
  // A staged tile lives in its loop's stage area, which the lowering
  // records as a whole: every tile the loop stages is the same bytes.
  if (alloc->hasAttr(kStagedAttr)) {
    for (Operation *user : alloc->getUsers())
      if (user->hasAttr(kAheadAttr))
        if (auto loop = user->getParentOfType<PipelinedOp>())
          return SharedBytes{loop};
    return SharedBytes{};
  }
  SharedBytes bytes{alloc};
  if (auto offset = alloc->getAttrOfType<IntegerAttr>("tessel.shared_offset")) {
    // As tile-plan-memory sizes it: a bool takes a byte, num_buffers copies.
    int64_t bits = std::max<int64_t>(8, type.getElementTypeBitWidth());
    int64_t copies = 1;
    if (auto n = alloc->getAttrOfType<IntegerAttr>("tessel.num_buffers"))
      copies = std::max<int64_t>(1, n.getInt());
    bytes.begin = offset.getInt();
    bytes.end = bytes.begin + (type.getNumElements() * bits + 7) / 8 * copies;
  }
  return bytes;
}

void tessel::nvidia::placeStatement(Operation *added, Operation *anchor, bool after) {
  auto pipe = dyn_cast_or_null<PipelinedOp>(added->getParentOp());
  if (!pipe || (!pipe.getOrder() && !pipe.getStage()))
    return;
  SmallVector<Operation *> statements = pipelineStatements(pipe.getBody().front());
  int64_t addedAt = llvm::find(statements, added) - statements.begin();
  statements.erase(statements.begin() + addedAt);
  int64_t anchorAt = anchor ? llvm::find(statements, anchor) - statements.begin() : -1;
  if (std::optional<ArrayRef<int64_t>> order = pipe.getOrder()) {
    int64_t at = anchorAt < 0 ? int64_t(order->size())
                              : (*order)[anchorAt] + (after ? 1 : 0);
    SmallVector<int64_t> next;
    for (int64_t pos : *order)
      next.push_back(pos >= at ? pos + 1 : pos);
    next.insert(next.begin() + addedAt, at);
    pipe.setOrder(next);
  }
  if (std::optional<ArrayRef<int64_t>> stage = pipe.getStage()) {
    SmallVector<int64_t> next(stage->begin(), stage->end());
    int64_t compute = next.empty() ? 0 : *llvm::max_element(next);
    next.insert(next.begin() + addedAt, compute);
    pipe.setStage(next);
  }
}
