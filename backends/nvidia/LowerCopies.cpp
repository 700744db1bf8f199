//===- LowerCopies.cpp - allocations, copies and fills --------------------===//
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
// Allocations, copies and fills
//===----------------------------------------------------------------------===//

LogicalResult KernelEmitter::emitAlloc(AllocOp op) {
  if (buffers.count(op.getResult())) // a shared tile warpSpecialize needed early
    return success();
  if (op->hasAttr("tessel.reducer"))
    return op->emitError("T.alloc_reducer is not supported on the cuda target yet: "
                         "accumulate per row in a fragment and combine with T.reduce_*");
  Buffer buf;
  buf.type = op.getType();
  buf.def = op;
  Type elt = buf.elementType();
  if (!elt.isIntOrFloat())
    return op.emitError("tiles of ") << elt << " are not supported on the cuda target";
  std::optional<MemoryScope> scope = getMemoryScope(buf.type);
  if (!scope)
    return op.emitError("a tile needs a #tile.scope memory space");
  switch (*scope) {
  case MemoryScope::Shared: {
    buf.space = Space::Shared;
    auto offset = op->getAttrOfType<IntegerAttr>("tessel.shared_offset");
    // A staged tile (nvidia-pipeline-buffers) lives only in its pipeline's
    // stage buffers, which its accesses are pointed at.
    bool staged = op->hasAttr(kStagedAttr);
    if (!offset && !staged)
      return op.emitError("internal error: shared tile without an offset "
                          "(tile-plan-memory has not run)");
    if (auto it = placements.find(op.getResult()); it != placements.end())
      buf.shared = it->second;
    buf.shared.offset = staged ? -1 : offset.getInt();
    if (!staged && buf.shared.swizzle && buf.shared.offset % (8 * buf.shared.swizzle))
      return op.emitError("internal error: a swizzled tile must start on a ")
             << 8 * buf.shared.swizzle << "-byte boundary";
    break;
  }
  case MemoryScope::Fragment: {
    buf.space = Space::Fragment;
    FragmentLayoutAttr layout = op.getLayoutAttr();
    if (!layout)
      return op.emitError("internal error: fragment without a layout "
                          "(tile-infer-layouts has not run)");
    if (layout.getThreads() != threads)
      return op.emitError("this fragment's layout spreads it over ")
             << layout.getThreads() << " threads but the kernel has " << threads;
    buf.map = ThreadMap::build(layout, buf.shape());
    if (!buf.map)
      return op.emitError("the cuda target cannot map this fragment's layout ")
             << layout << " onto threads";
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(prologueEnd);
    buf.ptr = registerArray(storageType(elt), buf.map->slots());
    break;
  }
  case MemoryScope::Local: {
    buf.space = Space::Local;
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(prologueEnd);
    buf.ptr = registerArray(storageType(elt), product(buf.shape()));
    break;
  }
  case MemoryScope::Global:
    return op.emitError("global tiles cannot be allocated inside a kernel");
  }
  buffers[op.getResult()] = std::make_unique<Buffer>(std::move(buf));
  return success();
}

LogicalResult KernelEmitter::emitCopy(CopyOp op) {
  for (Value v : op.getSrcOffsets())
    if (failed(lookup(v)))
      return failure();
  for (Value v : op.getDstOffsets())
    if (failed(lookup(v)))
      return failure();
  const Buffer *srcBuf = bufferOf(op.getSrc(), op), *dstBuf = bufferOf(op.getDst(), op);
  if (!srcBuf || !dstBuf)
    return failure();
  const Buffer &src = *srcBuf, &dst = *dstBuf;
  SmallVector<int64_t> shape = squeezed(op.getSrcSizes());
  if (shape != squeezed(op.getDstSizes()))
    return op.emitError("the two sides of this copy have different shapes "
                        "once unit dimensions are dropped");
  SmallVector<Value> srcOff, dstOff;
  for (Value v : op.getSrcOffsets())
    srcOff.push_back(map.lookup(v));
  for (Value v : op.getDstOffsets())
    dstOff.push_back(map.lookup(v));
  Type srcElt = src.elementType(), dstElt = dst.elementType();

  if (src.space == Space::Fragment || dst.space == Space::Fragment) {
    const Buffer &frag = src.space == Space::Fragment ? src : dst;
    ArrayRef<int64_t> fragSizes =
        src.space == Space::Fragment ? op.getSrcSizes() : op.getDstSizes();
    ValueRange fragOffsets = src.space == Space::Fragment ? op.getSrcOffsets()
                                                          : op.getDstOffsets();
    // A region of a fragment (`acc[:valid_rows, :]`) is copied by the
    // threads holding its elements, each element guarded; its offsets must
    // be constants.
    SmallVector<int64_t> regionStart;
    for (Value v : fragOffsets) {
      std::optional<int64_t> c = evalConstant(v);
      if (!c)
        return op.emitError("on the cuda target a fragment region's offsets "
                            "must be constants");
      regionStart.push_back(*c);
    }
    bool region = ArrayRef<int64_t>(fragSizes) != frag.shape() ||
                  llvm::any_of(regionStart, [](int64_t o) { return o != 0; });
    if (region && src.space == Space::Fragment && dst.space == Space::Fragment)
      return op.emitError("the cuda target copies whole fragments between "
                          "fragments; copy a region through shared memory");
    if (src.space == Space::Fragment && dst.space == Space::Fragment) {
      if (src.shape() != dst.shape())
        return op.emitError("fragment copies need equal shapes");
      for (int64_t s = 0; s < dst.map->slots(); ++s) {
        int64_t srcSlot = -1, valid = 0;
        for (int64_t t = 0; t < threads; ++t) {
          int64_t e = dst.map->elementAt(t, s);
          if (e < 0)
            continue;
          ++valid;
          if (!src.map->holds(t, e))
            return op.emitError("the two fragments of this copy have "
                                "layouts that put element ")
                   << e << " in different threads; copy through shared memory";
          int64_t ss = src.map->holderOf(e).second;
          if (srcSlot >= 0 && ss != srcSlot)
            return op.emitError("the two fragments of this copy have "
                                "incompatible layouts");
          srcSlot = ss;
        }
        if (srcSlot < 0)
          continue;
        Value v = load(slotAddress(src, cst(srcSlot)), srcElt);
        v = tile::convertScalar(b, loc, v, dstElt);
        store(v, slotAddress(dst, cst(s)));
      }
      return success();
    }
    // Between a fragment and memory: each thread moves its own elements.
    const Buffer &mem = src.space == Space::Fragment ? dst : src;
    bool toMemory = src.space == Space::Fragment;
    if (mem.space == Space::Shared)
      beforeSharedAccess(toMemory ? ArrayRef<const Buffer *>()
                                  : ArrayRef<const Buffer *>(&mem),
                         toMemory ? ArrayRef<const Buffer *>(&mem)
                                  : ArrayRef<const Buffer *>());
    ValueRange memOffsets = toMemory ? ValueRange(dstOff) : ValueRange(srcOff);
    ArrayRef<int64_t> memSizes = toMemory ? op.getDstSizes() : op.getSrcSizes();
    bool memSafe = windowInBounds(
        mem, toMemory ? op.getDstOffsets() : op.getSrcOffsets(), memSizes);
    Type memElt = mem.elementType();
    // A region of whole rows (`acc[:valid_rows, :]`) is moved in vectors
    // like the whole fragment: a vector along the last dimension is wholly
    // inside or outside it.
    bool wholeRows = !regionStart.empty() && regionStart.back() == 0 &&
                     fragSizes.back() == frag.shape().back();
    for (int64_t s = 0, width = 1; s < frag.map->slots(); s += width) {
      width = region && !wholeRows
                  ? 1
                  : fragmentVectorWidth(frag, s, mem,
                                           toMemory ? op.getDstOffsets()
                                                    : op.getSrcOffsets(),
                                           memSizes);
      std::optional<SlotFormula> f = frag.map->formula(s);
      if (!f)
        return op.emitError("the cuda target cannot express which element "
                            "each thread holds in this fragment's layout");
      if (!f->validThreads)
        continue;
      SmallVector<Value> fragIndex = formulaIndex(*f);
      SmallVector<Value> conds;
      SmallVector<Value> squeezedIndex;
      for (auto [d, i] : llvm::enumerate(fragIndex)) {
        Value inRegion = i;
        if (region) {
          // (index - start) < size, unsigned: below the start wraps around.
          inRegion = arith::SubIOp::create(b, loc, i, cst(regionStart[d]));
          if (regionStart[d] || fragSizes[d] != frag.shape()[d])
            conds.push_back(ult(inRegion, cst(fragSizes[d])));
        }
        if (fragSizes[d] != 1)
          squeezedIndex.push_back(inRegion);
      }
      SmallVector<Value> memIndex =
          tile::regionIndices(b, loc, memOffsets, memSizes, squeezedIndex);
      if (Value p = threadPrefix(f->validThreads))
        conds.push_back(p);
      // A vector is wholly inside or outside the tensor: the row length is a
      // multiple of the width and the vector starts on one.
      Value ok = memSafe ? Value() : inBounds(mem, memIndex);
      Type vecType = VectorType::get({width}, storageType(memElt));
      int64_t align = width * byteWidth(memElt);
      if (toMemory) {
        if (ok)
          conds.push_back(ok);
        // A replicated fragment (a row's value held by every thread of the
        // row) is written once, by the replica whose replica bits are zero:
        // every replica storing the same bytes is a race, if a benign one.
        if (int64_t mask = frag.map->replicaMask())
          conds.push_back(arith::CmpIOp::create(
              b, loc, arith::CmpIPredicate::eq,
              arith::AndIOp::create(b, loc, tid, cst(mask)), cst(0)));
        guarded(andAll(conds), [&] {
          Value addr = elementAddress(mem, memIndex);
          if (width == 1) {
            Value v = load(slotAddress(frag, cst(s)), srcElt);
            store(tile::convertScalar(b, loc, v, dstElt), addr);
            return;
          }
          Value vec = LLVM::UndefOp::create(b, loc, vecType);
          for (int64_t i = 0; i < width; ++i) {
            Value v = load(slotAddress(frag, cst(s + i)), srcElt);
            v = tile::convertScalar(b, loc, v, dstElt);
            v = toStorage(b, loc, v);
            vec = LLVM::InsertElementOp::create(b, loc, vec, v, i32(i));
          }
          LLVM::StoreOp::create(b, loc, vec, addr, align);
        });
        continue;
      }
      guarded(andAll(conds), [&] {
        Type loadedType = width == 1 ? memElt : vecType;
        auto loadAll = [&]() -> Value {
          Value addr = elementAddress(mem, memIndex);
          if (width == 1)
            return load(addr, memElt);
          return LLVM::LoadOp::create(b, loc, vecType, addr, align);
        };
        Value loaded = guarded(ok, loadedType, loadAll);
        for (int64_t i = 0; i < width; ++i) {
          Value v = loaded;
          if (width > 1) {
            v = LLVM::ExtractElementOp::create(b, loc, loaded, i32(i));
            v = fromStorage(b, loc, v, memElt);
          }
          store(tile::convertScalar(b, loc, v, dstElt), slotAddress(frag, cst(s + i)));
        }
      });
    }
    return success();
  }
  return emitCooperativeCopy(op, src, dst, shape);
}

/// Copies between memories: the block's threads share the elements out in
/// row-major order, 16 bytes at a time where both sides allow it.
LogicalResult KernelEmitter::emitCooperativeCopy(CopyOp op, const Buffer &src,
                                                 const Buffer &dst,
                                                 ArrayRef<int64_t> shapeIn) {
  SmallVector<int64_t> shape(shapeIn);
  if (shape.empty())
    shape.push_back(1);
  Type srcElt = src.elementType(), dstElt = dst.elementType();
  SmallVector<const Buffer *> sharedReads, sharedWrites;
  if (src.space == Space::Shared)
    sharedReads.push_back(&src);
  if (dst.space == Space::Shared)
    sharedWrites.push_back(&dst);
  beforeSharedAccess(sharedReads, sharedWrites);

  // Can this side move `width` contiguous elements of the copy's last
  // dimension as one aligned vector?
  auto contiguous = [&](const Buffer &buf, ValueRange oldOffsets,
                        ArrayRef<int64_t> sizes, int64_t width) {
    if (buf.space == Space::Local || buf.space == Space::Fragment)
      return false;
    // The copy's last (non-unit) dimension must be the buffer's last.
    int64_t last = sizes.size() - 1;
    if (sizes.back() == 1)
      return false;
    int64_t bufLast = buf.shape().back();
    if (ShapedType::isDynamic(bufLast) || bufLast % width ||
        knownMultiple(oldOffsets[last]) % width)
      return false;
    if (buf.space == Space::Shared) {
      if (buf.shared.transposed)
        return false;
      if (buf.shared.swizzle &&
          (buf.shared.swizzle < 16 ||
           (width * byteWidth(buf.elementType())) > 16))
        return false;
    }
    return true;
  };
  int64_t inner = shape.back();
  int64_t width = 16 / byteWidth(srcElt);
  bool srcVector = width > 1 && inner % width == 0 &&
                   contiguous(src, op.getSrcOffsets(), op.getSrcSizes(), width);
  if (!srcVector)
    width = 1;
  bool dstVector = srcVector && srcElt == dstElt &&
                   contiguous(dst, op.getDstOffsets(), op.getDstSizes(), width);

  // Into a tile stored transposed (a gemm's B, K-major): each thread moves
  // 8x8 blocks, eight 16-byte rows in, eight 16-byte columns out, transposed
  // in registers, instead of storing element by element.
  if (srcVector && !dstVector && width == 8 && srcElt == dstElt &&
      dst.space == Space::Shared && dst.shared.transposed && shape.size() == 2 &&
      shape[0] % 8 == 0 && ArrayRef<int64_t>(op.getDstSizes()) == dst.shape() &&
      llvm::all_of(op.getDstOffsets(), [](Value v) {
        auto c = evalConstant(v);
        return c && *c == 0;
      }))
    return emitTransposingCopy(op, src, dst, shape);

  int64_t vectors = product(shape) / width;
  SmallVector<Value> srcOff, dstOff;
  for (Value v : op.getSrcOffsets())
    srcOff.push_back(map.lookup(v));
  for (Value v : op.getDstOffsets())
    dstOff.push_back(map.lookup(v));

  // Element i of a vector, on the destination side: a step along the copy's
  // last non-unit dimension there.
  auto stepped = [&](ArrayRef<Value> idx, int64_t i) {
    SmallVector<Value> out(idx);
    if (!i)
      return out;
    for (int64_t d = out.size() - 1; d >= 0; --d) {
      if (op.getDstSizes()[d] != 1 || d == 0) {
        out[d] = add(out[d], cst(i));
        break;
      }
    }
    return out;
  };
  Type srcStore = storageType(srcElt);
  auto vecType = VectorType::get({width}, srcStore);
  bool srcSafe = windowInBounds(src, op.getSrcOffsets(), op.getSrcSizes());
  bool dstSafe = windowInBounds(dst, op.getDstOffsets(), op.getDstSizes());
  auto body = [&](Value q) {
    SmallVector<Value> ivs = vectorIndex(q, shape, width);
    ValueRange ivRange(ivs);
    if (shapeIn.empty())
      ivRange = ValueRange();
    SmallVector<Value> srcIdx =
        tile::regionIndices(b, loc, srcOff, op.getSrcSizes(), ivRange);
    SmallVector<Value> dstIdx =
        tile::regionIndices(b, loc, dstOff, op.getDstSizes(), ivRange);
    // Load (zero outside a global tensor).
    auto loadAll = [&]() -> Value {
      Value addr = elementAddress(src, srcIdx);
      if (srcVector)
        return LLVM::LoadOp::create(b, loc, vecType, addr, 16);
      return load(addr, srcElt);
    };
    Value loaded = guarded(srcSafe ? Value() : inBounds(src, srcIdx),
                           srcVector ? (Type)vecType : srcElt, loadAll);
    auto storeAll = [&] {
      if (dstVector) {
        LLVM::StoreOp::create(b, loc, loaded, elementAddress(dst, dstIdx), 16);
        return;
      }
      for (int64_t i = 0; i < width; ++i) {
        Value v = loaded;
        if (srcVector) {
          v = LLVM::ExtractElementOp::create(b, loc, loaded, i32(i));
          v = fromStorage(b, loc, v, srcElt);
        }
        v = tile::convertScalar(b, loc, v, dstElt);
        store(v, elementAddress(dst, stepped(dstIdx, i)));
      }
    };
    if (!dstSafe) {
      // With vectors, the whole vector is in or out (the last dimension is
      // a multiple of the width); element by element, each is checked.
      if (dstVector) {
        guarded(inBounds(dst, dstIdx), storeAll);
      } else {
        // Checked per element inside.
        for (int64_t i = 0; i < width; ++i) {
          Value v = loaded;
          if (srcVector) {
            v = LLVM::ExtractElementOp::create(b, loc, loaded, i32(i));
            v = fromStorage(b, loc, v, srcElt);
          }
          v = tile::convertScalar(b, loc, v, dstElt);
          SmallVector<Value> idx = stepped(dstIdx, i);
          guarded(inBounds(dst, idx), [&] { store(v, elementAddress(dst, idx)); });
        }
      }
    } else {
      storeAll();
    }
  };

  // A local buffer is every thread's own copy of it: each thread copies
  // all of it (sharing the elements out would leave each thread a part).
  if (dst.space == Space::Local) {
    if (vectors <= 64) {
      for (int64_t q = 0; q < vectors; ++q)
        body(cst(q));
    } else {
      auto loop = scf::ForOp::create(b, loc, cst(0), cst(vectors), cst(1));
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      body(loop.getInductionVar());
    }
    return success();
  }
  forEachShare(vectors, body);
  return success();
}

LogicalResult KernelEmitter::emitTransposingCopy(CopyOp op, const Buffer &src,
                                                 const Buffer &dst,
                                                 ArrayRef<int64_t> shape) {
  // Blocks of 8 rows (K) x 8 columns (N) of the logical [K, N] tile.
  int64_t blocksPerRow = shape[1] / 8;
  int64_t blocks = (shape[0] / 8) * blocksPerRow;
  bool safe = windowInBounds(src, op.getSrcOffsets(), op.getSrcSizes());
  SmallVector<Value> srcOff, dstOff;
  for (Value v : op.getSrcOffsets())
    srcOff.push_back(map.lookup(v));
  for (Value v : op.getDstOffsets())
    dstOff.push_back(map.lookup(v));
  Type elt = src.elementType(), stored = storageType(elt);
  auto vecType = VectorType::get({8}, stored);
  auto body = [&](Value q) {
    Value k0 = mul(udiv(q, blocksPerRow), 8), n0 = mul(urem(q, blocksPerRow), 8);
    SmallVector<Value> rows;
    for (int64_t r = 0; r < 8; ++r) {
      SmallVector<Value> ivs{add(k0, cst(r)), n0};
      SmallVector<Value> srcIdx = tile::regionIndices(b, loc, srcOff, op.getSrcSizes(), ivs);
      auto loadRow = [&]() -> Value {
        return LLVM::LoadOp::create(b, loc, vecType, elementAddress(src, srcIdx), 16);
      };
      bool checked = !safe && src.space == Space::Global;
      rows.push_back(guarded(checked ? inBounds(src, srcIdx) : Value(), vecType, loadRow));
    }
    for (int64_t c = 0; c < 8; ++c) {
      Value column = LLVM::UndefOp::create(b, loc, vecType);
      for (int64_t r = 0; r < 8; ++r)
        column = LLVM::InsertElementOp::create(
            b, loc, column, LLVM::ExtractElementOp::create(b, loc, rows[r], i32(c)),
            i32(r));
      SmallVector<Value> ivs{k0, add(n0, cst(c))};
      SmallVector<Value> dstIdx = tile::regionIndices(b, loc, dstOff, op.getDstSizes(), ivs);
      LLVM::StoreOp::create(b, loc, column, sharedAddress(sharedByteOffset(dst, dstIdx)), 16);
    }
  };
  forEachShare(blocks, body);
  return success();
}

LogicalResult KernelEmitter::emitFill(FillOp op) {
  if (failed(lookup(op.getValue())))
    return failure();
  const Buffer *dstBuf = bufferOf(op.getDst(), op);
  if (!dstBuf)
    return failure();
  const Buffer &dst = *dstBuf;
  Value value = map.lookup(op.getValue());
  switch (dst.space) {
  case Space::Fragment:
    for (int64_t s = 0; s < dst.map->slots(); ++s)
      store(value, slotAddress(dst, cst(s)));
    return success();
  case Space::Local:
    for (int64_t s = 0, e = product(dst.shape()); s < e; ++s)
      store(value, slotAddress(dst, cst(s)));
    return success();
  case Space::Shared:
  case Space::Global: {
    if (dst.space == Space::Shared)
      beforeSharedAccess({}, {&dst});
    forEachShare(product(dst.shape()), [&](Value q) {
      store(value, elementAddress(dst, delinearize(q, dst.shape())));
    });
    return success();
  }
  }
  return success();
}

} // namespace tessel::nvidia::lowering
