//===- PipelineBuffers.cpp - T.Pipelined's stage buffers, as IR -----------===//
//
// Decides, before shared memory is planned, which copies of each
// T.Pipelined loop run ahead of the compute and into how many stage
// buffers, and records it: the loop's `tessel.stages`, each such copy's
// `tessel.ahead`, and `tessel.staged` on the shared tile it fills, which
// then has no storage of its own (its stages are all it needs: it is used
// only inside the loop). The lowering reads the decision.
//
//===----------------------------------------------------------------------===//

#include "backends/nvidia/KernelEmitter.h"
#include "backends/nvidia/Passes.h"
#include "backends/nvidia/Pipelining.h"
#include "backends/nvidia/Target.h"

namespace tessel::nvidia {
#define GEN_PASS_DEF_NVIDIAPIPELINEBUFFERSPASS
#include "backends/nvidia/Passes.h.inc"
} // namespace tessel::nvidia

using namespace mlir;
using namespace tessel::tile;
using tessel::nvidia::lowering::evalConstant;
using tessel::nvidia::lowering::knownMultiple;
using tessel::nvidia::lowering::squeezed;

SmallVector<Operation *> tessel::nvidia::pipelineStatements(Block &body) {
  SmallVector<Operation *> statements;
  for (Operation &op : body.without_terminator())
    if (!isPure(&op))
      statements.push_back(&op);
  return statements;
}

static bool hasScope(Value v, MemoryScope scope) {
  auto type = dyn_cast<MemRefType>(v.getType());
  return type && getMemoryScope(type) == scope;
}

DenseSet<Value> tessel::nvidia::kernelWrites(KernelOp kernel) {
  DenseSet<Value> written;
  kernel.walk([&](Operation *o) {
    if (auto store = dyn_cast<memref::StoreOp>(o))
      written.insert(store.getMemref());
    else if (auto copy = dyn_cast<CopyOp>(o))
      written.insert(copy.getDst());
    else if (auto atomic = dyn_cast<AtomicAddOp>(o))
      written.insert(atomic.getDst());
  });
  return written;
}

bool tessel::nvidia::producerComputable(Value v, Block &body, KernelOp kernel,
                                        const DenseSet<Value> &written, int depth) {
  if (v == body.getArgument(0) || evalConstant(v))
    return true;
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    // Block indices and scalar parameters are known at the top.
    Block *owner = arg.getOwner();
    auto func = kernel->getParentOfType<func::FuncOp>();
    return owner == &kernel.getBody().front() ||
           (func && owner == &func.getBody().front() && !isa<MemRefType>(arg.getType()));
  }
  Operation *def = v.getDefiningOp();
  if (!def || depth > 16)
    return false;
  if (isa<memref::DimOp>(def))
    return true;
  if (auto load = dyn_cast<memref::LoadOp>(def))
    return hasScope(load.getMemref(), MemoryScope::Global) &&
           !written.contains(load.getMemref()) &&
           llvm::all_of(load.getIndices(), [&](Value i) {
             return producerComputable(i, body, kernel, written, depth + 1);
           });
  if (def->getNumRegions() || def->getNumResults() != 1 ||
      !(isa<arith::ArithDialect>(def->getDialect()) || isa<CastOp>(def)))
    return false;
  return llvm::all_of(def->getOperands(), [&](Value o) {
    return producerComputable(o, body, kernel, written, depth + 1);
  });
}

std::array<int64_t, 3> tessel::nvidia::warpRegisterSplit(int64_t threads) {
  // The block starts with R per thread (65536 over all its threads in steps
  // of 8, at most 255: ptxas gives a block that runs alone on its SM that
  // much); the producer keeps 40 and the consumers take what it gives up,
  // when that is more than R.
  int64_t total = threads + 128;
  int64_t start = std::min<int64_t>(255, 65536 / total / 8 * 8);
  int64_t producer = 40;
  int64_t consumer =
      std::min<int64_t>(240, (start + (start - producer) * 128 / threads) / 8 * 8);
  return {start, producer, std::max(consumer, start)};
}

SmallVector<std::pair<PipelinedOp, scf::IfOp>>
tessel::nvidia::specializableLoops(KernelOp kernel) {
  SmallVector<std::pair<PipelinedOp, scf::IfOp>> loops;
  for (Operation &op : kernel.getBody().front().without_terminator()) {
    if (auto pipe = dyn_cast<PipelinedOp>(&op))
      loops.push_back({pipe, scf::IfOp()});
    if (auto ifOp = dyn_cast<scf::IfOp>(&op))
      for (Region *region : {&ifOp.getThenRegion(), &ifOp.getElseRegion()}) {
        if (region->empty())
          continue;
        for (Operation &inner : region->front().without_terminator())
          if (auto pipe = dyn_cast<PipelinedOp>(&inner))
            loops.push_back({pipe, ifOp});
      }
  }
  return loops;
}

bool tessel::nvidia::keepsWgmmaInFlight(PipelinedOp loop, int64_t stages) {
  // wgmma.wait_group 1 retires exactly the previous iteration's group when
  // every iteration issues its gemms unconditionally: gemms only at the
  // top of the body.
  bool everyIterationCommits = false, nestedGemm = false;
  for (Operation &inner : loop.getBody().front().without_terminator()) {
    if (auto gemm = dyn_cast<GemmOp>(&inner)) {
      everyIterationCommits |=
          gemm.getMmaAttr() && gemm.getMmaAttr().getKind() == MmaKind::Wgmma;
      continue;
    }
    nestedGemm |=
        inner.walk([](GemmOp) { return WalkResult::interrupt(); }).wasInterrupted();
  }
  return stages >= 2 && everyIterationCommits && !nestedGemm;
}

SmallVector<CopyOp>
tessel::nvidia::stageableCopies(PipelinedOp op, KernelOp kernel,
                                function_ref<bool(Value)> storedTransposed) {
  SmallVector<CopyOp> copies;
  Block &body = op.getBody().front();
  Value iv = body.getArgument(0);
  // stage=: what the author put in the last stage (the compute) stays.
  DenseSet<Operation *> computeStage;
  if (std::optional<ArrayRef<int64_t>> stage = op.getStage(); stage && !stage->empty()) {
    int64_t last = *llvm::max_element(*stage);
    for (auto [st, s] : llvm::zip(pipelineStatements(body), *stage))
      if (s == last)
        computeStage.insert(st);
  }
  DenseSet<Value> written = tessel::nvidia::kernelWrites(kernel);
  for (Operation &inner : body.without_terminator()) {
    auto copy = dyn_cast<CopyOp>(&inner);
    if (!copy || computeStage.contains(copy))
      continue;
    if (!hasScope(copy.getSrc(), MemoryScope::Global) ||
        !hasScope(copy.getDst(), MemoryScope::Shared) || storedTransposed(copy.getDst()))
      continue;
    auto srcType = cast<MemRefType>(copy.getSrc().getType());
    auto dstType = cast<MemRefType>(copy.getDst().getType());
    if (srcType.getElementType() != dstType.getElementType() || !dstType.hasStaticShape() ||
        !srcType.getElementType().isIntOrFloat())
      continue;
    int64_t bytes = lowering::byteWidth(srcType.getElementType()), width = 16 / bytes;
    ArrayRef<int64_t> srcSizes = copy.getSrcSizes(), dstSizes = copy.getDstSizes();
    // Whole shared tile, 16-byte pieces along the last dimension on both sides.
    if (dstSizes.empty() || ArrayRef<int64_t>(dstSizes) != dstType.getShape() ||
        dstSizes.back() % width || srcSizes.back() != dstSizes.back() ||
        ShapedType::isDynamic(srcType.getShape().back()) ||
        srcType.getShape().back() % width ||
        knownMultiple(copy.getSrcOffsets().back()) % width ||
        llvm::any_of(copy.getDstOffsets(), [](Value v) {
          auto c = evalConstant(v);
          return !c || *c != 0;
        }))
      continue;
    if (squeezed(srcSizes) != squeezed(dstSizes))
      continue;
    // The tile: written only by this copy, used only inside the loop.
    bool ownTile = llvm::all_of(copy.getDst().getUsers(), [&](Operation *user) {
      if (user == copy)
        return true;
      if (!op->isAncestor(user))
        return false;
      if (auto other = dyn_cast<CopyOp>(user))
        return other.getDst() != copy.getDst();
      return !isa<memref::StoreOp, FillOp, AtomicAddOp>(user) &&
             !(isa<ReduceOp>(user) && cast<ReduceOp>(user).getDst() == copy.getDst()) &&
             !(isa<GemmOp>(user) && cast<GemmOp>(user).getC() == copy.getDst());
    });
    if (!ownTile)
      continue;
    // Its reads come after it in the body (the copy dominates them).
    bool readAfter = llvm::all_of(copy.getDst().getUsers(), [&](Operation *user) {
      if (user == copy)
        return true;
      Operation *top = body.findAncestorOpInBlock(*user);
      return top && copy->isBeforeInBlock(top);
    });
    if (!readAfter)
      continue;
    // Offsets computable at any iteration.
    std::function<bool(Value, int)> computable = [&](Value v, int depth) {
      if (v == iv)
        return true;
      Operation *def = v.getDefiningOp();
      if (!def) // a block argument: fine if it comes from outside the loop
        return !op->isAncestor(v.getParentBlock()->getParentOp());
      if (!op->isAncestor(def))
        return true;
      if (depth > 16 || def->getBlock() != &body)
        return false;
      // An element of a tensor the kernel only reads (a page table): read
      // again for the iteration ahead, under the same guard as its copy.
      if (auto element = dyn_cast<memref::LoadOp>(def))
        return hasScope(element.getMemref(), MemoryScope::Global) &&
               !written.contains(element.getMemref()) &&
               llvm::all_of(element.getIndices(),
                            [&](Value i) { return computable(i, depth + 1); });
      if (def->getNumRegions() ||
          !(isa<arith::ArithDialect>(def->getDialect()) || isa<CastOp>(def)))
        return false;
      return llvm::all_of(def->getOperands(),
                          [&](Value o) { return computable(o, depth + 1); });
    };
    if (!llvm::all_of(copy.getSrcOffsets(), [&](Value v) { return computable(v, 0); }))
      continue;
    copies.push_back(copy);
  }
  return copies;
}

std::optional<int64_t> tessel::nvidia::tmaRowDim(CopyOp op, ArrayRef<int64_t> tile) {
  ArrayRef<int64_t> sizes = op.getSrcSizes();
  int64_t rank = sizes.size();
  if (rank < 2 || rank > 5 || tile.size() != 2 || sizes.back() != tile[1])
    return std::nullopt;
  std::optional<int64_t> rowDim;
  for (int64_t d = 0; d < rank - 1; ++d) {
    if (sizes[d] == 1)
      continue;
    if (rowDim || sizes[d] != tile[0])
      return std::nullopt;
    rowDim = d;
  }
  return rowDim ? rowDim : std::optional<int64_t>(rank - 2);
}

bool tessel::nvidia::tmaCopyableTile(CopyOp op, const lowering::SharedPlacement &dst) {
  auto srcType = cast<MemRefType>(op.getSrc().getType());
  auto dstType = cast<MemRefType>(op.getDst().getType());
  if (!isa<BlockArgument>(op.getSrc()) || dstType.getRank() != 2 || !dst.swizzle ||
      dst.transposed || !tmaRowDim(op, dstType.getShape()))
    return false;
  int64_t bytes = lowering::byteWidth(srcType.getElementType());
  // A dynamic extent is fine outermost (the launch encodes the descriptor
  // with the tensor's extents), not where it sets a stride.
  if (llvm::any_of(srcType.getShape().drop_front(), ShapedType::isDynamic))
    return false;
  // Strides (multiples of the innermost extent) a multiple of 16 bytes; the
  // tile's rows whole swizzle atoms.
  return (srcType.getShape().back() * bytes) % 16 == 0 &&
         (dstType.getDimSize(1) * bytes) % dst.swizzle == 0 && dstType.getDimSize(0) <= 256;
}

namespace {

/// Bytes of a shared tile, rounded up to the 1024-byte alignment the
/// lowering gives swizzled tiles and stage buffers.
int64_t tileBytes(MemRefType type) {
  int64_t bits = std::max<int64_t>(8, type.getElementTypeBitWidth());
  return llvm::alignTo(type.getNumElements() * bits / 8, 1024);
}

struct NVIDIAPipelineBuffersPass
    : public tessel::nvidia::impl::NVIDIAPipelineBuffersPassBase<NVIDIAPipelineBuffersPass> {
  using Base::Base;

  /// A producer warpgroup feeds the staged loops whose copies all load by
  /// TMA and whose bounds, guard and copy offsets it can compute itself:
  /// `tessel.producer` on each (`tessel.wgmma_in_flight` when an iteration
  /// leaves its wgmma group in flight), the register split on the kernel.
  void decideWarpSpecialization(KernelOp kernel) {
    int64_t threads = kernel.getThreads();
    if (!warpSpecialize || !tma || threads % 128 || threads + 128 > 1024)
      return;
    DenseSet<Value> written = tessel::nvidia::kernelWrites(kernel);
    Builder b(kernel.getContext());
    bool any = false;
    for (auto [loop, guard] : tessel::nvidia::specializableLoops(kernel)) {
      auto stages = loop->getAttrOfType<IntegerAttr>(tessel::nvidia::kStagesAttr);
      if (!stages)
        continue;
      Block &body = loop.getBody().front();
      SmallVector<Value> known{loop.getLower(), loop.getUpper(), loop.getStep()};
      if (guard)
        known.push_back(guard.getCondition());
      bool allTma = true;
      for (Operation &inner : body.without_terminator())
        if (inner.hasAttr(tessel::nvidia::kAheadAttr)) {
          allTma &= inner.hasAttr(tessel::nvidia::kTmaAttr);
          for (Value v : cast<CopyOp>(inner).getSrcOffsets())
            known.push_back(v);
        }
      if (!allTma || !llvm::all_of(known, [&](Value v) {
            return tessel::nvidia::producerComputable(v, body, kernel, written);
          }))
        continue;
      loop->setAttr(tessel::nvidia::kProducerAttr, b.getUnitAttr());
      if (tessel::nvidia::keepsWgmmaInFlight(loop, stages.getInt()))
        loop->setAttr(tessel::nvidia::kInFlightAttr, b.getI64IntegerAttr(1));
      any = true;
    }
    if (any) {
      std::array<int64_t, 3> split = tessel::nvidia::warpRegisterSplit(threads);
      kernel->setAttr(tessel::nvidia::kRegistersAttr, b.getDenseI64ArrayAttr(split));
    }
  }

  void runOnOperation() override {
    getOperation()->walk([&](KernelOp kernel) {
      // A shared tile is stored transposed when a gemm needs it so (after
      // nvidia-gemm-operand-copies, every gemm reading it agrees).
      DenseSet<Value> transposed;
      kernel.walk([&](GemmOp gemm) {
        for (int operand = 0; operand < 2; ++operand)
          if (tessel::nvidia::gemmOperandStoredTransposed(gemm, operand))
            transposed.insert(operand == 0 ? gemm.getA() : gemm.getB());
      });
      // Where the gemm operand tiles are stored (their swizzle decides TMA).
      // A kernel no placement fits is left to the lowering, which reports
      // it at the gemm; here its diagnostics are dropped.
      std::optional<DenseMap<Value, tessel::nvidia::lowering::SharedPlacement>> placements;
      {
        ScopedDiagnosticHandler quiet(kernel.getContext(),
                                      [](Diagnostic &) { return success(); });
        FailureOr<DenseMap<Value, tessel::nvidia::lowering::SharedPlacement>> placed =
            tessel::nvidia::lowering::gemmOperandPlacements(kernel);
        if (succeeded(placed))
          placements = std::move(*placed);
      }
      // What the kernel's other shared tiles take at most (as if none
      // shared memory with another: tile-plan-memory can only do better).
      int64_t planned = 0;
      kernel.walk([&](AllocOp alloc) {
        if (getMemoryScope(alloc.getType()) == MemoryScope::Shared &&
            alloc.getType().hasStaticShape())
          planned += tileBytes(alloc.getType());
      });
      kernel.walk([&](PipelinedOp loop) {
        if (!asyncCopies || loop.getNumStages() < 2 || loop->hasAttr(tessel::nvidia::kStagesAttr))
          return;
        SmallVector<CopyOp> copies = tessel::nvidia::stageableCopies(
            loop, kernel, [&](Value tile) { return transposed.contains(tile); });
        llvm::erase_if(copies, [](CopyOp c) { return !c.getDst().getDefiningOp<AllocOp>(); });
        if (copies.empty())
          return;
        int64_t perStage = 0;
        for (CopyOp c : copies)
          perStage += tileBytes(cast<MemRefType>(c.getDst().getType()));
        // Fewer stages if they, their barriers (a full and an empty one per
        // stage) and the rest do not fit; the staged tiles' own storage
        // goes.
        constexpr int64_t kMaxShared = 232448;
        int64_t rest = planned - perStage;
        int64_t stages = loop.getNumStages();
        while (stages >= 2 && rest + stages * (perStage + 16) > kMaxShared)
          --stages;
        if (stages < 2)
          return;
        planned = rest + stages * (perStage + 16);
        Builder b(loop.getContext());
        loop->setAttr(tessel::nvidia::kStagesAttr, b.getI64IntegerAttr(stages));
        for (CopyOp c : copies) {
          c->setAttr(tessel::nvidia::kAheadAttr, b.getUnitAttr());
          if (tma && placements) {
            auto it = placements->find(c.getDst());
            if (it != placements->end() && tessel::nvidia::tmaCopyableTile(c, it->second))
              c->setAttr(tessel::nvidia::kTmaAttr, b.getUnitAttr());
          }
          c.getDst().getDefiningOp()->setAttr(tessel::nvidia::kStagedAttr, b.getUnitAttr());
        }
      });
      decideWarpSpecialization(kernel);
    });
  }
};

} // namespace
