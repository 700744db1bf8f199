//===- KernelEmitter.cpp - values, memory, placement, dispatch ------------===//
//
// Part of the tile-lower-to-nvvm pass (LowerTileToNVVM.cpp); KernelEmitter.h
// declares the emitter these methods belong to.
//
//===----------------------------------------------------------------------===//

#include "backends/nvidia/KernelEmitter.h"
#include "backends/nvidia/Target.h"

#include "llvm/ADT/MapVector.h"

#include <numeric>

#define DEBUG_TYPE "tile-lower-to-nvvm"

namespace tessel::nvidia::lowering {

//===----------------------------------------------------------------------===//
// Compile-time facts about index values of the input program
//===----------------------------------------------------------------------===//

/// The value of `v` if it is a constant expression.
std::optional<int64_t> evalConstant(Value v) {
  DenseMap<Value, int64_t> none;
  return evalIndex(v, none);
}

/// Bounds on `v` from constants, the kernel's block indices (`blockRanges`
/// maps each to [0, grid - 1]) and the induction variables of loops with
/// constant bounds, combined by interval arithmetic. Nothing when `v` is
/// built from anything else or could overflow.
std::optional<IndexRange>
indexRange(Value v, const DenseMap<Value, IndexRange> &blockRanges, int depth) {
  if (auto it = blockRanges.find(v); it != blockRanges.end())
    return it->second;
  if (depth > 32)
    return std::nullopt;
  if (auto c = evalConstant(v))
    return IndexRange{*c, *c};
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    Operation *owner = arg.getOwner()->getParentOp();
    // A T.Parallel index runs over its extent (iterations past it, when the
    // threads deal rounds, are predicated off before the body).
    if (auto par = dyn_cast_or_null<ParallelOp>(owner)) {
      int64_t extent = par.getExtents()[arg.getArgNumber()];
      return extent > 0 ? std::optional(IndexRange{0, extent - 1}) : std::nullopt;
    }
    Value lb, ub, step;
    if (auto pipe = dyn_cast_or_null<PipelinedOp>(owner)) {
      lb = pipe.getLower(), ub = pipe.getUpper(), step = pipe.getStep();
    } else if (auto loop = dyn_cast_or_null<scf::ForOp>(owner)) {
      if (arg != loop.getInductionVar())
        return std::nullopt;
      lb = loop.getLowerBound(), ub = loop.getUpperBound(), step = loop.getStep();
    } else {
      return std::nullopt;
    }
    auto l = evalConstant(lb), u = evalConstant(ub), st = evalConstant(step);
    if (!l || !u || !st || *st <= 0 || *u <= *l)
      return std::nullopt;
    return IndexRange{*l, *l + (*u - 1 - *l) / *st * *st};
  }
  Operation *def = v.getDefiningOp();
  if (!def)
    return std::nullopt;
  if (isa<arith::IndexCastOp, arith::IndexCastUIOp>(def))
    return indexRange(def->getOperand(0), blockRanges, depth + 1);
  if (def->getNumOperands() != 2)
    return std::nullopt;
  auto a = indexRange(def->getOperand(0), blockRanges, depth + 1);
  auto c = indexRange(def->getOperand(1), blockRanges, depth + 1);
  if (!a || !c)
    return std::nullopt;
  // Bounds beyond 2^40 are not worth the overflow reasoning.
  constexpr int64_t kLimit = int64_t(1) << 40;
  auto within = [&](IndexRange r) -> std::optional<IndexRange> {
    if (r.lo < -kLimit || r.hi > kLimit)
      return std::nullopt;
    return r;
  };
  if (!within(*a) || !within(*c))
    return std::nullopt;
  return llvm::TypeSwitch<Operation *, std::optional<IndexRange>>(def)
      .Case([&](arith::AddIOp) { return within({a->lo + c->lo, a->hi + c->hi}); })
      .Case([&](arith::SubIOp) { return within({a->lo - c->hi, a->hi - c->lo}); })
      .Case([&](arith::MulIOp) {
        int64_t p[] = {a->lo * c->lo, a->lo * c->hi, a->hi * c->lo, a->hi * c->hi};
        return within({*std::min_element(p, p + 4), *std::max_element(p, p + 4)});
      })
      .Case([&](arith::MinSIOp) {
        return IndexRange{std::min(a->lo, c->lo), std::min(a->hi, c->hi)};
      })
      .Case([&](arith::MaxSIOp) {
        return IndexRange{std::max(a->lo, c->lo), std::max(a->hi, c->hi)};
      })
      .Default([](Operation *) { return std::nullopt; });
}

/// A number `v` is known to be a multiple of (1 when nothing is known).
int64_t knownMultiple(Value v, int depth) {
  Operation *def = v.getDefiningOp();
  if (!def || depth > 32)
    return 1;
  if (auto c = dyn_cast<arith::ConstantOp>(def)) {
    if (auto i = dyn_cast<IntegerAttr>(c.getValue())) {
      int64_t x = std::abs(i.getValue().getSExtValue());
      return x ? x : int64_t(1) << 30;
    }
    return 1;
  }
  if (isa<arith::IndexCastOp>(def))
    return knownMultiple(def->getOperand(0), depth + 1);
  if (isa<arith::MulIOp>(def))
    return knownMultiple(def->getOperand(0), depth + 1) *
           knownMultiple(def->getOperand(1), depth + 1);
  if (isa<arith::AddIOp, arith::SubIOp>(def))
    return std::gcd(knownMultiple(def->getOperand(0), depth + 1),
                    knownMultiple(def->getOperand(1), depth + 1));
  return 1;
}


//===----------------------------------------------------------------------===//
// Values
//===----------------------------------------------------------------------===//

FailureOr<Value> KernelEmitter::lookup(Value old) {
  if (Value v = map.lookupOrNull(old))
    return v;
  Operation *def = old.getDefiningOp();
  // Scalars computed outside the kernel (constants, sizes) are recomputed
  // at the top of the kernel.
  if (def && !kernel->isAncestor(def) && def->getNumRegions() == 0 &&
      isa<arith::ArithDialect>(def->getDialect())) {
    for (Value operand : def->getOperands()) {
      if (failed(lookup(operand)))
        return failure();
    }
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(prologueEnd);
    Operation *clone = b.clone(*def, map);
    return clone->getResult(cast<OpResult>(old).getResultNumber());
  }
  // A conversion outside the kernel (a dynamic size used as an i32 value).
  if (auto castOp = dyn_cast_or_null<CastOp>(def); castOp && !kernel->isAncestor(def)) {
    FailureOr<Value> input = lookup(castOp.getInput());
    if (failed(input))
      return failure();
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(prologueEnd);
    Value v = tile::convertScalar(b, loc, *input, castOp.getType());
    map.map(old, v);
    return v;
  }
  if (def && isa<memref::DimOp>(def)) {
    auto dim = cast<memref::DimOp>(def);
    auto type = cast<MemRefType>(dim.getSource().getType());
    auto index = evalConstant(dim.getIndex());
    if (index && !type.isDynamicDim(*index)) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPoint(prologueEnd);
      Value c = arith::ConstantIndexOp::create(b, loc, type.getDimSize(*index));
      map.map(old, c);
      return c;
    }
    if (index) {
      auto it = buffers.find(dim.getSource());
      if (it != buffers.end() && it->second->space == Space::Global &&
          it->second->dynamicExtents[*index]) {
        map.map(old, it->second->dynamicExtents[*index]);
        return it->second->dynamicExtents[*index];
      }
    }
  }
  Location where = def ? def->getLoc() : kernel.getLoc();
  return emitError(where, "the cuda target cannot use this value inside the "
                          "kernel (dynamic sizes are not supported there yet)");
}

FailureOr<SmallVector<Value>> KernelEmitter::lookupAll(ValueRange olds) {
  SmallVector<Value> values;
  for (Value old : olds) {
    FailureOr<Value> v = lookup(old);
    if (failed(v))
      return failure();
    values.push_back(*v);
  }
  return values;
}

LogicalResult KernelEmitter::mapOperands(Operation *op) {
  for (Value operand : op->getOperands()) {
    if (buffers.count(operand))
      return op->emitError("a tile cannot be used by '")
             << op->getName() << "' on the cuda target";
    if (failed(lookup(operand)))
      return failure();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

Value KernelEmitter::extentOf(const Buffer &buf, int64_t d) {
  int64_t size = buf.shape()[d];
  return ShapedType::isDynamic(size) ? buf.dynamicExtents[d] : cst(size);
}

Value KernelEmitter::globalAddress(const Buffer &buf, ArrayRef<Value> index) {
  Value linear;
  if (buf.hasStaticShape()) {
    linear = linearize(index, buf.shape());
  } else {
    // Row-major over the launch's extents.
    Value stride;
    for (int64_t d = index.size() - 1; d >= 0; --d) {
      Value term = stride ? (Value)arith::MulIOp::create(b, loc, index[d], stride) : index[d];
      linear = linear ? add(linear, term) : term;
      Value extent = extentOf(buf, d);
      stride = stride ? (Value)arith::MulIOp::create(b, loc, stride, extent) : extent;
    }
    if (!linear)
      linear = cst(0);
  }
  return LLVM::GEPOp::create(b, loc, ptrType(kGlobalSpace),
                             storageType(buf.elementType()), buf.ptr,
                             ValueRange{toI64(linear)});
}

Value KernelEmitter::sharedByteOffset(const Buffer &buf, ArrayRef<Value> index) {
  const SharedPlacement &p = buf.shared;
  int64_t e = byteWidth(buf.elementType());
  if (!p.swizzle) {
    Value linear = linearize(index, buf.shape());
    return add(buf.stageOffset ? buf.stageOffset : cst(p.offset), mul(linear, e));
  }
  Value r = p.transposed ? index[1] : index[0];
  Value c = p.transposed ? index[0] : index[1];
  Value cb = mul(c, e);
  Value atom = udiv(cb, p.swizzle);
  Value within = add(mul(r, p.swizzle), urem(cb, p.swizzle));
  // The hardware's swizzle: 16-byte chunk ^= (row of 128 bytes) % (S / 16).
  Value rowBits = arith::AndIOp::create(
      b, loc, arith::ShRUIOp::create(b, loc, within, cst(7)),
      cst(p.swizzle / 16 - 1));
  Value swizzled = arith::XOrIOp::create(
      b, loc, within, arith::ShLIOp::create(b, loc, rowBits, cst(4)));
  return add(buf.stageOffset ? buf.stageOffset : cst(p.offset),
             add(mul(atom, p.rows * p.swizzle), swizzled));
}

Value KernelEmitter::sharedAddress32(Value byteOffset) {
  return arith::TruncIOp::create(
      b, loc, b.getI32Type(),
      LLVM::PtrToIntOp::create(b, loc, b.getI64Type(), sharedAddress(byteOffset)));
}

Value KernelEmitter::sharedAddress(Value byteOffset) {
  return LLVM::GEPOp::create(b, loc, ptrType(kSharedSpace), b.getI8Type(),
                             smemBase, ValueRange{toI64(byteOffset)});
}

Value KernelEmitter::slotAddress(const Buffer &buf, Value slot) {
  Type elt = storageType(buf.elementType());
  if (std::optional<int64_t> c = getConstantIntValue(slot))
    return LLVM::GEPOp::create(b, loc, ptrType(), elt, buf.ptr,
                               ArrayRef<LLVM::GEPArg>{int32_t(*c)});
  return LLVM::GEPOp::create(b, loc, ptrType(), elt, buf.ptr,
                             ValueRange{toI64(slot)});
}

Value KernelEmitter::elementAddress(const Buffer &buf, ArrayRef<Value> index) {
  switch (buf.space) {
  case Space::Global:
    return globalAddress(buf, index);
  case Space::Shared:
    return sharedAddress(sharedByteOffset(buf, index));
  case Space::Local: {
    return slotAddress(buf, linearize(index, buf.shape()));
  }
  case Space::Fragment:
    break;
  }
  llvm_unreachable("fragments are addressed by slot");
}

Value KernelEmitter::load(Value addr, Type elt, int64_t align) {
  Type stored = storageType(elt);
  Value v = LLVM::LoadOp::create(b, loc, stored, addr, align);
  if (!isa<VectorType>(elt))
    v = fromStorage(b, loc, v, elt);
  return v;
}

void KernelEmitter::store(Value value, Value addr, int64_t align) {
  Type t = value.getType();
  if (!isa<VectorType>(t))
    value = toStorage(b, loc, value);
  LLVM::StoreOp::create(b, loc, value, addr, align);
}

bool KernelEmitter::windowInBounds(const Buffer &buf, ValueRange offsets,
                                  ArrayRef<int64_t> sizes) {
  if (buf.space != Space::Global)
    return true;
  if (!buf.hasStaticShape())
    return false;
  for (auto [offset, size, extent] : llvm::zip(offsets, sizes, buf.shape())) {
    std::optional<IndexRange> r = indexRange(offset, blockRanges);
    if (!r || r->lo < 0 || r->hi + size > extent)
      return false;
  }
  return true;
}

Value KernelEmitter::inBounds(const Buffer &buf, ArrayRef<Value> index) {
  SmallVector<Value> conds;
  for (auto [d, i] : llvm::enumerate(index))
    conds.push_back(ult(i, extentOf(buf, d)));
  return andAll(conds);
}

Value KernelEmitter::elementGuard(const Buffer &buf, ValueRange oldIndices,
                                  ArrayRef<Value> index) {
  if (buf.space != Space::Global)
    return Value();
  SmallVector<int64_t> ones(oldIndices.size(), 1);
  if (windowInBounds(buf, oldIndices, ones))
    return Value();
  return inBounds(buf, index);
}

Value KernelEmitter::guarded(Value guard, Type type, llvm::function_ref<Value()> load) {
  if (!guard)
    return load();
  auto ifOp = scf::IfOp::create(b, loc, TypeRange{type}, guard, /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    scf::YieldOp::create(b, loc, load());
    b.setInsertionPointToStart(&ifOp.getElseRegion().front());
    scf::YieldOp::create(b, loc, Value(arith::ConstantOp::create(b, loc, b.getZeroAttr(type))));
  }
  return ifOp.getResult(0);
}

SmallVector<Value> KernelEmitter::formulaIndex(const SlotFormula &f) {
  SmallVector<Value> index;
  for (size_t d = 0; d < f.base.size(); ++d) {
    Value v = cst(f.base[d]);
    ArrayRef<int64_t> delta = f.delta[d];
    // Runs of bits whose deltas double are one field: (t >> lo) & mask.
    for (size_t bit = 0; bit < delta.size();) {
      if (!delta[bit]) {
        ++bit;
        continue;
      }
      size_t end = bit + 1;
      while (end < delta.size() && delta[end] == 2 * delta[end - 1])
        ++end;
      v = add(v, mul(threadField(bit, end - bit), delta[bit]));
      bit = end;
    }
    index.push_back(v);
  }
  return index;
}

/// How many slots from `slot` on one vector access can move between the
/// fragment and `mem` (1: element by element). The slots must hold, in every
/// thread, consecutive elements of one row starting on a multiple of the
/// width; on the memory side the row must be contiguous and the access
/// aligned to its size (at most 16 bytes).
int64_t KernelEmitter::fragmentVectorWidth(const Buffer &frag, int64_t slot,
                                           const Buffer &mem,
                                           ValueRange memOffsets,
                                           ArrayRef<int64_t> memSizes) {
  int64_t row = frag.shape().back();
  if (row == 1 || memSizes.back() != row)
    return 1;
  if (mem.space == Space::Shared && mem.shared.transposed)
    return 1;
  if (mem.space == Space::Local)
    return 1;
  int64_t bytes = byteWidth(mem.elementType());
  int64_t offsetMultiple = knownMultiple(memOffsets.back());
  for (int64_t width = std::min<int64_t>(8, 16 / bytes); width > 1; width /= 2) {
    if (slot % width || slot + width > frag.map->slots() || row % width ||
        ShapedType::isDynamic(mem.shape().back()) || mem.shape().back() % width ||
        offsetMultiple % width)
      continue;
    bool fits = true;
    for (int64_t t = 0; t < threads && fits; ++t) {
      int64_t first = frag.map->elementAt(t, slot);
      if (first >= 0 && first % width) {
        fits = false;
        break;
      }
      for (int64_t i = 1; i < width && fits; ++i) {
        int64_t e = frag.map->elementAt(t, slot + i);
        fits = first < 0 ? e < 0 : e == first + i;
      }
    }
    if (fits)
      return width;
  }
  return 1;
}

Value KernelEmitter::threadField(int64_t lo, int64_t bits) {
  Value &field = threadFields[{lo, bits}];
  if (!field) {
    // Once per kernel, next to the thread index.
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointAfterValue(tid);
    field = arith::ShRUIOp::create(b, loc, tid, cst(lo));
    field = arith::AndIOp::create(b, loc, field, cst((int64_t(1) << bits) - 1));
  }
  return field;
}

Value KernelEmitter::threadPrefix(int64_t validThreads) {
  if (validThreads >= threads)
    return Value();
  return ult(tid, cst(validThreads));
}


//===----------------------------------------------------------------------===//
// Decisions
//===----------------------------------------------------------------------===//

/// Gemm operands in shared memory are stored swizzled, as they are or
/// transposed to K-major (gemmOperandStoredTransposed); a tile two gemms
/// need stored differently is an error (nvidia-gemm-operand-copies gives the
/// second one a copy). The swizzle is the widest of 128, 64 and 32 bytes
/// that divides the stored rows and, for a tile wgmma reads MN-major, the
/// MN offsets its instructions start at (a descriptor starts at a swizzle
/// atom's first column).
FailureOr<DenseMap<Value, SharedPlacement>> gemmOperandPlacements(KernelOp kernel) {
  DenseMap<Value, SharedPlacement> placements;
  struct Need {
    bool transposed;
    int64_t granule; // bytes every MN-major start offset is a multiple of
    GemmOp first;
  };
  llvm::MapVector<Value, Need> needs;
  WalkResult result = kernel.walk([&](GemmOp gemm) -> WalkResult {
    for (int operand = 0; operand < 2; ++operand) {
      Value v = operand == 0 ? gemm.getA() : gemm.getB();
      auto alloc = v.getDefiningOp<AllocOp>();
      if (!alloc || getMemoryScope(alloc.getType()) != MemoryScope::Shared)
        continue;
      MemRefType type = alloc.getType();
      if (type.getRank() != 2)
        return gemm.emitError("gemm operands must be 2-d tiles");
      bool kFirst = operand == 0 ? gemm.getTransposeA() : !gemm.getTransposeB();
      bool transposed = gemmOperandStoredTransposed(gemm, operand);
      // An MN-major operand read in place: its wgmmas start at multiples of
      // the granule, which the swizzle atoms must divide.
      int64_t granule = kFirst && !transposed ? mnMajorGranuleBytes(gemm, operand) : 0;
      auto [it, inserted] = needs.try_emplace(v, Need{transposed, granule, gemm});
      if (inserted)
        continue;
      if (it->second.transposed != transposed)
        return gemm.emitError("this tile is a gemm operand both K-major and "
                              "MN-major; store a transposed copy");
      if (granule)
        it->second.granule =
            it->second.granule ? std::gcd(it->second.granule, granule) : granule;
    }
    return WalkResult::advance();
  });
  if (result.wasInterrupted())
    return failure();
  for (auto &[v, need] : needs) {
    MemRefType type = cast<MemRefType>(v.getType());
    SharedPlacement p;
    p.transposed = need.transposed;
    p.rows = type.getDimSize(need.transposed ? 1 : 0);
    p.cols = type.getDimSize(need.transposed ? 0 : 1);
    int64_t rowBytes = p.cols * byteWidth(type.getElementType());
    for (int64_t s : {128, 64, 32})
      if (rowBytes % s == 0 && (s == 128 || rowBytes == s || need.granule) &&
          (!need.granule || need.granule % s == 0)) {
        p.swizzle = s;
        break;
      }
    if (!p.swizzle) {
      if (need.granule)
        return need.first.emitError("a shared gemm operand read MN-major must "
                                    "span 32, 64 or a multiple of 128 bytes "
                                    "along M/N, in whole swizzle atoms per "
                                    "warpgroup; it spans ")
               << rowBytes << " bytes and its warpgroups start every "
               << need.granule << " bytes";
      return need.first.emitError("the K extent of a shared gemm operand must "
                                  "span 32, 64 or a multiple of 128 bytes; it "
                                  "spans ")
             << rowBytes << " bytes";
    }
    if (p.rows % 8)
      return need.first.emitError(need.granule
                                      ? "a shared gemm operand read MN-major "
                                        "needs a multiple of 8 rows along K; it has "
                                      : "a shared gemm operand needs a multiple "
                                        "of 8 rows along M/N; it has ")
             << p.rows;
    placements[v] = p;
  }
  return placements;
}

LogicalResult KernelEmitter::placeSharedTiles() {
  FailureOr<DenseMap<Value, SharedPlacement>> placed = gemmOperandPlacements(kernel);
  if (failed(placed))
    return failure();
  placements = std::move(*placed);
  return success();
}

/// The register slot of fragment element `oldIndices` in the current
/// parallel iteration, the same for every thread and held by it.
LogicalResult KernelEmitter::resolveFragmentSlot(const Buffer &buf,
                                                 ValueRange oldIndices,
                                                 Operation *at, int64_t &slot) {
  if (!parallel && at->getParentOfType<ParallelOp>())
    return at->emitError("this T.Parallel loop is not laid out over a fragment (none it "
                         "indexes has its shape and is indexed by its indices), so no "
                         "thread owns this fragment element; on the cuda target, index a "
                         "fragment with the indices of a T.Parallel of its shape");
  if (!parallel)
    return at->emitError("a fragment element can only be read or written "
                         "inside T.Parallel on the cuda target");
  const ThreadMap &anchor = *parallel->anchor;
  const ThreadMap &mine = *buf.map;
  slot = -1;
  DenseMap<Value, int64_t> env;
  for (int64_t t = 0; t < threads; ++t) {
    int64_t e = anchor.elementAt(t, parallel->slot);
    if (e < 0)
      continue;
    SmallVector<int64_t> iv = anchor.delinearize(e);
    for (auto [old, v] : llvm::zip(parallel->oldIvs, iv))
      env[old] = v;
    SmallVector<int64_t> index;
    for (Value i : oldIndices) {
      auto v = evalIndex(i, env);
      if (!v)
        return at->emitError("a fragment index must be computed from the "
                             "T.Parallel indices and constants");
      index.push_back(*v);
    }
    for (auto [i, d] : llvm::zip(index, mine.shape()))
      if (i < 0 || i >= d)
        return at->emitError("fragment index (")
               << llvm::join(llvm::map_range(index, [](int64_t x) {
                    return std::to_string(x);
                  }), ", ")
               << ") is out of bounds";
    int64_t linear = mine.linearize(index);
    auto [holder, s] = mine.holderOf(linear);
    if (!mine.holds(t, linear))
      return at->emitError("thread ")
             << t << " runs this T.Parallel iteration but the fragment "
             << "element it touches lives in thread " << holder
             << "; fragments are per-thread registers (copy through shared "
                "memory to exchange elements)";
    if (slot >= 0 && slot != s)
      return at->emitError("this fragment access maps to different registers "
                           "on different threads; its layout does not match "
                           "the T.Parallel's");
    slot = s;
  }
  if (slot < 0)
    slot = 0;
  return success();
}

//===----------------------------------------------------------------------===//
// Ops
//===----------------------------------------------------------------------===//

LogicalResult KernelEmitter::emitBlock(Block &block) {
  if (auto pipe = dyn_cast_or_null<PipelinedOp>(block.getParentOp());
      pipe && pipe.getOrder())
    return emitInOrder(pipe, block);
  for (Operation &op : block.without_terminator()) {
    // Copies a pipelined loop issues ahead are not repeated in its body.
    if (issuedAhead.contains(&op))
      continue;
    if (failed(emitOp(&op)))
      return failure();
  }
  return success();
}

LogicalResult KernelEmitter::emitOp(Operation *op) {
  loc = op->getLoc();
  // Gemms check their own operands (one may accumulate into registers an
  // earlier wgmma still writes); loops and branches handle what stays in
  // flight across them.
  if (!isa<GemmOp, scf::ForOp, scf::IfOp, PipelinedOp>(op))
    waitIfTouchesWgmma(op);
  // What thread 0 stored for everyone is read only after a barrier.
  if (sync.globalWrite && !isa<scf::ForOp, scf::IfOp, PipelinedOp>(op) &&
      !isScalarGlobalUpdate(op) && usesGlobal(op))
    statementBarrier();
  if (auto alloc = dyn_cast<AllocOp>(op))
    return emitAlloc(alloc);
  if (auto copy = dyn_cast<CopyOp>(op))
    return emitCopy(copy);
  if (auto fill = dyn_cast<FillOp>(op))
    return emitFill(fill);
  if (auto gemm = dyn_cast<GemmOp>(op))
    return emitGemm(gemm);
  if (auto reduce = dyn_cast<ReduceOp>(op))
    return emitReduce(reduce);
  if (auto par = dyn_cast<ParallelOp>(op))
    return emitParallel(par);
  if (auto loadOp = dyn_cast<memref::LoadOp>(op))
    return emitLoad(loadOp);
  if (auto storeOp = dyn_cast<memref::StoreOp>(op))
    return emitStore(storeOp);
  if (auto forOp = dyn_cast<scf::ForOp>(op))
    return emitFor(forOp);
  if (auto ifOp = dyn_cast<scf::IfOp>(op))
    return emitIf(ifOp);
  if (auto whileOp = dyn_cast<scf::WhileOp>(op))
    return emitWhile(whileOp);
  if (auto atomic = dyn_cast<AtomicAddOp>(op))
    return emitAtomicAdd(atomic);
  if (auto pipe = dyn_cast<PipelinedOp>(op)) {
    if (failed(mapOperands(op)))
      return failure();
    return emitPipelined(pipe);
  }
  if (isa<BarrierOp>(op)) {
    barrier();
    return success();
  }
  // nvidia-insert-barriers decided this wait (before a barrier).
  if (auto w = dyn_cast<NVVM::WgmmaWaitGroupSyncOp>(op)) {
    if (w.getGroup() != 0)
      return op->emitError("internal error: only waits for every wgmma group "
                           "are placed between statements");
    waitForWgmma();
    return success();
  }
  // nvidia-insert-proxy-fences decided this fence.
  if (isa<NVVM::FenceProxyOp>(op)) {
    fenceProxyAsync();
    return success();
  }
  if (auto castOp = dyn_cast<CastOp>(op)) {
    if (failed(mapOperands(op)))
      return failure();
    map.map(castOp.getResult(),
            tile::convertScalar(b, loc, map.lookup(castOp.getInput()),
                               castOp.getType()));
    return success();
  }
  if (auto dim = dyn_cast<memref::DimOp>(op)) {
    FailureOr<Value> v = lookup(dim.getResult());
    return failure(failed(v));
  }
  if (auto print = dyn_cast<PrintOp>(op))
    return emitPrint(print);
  if (isa<math::MathDialect>(op->getDialect()) &&
      !isa<math::Exp2Op, math::ExpOp, math::Log2Op, math::LogOp, math::SqrtOp,
           math::RsqrtOp, math::AbsFOp, math::AbsIOp, math::FmaOp,
           math::FloorOp, math::CeilOp, math::TanhOp>(op))
    return op->emitError("'") << op->getName()
                              << "' is not supported on the cuda target yet";
  if (op->getNumRegions() == 0 &&
      isa<arith::ArithDialect, math::MathDialect>(op->getDialect())) {
    if (failed(mapOperands(op)))
      return failure();
    // exp, log and tanh have no PTX instruction: express them with ex2/lg2.
    if (auto e = dyn_cast<math::ExpOp>(op)) {
      Value x = map.lookup(e.getOperand());
      auto log2e = arith::ConstantOp::create(
          b, loc, b.getFloatAttr(x.getType(), 1.4426950408889634));
      map.map(e.getResult(),
              math::Exp2Op::create(b, loc, arith::MulFOp::create(b, loc, x, log2e)));
      return success();
    }
    // log2 of an f32: PTX's lg2.approx (LLVM's NVPTX backend has no
    // lowering for llvm.log2.f32 but a call to a library it does not have).
    auto log2 = [&](Value x) -> Value {
      if (!x.getType().isF32())
        return math::Log2Op::create(b, loc, x);
      return LLVM::CallIntrinsicOp::create(b, loc, x.getType(),
                                           b.getStringAttr("llvm.nvvm.lg2.approx.f"),
                                           ValueRange{x})
          .getResult(0);
    };
    if (auto l = dyn_cast<math::LogOp>(op)) {
      Value x = map.lookup(l.getOperand());
      auto ln2 = arith::ConstantOp::create(
          b, loc, b.getFloatAttr(x.getType(), 0.6931471805599453));
      map.map(l.getResult(), arith::MulFOp::create(b, loc, log2(x), ln2));
      return success();
    }
    if (auto l = dyn_cast<math::Log2Op>(op)) {
      map.map(l.getResult(), log2(map.lookup(l.getOperand())));
      return success();
    }
    if (auto t = dyn_cast<math::TanhOp>(op)) {
      // tanh(x) = 1 - 2 / (exp(2x) + 1)
      Value x = map.lookup(t.getOperand());
      Type ft = x.getType();
      auto c = [&](double v) {
        return arith::ConstantOp::create(b, loc, b.getFloatAttr(ft, v));
      };
      Value e2x = math::Exp2Op::create(
          b, loc, arith::MulFOp::create(b, loc, x, c(2 * 1.4426950408889634)));
      Value q = arith::DivFOp::create(b, loc, c(2.0),
                                      arith::AddFOp::create(b, loc, e2x, c(1.0)));
      map.map(t.getResult(), arith::SubFOp::create(b, loc, c(1.0), q));
      return success();
    }
    b.clone(*op, map);
    return success();
  }
  return op->emitError("'") << op->getName()
                            << "' is not supported inside a kernel on the "
                               "cuda target yet";
}

} // namespace tessel::nvidia::lowering
