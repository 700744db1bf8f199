//===- LowerPipeline.cpp - T.Pipelined: stages, async copies, TMA ---------===//
//
// Part of the tile-lower-to-nvvm pass (LowerTileToNVVM.cpp); KernelEmitter.h
// declares the emitter these methods belong to.
//
//===----------------------------------------------------------------------===//

#include "backends/nvidia/KernelEmitter.h"
#include "backends/nvidia/Pipelining.h"

#define DEBUG_TYPE "tile-lower-to-nvvm"

namespace tessel::nvidia::lowering {

//===----------------------------------------------------------------------===//
// Software pipelining: T.Pipelined(num_stages=S)
//===----------------------------------------------------------------------===//

/// The tiles `op` (and what it contains) reads and writes.
static void tileAccesses(Operation *op, DenseSet<Value> &reads, DenseSet<Value> &writes) {
  op->walk([&](Operation *inner) {
    if (auto c = dyn_cast<CopyOp>(inner)) {
      reads.insert(c.getSrc());
      writes.insert(c.getDst());
    } else if (auto f = dyn_cast<FillOp>(inner)) {
      writes.insert(f.getDst());
    } else if (auto g = dyn_cast<GemmOp>(inner)) {
      reads.insert(g.getA());
      reads.insert(g.getB());
      reads.insert(g.getC());
      writes.insert(g.getC());
    } else if (auto r = dyn_cast<ReduceOp>(inner)) {
      reads.insert(r.getSrc());
      reads.insert(r.getDst());
      writes.insert(r.getDst());
    } else if (auto s = dyn_cast<memref::StoreOp>(inner)) {
      writes.insert(s.getMemRef());
    } else if (auto l = dyn_cast<memref::LoadOp>(inner)) {
      reads.insert(l.getMemRef());
    } else if (auto a = dyn_cast<AtomicAddOp>(inner)) {
      for (Value v : a->getOperands())
        if (isa<MemRefType>(v.getType()))
          writes.insert(v);
    } else {
      // Anything else that names a tile: both, to be safe.
      for (Value v : inner->getOperands())
        if (isa<MemRefType>(v.getType())) {
          reads.insert(v);
          writes.insert(v);
        }
    }
  });
}

LogicalResult KernelEmitter::checkStages(PipelinedOp op) {
  std::optional<ArrayRef<int64_t>> stage = op.getStage();
  if (!stage || stage->empty())
    return success();
  SmallVector<Operation *> statements = pipelineStatements(op.getBody().front());
  int64_t last = *llvm::max_element(*stage);
  bool ahead = asyncCopiesEnabled && op.getNumStages() >= 2;
  SmallVector<CopyOp> copies = ahead ? asyncCopies(op) : SmallVector<CopyOp>();
  for (auto [st, s] : llvm::zip(statements, *stage)) {
    if (s == last)
      continue;
    if (s != 0)
      return st->emitError("stage= gives this statement stage ")
             << s << "; Tessel pipelines two stages for now: 0 (issued "
             << op.getNumStages() - 1 << " iterations ahead) and " << last
             << " (the compute)";
    auto copy = dyn_cast<CopyOp>(st);
    if (!copy)
      return st->emitError("stage= puts this statement in stage 0, ahead of "
                           "the compute, but only copies from global into "
                           "shared memory run ahead");
    if (ahead && !llvm::is_contained(copies, copy))
      return copy.emitError("stage= puts this copy in stage 0, but it cannot "
                            "run ahead: a copy that runs ahead fills a whole "
                            "shared tile stored as written, in 16-byte pieces, "
                            "from offsets computed from the loop index, and "
                            "nothing else in the loop writes that tile");
  }
  return success();
}

LogicalResult KernelEmitter::emitInOrder(PipelinedOp op, Block &body) {
  SmallVector<Operation *> statements = pipelineStatements(body);
  ArrayRef<int64_t> order = *op.getOrder();
  DenseMap<Operation *, int64_t> position;
  SmallVector<Operation *> byPosition(statements.size());
  for (auto [st, pos] : llvm::zip(statements, order)) {
    position[st] = pos;
    byPosition[pos] = st;
  }
  // The statement of the body `v` is computed by, through pure arithmetic.
  std::function<void(Value, SmallVectorImpl<Operation *> &)> sources =
      [&](Value v, SmallVectorImpl<Operation *> &out) {
        Operation *def = v.getDefiningOp();
        if (!def || def->getBlock() != &body)
          return;
        if (position.count(def)) {
          out.push_back(def);
          return;
        }
        for (Value o : def->getOperands())
          sources(o, out);
      };
  for (auto [j, later] : llvm::enumerate(statements)) {
    if (issuedAhead.contains(later))
      continue;
    SmallVector<Operation *> uses;
    later->walk([&](Operation *inner) {
      for (Value o : inner->getOperands())
        sources(o, uses);
    });
    for (Operation *def : uses)
      if (def != later && position[def] > position[later]) {
        InFlightDiagnostic diag = later->emitError(
            "order= runs this statement before the statement that computes a "
            "value it uses");
        diag.attachNote(def->getLoc()) << "the value is computed here";
        return diag;
      }
    DenseSet<Value> laterReads, laterWrites;
    tileAccesses(later, laterReads, laterWrites);
    for (Operation *earlier : ArrayRef<Operation *>(statements).take_front(j)) {
      if (issuedAhead.contains(earlier) || position[earlier] < position[later])
        continue;
      DenseSet<Value> reads, writes;
      tileAccesses(earlier, reads, writes);
      auto meets = [](const DenseSet<Value> &a, const DenseSet<Value> &b) {
        return llvm::any_of(a, [&](Value v) { return b.contains(v); });
      };
      if (meets(writes, laterReads) || meets(writes, laterWrites) ||
          meets(reads, laterWrites)) {
        InFlightDiagnostic diag = later->emitError(
            "order= runs this statement before an earlier one in the loop body "
            "that uses a tile it writes, or writes a tile it uses");
        diag.attachNote(earlier->getLoc()) << "the earlier statement";
        return diag;
      }
    }
  }
  // Each statement after the arithmetic it uses, emitted once.
  DenseSet<Operation *> emitted;
  std::function<LogicalResult(Operation *)> emitWithOperands =
      [&](Operation *st) -> LogicalResult {
    SmallVector<Operation *> pure;
    st->walk([&](Operation *inner) {
      for (Value o : inner->getOperands())
        if (Operation *def = o.getDefiningOp();
            def && def->getBlock() == &body && !position.count(def) &&
            !emitted.contains(def))
          pure.push_back(def);
    });
    for (Operation *def : pure)
      if (!emitted.contains(def) && failed(emitWithOperands(def)))
        return failure();
    emitted.insert(st);
    return emitOp(st);
  };
  for (Operation *st : byPosition) {
    if (issuedAhead.contains(st))
      continue;
    if (failed(emitWithOperands(st)))
      return failure();
  }
  return success();
}

/// The copies that run ahead: nvidia-pipeline-buffers' decision where it
/// ran (the tiles it staged have no storage of their own), else the same
/// analysis on the placed tiles.
SmallVector<CopyOp> KernelEmitter::asyncCopies(PipelinedOp op) {
  if (op->hasAttr(kStagesAttr)) {
    SmallVector<CopyOp> copies;
    for (Operation &inner : op.getBody().front().without_terminator())
      if (auto c = dyn_cast<CopyOp>(&inner); c && c->hasAttr(kAheadAttr))
        copies.push_back(c);
    return copies;
  }
  return stageableCopies(op, kernel, [&](Value tile) {
    auto it = buffers.find(tile);
    return it != buffers.end() && it->second->space == Space::Shared &&
           it->second->shared.transposed;
  });
}

Value KernelEmitter::valueAtIteration(Value old, Block &body, Value iv) {
  if (old == body.getArgument(0))
    return iv;
  if (auto c = evalConstant(old))
    return constant(*c, old.getType()); // an index, or an i32 compared with a load
  Operation *def = old.getDefiningOp();
  if (auto element = dyn_cast_or_null<memref::LoadOp>(def);
      element && (def->getBlock() == &body || !map.lookupOrNull(old))) {
    // An element of a tensor the kernel only reads (producerComputable
    // checked), read here: at iteration `iv` when the loop reads it, or
    // (for the producer, which runs before the kernel's code) again.
    auto it = buffers.find(element.getMemref());
    if (it == buffers.end() || it->second->space != Space::Global)
      return Value();
    SmallVector<Value> index;
    for (Value i : element.getIndices()) {
      Value v = valueAtIteration(i, body, iv);
      if (!v)
        return Value();
      index.push_back(v);
    }
    return load(elementAddress(*it->second, index), it->second->elementType());
  }
  if (!def || def->getBlock() != &body) {
    // Computed before the loop: its value, or (for the producer, which runs
    // before the kernel's code) the arithmetic that computes it, re-emitted.
    if (Value v = map.lookupOrNull(old))
      return v;
    if (def && isa<memref::DimOp>(def)) {
      FailureOr<Value> extent = lookup(old);
      return succeeded(extent) ? *extent : Value();
    }
    if (!def || def->getNumRegions() || def->getNumResults() != 1 ||
        !(isa<arith::ArithDialect>(def->getDialect()) || isa<CastOp>(def)))
      return Value();
  }
  if (auto castOp = dyn_cast<CastOp>(def)) {
    Value input = valueAtIteration(castOp.getInput(), body, iv);
    return input ? tile::convertScalar(b, loc, input, castOp.getType()) : Value();
  }
  SmallVector<Value> operands;
  for (Value o : def->getOperands()) {
    Value v = valueAtIteration(o, body, iv);
    if (!v)
      return Value();
    operands.push_back(v);
  }
  Operation *clone = b.clone(*def);
  clone->setOperands(operands);
  return clone->getResult(0);
}

/// One cp.async.cg of 16 bytes per piece, the block's threads sharing the
/// pieces out; pieces outside the tensor read nothing and fill zeros.
LogicalResult KernelEmitter::emitAsyncCopy(CopyOp op, Block &body, Value iv) {
  const Buffer &src = *buffers.find(op.getSrc())->second;
  const Buffer &dst = *buffers.find(op.getDst())->second;
  SmallVector<Value> srcOff;
  for (Value v : op.getSrcOffsets()) {
    Value at = valueAtIteration(v, body, iv);
    if (!at)
      return op.emitError("internal error: a pipelined copy's offset cannot "
                          "be computed ahead");
    srcOff.push_back(at);
  }
  SmallVector<int64_t> shape = squeezed(op.getSrcSizes());
  if (shape.empty())
    shape.push_back(1);
  int64_t bytes = byteWidth(src.elementType()), width = 16 / bytes;
  int64_t pieces = product(shape) / width, perRow = shape.back() / width;
  bool safe = windowInBounds(src, op.getSrcOffsets(), op.getSrcSizes());
  SmallVector<Value> dstOff(op.getDstOffsets().size(), cst(0));
  auto body1 = [&](Value q) {
    SmallVector<Value> ivs = vectorIndex(q, shape, width);
    SmallVector<Value> srcIdx = tile::regionIndices(b, loc, srcOff, op.getSrcSizes(), ivs);
    SmallVector<Value> dstIdx = tile::regionIndices(b, loc, dstOff, op.getDstSizes(), ivs);
    Value from = globalAddress(src, srcIdx);
    Value size = i32(16);
    if (!safe) {
      Value ok = inBounds(src, srcIdx);
      size = arith::SelectOp::create(b, loc, ok, size, i32(0));
      // Nothing is read outside; the address stays the tensor's own.
      from = arith::SelectOp::create(b, loc, ok, from, src.ptr);
    }
    Value to = sharedAddress(sharedByteOffset(dst, dstIdx));
    NVVM::CpAsyncOp::create(b, loc, to, from, uint32_t(16),
                            NVVM::LoadCacheModifierKind::CG, size);
  };
  int64_t iterations = llvm::divideCeil(pieces, threads);
  // The common case: every round moves whole rows (the block covers
  // threads/perRow rows, a multiple of the swizzle's 8-row period), so round
  // k is round 0 moved k * rows down on both sides. Addresses are computed
  // once and the rounds add constants (immediate offsets in PTX) instead
  // of keeping one address pair per round alive in registers.
  int64_t rowsPerRound = threads / perRow;
  if (safe && iterations > 1 && pieces % threads == 0 && threads % perRow == 0 &&
      rowsPerRound % 8 == 0 && shape.size() == 2) {
    int64_t rowDim = -1;
    for (auto [d, size] : llvm::enumerate(op.getSrcSizes()))
      if (size != 1) {
        rowDim = d;
        break;
      }
    int64_t srcRowBytes = bytes;
    for (int64_t d = rowDim + 1; d < int64_t(src.shape().size()); ++d)
      srcRowBytes *= src.shape()[d];
    int64_t dstRowBytes = dst.shared.swizzle ? dst.shared.swizzle
                                             : shape.back() * bytes;
    // Round 0's addresses, through the general path, then the rest.
    SmallVector<Value> ivs(2);
    ivs[1] = mul(urem(tid, perRow), width);
    ivs[0] = udiv(tid, perRow);
    SmallVector<Value> srcIdx = tile::regionIndices(b, loc, srcOff, op.getSrcSizes(), ivs);
    SmallVector<Value> dstIdx = tile::regionIndices(b, loc, dstOff, op.getDstSizes(), ivs);
    Value from = globalAddress(src, srcIdx);
    Value to = sharedAddress(sharedByteOffset(dst, dstIdx));
    for (int64_t k = 0; k < iterations; ++k) {
      Value f = from, t = to;
      if (k) {
        f = LLVM::GEPOp::create(b, loc, ptrType(kGlobalSpace), b.getI8Type(), from,
                                ArrayRef<LLVM::GEPArg>{int32_t(k * rowsPerRound * srcRowBytes)});
        t = LLVM::GEPOp::create(b, loc, ptrType(kSharedSpace), b.getI8Type(), to,
                                ArrayRef<LLVM::GEPArg>{int32_t(k * rowsPerRound * dstRowBytes)});
      }
      NVVM::CpAsyncOp::create(b, loc, t, f, uint32_t(16),
                              NVVM::LoadCacheModifierKind::CG, Value());
    }
    return success();
  }
  forEachShare(pieces, body1);
  return success();
}

bool KernelEmitter::tmaCopyable(CopyOp op) {
  if (!tmaEnabled)
    return false;
  // nvidia-pipeline-buffers' decision, where it ran.
  if (auto loop = op->getParentOfType<PipelinedOp>(); loop && loop->hasAttr(kStagesAttr))
    return op->hasAttr(kTmaAttr);
  return tmaCopyableTile(op, buffers.find(op.getDst())->second->shared);
}

Value KernelEmitter::tensorMapParam(CopyOp op) {
  const Buffer &dst = *buffers.find(op.getDst())->second;
  unsigned tensor = cast<BlockArgument>(op.getSrc()).getArgNumber();
  int64_t swizzle = dst.shared.swizzle;
  // Row-major, like the tensor: the tile's rows along their dimension, one
  // swizzle atom along the last, 1 elsewhere.
  SmallVector<int64_t> box(op.getSrcSizes().size(), 1);
  box[*tmaRowDim(op, dst.shape())] = dst.shape()[0];
  box.back() = swizzle / byteWidth(dst.elementType());
  for (auto &[t, bx, sw, param] : tensorMaps)
    if (t == tensor && bx == box && sw == swizzle)
      return param;
  // A 128-byte descriptor passed by value (__grid_constant__): its address
  // is a generic pointer to the parameter.
  unsigned index = newFunc.getNumArguments();
  NamedAttrList attrs;
  attrs.append("llvm.byval", TypeAttr::get(LLVM::LLVMArrayType::get(b.getI8Type(), 128)));
  attrs.append("llvm.align", b.getI64IntegerAttr(64));
  // nvvm.grid_constant once the function is a kernel (emitPTX): the NVVM
  // dialect only accepts it on an llvm.func marked nvvm.kernel.
  attrs.append("tessel.grid_constant", b.getUnitAttr());
  (void)newFunc.insertArgument(index, ptrType(), attrs.getDictionary(ctx),
                               newFunc.getLoc());
  Value param = newFunc.getArgument(index);
  tensorMaps.emplace_back(tensor, box, swizzle, param);
  return param;
}

void KernelEmitter::emitTmaCopy(CopyOp op, Block &body, Value iv, Value barrier) {
  const Buffer &dst = *buffers.find(op.getDst())->second;
  Value desc = LLVM::PtrToIntOp::create(b, loc, b.getI64Type(), tensorMapParam(op));
  SmallVector<Value> origin;
  for (Value v : op.getSrcOffsets())
    origin.push_back(valueAtIteration(v, body, iv));
  int64_t bytes = byteWidth(dst.elementType()), swizzle = dst.shared.swizzle;
  int64_t atoms = dst.shape()[1] * bytes / swizzle;
  Value bar = sharedAddress32(barrier);
  auto toI32 = [&](Value index) {
    return arith::IndexCastOp::create(b, loc, b.getI32Type(), index);
  };
  int64_t rank = origin.size();
  std::string text = "cp.async.bulk.tensor." + std::to_string(rank) +
                     "d.shared::cluster.global.tile.mbarrier::complete_tx::bytes "
                     "[$0], [$1, {";
  std::string constraints = "r,l";
  for (int64_t d = 0; d < rank; ++d) {
    text += (d ? ", $" : "$") + std::to_string(d + 2);
    constraints += ",r";
  }
  text += "}], [$" + std::to_string(rank + 2) + "];";
  constraints += ",r";
  for (int64_t atom = 0; atom < atoms; ++atom) {
    // One box per 128-byte (swizzle-wide) column block of the tile: TMA's
    // coordinates count from the innermost dimension.
    Value to = add(dst.stageOffset, cst(atom * dst.shared.rows * swizzle));
    SmallVector<Value> operands{sharedAddress32(to), desc};
    operands.push_back(toI32(add(origin.back(), cst(atom * swizzle / bytes))));
    for (int64_t d = rank - 2; d >= 0; --d)
      operands.push_back(toI32(origin[d]));
    operands.push_back(bar);
    inlineAsm(Type(), operands, text, constraints);
  }
}

std::optional<KernelEmitter::PipelinePlan>
KernelEmitter::planPipeline(PipelinedOp op, bool specialized) {
  PipelinePlan plan;
  plan.stages = op.getNumStages();
  if (auto decided = op->getAttrOfType<IntegerAttr>(kStagesAttr))
    plan.stages = decided.getInt();
  if (plan.stages >= 2 && asyncCopiesEnabled)
    plan.copies = asyncCopies(op);
  for (CopyOp c : plan.copies) {
    const Buffer &dst = *buffers.find(c.getDst())->second;
    plan.strides.push_back(
        llvm::alignTo(sharedRange(dst).second - sharedRange(dst).first, 1024));
    plan.perStage += plan.strides.back();
    if (tmaCopyable(c)) {
      plan.tmaCopies.push_back(c);
      plan.tmaBytes += product(dst.shape()) * byteWidth(dst.elementType());
    }
  }
  // Fewer stages if the buffers and their barriers do not fit.
  constexpr int64_t kMaxShared = 232448;
  int64_t barrierBytes = specialized ? 16 : 8;
  while (plan.stages >= 2 && int64_t(llvm::alignTo(stageTop, 1024)) +
                                     plan.stages * (plan.perStage + barrierBytes) >
                                 kMaxShared)
    --plan.stages;
  if (plan.copies.empty() || plan.stages < 2)
    return std::nullopt;
  plan.specialized = specialized;
  return plan;
}

void KernelEmitter::placePipeline(PipelinePlan &plan) {
  int64_t areaBase = llvm::alignTo(stageTop, 1024);
  stageTop = areaBase + plan.stages * plan.perStage;
  if (!plan.tmaCopies.empty()) {
    plan.fullBarriers = stageTop;
    stageTop += plan.stages * 8;
  }
  if (plan.specialized) {
    plan.emptyBarriers = stageTop;
    stageTop += plan.stages * 8;
  }
  plan.area = {areaBase, stageTop};
  int64_t next = areaBase;
  for (int64_t stride : plan.strides) {
    plan.tileBase.push_back(next);
    next += plan.stages * stride;
  }
}

void KernelEmitter::setStage(const PipelinePlan &plan, Value stage) {
  for (auto [copy, base, stride] : llvm::zip(plan.copies, plan.tileBase, plan.strides)) {
    Buffer &dst = *buffers.find(CopyOp(copy).getDst())->second;
    dst.stageOffset = add(cst(base), mul(stage, stride));
    dst.stageRange = plan.area;
  }
}

void KernelEmitter::waitParity(Value bar, Value parity) {
  inlineAsm(Type(), SmallVector<Value>{bar, parity},
            "{\n.reg .pred done;\nTESSEL_WAIT_${:uid}:\n"
            "mbarrier.try_wait.parity.shared::cta.b64 done, [$0], $1;\n"
            "@!done bra TESSEL_WAIT_${:uid};\n}",
            "r,r");
}

/// T.Pipelined(num_stages=S): the copies that can run ahead (asyncCopies)
/// get S shared buffers each and are issued S-1 iterations early, with TMA
/// where it applies (completing on one mbarrier per stage) and cp.async
/// otherwise; iteration i waits for its stage, synchronizes the block and
/// computes on stage i % S. Without such copies, or with one stage, the
/// loop runs as written. Loops the producer warpgroup feeds run as
/// emitConsumerLoop instead.
LogicalResult KernelEmitter::emitPipelined(PipelinedOp op) {
  if (failed(checkStages(op)))
    return failure();
  if (auto it = plans.find(op); it != plans.end())
    return emitConsumerLoop(op, it->second);
  Block &body = op.getBody().front();
  Value lb = map.lookup(op.getLower()), ub = map.lookup(op.getUpper()),
        step = map.lookup(op.getStep());
  std::optional<PipelinePlan> planned = planPipeline(op, /*specialized=*/false);
  if (!planned && op->hasAttr(kStagesAttr))
    return op.emitError("internal error: nvidia-pipeline-buffers staged this "
                        "loop's tiles, but their stages do not fit");
  if (!planned)
    return emitLoop(op, lb, ub, step, body);
  PipelinePlan &plan = *planned;
  placePipeline(plan);
  int64_t stages = plan.stages;
  ArrayRef<CopyOp> copies = plan.copies, tmaCopies = plan.tmaCopies;
  std::pair<int64_t, int64_t> area = plan.area;

  if (sync.pending())
    statementBarrier();
  bool anyCpAsync = tmaCopies.size() < copies.size();
  // Whatever reads the stage area in flight (earlier wgmmas) finishes first.
  auto beforeIssue = [&] {
    if (SyncState::overlaps(wgmma.shared, area))
      waitForWgmma();
    beforeSharedRanges({}, {area});
  };
  Value threadZero;
  if (!tmaCopies.empty())
    threadZero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, cst(0));
  auto barrierAddr = [&](Value stage) { return stageBarrier(plan, Ring::Full, stage); };
  auto issue = [&](Value iteration, Value stage) {
    setStage(plan, stage);
    guarded(ult(iteration, ub), [&] {
      for (CopyOp c : copies) {
        if (llvm::is_contained(tmaCopies, c))
          continue;
        loc = c.getLoc();
        (void)emitAsyncCopy(c, body, iteration);
      }
      loc = op.getLoc();
      if (!tmaCopies.empty())
        guarded(threadZero, [&] {
          arriveExpectTx(barrierAddr(stage), plan.tmaBytes);
          for (CopyOp c : tmaCopies) {
            loc = c.getLoc();
            emitTmaCopy(c, body, iteration, add(cst(plan.fullBarriers), mul(stage, 8)));
          }
          loc = op.getLoc();
        });
    });
    if (anyCpAsync)
      NVVM::CpAsyncCommitGroupOp::create(b, loc);
  };
  for (CopyOp c : copies)
    for (Value v : c.getSrcOffsets())
      if (!valueAtIteration(v, body, lb))
        return c.emitError("internal error: a pipelined copy's offset cannot "
                           "be computed ahead");

  // Prologue: stages 0 .. S-2, as a loop (one copy of the issuing code).
  beforeIssue();
  if (!tmaCopies.empty()) {
    // Thread 0 sets up one barrier per stage (one arrival: its own
    // expect_tx); the block waits until they exist.
    guarded(threadZero, [&] {
      for (int64_t st = 0; st < stages; ++st)
        initBarrier(barrierAddr(cst(st)), 1);
      fenceBarrierInit();
    });
    barrier();
  }
  {
    auto prologue = scf::ForOp::create(b, loc, cst(0), cst(stages - 1), cst(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(prologue.getBody()->getTerminator());
    Value s = prologue.getInductionVar();
    issue(add(lb, arith::MulIOp::create(b, loc, step, s)), s);
  }

  for (CopyOp c : copies)
    issuedAhead.insert(c);
  PendingWgmma carried = wgmmaAtLoopTop(op, body, area);
  for (CopyOp c : copies)
    issuedAhead.erase(c);
  wgmma = carried;
  auto loop = scf::ForOp::create(b, loc, lb, ub, step);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(loop.getBody()->getTerminator());
    Value i = loop.getInductionVar();
    map.map(body.getArgument(0), i);
    Value index = arith::DivUIOp::create(b, loc, arith::SubIOp::create(b, loc, i, lb), step);
    // The stage iteration i+S-1 fills was read by iteration i-1.
    beforeIssue();
    issue(add(i, arith::MulIOp::create(b, loc, step, cst(stages - 1))),
          urem(add(index, cst(stages - 1)), stages));
    if (!tmaCopies.empty()) {
      // The stage's TMA loads completed: its barrier's phase for this use
      // ((index / S) & 1) is done.
      Value parity = arith::IndexCastOp::create(
          b, loc, b.getI32Type(), arith::AndIOp::create(b, loc, udiv(index, stages), cst(1)));
      waitParity(barrierAddr(urem(index, stages)), parity);
    }
    if (anyCpAsync) {
      NVVM::CpAsyncWaitGroupOp::create(b, loc, stages - 1);
      // This thread's pieces of the stage have landed; order them before
      // wgmma's async-proxy reads, then wait for every thread's.
      fenceProxyAsync();
      barrier();
    }
    setStage(plan, urem(index, stages));
    for (CopyOp c : copies)
      issuedAhead.insert(c);
    LogicalResult result = emitBlock(body);
    for (CopyOp c : copies)
      issuedAhead.erase(c);
    if (failed(result))
      return failure();
    endOfIteration();
    if (!carried.covers(wgmma))
      return op->emitError("internal error: an iteration leaves a wgmma in "
                           "flight that the loop's top did not account for");
  }
  wgmma = carried;
  // The trailing groups are empty; drain them so nothing is left in flight.
  if (anyCpAsync)
    NVVM::CpAsyncWaitGroupOp::create(b, loc, 0);
  clearStage(plan);
  return success();
}

} // namespace tessel::nvidia::lowering
