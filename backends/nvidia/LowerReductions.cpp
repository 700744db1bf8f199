//===- LowerReductions.cpp - reductions and T.print -----------------------===//
//
// Part of the tile-lower-to-nvvm pass (LowerTileToNVVM.cpp); KernelEmitter.h
// declares the emitter these methods belong to.
//
//===----------------------------------------------------------------------===//

#include "backends/nvidia/KernelEmitter.h"
#include "backends/nvidia/Target.h"

#define DEBUG_TYPE "tile-lower-to-nvvm"

namespace tessel::nvidia::lowering {

//===----------------------------------------------------------------------===//
// Reductions
//===----------------------------------------------------------------------===//

LogicalResult KernelEmitter::emitReduce(ReduceOp op) {
  const Buffer *srcBuf = bufferOf(op.getSrc(), op), *dstBuf = bufferOf(op.getDst(), op);
  if (!srcBuf || !dstBuf)
    return failure();
  const Buffer &src = *srcBuf, &dst = *dstBuf;
  if (src.space != Space::Fragment || dst.space != Space::Fragment)
    return op.emitError("on the cuda target reductions go from a fragment to "
                        "a fragment");
  Type elt = src.elementType();
  if (elt != dst.elementType() || !(elt.isF32() || elt.isInteger(32)))
    return op.emitError("on the cuda target reductions are over f32 or i32 "
                        "fragments of the same type");
  const ThreadMap &S = *src.map, &D = *dst.map;
  int64_t dim = op.getDim();
  auto dstLinear = [&](int64_t e) { return reductionResult(S, D, dim, e); };
  if (!tessel::nvidia::reductionStaysInWarps(S, D, dim, threads))
    return emitReduceThroughShared(op);
  // Each thread combines its own elements, per destination slot; the
  // threads sharing a result, its replicas, with butterfly shuffles.
  DenseMap<int64_t, Value> partial;
  ReduceKind kind = op.getKind();
  int64_t mask = D.replicaMask();
  for (int64_t s = 0; s < S.slots(); ++s) {
    int64_t dSlot = -1;
    for (int64_t t = 0; t < threads && dSlot < 0; ++t)
      if (int64_t e = S.elementAt(t, s); e >= 0)
        dSlot = D.holderOf(dstLinear(e)).second;
    if (dSlot < 0)
      continue;
    Value x = reductionInput(kind, load(slotAddress(src, cst(s)), elt));
    auto it = partial.find(dSlot);
    if (it == partial.end())
      partial.try_emplace(dSlot, x);
    else
      it->second = tile::reductionCombine(b, loc, kind, it->second, x);
  }
  for (int64_t ds = 0; ds < D.slots(); ++ds) {
    auto it = partial.find(ds);
    Value v = it != partial.end() ? it->second : tile::reductionIdentity(b, loc, kind, elt);
    for (int64_t bit = 0; bit < 5; ++bit) {
      if (!(mask >> bit & 1))
        continue;
      Value other = NVVM::ShflOp::create(b, loc, elt, warpMask(), v,
                                         i32(int64_t(1) << bit), i32(0x1f),
                                         NVVM::ShflKind::bfly, UnitAttr());
      v = tile::reductionCombine(b, loc, kind, v, other);
    }
    if (!op.getClear())
      v = tile::reductionCombine(b, loc, kind, load(slotAddress(dst, cst(ds)), elt), v);
    store(v, slotAddress(dst, cst(ds)));
  }
  return success();
}

/// A reduction whose rows are spread over threads in any way: each thread
/// combines its own elements per result, each warp combines its lanes with
/// butterfly shuffles, lane 0 of each warp writes the warp's partials to
/// shared scratch, and after a barrier every thread holding a result
/// combines the warps' partials for it.
LogicalResult KernelEmitter::forEachSlot(
    const ThreadMap &map, Operation *op, StringRef layout,
    function_ref<LogicalResult(int64_t, const SlotFormula &)> each) {
  for (int64_t s = 0; s < map.slots(); ++s) {
    std::optional<SlotFormula> f = map.formula(s);
    if (!f)
      return op->emitError("the cuda target cannot express which element "
                           "each thread holds in ")
             << layout;
    if (f->validThreads && failed(each(s, *f)))
      return failure();
  }
  return success();
}

void KernelEmitter::vprintf(StringRef format, ArrayRef<Value> values) {
  auto module = newFunc->getParentOfType<ModuleOp>();
  auto ptr = LLVM::LLVMPointerType::get(ctx);
  if (!module.lookupSymbol("vprintf")) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    LLVM::LLVMFuncOp::create(
        b, loc, "vprintf",
        LLVM::LLVMFunctionType::get(b.getI32Type(), {ptr, ptr}));
  }
  // The format: a constant string of its own per call site.
  std::string name = "__tessel_fmt_" + std::to_string(printCount++);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(module.getBody());
    std::string text = format.str();
    text.push_back('\0');
    LLVM::GlobalOp::create(b, loc, LLVM::LLVMArrayType::get(b.getI8Type(), text.size()),
                           /*isConstant=*/true, LLVM::Linkage::Internal, name,
                           b.getStringAttr(text));
  }
  Value fmt = LLVM::AddressOfOp::create(b, loc, ptr, name);
  // The arguments, laid out as a struct (each aligned to its size).
  SmallVector<Value> promoted;
  for (Value v : values) {
    Type t = v.getType();
    if (isa<FloatType>(t))
      promoted.push_back(tile::convertScalar(b, loc, v, b.getF64Type()));
    else if (t.isIndex())
      promoted.push_back(toI64(v));
    else
      promoted.push_back(tile::convertScalar(b, loc, v, b.getI64Type()));
  }
  Value args = LLVM::ZeroOp::create(b, loc, ptr);
  if (!promoted.empty()) {
    SmallVector<Type> fields;
    for (Value v : promoted)
      fields.push_back(v.getType());
    auto structType = LLVM::LLVMStructType::getLiteral(ctx, fields);
    args = LLVM::AllocaOp::create(b, loc, ptr, structType,
                                  arith::ConstantIntOp::create(b, loc, b.getI64Type(), 1), 8);
    for (auto [i, v] : llvm::enumerate(promoted)) {
      Value field = LLVM::GEPOp::create(b, loc, ptr, structType, args,
                                        ArrayRef<LLVM::GEPArg>{0, int32_t(i)});
      LLVM::StoreOp::create(b, loc, v, field);
    }
  }
  LLVM::CallOp::create(b, loc, TypeRange{b.getI32Type()}, "vprintf", ValueRange{fmt, args});
}

LogicalResult KernelEmitter::emitPrint(PrintOp op) {
  // printf's own '%' must not start a conversion.
  std::string message;
  for (char c : op.getMessage()) {
    message.push_back(c);
    if (c == '%')
      message.push_back('%');
  }
  auto conversion = [](Type t) { return isa<FloatType>(t) ? "%g" : "%lld"; };
  SmallVector<Value> blockIds;
  for (BlockArgument arg : kernel.getBody().front().getArguments())
    blockIds.push_back(toI64(map.lookup(arg)));
  while (blockIds.size() < 3)
    blockIds.push_back(toI64(cst(0)));
  std::string prefix = message + " [block %lld %lld %lld thread %lld]";
  SmallVector<Value> head(blockIds.begin(), blockIds.end());
  head.push_back(toI64(tid));

  // Scalars: one line.
  std::string scalars;
  SmallVector<Value> scalarValues(head);
  for (Value old : op.getValues()) {
    if (isa<MemRefType>(old.getType()))
      continue;
    FailureOr<Value> v = lookup(old);
    if (failed(v))
      return failure();
    scalars += std::string(" ") + conversion(old.getType());
    scalarValues.push_back(*v);
  }
  if (scalarValues.size() > head.size() || op.getValues().empty())
    vprintf(prefix + scalars + "\n", scalarValues);

  // Tiles: a line per element.
  for (Value old : op.getValues()) {
    if (!isa<MemRefType>(old.getType()))
      continue;
    const Buffer *found = bufferOf(old, op);
    if (!found)
      return failure();
    const Buffer &buf = *found;
    Type elt = buf.elementType();
    std::string line = prefix + " [%lld] " + conversion(elt) + "\n";
    if (buf.space == Space::Fragment) {
      LogicalResult printed = forEachSlot(*buf.map, op, "this fragment's layout",
                                          [&](int64_t s, const SlotFormula &f) {
        Value at = linearize(formulaIndex(f), buf.shape());
        guarded(threadPrefix(f.validThreads), [&] {
          SmallVector<Value> values(head);
          values.push_back(toI64(at));
          values.push_back(load(slotAddress(buf, cst(s)), elt));
          vprintf(line, values);
        });
        return success();
      });
      if (failed(printed))
        return failure();
      continue;
    }
    if (buf.space == Space::Local)
      return op.emitError("T.print of a T.alloc_local buffer is not supported "
                          "on the cuda target; print its elements");
    if (!buf.hasStaticShape())
      return op.emitError("T.print of a tensor with a dynamic dimension is not "
                          "supported on the cuda target; print a slice's "
                          "elements");
    if (buf.space == Space::Shared)
      beforeSharedAccess({&buf}, {});
    Value threadZero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, cst(0));
    guarded(threadZero, [&] {
      auto loop = scf::ForOp::create(b, loc, cst(0), cst(product(buf.shape())), cst(1));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(loop.getBody()->getTerminator());
      Value e = loop.getInductionVar();
      SmallVector<Value> values(head);
      values.push_back(toI64(e));
      values.push_back(load(elementAddress(buf, delinearize(e, buf.shape())), elt));
      vprintf(line, values);
    });
  }
  return success();
}

Value KernelEmitter::reductionInput(ReduceKind kind, Value x) {
  if (kind != ReduceKind::AbsSum && kind != ReduceKind::AbsMax)
    return x;
  return isa<FloatType>(x.getType()) ? (Value)math::AbsFOp::create(b, loc, x)
                                     : (Value)math::AbsIOp::create(b, loc, x);
}

std::pair<int64_t, int64_t> KernelEmitter::reserveScratch(int64_t bytes) {
  scratchBytes = std::max(scratchBytes, bytes);
  if (!reductionBase) {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(entry);
    reductionBase = arith::ConstantOp::create(b, loc, b.getIndexAttr(0));
  }
  // A range of its own for barrier placement (it overlaps no tile).
  constexpr int64_t kScratchKey = -(int64_t(1) << 40);
  return {kScratchKey, kScratchKey + bytes};
}

LogicalResult KernelEmitter::emitReduceThroughShared(ReduceOp op) {
  const Buffer &src = *bufferOf(op.getSrc(), op), &dst = *bufferOf(op.getDst(), op);
  const ThreadMap &S = *src.map, &D = *dst.map;
  Type elt = src.elementType();
  ReduceKind kind = op.getKind();
  int64_t dim = op.getDim();
  int64_t results = product(dst.shape());
  // Below, each result's code is emitted on its own (warp shuffles, then a
  // partial per warp): past this many results that code is too large.
  constexpr int64_t kShuffledResults = 128;
  if (results > kShuffledResults)
    return emitReduceThroughScratchTile(op);
  auto dstLinear = [&](int64_t e) { return reductionResult(S, D, dim, e); };
  Value identity = tile::reductionIdentity(b, loc, kind, elt);
  // Each slot's value (identity on threads without one) and the results it
  // can feed; `target` is the result, when that depends on the thread.
  struct SlotInput {
    Value x, target;
    SmallVector<int64_t> results;
  };
  SmallVector<SlotInput> inputs;
  SmallVector<bool> fed(results, false);
  LogicalResult gathered = forEachSlot(S, op, "this fragment's layout", [&](int64_t s,
                                                                         const SlotFormula &slot) {
    const SlotFormula *f = &slot;
    SlotInput in;
    for (int64_t t = 0; t < f->validThreads; ++t) {
      int64_t e = S.elementAt(t, s);
      if (e >= 0 && !llvm::is_contained(in.results, dstLinear(e)))
        in.results.push_back(dstLinear(e));
    }
    in.x = reductionInput(kind, load(slotAddress(src, cst(s)), elt));
    if (Value valid = threadPrefix(f->validThreads))
      in.x = arith::SelectOp::create(b, loc, valid, in.x, identity);
    if (in.results.size() > 1) {
      SmallVector<Value> index = formulaIndex(*f);
      index.erase(index.begin() + dim);
      in.target = linearize(index, dst.shape());
    }
    for (int64_t r : in.results)
      fed[r] = true;
    inputs.push_back(std::move(in));
    return success();
  });
  if (failed(gathered))
    return failure();
  // One result at a time (short live ranges): this thread's elements, then
  // the warp's lanes by butterfly shuffles, then lane 0 writes the warp's
  // partial to the scratch area.
  int64_t lanes = std::min<int64_t>(threads, 32), warps = llvm::divideCeil(threads, 32);
  std::pair<int64_t, int64_t> scratch =
      reserveScratch(warps * results * byteWidth(elt));
  beforeSharedRanges({}, {scratch}, /*statement=*/true);
  Value warp = udiv(tid, 32);
  Value laneZero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq,
                                         urem(tid, 32), cst(0));
  auto scratchAddress = [&](Value w, Value r) {
    Value offset = add(reductionBase,
                       mul(add(mul(w, results), r), byteWidth(elt)));
    return sharedAddress(offset);
  };
  for (int64_t r = 0; r < results; ++r) {
    Value partial;
    if (fed[r]) {
      for (const SlotInput &in : inputs) {
        if (!llvm::is_contained(in.results, r))
          continue;
        Value v = in.x;
        if (in.target)
          v = arith::SelectOp::create(
              b, loc,
              arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, in.target, cst(r)),
              in.x, identity);
        partial = partial ? tile::reductionCombine(b, loc, kind, partial, v) : v;
      }
      for (int64_t bit = 1; bit < lanes; bit *= 2) {
        Value other = NVVM::ShflOp::create(b, loc, elt, warpMask(), partial, i32(bit),
                                           i32(0x1f), NVVM::ShflKind::bfly, UnitAttr());
        partial = tile::reductionCombine(b, loc, kind, partial, other);
      }
    }
    guarded(laneZero, [&] {
      store(partial ? partial : identity, scratchAddress(warp, cst(r)));
    });
  }
  beforeSharedRanges({scratch}, {});
  return forEachSlot(D, op, "this fragment's layout", [&](int64_t ds, const SlotFormula &f) {
    Value r = linearize(formulaIndex(f), dst.shape());
    guarded(threadPrefix(f.validThreads), [&] {
      Value v = load(scratchAddress(cst(0), r), elt);
      for (int64_t w = 1; w < warps; ++w)
        v = tile::reductionCombine(b, loc, kind, v,
                                  load(scratchAddress(cst(w), r), elt));
      if (!op.getClear())
        v = tile::reductionCombine(b, loc, kind,
                                  load(slotAddress(dst, cst(ds)), elt), v);
      store(v, slotAddress(dst, cst(ds)));
    });
    return success();
  });
}

/// Every thread stores the source elements it holds at their place in a
/// row-major copy of the source tile in the scratch area (replicas store the
/// same value), and after a barrier each destination slot combines its line
/// of that copy in a loop: code grows with the slots a thread holds, not with
/// the number of results.
LogicalResult KernelEmitter::emitReduceThroughScratchTile(ReduceOp op) {
  const Buffer &src = *bufferOf(op.getSrc(), op), &dst = *bufferOf(op.getDst(), op);
  const ThreadMap &S = *src.map, &D = *dst.map;
  Type elt = src.elementType();
  ReduceKind kind = op.getKind();
  int64_t dim = op.getDim();
  ArrayRef<int64_t> shape = src.shape();
  int64_t width = byteWidth(elt);
  std::pair<int64_t, int64_t> scratch = reserveScratch(product(shape) * width);
  auto scratchAddress = [&](Value element) {
    return sharedAddress(add(reductionBase, mul(element, width)));
  };
  beforeSharedRanges({}, {scratch}, /*statement=*/true);
  LogicalResult stored = forEachSlot(S, op, "this fragment's layout", [&](int64_t s,
                                                                       const SlotFormula &f) {
    Value x = reductionInput(kind, load(slotAddress(src, cst(s)), elt));
    Value at = linearize(formulaIndex(f), shape);
    guarded(threadPrefix(f.validThreads), [&] { store(x, scratchAddress(at)); });
    return success();
  });
  if (failed(stored))
    return failure();
  beforeSharedRanges({scratch}, {});
  Value identity = tile::reductionIdentity(b, loc, kind, elt);
  int64_t stride = product(shape.drop_front(dim + 1));
  return forEachSlot(D, op, "this fragment's layout", [&](int64_t ds, const SlotFormula &f) {
    // The line's first element: the result's index with 0 along `dim`.
    SmallVector<Value> index = formulaIndex(f);
    if (shape.size() == 1)
      index.clear();
    index.insert(index.begin() + dim, cst(0));
    Value first = linearize(index, shape);
    guarded(threadPrefix(f.validThreads), [&] {
      auto loop = scf::ForOp::create(b, loc, cst(0), cst(shape[dim]), cst(1),
                                     ValueRange{identity});
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(loop.getBody());
        Value x = load(scratchAddress(add(first, mul(loop.getInductionVar(), stride))), elt);
        Value acc = tile::reductionCombine(b, loc, kind, loop.getRegionIterArgs()[0], x);
        scf::YieldOp::create(b, loc, acc);
      }
      Value v = loop.getResult(0);
      if (!op.getClear())
        v = tile::reductionCombine(b, loc, kind, load(slotAddress(dst, cst(ds)), elt), v);
      store(v, slotAddress(dst, cst(ds)));
    });
    return success();
  });
}

} // namespace tessel::nvidia::lowering
