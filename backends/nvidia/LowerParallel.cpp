//===- LowerParallel.cpp - T.Parallel and its memory accesses -------------===//
//
// Part of the tile-lower-to-nvvm pass (LowerTileToNVVM.cpp); KernelEmitter.h
// declares the emitter these methods belong to.
//
//===----------------------------------------------------------------------===//

#include "backends/nvidia/KernelEmitter.h"

#define DEBUG_TYPE "tile-lower-to-nvvm"

namespace tessel::nvidia::lowering {

//===----------------------------------------------------------------------===//
// Parallel loops and memory accesses in them
//===----------------------------------------------------------------------===//

LogicalResult KernelEmitter::emitParallel(ParallelOp op) {
  ArrayRef<int64_t> extents = op.getExtents();
  Block &body = op.getBody().front();
  // The anchor (tile::findParallelAnchor): a fragment indexed by exactly the
  // loop's indices, or else one indexed by them swapped (a 2-d loop walking
  // it transposed); `anchorIndices` are the loop's in the fragment's order.
  const Buffer *anchor = nullptr;
  SmallVector<Value> anchorIndices;
  if (std::optional<ParallelAnchor> found = findParallelAnchor(op))
    if (auto it = buffers.find(found->fragment);
        it != buffers.end() && it->second->space == Space::Fragment) {
      anchor = it->second.get();
      anchorIndices = found->indices;
    }
  SmallVector<const Buffer *> readsShared, writesShared;
  op.walk([&](Operation *inner) {
    Value memref;
    bool isStore = false;
    if (auto l = dyn_cast<memref::LoadOp>(inner)) {
      memref = l.getMemref();
    } else if (auto s = dyn_cast<memref::StoreOp>(inner)) {
      memref = s.getMemref();
      isStore = true;
    } else if (auto a = dyn_cast<AtomicAddOp>(inner)) {
      // A read-modify-write; atomics of the loop's iterations need no order
      // among themselves.
      auto it = buffers.find(a.getDst());
      if (it != buffers.end() && it->second->space == Space::Shared) {
        readsShared.push_back(it->second.get());
        writesShared.push_back(it->second.get());
      }
      return;
    } else {
      return;
    }
    auto it = buffers.find(memref);
    if (it == buffers.end())
      return;
    const Buffer &buf = *it->second;
    if (buf.space == Space::Shared)
      (isStore ? writesShared : readsShared).push_back(&buf);
  });
  beforeSharedAccess(readsShared, writesShared);
  std::optional<ParallelContext> saved = parallel;
  ++parallelDepth;
  llvm::scope_exit leave([&] { --parallelDepth; });
  if (anchor) {
    const ThreadMap &tm = *anchor->map;
    LogicalResult emitted = forEachSlot(tm, op, "this loop's fragment layout", [&](int64_t s,
                                                                            const SlotFormula &f) {
      SmallVector<Value> ivs = formulaIndex(f);
      LogicalResult result = success();
      guarded(threadPrefix(f.validThreads), [&] {
        for (auto [old, v] : llvm::zip(anchorIndices, ivs))
          map.map(old, v);
        parallel = ParallelContext{&tm, s, anchorIndices};
        result = emitBlock(body);
      });
      return result;
    });
    parallel = saved;
    return emitted;
  }
  // No fragment: iterations are dealt round-robin, `lanes` consecutive
  // innermost ones at a time where contiguous accesses can move as vectors.
  LogicalResult result = success();
  parallel.reset();
  LaneVectors plan = planLaneVectors(op);
  int64_t lanes = plan.lanes;
  forEachShare(product(extents) / lanes, [&](Value q) {
    SmallVector<Value> ivs = lanes > 1 ? vectorIndex(q, extents, lanes)
                                       : delinearize(q, extents);
    if (lanes > 1)
      laneVectors = plan;
    for (int64_t lane = 0; lane < lanes && succeeded(result); ++lane) {
      if (lanes > 1)
        laneVectors->lane = lane;
      for (auto [i, arg] : llvm::enumerate(body.getArguments()))
        map.map(arg, i + 1 == ivs.size() && lane ? add(ivs[i], cst(lane)) : ivs[i]);
      result = emitBlock(body);
    }
    laneVectors.reset();
  });
  parallel = saved;
  return result;
}

LaneVectors KernelEmitter::planLaneVectors(ParallelOp op) {
  LaneVectors plan;
  ArrayRef<int64_t> extents = op.getExtents();
  Block &body = op.getBody().front();
  Value inner = body.getArguments().back();
  // What depends on the innermost index (ops with regions: their results,
  // whatever they yield).
  llvm::SmallPtrSet<Value, 16> dependent{inner};
  op.walk([&](Operation *o) {
    if (o->getNumRegions() ||
        llvm::any_of(o->getOperands(), [&](Value v) { return dependent.count(v); }))
      for (Value r : o->getResults())
        dependent.insert(r);
  });
  // Buffers stored to anywhere in the body, and how often each is touched.
  DenseMap<Value, int> stores, accesses;
  op.walk([&](Operation *o) {
    if (auto st = dyn_cast<memref::StoreOp>(o)) {
      ++stores[st.getMemref()];
      ++accesses[st.getMemref()];
    } else if (auto l = dyn_cast<memref::LoadOp>(o)) {
      ++accesses[l.getMemref()];
    }
  });
  // Candidates: top-level accesses to global or shared memory whose last
  // index is `inner` plus something that does not depend on it, and whose
  // other indices do not depend on it. A load's buffer is not written in
  // the body (lane 0's vector serves every lane); a store's buffer is
  // touched by nothing else in it (its vector is written at the last lane).
  struct Candidate {
    Operation *op;
    const Buffer *buf;
    Value offset; // what is added to `inner`; null: nothing
  };
  SmallVector<Candidate> candidates;
  int64_t widest = 0;
  for (Operation &o : body) {
    Value memref;
    ValueRange indices;
    if (auto l = dyn_cast<memref::LoadOp>(&o)) {
      memref = l.getMemref();
      indices = l.getIndices();
      if (stores.count(memref))
        continue;
    } else if (auto st = dyn_cast<memref::StoreOp>(&o)) {
      memref = st.getMemref();
      indices = st.getIndices();
      if (accesses[memref] != 1)
        continue;
    } else {
      continue;
    }
    auto it = buffers.find(memref);
    if (it == buffers.end() || indices.empty())
      continue;
    const Buffer &buf = *it->second;
    if (buf.space != Space::Global && buf.space != Space::Shared)
      continue;
    if (buf.space == Space::Shared &&
        (buf.shared.transposed || (buf.shared.swizzle && buf.shared.swizzle < 16)))
      continue;
    if (llvm::any_of(indices.drop_back(), [&](Value v) { return dependent.count(v); }))
      continue;
    Value last = indices.back(), offset;
    if (last != inner) {
      auto sum = last.getDefiningOp<arith::AddIOp>();
      if (!sum)
        continue;
      if (sum.getLhs() == inner && !dependent.count(sum.getRhs()))
        offset = sum.getRhs();
      else if (sum.getRhs() == inner && !dependent.count(sum.getLhs()))
        offset = sum.getLhs();
      else
        continue;
    }
    candidates.push_back({&o, &buf, offset});
    widest = std::max(widest, byteWidth(buf.elementType()));
  }
  if (candidates.empty())
    return plan;
  int64_t lanes = 16 / widest;
  if (lanes < 2 || extents.back() % lanes)
    return plan;
  for (const Candidate &c : candidates) {
    ArrayRef<int64_t> shape = c.buf->shape();
    // Each vector starts on a multiple of its size: the row length and the
    // offset are multiples of the lane count (tensors start 16-byte aligned).
    if (ShapedType::isDynamic(shape.back()) || shape.back() % lanes ||
        (c.offset && knownMultiple(c.offset) % lanes))
      continue;
    plan.vectorized.insert(c.op);
  }
  if (plan.vectorized.empty())
    return plan;
  plan.lanes = lanes;
  return plan;
}

LogicalResult KernelEmitter::emitLoad(memref::LoadOp op) {
  const Buffer *found = bufferOf(op.getMemref(), op);
  if (!found)
    return failure();
  const Buffer &buf = *found;
  if (buf.space == Space::Fragment) {
    int64_t slot;
    if (failed(resolveFragmentSlot(buf, op.getIndices(), op, slot)))
      return failure();
    map.map(op.getResult(), load(slotAddress(buf, cst(slot)), buf.elementType()));
    return success();
  }
  FailureOr<SmallVector<Value>> idx = lookupAll(op.getIndices());
  if (failed(idx))
    return failure();
  if (buf.space == Space::Shared && !parallelDepth)
    beforeSharedAccess({&buf}, {});
  if (laneVectors && laneVectors->vectorized.count(op)) {
    // One vector at lane 0 (the lanes' elements are consecutive), read out
    // lane by lane.
    Type elt = buf.elementType(), stored = storageType(elt);
    int64_t lanes = laneVectors->lanes;
    Value &vec = laneVectors->loaded[op];
    // Vectors start on multiples of their lane count in a row whose length
    // is one: a vector is wholly inside the tensor or wholly outside.
    if (laneVectors->lane == 0) {
      Value address = elementAddress(buf, *idx);
      Type vecType = VectorType::get({lanes}, stored);
      vec = guarded(elementGuard(buf, op.getIndices(), *idx), vecType, [&]() -> Value {
        return LLVM::LoadOp::create(b, loc, vecType, address, lanes * byteWidth(elt));
      });
    }
    Value v = LLVM::ExtractElementOp::create(b, loc, vec, i32(laneVectors->lane));
    v = fromStorage(b, loc, v, elt);
    map.map(op.getResult(), v);
    return success();
  }
  Value address = elementAddress(buf, *idx);
  map.map(op.getResult(), guarded(elementGuard(buf, op.getIndices(), *idx), buf.elementType(),
                                  [&] { return load(address, buf.elementType()); }));
  return success();
}

LogicalResult KernelEmitter::emitStore(memref::StoreOp op) {
  const Buffer *found = bufferOf(op.getMemref(), op);
  if (!found)
    return failure();
  const Buffer &buf = *found;
  FailureOr<Value> value = lookup(op.getValue());
  if (failed(value))
    return failure();
  if (buf.space == Space::Fragment) {
    int64_t slot;
    if (failed(resolveFragmentSlot(buf, op.getIndices(), op, slot)))
      return failure();
    store(*value, slotAddress(buf, cst(slot)));
    return success();
  }
  FailureOr<SmallVector<Value>> idx = lookupAll(op.getIndices());
  if (failed(idx))
    return failure();
  if (buf.space == Space::Shared && !parallelDepth)
    beforeSharedAccess({}, {&buf});
  if (laneVectors && laneVectors->vectorized.count(op)) {
    // Gathered lane by lane, stored as one vector at the last lane (at the
    // address lane 0 computed).
    Type elt = buf.elementType(), stored = storageType(elt);
    int64_t lanes = laneVectors->lanes, lane = laneVectors->lane;
    Value &vec = laneVectors->gathered[op];
    if (lane == 0) {
      vec = LLVM::UndefOp::create(b, loc, VectorType::get({lanes}, stored));
      laneVectors->address[op] = elementAddress(buf, *idx);
    }
    Value v = *value;
    v = toStorage(b, loc, v);
    vec = LLVM::InsertElementOp::create(b, loc, vec, v, i32(lane));
    if (lane == 0)
      laneVectors->guards[op] = elementGuard(buf, op.getIndices(), *idx);
    if (lane + 1 == lanes)
      guarded(laneVectors->guards[op], [&] {
        LLVM::StoreOp::create(b, loc, vec, laneVectors->address[op], lanes * byteWidth(elt));
      });
    return success();
  }
  Value address = elementAddress(buf, *idx);
  Value guard = elementGuard(buf, op.getIndices(), *idx);
  // Outside a T.Parallel every thread runs the kernel's scalar code: one
  // store of the (same) value is enough, and stores by every thread would
  // race with the others' reads of the tensor.
  if (isScalarGlobalUpdate(op)) {
    guard = andAll({guard, arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, cst(0))});
    sync.globalWrite = true;
  }
  guarded(guard, [&] { store(*value, address); });
  return success();
}


LogicalResult KernelEmitter::emitAtomicAdd(AtomicAddOp op) {
  const Buffer *dstBuf = bufferOf(op.getDst(), op);
  if (!dstBuf)
    return failure();
  const Buffer &buf = *dstBuf;
  if (buf.space != Space::Global && buf.space != Space::Shared)
    return op.emitError("atomic_add needs a global or shared destination");
  FailureOr<Value> value = lookup(op.getValue());
  if (failed(value))
    return failure();
  FailureOr<SmallVector<Value>> idx = lookupAll(op.getIndices());
  if (failed(idx))
    return failure();
  Type t = value->getType();
  if (!(t.isF32() || t.isF16() || t.isBF16() || t.isInteger(32) ||
        t.isInteger(64) || t.isF64()))
    return op.emitError("atomic_add on ") << t << " is not supported";
  if (buf.space == Space::Shared && !parallelDepth)
    beforeSharedAccess({&buf}, {&buf});
  // In a T.Parallel over a replicated fragment every replica runs the
  // iteration; only the first may add.
  Value firstReplica;
  if (parallel && parallel->anchor->replicaMask())
    firstReplica = arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::eq,
        arith::AndIOp::create(b, loc, tid, cst(parallel->anchor->replicaMask())),
        cst(0));
  // Outside a T.Parallel every thread runs the scalar code: one adds.
  if (!parallelDepth && !parallel) {
    firstReplica = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, cst(0));
    sync.globalWrite |= buf.space == Space::Global;
  }
  // The previous value reaches only the thread that added: every thread that
  // runs the statement must be that one.
  if (op.getPrevious() && firstReplica)
    return op.emitError("T.atomic_add(..., return_prev=True) ")
           << (parallel || parallelDepth
                   ? "in a T.Parallel whose iterations several threads run (a replicated "
                     "fragment layout)"
                   : "outside a T.Parallel")
           << " is not supported on the cuda target yet: only one thread adds, and "
              "handing its previous value to the others is not implemented; add inside "
              "a T.Parallel over the elements";
  // An ordered add is a relaxed one between fences at device scope (PTX's
  // release and acquire patterns): NVPTX drops an atomicrmw's own ordering.
  StringRef order = op.getMemoryOrder().value_or("relaxed");
  bool releases = order == "release" || order == "acq_rel" || order == "seq_cst";
  bool acquires = order == "acquire" || order == "acq_rel" || order == "seq_cst";
  auto fence = [&](LLVM::AtomicOrdering ordering) {
    LLVM::FenceOp::create(b, loc, ordering, "device");
  };
  // Past a global tensor's edge nothing is added, as stores there are
  // dropped, and the previous value is zero, as loads there read.
  Value inside = elementGuard(buf, op.getIndices(), *idx);
  auto add = [&]() -> Value {
    if (releases)
      fence(order == "seq_cst" ? LLVM::AtomicOrdering::seq_cst : LLVM::AtomicOrdering::acq_rel);
    Value old = LLVM::AtomicRMWOp::create(
        b, loc, isa<FloatType>(t) ? LLVM::AtomicBinOp::fadd : LLVM::AtomicBinOp::add,
        elementAddress(buf, *idx), *value, LLVM::AtomicOrdering::monotonic);
    if (acquires)
      fence(LLVM::AtomicOrdering::acquire);
    return old;
  };
  if (op.getPrevious()) {
    map.map(op.getPrevious(), guarded(inside, t, add));
    return success();
  }
  guarded(andAll({firstReplica, inside}), [&] { add(); });
  return success();
}

} // namespace tessel::nvidia::lowering
