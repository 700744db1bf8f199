//===- LowerTileToNVVM.cpp - tile programs on the threads of a Hopper block ===//
//
// A tile program describes what a whole block computes. This pass decides
// what each thread does and writes it down with upstream ops: arith and scf
// for the arithmetic and control flow, the LLVM dialect for memory, NVVM for
// thread indices, barriers, shuffles and warpgroup MMA.
//
// The lowering walks each kernel body once, emitting code as it goes (like a
// code generator rather than a set of patterns), because what an op becomes
// depends on context: a load from a fragment inside `tile.parallel` becomes a
// register read whose slot is known only once the iteration is known.
//
//===----------------------------------------------------------------------===//

#include "backends/nvidia/Passes.h"
#include "backends/nvidia/ThreadMap.h"
#include "backends/nvidia/WarpSchedule.h"

#include "backends/cpu/Passes.h"
#include "dialects/tile/IR/TileOps.h"
#include "dialects/tile/Transforms/Layouts.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

#include <numeric>

namespace tessel::nvidia {
#define GEN_PASS_DEF_TILELOWERTONVVMPASS
#include "backends/nvidia/Passes.h.inc"
} // namespace tessel::nvidia

#define DEBUG_TYPE "tile-lower-to-nvvm"

using namespace mlir;
using namespace tessel;
using namespace tessel::tile;
using tessel::nvidia::SlotFormula;
using tessel::nvidia::ThreadMap;
using tessel::nvidia::Ring;
using tessel::nvidia::RoleSchedule;
using tessel::nvidia::ScheduleStep;
using tessel::nvidia::WarpSchedule;

namespace {

constexpr unsigned kGlobalSpace = 1, kSharedSpace = 3;
constexpr const char *kSharedSymbol = "__tessel_smem";

/// fp8 values and bools live in memory as bytes; everything else as itself.
Type storageType(Type t) {
  if (auto f = dyn_cast<FloatType>(t); f && f.getWidth() == 8)
    return IntegerType::get(t.getContext(), 8);
  if (t.isInteger(1))
    return IntegerType::get(t.getContext(), 8);
  return t;
}

/// A scalar as memory holds it: fp8 as its bits, a bool as the byte 0 or 1.
Value toStorage(OpBuilder &b, Location loc, Value v) {
  Type t = v.getType(), stored = storageType(t);
  if (stored == t)
    return v;
  if (t.isInteger(1))
    return arith::ExtUIOp::create(b, loc, stored, v);
  return arith::BitcastOp::create(b, loc, stored, v);
}

/// A scalar read from memory as an element of type `elt`: any nonzero byte is
/// a true bool.
Value fromStorage(OpBuilder &b, Location loc, Value v, Type elt) {
  if (v.getType() == elt)
    return v;
  if (elt.isInteger(1))
    return arith::CmpIOp::create(
        b, loc, arith::CmpIPredicate::ne, v,
        arith::ConstantOp::create(b, loc, b.getIntegerAttr(v.getType(), 0)));
  return arith::BitcastOp::create(b, loc, elt, v);
}

/// Bytes an element occupies in memory: a bool (i1) takes one, as numpy and
/// torch store it.
int64_t byteWidth(Type t) { return std::max<int64_t>(1, (t.getIntOrFloatBitWidth() + 7) / 8); }

int64_t product(ArrayRef<int64_t> v) {
  return std::accumulate(v.begin(), v.end(), int64_t(1), std::multiplies<>());
}

//===----------------------------------------------------------------------===//
// Compile-time facts about index values of the input program
//===----------------------------------------------------------------------===//

/// The value of `v` given values for some block arguments, if `v` is built
/// from them and constants by integer arithmetic.
std::optional<int64_t> evalIndex(Value v, const DenseMap<Value, int64_t> &env,
                                 int depth = 0) {
  if (auto it = env.find(v); it != env.end())
    return it->second;
  if (depth > 64)
    return std::nullopt;
  Operation *def = v.getDefiningOp();
  if (!def)
    return std::nullopt;
  if (auto c = dyn_cast<arith::ConstantOp>(def)) {
    if (auto i = dyn_cast<IntegerAttr>(c.getValue()))
      return i.getValue().getSExtValue();
    return std::nullopt;
  }
  if (isa<arith::IndexCastOp, arith::IndexCastUIOp>(def))
    return evalIndex(def->getOperand(0), env, depth + 1);
  if (def->getNumOperands() != 2)
    return std::nullopt;
  auto a = evalIndex(def->getOperand(0), env, depth + 1);
  if (!a)
    return std::nullopt;
  auto b = evalIndex(def->getOperand(1), env, depth + 1);
  if (!b)
    return std::nullopt;
  int64_t x = *a, y = *b;
  return llvm::TypeSwitch<Operation *, std::optional<int64_t>>(def)
      .Case([&](arith::AddIOp) { return x + y; })
      .Case([&](arith::SubIOp) { return x - y; })
      .Case([&](arith::MulIOp) { return x * y; })
      .Case([&](arith::DivSIOp) -> std::optional<int64_t> {
        return y ? std::optional<int64_t>(x / y) : std::nullopt;
      })
      .Case([&](arith::RemSIOp) -> std::optional<int64_t> {
        return y ? std::optional<int64_t>(x % y) : std::nullopt;
      })
      .Case([&](arith::FloorDivSIOp) -> std::optional<int64_t> {
        return y ? std::optional<int64_t>(llvm::divideFloorSigned(x, y))
                 : std::nullopt;
      })
      .Case([&](arith::CeilDivSIOp) -> std::optional<int64_t> {
        return y ? std::optional<int64_t>(llvm::divideCeilSigned(x, y))
                 : std::nullopt;
      })
      .Case([&](arith::MinSIOp) { return std::min(x, y); })
      .Case([&](arith::MaxSIOp) { return std::max(x, y); })
      .Default([](Operation *) { return std::nullopt; });
}

/// The value of `v` if it is a constant expression.
std::optional<int64_t> evalConstant(Value v) {
  DenseMap<Value, int64_t> none;
  return evalIndex(v, none);
}

/// Closed bounds [lo, hi] on an index value of the input program.
struct IndexRange {
  int64_t lo, hi;
};

/// Bounds on `v` from constants, the kernel's block indices (`blockRanges`
/// maps each to [0, grid - 1]) and the induction variables of loops with
/// constant bounds, combined by interval arithmetic. Nothing when `v` is
/// built from anything else or could overflow.
std::optional<IndexRange>
indexRange(Value v, const DenseMap<Value, IndexRange> &blockRanges, int depth = 0) {
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
int64_t knownMultiple(Value v, int depth = 0) {
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
// Buffers
//===----------------------------------------------------------------------===//

enum class Space { Global, Shared, Fragment, Local };

/// Where a shared tile's element (r, c) lives: gemm operands are stored
/// K-major (transposed when the logical layout is not), in swizzle atoms of
/// `swizzle` bytes per row; other tiles are plain row-major.
struct SharedPlacement {
  int64_t offset = 0;
  bool transposed = false;
  int64_t swizzle = 0; // 0, 32, 64 or 128
  int64_t rows = 0;    // physical rows (the M or N extent)
  int64_t cols = 0;    // physical columns (the K extent)
};

struct Buffer {
  Space space;
  MemRefType type;
  Value ptr; // global: the kernel parameter; fragment/local: the alloca
  SharedPlacement shared;
  /// Inside a software-pipelined loop: the byte offset of the stage this
  /// iteration reads (replaces shared.offset), and the bytes of all stages.
  Value stageOffset;
  std::optional<std::pair<int64_t, int64_t>> stageRange;
  std::optional<ThreadMap> map;
  Operation *def = nullptr;
  /// Global tensors: per dimension, the launch's extent (an index) where the
  /// type's is dynamic; null where it is static.
  SmallVector<Value> dynamicExtents;

  Type elementType() const { return type.getElementType(); }
  ArrayRef<int64_t> shape() const { return type.getShape(); }
  bool hasStaticShape() const { return type.hasStaticShape(); }
};

/// The bytes a shared tile occupies.
std::pair<int64_t, int64_t> sharedRange(const Buffer &buf) {
  if (buf.stageRange)
    return *buf.stageRange;
  int64_t bytes = product(buf.shape()) * byteWidth(buf.elementType());
  return {buf.shared.offset, buf.shared.offset + bytes};
}

/// The shared-memory byte ranges read and written since the last barrier.
struct SyncState {
  SmallVector<std::pair<int64_t, int64_t>> reads, writes;
  /// Thread 0 alone wrote global memory (a store or atomic in the kernel's
  /// scalar code) that other threads may read next.
  bool globalWrite = false;
  bool pending() const { return !reads.empty() || !writes.empty() || globalWrite; }
  static bool overlaps(ArrayRef<std::pair<int64_t, int64_t>> ranges,
                       std::pair<int64_t, int64_t> r) {
    return llvm::any_of(ranges, [&](auto x) {
      return x.first < r.second && r.first < x.second;
    });
  }
  /// Adds `o`'s ranges not already covered by one of these (the two arms
  /// of a branch start from the same state: appending both would double the
  /// lists at every branch, exponentially in a loop of branches).
  void merge(const SyncState &o) {
    auto add = [](SmallVector<std::pair<int64_t, int64_t>> &to,
                  ArrayRef<std::pair<int64_t, int64_t>> from) {
      for (auto r : from)
        if (!llvm::any_of(to, [&](auto x) {
              return x.first <= r.first && r.second <= x.second;
            }))
          to.push_back(r);
    };
    add(reads, o.reads);
    add(writes, o.writes);
    globalWrite |= o.globalWrite;
  }
};

/// wgmma groups committed but not yet waited for: the accumulators they
/// write and the register operands they read (input-program fragment
/// values), and the shared byte ranges they read. Nothing may touch those
/// registers, or write those bytes, before a wait.
struct PendingWgmma {
  SmallVector<Value> accumulators, registerOperands;
  SmallVector<std::pair<int64_t, int64_t>> shared;
  bool empty() const {
    return accumulators.empty() && registerOperands.empty() && shared.empty();
  }
  bool touches(Value v) const {
    return llvm::is_contained(accumulators, v) ||
           llvm::is_contained(registerOperands, v);
  }
  /// Whether `op`, or anything nested in it, uses such a fragment.
  bool touchedBy(Operation *op) const {
    if (empty())
      return false;
    return op
        ->walk([&](Operation *inner) {
          return llvm::any_of(inner->getOperands(),
                              [&](Value v) { return touches(v); })
                     ? WalkResult::interrupt()
                     : WalkResult::advance();
        })
        .wasInterrupted();
  }
  /// Whether everything `o` has in flight is in this set too.
  bool covers(const PendingWgmma &o) const {
    return llvm::all_of(o.accumulators,
                        [&](Value v) { return llvm::is_contained(accumulators, v); }) &&
           llvm::all_of(o.registerOperands,
                        [&](Value v) { return llvm::is_contained(registerOperands, v); }) &&
           llvm::all_of(o.shared, [&](auto r) { return llvm::is_contained(shared, r); });
  }
  void merge(const PendingWgmma &o) {
    for (Value v : o.accumulators)
      if (!llvm::is_contained(accumulators, v))
        accumulators.push_back(v);
    for (Value v : o.registerOperands)
      if (!llvm::is_contained(registerOperands, v))
        registerOperands.push_back(v);
    for (auto r : o.shared)
      if (!llvm::is_contained(shared, r))
        shared.push_back(r);
  }
};

/// The iteration being emitted inside a fragment-anchored tile.parallel.
struct ParallelContext {
  const ThreadMap *anchor = nullptr;
  int64_t slot = 0;
  SmallVector<Value> oldIvs;
};

/// A round-robin T.Parallel loop run `lanes` consecutive innermost
/// iterations per thread: the body is emitted once per lane, and the
/// accesses in `vectorized` (contiguous along the innermost index) become
/// one vector access each: loads at lane 0, read out per lane; stores
/// gathered per lane, written at the last.
struct LaneVectors {
  int64_t lanes = 1, lane = 0;
  llvm::SmallPtrSet<Operation *, 4> vectorized;
  DenseMap<Operation *, Value> loaded, gathered, address, guards;
};

//===----------------------------------------------------------------------===//
// The kernel emitter
//===----------------------------------------------------------------------===//

class KernelEmitter {
public:
  KernelEmitter(func::FuncOp oldFunc, KernelOp kernel)
      : oldFunc(oldFunc), kernel(kernel), b(kernel.getContext()),
        ctx(kernel.getContext()) {}

  LogicalResult run();

  /// Pipeline tile.pipelined copies with cp.async (the pass option).
  bool asyncCopiesEnabled = true;
  /// ... and those TMA can move, with TMA (pass option).
  bool tmaEnabled = false;
  /// ... and, on loops whose ahead copies all go by TMA, split the block
  /// into a producer warpgroup and the consumers (pass option).
  bool warpSpecializeEnabled = false;

private:
  // Helpers for building.
  /// Constants are made once, at the top of the kernel: the lowering asks
  /// for thousands of them and canonicalization would otherwise spend its
  /// time merging the copies.
  Value constant(int64_t v, Type type) {
    Value &slot = constants[{v, type}];
    if (!slot) {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(entry);
      slot = arith::ConstantOp::create(b, entry->getParentOp()->getLoc(),
                                       type, b.getIntegerAttr(type, v));
    }
    return slot;
  }
  Value cst(int64_t v) { return constant(v, b.getIndexType()); }
  Value i32(int64_t v) { return constant(v, b.getI32Type()); }
  /// The lanes of a warp that exist: all 32, or the whole block when it is
  /// smaller (shfl.sync must name only lanes that execute it).
  Value warpMask() {
    return i32(threads >= 32 ? -1 : int64_t((uint32_t(1) << threads) - 1));
  }
  Value toI64(Value index) {
    return arith::IndexCastOp::create(b, loc, b.getI64Type(), index);
  }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value mul(Value x, int64_t c) {
    if (c == 1)
      return x;
    return arith::MulIOp::create(b, loc, x, cst(c));
  }
  Value udiv(Value x, int64_t c) {
    return c == 1 ? x : (Value)arith::DivUIOp::create(b, loc, x, cst(c));
  }
  Value urem(Value x, int64_t c) {
    return arith::RemUIOp::create(b, loc, x, cst(c));
  }
  Value ult(Value x, Value y) {
    return arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, x, y);
  }
  /// The conjunction of the non-null `conds`; null when there are none.
  Value andAll(ArrayRef<Value> conds) {
    Value all;
    for (Value c : conds)
      if (c)
        all = all ? (Value)arith::AndIOp::create(b, loc, all, c) : c;
    return all;
  }
  LLVM::LLVMPointerType ptrType(unsigned space = 0) {
    return LLVM::LLVMPointerType::get(ctx, space);
  }

  /// A per-thread array of `count` elements. It is typed as an array (not an
  /// alloca with a count) so that SROA splits it into registers in its first
  /// run instead of waiting for InstCombine to rewrite the allocation.
  Value registerArray(Type elt, int64_t count) {
    Value one = arith::ConstantIntOp::create(b, loc, b.getI64Type(), 1);
    return LLVM::AllocaOp::create(b, loc, ptrType(),
                                  LLVM::LLVMArrayType::get(elt, count), one);
  }

  /// Deals `count` work items out to the block's threads round-robin:
  /// `body(q)` runs for item q = round * threads + tid, in a loop over the
  /// rounds when there is more than one, the last round predicated.
  void forEachShare(int64_t count, function_ref<void(Value)> body) {
    auto round = [&](Value k) {
      Value q = add(mul(k, threads), tid);
      guarded(count % threads ? ult(q, cst(count)) : Value(), [&] { body(q); });
    };
    int64_t rounds = llvm::divideCeil(count, threads);
    if (rounds == 1) {
      round(cst(0));
      return;
    }
    auto loop = scf::ForOp::create(b, loc, cst(0), cst(rounds), cst(1));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(loop.getBody()->getTerminator());
    round(loop.getInductionVar());
  }

  /// The row-major position of `index` in `shape`, and back.
  Value linearize(ArrayRef<Value> index, ArrayRef<int64_t> shape) {
    Value linear;
    int64_t stride = 1;
    for (int64_t d = shape.size() - 1; d >= 0; --d) {
      Value term = mul(index[d], stride);
      linear = linear ? add(linear, term) : term;
      stride *= shape[d];
    }
    return linear ? linear : cst(0);
  }
  SmallVector<Value> delinearize(Value linear, ArrayRef<int64_t> shape) {
    SmallVector<Value> index(shape.size());
    for (int64_t d = shape.size() - 1; d >= 0; --d) {
      index[d] = d ? urem(linear, shape[d]) : linear;
      if (d)
        linear = udiv(linear, shape[d]);
    }
    return index;
  }
  /// The coordinates of vector q of a tile moved `width` elements at a time
  /// along its last dimension.
  SmallVector<Value> vectorIndex(Value q, ArrayRef<int64_t> shape, int64_t width) {
    SmallVector<int64_t> vectors(shape);
    vectors.back() /= width;
    SmallVector<Value> index = delinearize(q, vectors);
    index.back() = mul(index.back(), width);
    return index;
  }

  /// Inline PTX the compiler may not move or drop (`result` null: none).
  Value inlineAsm(Type result, ValueRange operands, StringRef text,
                  StringRef constraints) {
    auto op = LLVM::InlineAsmOp::create(
        b, loc, result ? TypeRange(result) : TypeRange(), operands, text,
        constraints, /*has_side_effects=*/true, /*is_align_stack=*/false,
        LLVM::tailcallkind::TailCallKind::None, LLVM::AsmDialectAttr(), ArrayAttr());
    return result ? op.getResult(0) : Value();
  }

  /// Runs `body` under `cond` (directly when `cond` is null).
  void guarded(Value cond, function_ref<void()> body) {
    if (!cond) {
      body();
      return;
    }
    auto ifOp = scf::IfOp::create(b, loc, cond, /*withElseRegion=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(ifOp.thenBlock()->getTerminator());
    body();
  }

  // Values.
  FailureOr<Value> lookup(Value old);
  FailureOr<SmallVector<Value>> lookupAll(ValueRange olds);
  LogicalResult mapOperands(Operation *op);

  // Memory.
  Value globalAddress(const Buffer &buf, ArrayRef<Value> index);
  Value sharedByteOffset(const Buffer &buf, ArrayRef<Value> index);
  Value sharedAddress(Value byteOffset);
  /// The same as the 32-bit shared-window address PTX instructions take.
  Value sharedAddress32(Value byteOffset);
  Value slotAddress(const Buffer &buf, Value slot);
  Value elementAddress(const Buffer &buf, ArrayRef<Value> index);
  /// Extent `d` of a global tensor: a constant, or the launch's value.
  Value extentOf(const Buffer &buf, int64_t d);
  Value load(Value addr, Type elt, int64_t align = 0);
  void store(Value value, Value addr, int64_t align = 0);
  Value inBounds(const Buffer &buf, ArrayRef<Value> index);
  /// Whether a copy window at `offsets` (input-program values) of `sizes`
  /// lies inside the global tensor `buf` for every block and iteration, so
  /// that its accesses need no per-element guard.
  bool windowInBounds(const Buffer &buf, ValueRange offsets,
                      ArrayRef<int64_t> sizes);
  SmallVector<Value> formulaIndex(const SlotFormula &f);
  /// (tid >> lo) & (2^bits - 1), computed once per kernel.
  Value threadField(int64_t lo, int64_t bits);
  int64_t fragmentVectorWidth(const Buffer &frag, int64_t slot,
                              const Buffer &mem, ValueRange memOffsets,
                              ArrayRef<int64_t> memSizes);
  Value threadPrefix(int64_t validThreads);
  /// For an element access of a global tensor: the condition that it lies
  /// inside the tensor, or null when that is known (loads past the edge
  /// read zero and stores there are dropped, as on the CPU backend).
  Value elementGuard(const Buffer &buf, ValueRange oldIndices, ArrayRef<Value> index);
  /// `load()` when `guard` holds, else zero (no guard: just `load()`).
  Value guarded(Value guard, Type type, llvm::function_ref<Value()> load);

  // Synchronization.
  void barrier();
  /// A store or atomic add into a global tensor in the kernel's scalar code
  /// (outside every T.Parallel): thread 0 alone does it.
  bool isScalarGlobalUpdate(Operation *op) const {
    Value dst;
    if (auto store = dyn_cast<memref::StoreOp>(op))
      dst = store.getMemRef();
    else if (auto atomic = dyn_cast<AtomicAddOp>(op))
      dst = atomic.getDst();
    auto it = dst ? buffers.find(dst) : buffers.end();
    return it != buffers.end() && it->second->space == Space::Global && !parallelDepth &&
           !parallel;
  }
  /// Whether `op`, or an op nested in it, uses a global tensor.
  bool usesGlobal(Operation *op) const {
    return op->walk([&](Operation *inner) {
               for (Value v : inner->getOperands())
                 if (auto it = buffers.find(v);
                     it != buffers.end() && it->second->space == Space::Global)
                   return WalkResult::interrupt();
               return WalkResult::advance();
             }).wasInterrupted();
  }
  /// fence.proxy.async.shared::cta, unless one was just emitted.
  void fenceProxyAsync();
  /// Waits for every committed wgmma group and pins the accumulators they
  /// wrote below the wait; nothing when none is pending.
  void waitForWgmma();
  /// What the gemms `ops` issue would leave pending.
  PendingWgmma wgmmaIssuedIn(Operation *root);
  /// What may be in flight at the top of every iteration of `loop`: what is
  /// in flight on entry, plus what an iteration can leave in flight at its
  /// end (the body's waits replayed, conservatively, to a fixpoint).
  /// `refilled` is the stage area a pipelined loop writes at the top.
  PendingWgmma wgmmaAtLoopTop(Operation *loop, Block &body,
                              std::optional<std::pair<int64_t, int64_t>> refilled = {});
  /// Waits first when `op` (or anything nested in it) uses a fragment an
  /// in-flight wgmma writes or reads.
  void waitIfTouchesWgmma(Operation *op);
  void beforeSharedAccess(ArrayRef<const Buffer *> reads,
                          ArrayRef<const Buffer *> writes,
                          ArrayRef<const Buffer *> asyncReads = {});
  /// The same for raw byte ranges (the reduction scratch area).
  void beforeSharedRanges(ArrayRef<std::pair<int64_t, int64_t>> reads,
                          ArrayRef<std::pair<int64_t, int64_t>> writes);

  /// The buffer `v` names; null (after an error at `user`) if none.
  const Buffer *bufferOf(Value v, Operation *user) {
    auto it = buffers.find(v);
    if (it != buffers.end())
      return it->second.get();
    user->emitError("internal error: '") << user->getName()
                                         << "' uses a tile Tessel did not allocate";
    return nullptr;
  }

  // Decisions taken before emission.
  LogicalResult placeSharedTiles();
  LogicalResult resolveFragmentSlot(const Buffer &buf, ValueRange oldIndices,
                                    Operation *at, int64_t &slot);

  // Ops.
  LogicalResult emitBlock(Block &block);
  LogicalResult emitOp(Operation *op);
  LogicalResult emitAlloc(AllocOp op);
  LogicalResult emitCopy(CopyOp op);
  LogicalResult emitCooperativeCopy(CopyOp op, const Buffer &src,
                                    const Buffer &dst, ArrayRef<int64_t> shape);
  LogicalResult emitFill(FillOp op);
  LogicalResult emitGemm(GemmOp op);
  LogicalResult emitTransposingCopy(CopyOp op, const Buffer &src,
                                    const Buffer &dst, ArrayRef<int64_t> shape);
  LogicalResult emitReduce(ReduceOp op);
  LogicalResult emitReduceThroughShared(ReduceOp op);
  /// T.print: vprintf lines prefixed with the message and the block and
  /// thread; scalars by every thread that reaches it, a fragment's elements
  /// by the threads holding them, a shared or global tile's by thread 0.
  LogicalResult emitPrint(PrintOp op);
  /// One vprintf call of `format` with `values` (ints as i64, floats as
  /// double, as C's varargs promote them).
  void vprintf(StringRef format, ArrayRef<Value> values);
  /// Reserves `bytes` of the reduction scratch area (after the tiles; its
  /// offset, `reductionBase`, is set when the kernel's shared memory is
  /// known) and returns the range that stands for it in barrier placement.
  std::pair<int64_t, int64_t> reserveScratch(int64_t bytes);
  /// What a reduction combines for element `x`: |x| for abssum/absmax.
  Value reductionInput(ReduceKind kind, Value x);
  /// Runs `each` for every slot of `map` some thread holds, with its
  /// formula; a layout the cuda target cannot express is an error at `op`
  /// naming `layout`.
  LogicalResult forEachSlot(const ThreadMap &map, Operation *op, StringRef layout,
                            function_ref<LogicalResult(int64_t, const SlotFormula &)> each);
  /// The same for many results: through a copy of the source tile in
  /// shared memory.
  LogicalResult emitReduceThroughScratchTile(ReduceOp op);
  LogicalResult emitParallel(ParallelOp op);
  /// How many innermost iterations of the round-robin loop `op` one thread
  /// runs together, and which of its accesses move as vectors (none: 1).
  LaneVectors planLaneVectors(ParallelOp op);
  LogicalResult emitLoad(memref::LoadOp op);
  LogicalResult emitStore(memref::StoreOp op);
  LogicalResult emitFor(scf::ForOp op);
  LogicalResult emitIf(scf::IfOp op);
  LogicalResult emitWhile(scf::WhileOp op);
  LogicalResult emitPipelined(PipelinedOp op);
  /// The copies of a pipelined loop's body that can run ahead as cp.async
  /// (and, with stage=, that the author put in stage 0).
  SmallVector<CopyOp> asyncCopies(PipelinedOp op);
  /// stage= as given: 0 (ahead) for copies that can run ahead, the last
  /// stage for the compute; anything else is a located error.
  LogicalResult checkStages(PipelinedOp op);
  /// The body of a pipelined loop with order=: its statements in that
  /// order, each after the arithmetic it uses; an order that would run a
  /// statement before one whose value or tile it depends on is an error.
  LogicalResult emitInOrder(PipelinedOp op, Block &body);
  /// `old`, a value of the loop body computed from the induction variable,
  /// re-emitted for iteration `iv`; null if it depends on anything else the
  /// body computes.
  Value valueAtIteration(Value old, Block &body, Value iv);
  LogicalResult emitAsyncCopy(CopyOp op, Block &body, Value iv);
  /// Whether TMA can move this (pipelined) copy: a 2-d row-major global
  /// tensor into a whole K-major swizzled tile.
  bool tmaCopyable(CopyOp op);
  /// The kernel parameter holding the TMA descriptor for `op`'s source and
  /// box (added on first use).
  Value tensorMapParam(CopyOp op);
  /// Thread 0 issues `op`'s TMA loads for iteration `iv`, completing on the
  /// mbarrier at shared byte offset `barrier`.
  void emitTmaCopy(CopyOp op, Block &body, Value iv, Value barrier);
  /// Descriptors added to the kernel: (copy's source tensor argument, box,
  /// swizzle) -> parameter.
  SmallVector<std::tuple<unsigned, SmallVector<int64_t>, int64_t, Value>> tensorMaps;
  /// Copies of the body to skip (issued ahead by the pipeline instead).
  DenseSet<Operation *> issuedAhead;

  /// How a T.Pipelined loop runs: the copies issued ahead (those TMA moves
  /// among them), how many stages, where each tile's stage buffers and the
  /// stage barriers live, and, when the block is warp-specialized, the
  /// producer/consumer protocol.
  struct PipelinePlan {
    SmallVector<CopyOp> copies, tmaCopies;
    SmallVector<int64_t> strides, tileBase;
    int64_t stages = 0, perStage = 0, tmaBytes = 0;
    std::pair<int64_t, int64_t> area;
    /// Byte offsets of the stage mbarriers: TMA completion ("full"), and
    /// with warp specialization the consumers' release ("empty").
    int64_t fullBarriers = -1, emptyBarriers = -1;
    bool specialized = false;
    WarpSchedule schedule;
  };
  /// The copies, stages and TMA use of `op`; nothing when it runs as a plain
  /// loop. Places nothing.
  std::optional<PipelinePlan> planPipeline(PipelinedOp op, bool specialized);
  /// Places the plan's stage buffers and barriers above stageTop.
  void placePipeline(PipelinePlan &plan);
  /// Points the plan's tiles at stage `stage`, and back at their own place.
  void setStage(const PipelinePlan &plan, Value stage);
  void clearStage(const PipelinePlan &plan) {
    for (CopyOp c : plan.copies) {
      Buffer &dst = *buffers.find(c.getDst())->second;
      dst.stageOffset = Value();
      dst.stageRange.reset();
    }
  }
  Value stageBarrier(const PipelinePlan &plan, Ring ring, Value stage) {
    int64_t base = ring == Ring::Full ? plan.fullBarriers : plan.emptyBarriers;
    return sharedAddress32(add(cst(base), mul(stage, 8)));
  }
  /// Spins until the phase of `parity` of the mbarrier at `bar` completes.
  void waitParity(Value bar, Value parity);
  /// mbarrier operations on the barrier at 32-bit shared address `bar`.
  void initBarrier(Value bar, int64_t arrivals) {
    inlineAsm(Type(), SmallVector<Value>{bar, i32(arrivals)},
              "mbarrier.init.shared::cta.b64 [$0], $1;", "r,r");
  }
  void fenceBarrierInit() {
    inlineAsm(Type(), SmallVector<Value>{}, "fence.mbarrier_init.release.cluster;", "");
  }
  void arriveExpectTx(Value bar, int64_t bytes) {
    inlineAsm(Type(), SmallVector<Value>{bar, i32(bytes)},
              "mbarrier.arrive.expect_tx.shared::cta.b64 _, [$0], $1;", "r,r");
  }
  /// Whether the producer can compute `v` (for iteration `iv` of `body`) at
  /// the top of the kernel: from constants, block indices, scalar
  /// parameters, tensor extents, elements of tensors the kernel does not
  /// write (the consumers read the same values), and arithmetic on them.
  bool producerComputable(Value v, Block &body, int depth = 0);
  /// Whether the kernel writes global tensor `memref` anywhere.
  bool writtenInKernel(Value memref);
  std::optional<DenseSet<Value>> kernelWrites;
  /// Decides which pipelined loops the producer feeds (at the top of the
  /// kernel, or directly under a top-level `if` whose condition the
  /// producer computes too), and when any, splits the block: thread 0
  /// creates the barriers, the last warpgroup (the producer) gives up
  /// registers and runs each loop's loads (under the same condition), the
  /// consumers take the registers and run the kernel.
  LogicalResult warpSpecialize(Block &body);
  void emitProducerLoop(PipelinedOp op, const PipelinePlan &plan);
  LogicalResult emitConsumerLoop(PipelinedOp op, const PipelinePlan &plan);
  /// Each role's steps of a warp schedule, emitted for the iteration
  /// `index` (0-based) of the loop.
  void emitScheduleSteps(const PipelinePlan &plan, const RoleSchedule &role,
                         Value index, function_ref<void()> load,
                         function_ref<LogicalResult()> read, LogicalResult &status);
  DenseMap<Operation *, PipelinePlan> plans;
  /// The block is split into producer and consumers: barriers name only the
  /// consumers (`threads` of them); the producer warpgroup comes after.
  bool specialized = false;
  scf::IfOp roleSplit;
  /// Registers per thread at launch, the producer's and the consumers'.
  SmallVector<int64_t> registerSplit;
  LogicalResult emitLoop(Operation *op, Value lb, Value ub, Value step,
                         Block &body);
  LogicalResult emitAtomicAdd(AtomicAddOp op);

  func::FuncOp oldFunc;
  KernelOp kernel;
  OpBuilder b;
  MLIRContext *ctx;
  Location loc = UnknownLoc::get(ctx);
  func::FuncOp newFunc;
  Block *entry = nullptr;
  /// Hoisted scalars and register arrays go in front of this op, the first
  /// of the kernel's own code.
  Operation *prologueEnd = nullptr;
  IRMapping map;
  /// Buffers by the value that names them; heap-allocated so references
  /// stay valid while the map grows.
  DenseMap<Value, std::unique_ptr<Buffer>> buffers;
  DenseMap<Value, SharedPlacement> placements;
  Value tid, smemBase;
  int64_t threads = 0;
  DenseMap<std::pair<int64_t, Type>, Value> constants;
  DenseMap<std::pair<int64_t, int64_t>, Value> threadFields;
  /// Shared memory past the planned tiles for cross-warp reductions: where
  /// it starts and the most any reduction uses.
  int64_t scratchBase = 0, scratchBytes = 0;
  /// Stage buffers of pipelined loops are placed from scratchBase up, as
  /// loops are met; the reductions' scratch goes above the last of them, so
  /// its base is a constant fixed once emission is over.
  int64_t stageTop = 0;
  arith::ConstantOp reductionBase;
  /// [0, grid - 1] for each block index of the input kernel.
  DenseMap<Value, IndexRange> blockRanges;
  SyncState sync;
  /// Shared tiles the async proxy reads or writes somewhere in the kernel
  /// (wgmma operands, pipelined copy destinations): generic writes to
  /// their bytes are fenced (fence.proxy.async) before the barrier that
  /// publishes them, since no barrier orders them for the async proxy.
  SmallVector<Value> asyncTiles;
  PendingWgmma wgmma;
  std::optional<ParallelContext> parallel;
  /// T.Parallel loops being emitted: their shared accesses were ordered
  /// against earlier ones as a whole, before the loop (iterations are
  /// independent), so no element access inside needs its own barrier.
  unsigned parallelDepth = 0;
  /// T.print call sites so far (each has its own format string).
  unsigned printCount = 0;
  /// Set while a lane-vectorized T.Parallel body is emitted.
  std::optional<LaneVectors> laneVectors;
};

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
    Value v = cpu::convertScalar(b, loc, *input, castOp.getType());
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
// Synchronization
//===----------------------------------------------------------------------===//

void KernelEmitter::fenceProxyAsync() {
  // One fence covers this thread's generic writes: none twice in a row.
  Block *block = b.getInsertionBlock();
  Block::iterator ip = b.getInsertionPoint();
  if (ip != block->begin() && isa<NVVM::FenceProxyOp>(*std::prev(ip)))
    return;
  NVVM::FenceProxyOp::create(
      b, loc, NVVM::ProxyKind::async_shared,
      NVVM::SharedSpaceAttr::get(ctx, NVVM::SharedSpace::shared_cta));
}

void KernelEmitter::barrier() {
  bool asyncVisible = llvm::any_of(asyncTiles, [&](Value tile) {
    auto it = buffers.find(tile);
    return it != buffers.end() && it->second->space == Space::Shared &&
           SyncState::overlaps(sync.writes, sharedRange(*it->second));
  });
  if (asyncVisible)
    fenceProxyAsync();
  if (specialized) {
    // Only the consumers run the kernel's code: a named barrier for them
    // (barrier 0 would wait for the producer too).
    NVVM::BarrierOp::create(b, loc, Type(), i32(1), i32(threads),
                            NVVM::BarrierReductionAttr(), Value());
  } else {
    NVVM::Barrier0Op::create(b, loc);
  }
  sync = SyncState();
}

void KernelEmitter::waitForWgmma() {
  if (wgmma.empty())
    return;
  NVVM::WgmmaWaitGroupSyncOp::create(b, loc, 0);
  // Keep later uses of the accumulators below the wait: their registers go
  // through an empty asm statement the compiler cannot move (one statement
  // for up to 128 registers).
  Type f32 = b.getF32Type();
  for (Value acc : wgmma.accumulators) {
    const Buffer &C = *buffers.find(acc)->second;
    for (int64_t first = 0; first < C.map->slots(); first += 128) {
      int64_t count = std::min<int64_t>(128, C.map->slots() - first);
      SmallVector<Value> regs;
      std::string constraints;
      for (int64_t r = 0; r < count; ++r) {
        regs.push_back(load(slotAddress(C, cst(first + r)), f32));
        constraints += "=f,";
      }
      for (int64_t r = 0; r < count; ++r)
        constraints += std::to_string(r) + (r + 1 < count ? "," : "");
      auto structType =
          LLVM::LLVMStructType::getLiteral(ctx, SmallVector<Type>(count, f32));
      Value pinned =
          inlineAsm(structType, regs, "", constraints);
      for (int64_t r = 0; r < count; ++r)
        store(LLVM::ExtractValueOp::create(b, loc, pinned, r),
              slotAddress(C, cst(first + r)));
    }
  }
  // This thread's wgmmas are done, other threads' maybe not: the bytes they
  // read now count as ordinary reads, which a writer must barrier after.
  sync.reads.append(wgmma.shared.begin(), wgmma.shared.end());
  wgmma = PendingWgmma();
}

PendingWgmma KernelEmitter::wgmmaIssuedIn(Operation *root) {
  PendingWgmma issued;
  root->walk([&](GemmOp gemm) {
    auto it = buffers.find(gemm.getC());
    if (it == buffers.end() || it->second->space != Space::Fragment)
      return;
    issued.accumulators.push_back(gemm.getC());
    for (Value operand : {gemm.getA(), gemm.getB()}) {
      auto buf = buffers.find(operand);
      if (buf == buffers.end())
        continue;
      if (buf->second->space == Space::Fragment)
        issued.registerOperands.push_back(operand);
      else if (buf->second->space == Space::Shared)
        issued.shared.push_back(sharedRange(*buf->second));
    }
  });
  return issued;
}

PendingWgmma KernelEmitter::wgmmaAtLoopTop(
    Operation *loop, Block &body,
    std::optional<std::pair<int64_t, int64_t>> refilled) {
  // One iteration from `start`: the same waits the emission will place,
  // or fewer (which only keeps more in flight: safe).
  auto iterate = [&](PendingWgmma p) {
    if (refilled && SyncState::overlaps(p.shared, *refilled))
      p = PendingWgmma();
    for (Operation &op : body.without_terminator()) {
      if (auto gemm = dyn_cast<GemmOp>(&op)) {
        if (p.touches(gemm.getA()) || p.touches(gemm.getB()) ||
            llvm::is_contained(p.registerOperands, gemm.getC()))
          p = PendingWgmma();
        p.merge(wgmmaIssuedIn(gemm));
        continue;
      }
      if (isa<scf::ForOp, scf::IfOp, PipelinedOp>(&op)) {
        p.merge(wgmmaIssuedIn(&op)); // nested: no waits assumed
        continue;
      }
      if (p.touchedBy(&op)) {
        p = PendingWgmma();
        continue;
      }
      if (auto copy = dyn_cast<CopyOp>(&op); copy && !issuedAhead.contains(copy)) {
        auto dst = buffers.find(copy.getDst());
        if (dst != buffers.end() && dst->second->space == Space::Shared &&
            SyncState::overlaps(p.shared, sharedRange(*dst->second)))
          p = PendingWgmma();
      }
    }
    return p;
  };
  PendingWgmma entry = wgmma, top = wgmma;
  for (int round = 0; round < 4; ++round) {
    PendingWgmma next = entry;
    next.merge(iterate(top));
    if (next.accumulators.size() == top.accumulators.size() &&
        next.registerOperands.size() == top.registerOperands.size() &&
        next.shared.size() == top.shared.size())
      return top;
    top = next;
  }
  // No fixpoint in a few rounds: everything the loop issues.
  top.merge(wgmmaIssuedIn(loop));
  return top;
}

void KernelEmitter::waitIfTouchesWgmma(Operation *op) {
  if (wgmma.touchedBy(op))
    waitForWgmma();
}

/// A barrier before reading bytes other threads wrote, or before writing
/// bytes other threads may still read or write. wgmma reads shared memory
/// through the async proxy, so generic-proxy writes are fenced first.
void KernelEmitter::beforeSharedAccess(ArrayRef<const Buffer *> reads,
                                       ArrayRef<const Buffer *> writes,
                                       ArrayRef<const Buffer *> asyncReads) {
  auto range = [](const Buffer *buf) { return sharedRange(*buf); };
  // Bytes an in-flight wgmma reads are written only after it completes
  // (and, through the barrier below, after every thread's has: the wait
  // turns its ranges into ordinary reads).
  for (const Buffer *w : writes)
    if (SyncState::overlaps(wgmma.shared, range(w)))
      waitForWgmma();
  bool needed = false, fence = false;
  for (const Buffer *r : reads)
    needed |= SyncState::overlaps(sync.writes, range(r));
  for (const Buffer *r : asyncReads) {
    bool dirty = SyncState::overlaps(sync.writes, range(r));
    needed |= dirty;
    fence |= dirty;
  }
  for (const Buffer *w : writes)
    needed |= SyncState::overlaps(sync.writes, range(w)) ||
              SyncState::overlaps(sync.reads, range(w));
  if (fence)
    fenceProxyAsync();
  if (needed)
    barrier();
  for (const Buffer *r : reads)
    sync.reads.push_back(range(r));
  // Async reads are recorded by the gemm as in flight (PendingWgmma) until
  // a wait turns them into ordinary reads.
  for (const Buffer *w : writes)
    sync.writes.push_back(range(w));
}

void KernelEmitter::beforeSharedRanges(
    ArrayRef<std::pair<int64_t, int64_t>> reads,
    ArrayRef<std::pair<int64_t, int64_t>> writes) {
  bool needed = false;
  for (auto r : reads)
    needed |= SyncState::overlaps(sync.writes, r);
  for (auto w : writes)
    needed |= SyncState::overlaps(sync.writes, w) ||
              SyncState::overlaps(sync.reads, w);
  if (needed)
    barrier();
  sync.reads.append(reads.begin(), reads.end());
  sync.writes.append(writes.begin(), writes.end());
}

//===----------------------------------------------------------------------===//
// Decisions
//===----------------------------------------------------------------------===//

/// Gemm operands in shared memory are stored K-major and swizzled; a tile
/// used both ways is an error.
LogicalResult KernelEmitter::placeSharedTiles() {
  WalkResult result = kernel.walk([&](GemmOp gemm) -> WalkResult {
    for (int operand = 0; operand < 2; ++operand) {
      Value v = operand == 0 ? gemm.getA() : gemm.getB();
      auto alloc = v.getDefiningOp<AllocOp>();
      if (!alloc || getMemoryScope(alloc.getType()) != MemoryScope::Shared)
        continue;
      MemRefType type = alloc.getType();
      if (type.getRank() != 2)
        return gemm.emitError("gemm operands must be 2-d tiles");
      // The K dimension of the logical tile.
      bool kFirst = operand == 0 ? gemm.getTransposeA() : !gemm.getTransposeB();
      SharedPlacement p;
      p.transposed = kFirst;
      p.rows = type.getDimSize(kFirst ? 1 : 0);
      p.cols = type.getDimSize(kFirst ? 0 : 1);
      int64_t rowBytes = p.cols * byteWidth(type.getElementType());
      if (rowBytes % 128 == 0)
        p.swizzle = 128;
      else if (rowBytes == 64 || rowBytes == 32)
        p.swizzle = rowBytes;
      else
        return gemm.emitError("the K extent of a shared gemm operand must "
                              "span 32, 64 or a multiple of 128 bytes; it "
                              "spans ")
               << rowBytes << " bytes";
      if (p.rows % 8)
        return gemm.emitError("a shared gemm operand needs a multiple of 8 "
                              "rows along M/N; it has ")
               << p.rows;
      if (auto it = placements.find(v); it != placements.end()) {
        if (it->second.transposed != p.transposed)
          return gemm.emitError("this tile is a gemm operand both K-major and "
                                "MN-major; store a transposed copy");
        continue;
      }
      placements[v] = p;
    }
    return WalkResult::advance();
  });
  return failure(result.wasInterrupted());
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
    barrier();
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
  if (auto castOp = dyn_cast<CastOp>(op)) {
    if (failed(mapOperands(op)))
      return failure();
    map.map(castOp.getResult(),
            cpu::convertScalar(b, loc, map.lookup(castOp.getInput()),
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
    if (!offset)
      return op.emitError("internal error: shared tile without an offset "
                          "(tile-plan-memory has not run)");
    if (auto it = placements.find(op.getResult()); it != placements.end())
      buf.shared = it->second;
    buf.shared.offset = offset.getInt();
    if (buf.shared.swizzle && buf.shared.offset % (8 * buf.shared.swizzle))
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

SmallVector<int64_t> squeezed(ArrayRef<int64_t> sizes) {
  SmallVector<int64_t> shape;
  llvm::copy_if(sizes, std::back_inserter(shape), [](int64_t s) { return s != 1; });
  return shape;
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
    if (ArrayRef<int64_t>(fragSizes) != frag.shape() ||
        llvm::any_of(fragOffsets, [](Value v) {
          auto c = evalConstant(v);
          return !c || *c != 0;
        }))
      return op.emitError("the cuda target copies whole fragments only");
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
        v = cpu::convertScalar(b, loc, v, dstElt);
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
    for (int64_t s = 0, width = 1; s < frag.map->slots(); s += width) {
      width = fragmentVectorWidth(frag, s,  mem,
                                  toMemory ? op.getDstOffsets() : op.getSrcOffsets(),
                                  memSizes);
      std::optional<SlotFormula> f = frag.map->formula(s);
      if (!f)
        return op.emitError("the cuda target cannot express which element "
                            "each thread holds in this fragment's layout");
      if (!f->validThreads)
        continue;
      SmallVector<Value> fragIndex = formulaIndex(*f);
      SmallVector<Value> squeezedIndex;
      for (auto [i, size] : llvm::zip(fragIndex, frag.shape()))
        if (size != 1)
          squeezedIndex.push_back(i);
      SmallVector<Value> memIndex =
          cpu::regionIndices(b, loc, memOffsets, memSizes, squeezedIndex);
      SmallVector<Value> conds;
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
        guarded(andAll(conds), [&] {
          Value addr = elementAddress(mem, memIndex);
          if (width == 1) {
            Value v = load(slotAddress(frag, cst(s)), srcElt);
            store(cpu::convertScalar(b, loc, v, dstElt), addr);
            return;
          }
          Value vec = LLVM::UndefOp::create(b, loc, vecType);
          for (int64_t i = 0; i < width; ++i) {
            Value v = load(slotAddress(frag, cst(s + i)), srcElt);
            v = cpu::convertScalar(b, loc, v, dstElt);
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
          store(cpu::convertScalar(b, loc, v, dstElt), slotAddress(frag, cst(s + i)));
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
        cpu::regionIndices(b, loc, srcOff, op.getSrcSizes(), ivRange);
    SmallVector<Value> dstIdx =
        cpu::regionIndices(b, loc, dstOff, op.getDstSizes(), ivRange);
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
        v = cpu::convertScalar(b, loc, v, dstElt);
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
          v = cpu::convertScalar(b, loc, v, dstElt);
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
      SmallVector<Value> srcIdx = cpu::regionIndices(b, loc, srcOff, op.getSrcSizes(), ivs);
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
      SmallVector<Value> dstIdx = cpu::regionIndices(b, loc, dstOff, op.getDstSizes(), ivs);
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

//===----------------------------------------------------------------------===//
// Gemm
//===----------------------------------------------------------------------===//

/// The PTX name of a wgmma operand type.
std::optional<NVVM::WGMMATypes> wgmmaType(Type t) {
  if (t.isF16())
    return NVVM::WGMMATypes::f16;
  if (t.isBF16())
    return NVVM::WGMMATypes::bf16;
  if (isa<Float8E4M3FNType>(t))
    return NVVM::WGMMATypes::e4m3;
  if (isa<Float8E5M2Type>(t))
    return NVVM::WGMMATypes::e5m2;
  if (t.isInteger(8)) // T.int8 is signed
    return NVVM::WGMMATypes::s8;
  return std::nullopt;
}

LogicalResult KernelEmitter::emitGemm(GemmOp op) {
  const Buffer *a = bufferOf(op.getA(), op), *bb = bufferOf(op.getB(), op),
               *c = bufferOf(op.getC(), op);
  if (!a || !bb || !c)
    return failure();
  const Buffer &A = *a, &B = *bb, &C = *c;
  Type eltA = A.elementType(), eltB = B.elementType();
  // int8 x int8 accumulates exactly in s32; floats in f32.
  bool integer = eltA.isInteger(8) && eltB.isInteger(8);
  Type accType = integer ? Type(b.getI32Type()) : Type(b.getF32Type());
  if (C.space != Space::Fragment || C.elementType() != accType)
    return op.emitError("on the cuda target the gemm accumulator must be ")
           << (integer ? "an int32" : "an f32") << " fragment";
  if (B.space != Space::Shared)
    return op.emitError("on the cuda target gemm's B operand must be in "
                        "shared memory (T.alloc_shared)");
  if (A.space != Space::Shared && A.space != Space::Fragment)
    return op.emitError("on the cuda target gemm's A operand must be in "
                        "shared memory or a fragment");
  auto typeA = wgmmaType(eltA), typeB = wgmmaType(eltB);
  if (eltA.isF32() || eltB.isF32())
    return op.emitError("float32 gemms are not supported on the cuda target "
                        "(wgmma's tf32 would round the operands to 10 mantissa "
                        "bits); T.copy the tiles to bfloat16 or float16 ones");
  if (!typeA || !typeB)
    return op.emitError("wgmma takes f16, bf16, float8_e4m3, float8_e5m2 or "
                        "int8 operands, not ")
           << eltA << " and " << eltB;
  // 8-bit operands (fp8, int8): K steps of 32, K-major only, no transpose
  // flags; int8 has no operand scales either.
  bool fp8 = byteWidth(eltA) == 1;
  if (fp8 != (byteWidth(eltB) == 1) || (!fp8 && eltA != eltB) ||
      eltA.isInteger(8) != eltB.isInteger(8))
    return op.emitError("gemm operands must have the same type (or both be "
                        "fp8)");
  int64_t m = C.shape()[0], n = C.shape()[1];
  int64_t k = A.shape()[op.getTransposeA() ? 0 : 1];
  int64_t kStep = fp8 ? 32 : 16;
  if (k % kStep)
    return op.emitError("the gemm's K extent (")
           << k << ") must be a multiple of " << kStep << " for wgmma";
  auto grid = splitWarpgroups(op.getPolicy(), threads / 128, m, n);
  if (!grid || threads % 128)
    return op.emitError("internal error: no warpgroup split for this gemm");
  if (FragmentLayoutAttr want = accumulatorLayout(ctx, *grid, m, n);
      cast<AllocOp>(C.def).getLayoutAttr() != want)
    return op.emitError("the accumulator's layout is not the wgmma layout "
                        "this gemm needs");
  int64_t mw = m / grid->alongM, nw = n / grid->alongN;
  bool registerA = A.space == Space::Fragment;
  if (registerA) {
    if (fp8)
      return op.emitError("8-bit gemms read A from shared memory on the cuda "
                          "target; T.copy the fragment to a shared tile");
    if (op.getTransposeA())
      return op.emitError("a register A operand cannot be transposed");
    FragmentLayoutAttr want =
        accumulatorLayout(ctx, WarpgroupGrid{grid->alongM, 1}, m, k);
    if (grid->alongN != 1 || cast<AllocOp>(A.def).getLayoutAttr() != want)
      return op.emitError("a register A operand needs the wgmma accumulator "
                          "layout and a gemm split along M only "
                          "(policy=T.GemmWarpPolicy.FullRow)");
  }

  // wgmmas on the same accumulator are ordered by the hardware; anything
  // else this gemm shares with one in flight waits for it.
  if (wgmma.touches(op.getA()) || wgmma.touches(op.getB()) ||
      llvm::is_contained(wgmma.registerOperands, op.getC()))
    waitForWgmma();
  SmallVector<const Buffer *> asyncReads{&B};
  if (A.space == Space::Shared)
    asyncReads.push_back(&A);
  beforeSharedAccess({}, {}, asyncReads);
  Value wg = udiv(tid, 128);
  Value wgM = udiv(wg, grid->alongN), wgN = urem(wg, grid->alongN);
  auto sharedBase = [&]() -> Value {
    return LLVM::PtrToIntOp::create(b, loc, b.getI64Type(), smemBase);
  };
  // The descriptor of the K-major tile `buf` at physical row `row`, column
  // 0; column k's is it plus `stepDelta(buf, k)`. Only the bases are values:
  // the per-step descriptors are formed inside the asm statement, so no
  // more than two 64-bit values per chunk stay live (hoisting one per K step
  // out of a loop cost a register pair each: 72 of them for K = 576).
  auto descriptor = [&](const Buffer &buf, Value row) -> Value {
    const SharedPlacement &p = buf.shared;
    Value off = mul(row, p.swizzle);
    off = add(buf.stageOffset ? buf.stageOffset : cst(p.offset), off);
    Value addr = arith::AddIOp::create(b, loc, sharedBase(), toI64(off));
    auto c64 = [&](int64_t v) {
      return arith::ConstantIntOp::create(b, loc, b.getI64Type(), v);
    };
    Value start = arith::ShRUIOp::create(
        b, loc, arith::AndIOp::create(b, loc, addr, c64(0x3FFFF)), c64(4));
    int64_t mode = p.swizzle == 128 ? 1 : p.swizzle == 64 ? 2 : 3;
    int64_t fixed = (int64_t(1) << 16) | ((8 * p.swizzle >> 4) << 32) |
                    (mode << 62);
    return arith::OrIOp::create(b, loc, start, c64(fixed));
  };
  // What column `kElem` adds to the descriptor's start address (in 16-byte
  // units, the field's unit). Shared memory ends below 256 KiB, so the sum
  // stays inside the 14-bit field.
  auto stepDelta = [&](const Buffer &buf, int64_t kElem) -> int64_t {
    const SharedPlacement &p = buf.shared;
    int64_t kb = kElem * byteWidth(buf.elementType());
    return ((kb / p.swizzle) * p.rows * p.swizzle + kb % p.swizzle) >> 4;
  };

  // The wgmma.fence that orders earlier accesses to the accumulator and A
  // registers before the wgmmas opens each asm statement: as a statement of
  // its own, LLVM placed the copies that set up the tied accumulator
  // operands between it and the wgmmas (accesses the fence must precede;
  // ptxas warned C7515 and the emulator's wgmma register check fails them).
  for (int64_t slab = 0; slab < mw / 64; ++slab) {
    for (int64_t n0 = 0; n0 < nw; n0 += 256) {
      int64_t nc = std::min<int64_t>(256, nw - n0);
      int64_t regs = nc / 2;
      int64_t firstSlot = slab * (nw / 2) + n0 / 2;
      auto structType =
          LLVM::LLVMStructType::getLiteral(ctx, SmallVector<Type>(regs, accType));
      Value acc = LLVM::UndefOp::create(b, loc, structType);
      for (int64_t r = 0; r < regs; ++r)
        acc = LLVM::InsertValueOp::create(
            b, loc, acc, load(slotAddress(C, cst(firstSlot + r)), accType), r);
      Value rowA = add(mul(wgM, mw), cst(slab * 64));
      Value rowB = add(mul(wgN, nw), cst(n0));
      // All K steps of this accumulator chunk are one asm statement: the
      // accumulator registers are tied through it and the per-step
      // operands follow (upstream's wgmma op would re-split the 64-register
      // struct at every step, which costs compile time for nothing).
      // Operands: $0..$(regs-1) the accumulators, then B's base descriptor,
      // then A's base descriptor or, per step, four A registers, then two
      // flags for scale-d (the first step's, zero when clearing; then one).
      SmallVector<Value> operands;
      for (int64_t r = 0; r < regs; ++r)
        operands.push_back(LLVM::ExtractValueOp::create(b, loc, acc, r));
      std::string constraints;
      for (int64_t r = 0; r < regs; ++r)
        constraints += integer ? "=r," : "=f,";
      for (int64_t r = 0; r < regs; ++r)
        constraints += std::to_string(r) + ",";
      int64_t steps = k / kStep;
      std::string shape = "m64n" + std::to_string(nc) + "k" + std::to_string(kStep);
      std::string types = std::string(integer ? ".s32." : ".f32.") +
                          NVVM::stringifyWGMMATypes(*typeA).str() + "." +
                          NVVM::stringifyWGMMATypes(*typeB).str();
      int64_t baseB = 2 * regs, baseA = baseB + 1;
      operands.push_back(descriptor(B, rowB));
      constraints += "l,";
      if (!registerA) {
        operands.push_back(descriptor(A, rowA));
        constraints += "l,";
      }
      int64_t flagOperand = baseA + (registerA ? 4 * steps : 1);
      std::string text;
      llvm::raw_string_ostream os(text);
      os << "{\n.reg .pred first, rest;\n.reg .b64 da, db;\nwgmma.fence.sync.aligned;\n"
         << "setp.ne.b32 first, $"
         << flagOperand << ", 0;\nsetp.ne.b32 rest, $" << flagOperand + 1
         << ", 0;\n";
      for (int64_t kk = 0; kk < steps; ++kk) {
        os << "add.s64 db, $" << baseB << ", " << stepDelta(B, kk * kStep) << ";\n";
        if (!registerA)
          os << "add.s64 da, $" << baseA << ", " << stepDelta(A, kk * kStep)
             << ";\n";
        os << "wgmma.mma_async.sync.aligned." << shape << types << " {";
        for (int64_t r = 0; r < regs; ++r)
          os << (r ? ", " : "") << "$" << r;
        os << "}, ";
        if (registerA) {
          // The fragment's slots for this slab and K step are the m64k16 A
          // fragment's eight halves, in order.
          int64_t aFirst = slab * (k / 2) + kk * 8;
          int64_t first = baseA + 4 * kk;
          auto pair = VectorType::get({2}, eltA);
          for (int64_t p = 0; p < 4; ++p) {
            Value v = LLVM::UndefOp::create(b, loc, pair);
            for (int64_t h = 0; h < 2; ++h)
              v = LLVM::InsertElementOp::create(
                  b, loc, v, load(slotAddress(A, cst(aFirst + 2 * p + h)), eltA),
                  i32(h));
            operands.push_back(LLVM::BitcastOp::create(b, loc, b.getI32Type(), v));
            constraints += "r,";
          }
          os << "{$" << first << ", $" << first + 1 << ", $" << first + 2 << ", $"
             << first + 3 << "}, db";
        } else {
          os << "da, db";
        }
        // scale-d, then (floats) scale-a and scale-b, then the transpose
        // flags (f16/bf16 only; none for a register A).
        os << ", " << (kk ? "rest" : "first");
        if (!integer)
          os << ", 1, 1";
        if (!fp8)
          os << (registerA ? ", 0" : ", 0, 0");
        os << ";\n";
      }
      os << "}";
      operands.push_back(i32(op.getClearAccum() ? 0 : 1));
      operands.push_back(i32(1));
      constraints += "r,r";
      acc = inlineAsm(structType, operands, text, constraints);
      for (int64_t r = 0; r < regs; ++r)
        store(LLVM::ExtractValueOp::create(b, loc, acc, r),
              slotAddress(C, cst(firstSlot + r)));
    }
  }
  NVVM::WgmmaGroupSyncAlignedOp::create(b, loc);
  // Not waited for here: the next op that needs the result (or the operands'
  // bytes or registers back) waits, so independent work, including another
  // gemm, overlaps with this one.
  wgmma.merge(wgmmaIssuedIn(op));
  return success();
}

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
  auto dstLinear = [&](int64_t e) {
    SmallVector<int64_t> idx = S.delinearize(e);
    idx.erase(idx.begin() + dim);
    if (idx.empty())
      idx.push_back(0);
    return D.linearize(idx);
  };
  // Each thread combines its own elements, per destination slot.
  DenseMap<int64_t, Value> partial;
  ReduceKind kind = op.getKind();
  for (int64_t s = 0; s < S.slots(); ++s) {
    int64_t dSlot = -1;
    bool any = false, all = true;
    for (int64_t t = 0; t < threads; ++t) {
      int64_t e = S.elementAt(t, s);
      if (e < 0) {
        all = false;
        continue;
      }
      any = true;
      int64_t de = dstLinear(e);
      if (!D.holds(t, de))
        return emitReduceThroughShared(op);
      int64_t ds = D.holderOf(de).second;
      if (dSlot >= 0 && ds != dSlot)
        return emitReduceThroughShared(op);
      dSlot = ds;
    }
    if (!any)
      continue;
    if (!all)
      return emitReduceThroughShared(op);
  }
  // The threads sharing a result are exactly its replicas; they combine
  // with butterfly shuffles, which must stay within a warp.
  for (int64_t e = 0, count = product(S.shape()); e < count; ++e) {
    int64_t de = dstLinear(e);
    int64_t holder = S.holderOf(e).first;
    if (!D.holds(holder, de))
      return emitReduceThroughShared(op);
  }
  int64_t mask = D.replicaMask();
  if (mask >> 5)
    return emitReduceThroughShared(op);
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
      it->second = cpu::reductionCombine(b, loc, kind, it->second, x);
  }
  for (int64_t ds = 0; ds < D.slots(); ++ds) {
    auto it = partial.find(ds);
    Value v = it != partial.end() ? it->second : cpu::reductionIdentity(b, loc, kind, elt);
    for (int64_t bit = 0; bit < 5; ++bit) {
      if (!(mask >> bit & 1))
        continue;
      Value other = NVVM::ShflOp::create(b, loc, elt, warpMask(), v,
                                         i32(int64_t(1) << bit), i32(0x1f),
                                         NVVM::ShflKind::bfly, UnitAttr());
      v = cpu::reductionCombine(b, loc, kind, v, other);
    }
    if (!op.getClear())
      v = cpu::reductionCombine(b, loc, kind, load(slotAddress(dst, cst(ds)), elt), v);
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
      promoted.push_back(cpu::convertScalar(b, loc, v, b.getF64Type()));
    else if (t.isIndex())
      promoted.push_back(toI64(v));
    else
      promoted.push_back(cpu::convertScalar(b, loc, v, b.getI64Type()));
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
  auto dstLinear = [&](int64_t e) {
    SmallVector<int64_t> idx = S.delinearize(e);
    idx.erase(idx.begin() + dim);
    if (idx.empty())
      idx.push_back(0);
    return D.linearize(idx);
  };
  Value identity = cpu::reductionIdentity(b, loc, kind, elt);
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
  beforeSharedRanges({}, {scratch});
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
        partial = partial ? cpu::reductionCombine(b, loc, kind, partial, v) : v;
      }
      for (int64_t bit = 1; bit < lanes; bit *= 2) {
        Value other = NVVM::ShflOp::create(b, loc, elt, warpMask(), partial, i32(bit),
                                           i32(0x1f), NVVM::ShflKind::bfly, UnitAttr());
        partial = cpu::reductionCombine(b, loc, kind, partial, other);
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
        v = cpu::reductionCombine(b, loc, kind, v,
                                  load(scratchAddress(cst(w), r), elt));
      if (!op.getClear())
        v = cpu::reductionCombine(b, loc, kind,
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
  beforeSharedRanges({}, {scratch});
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
  Value identity = cpu::reductionIdentity(b, loc, kind, elt);
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
        Value acc = cpu::reductionCombine(b, loc, kind, loop.getRegionIterArgs()[0], x);
        scf::YieldOp::create(b, loc, acc);
      }
      Value v = loop.getResult(0);
      if (!op.getClear())
        v = cpu::reductionCombine(b, loc, kind, load(slotAddress(dst, cst(ds)), elt), v);
      store(v, slotAddress(dst, cst(ds)));
    });
    return success();
  });
}

//===----------------------------------------------------------------------===//
// Parallel loops and memory accesses in them
//===----------------------------------------------------------------------===//

LogicalResult KernelEmitter::emitParallel(ParallelOp op) {
  ArrayRef<int64_t> extents = op.getExtents();
  Block &body = op.getBody().front();
  // The anchor: a fragment indexed by exactly the loop's indices.
  const Buffer *anchor = nullptr;
  SmallVector<const Buffer *> readsShared, writesShared;
  op.walk([&](Operation *inner) {
    Value memref;
    ValueRange indices;
    bool isStore = false;
    if (auto l = dyn_cast<memref::LoadOp>(inner)) {
      memref = l.getMemref();
      indices = l.getIndices();
    } else if (auto s = dyn_cast<memref::StoreOp>(inner)) {
      memref = s.getMemref();
      indices = s.getIndices();
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
    if (anchor || buf.space != Space::Fragment || buf.shape() != extents)
      return;
    if (llvm::equal(indices, body.getArguments()))
      anchor = &buf;
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
        for (auto [old, v] : llvm::zip(body.getArguments(), ivs))
          map.map(old, v);
        parallel = ParallelContext{&tm, s, SmallVector<Value>(body.getArguments())};
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

//===----------------------------------------------------------------------===//
// Control flow
//===----------------------------------------------------------------------===//

/// A loop runs its body under a clean barrier state: a barrier goes before
/// the loop when something is pending, and at the end of an iteration that
/// leaves something pending (the next iteration, or the code after, may
/// conflict with it).
LogicalResult KernelEmitter::emitLoop(Operation *op, Value lb, Value ub,
                                      Value step, Block &body) {
  // A loop inside a T.Parallel body runs per iteration, on some threads
  // only (the last round is predicated): a barrier there could hang, and
  // none is needed (the T.Parallel's shared accesses were ordered before it,
  // and its iterations are independent).
  bool perThread = parallelDepth > 0;
  if (sync.pending() && !perThread)
    barrier();
  // What is in flight on entry, or issued by any iteration, may be in flight
  // at the top of every iteration and after the loop.
  PendingWgmma carried = wgmmaAtLoopTop(op, body);
  wgmma = carried;
  auto loop = scf::ForOp::create(b, loc, lb, ub, step);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(loop.getBody()->getTerminator());
  map.map(body.getArgument(0), loop.getInductionVar());
  if (failed(emitBlock(body)))
    return failure();
  if (sync.pending() && !perThread)
    barrier();
  if (!carried.covers(wgmma))
    return op->emitError("internal error: an iteration leaves a wgmma in "
                         "flight that the loop's top did not account for");
  wgmma = carried;
  return success();
}

//===----------------------------------------------------------------------===//
// Software pipelining: T.Pipelined(num_stages=S)
//===----------------------------------------------------------------------===//

/// A copy runs ahead when it moves a global tile into a shared tile in 16-byte
/// pieces (same element type, rows and offsets 16-byte aligned, the shared
/// tile stored as written, not transposed), the shared tile is written by
/// nothing else and used nowhere outside the loop, and its source offsets
/// are arithmetic on the induction variable and values from outside.
/// The statements order= and stage= number: the body's operations that are
/// not pure arithmetic, in body order (as the op's verifier counts them).
SmallVector<Operation *> pipelineStatements(Block &body) {
  SmallVector<Operation *> statements;
  for (Operation &op : body.without_terminator())
    if (!isPure(&op))
      statements.push_back(&op);
  return statements;
}

/// The tiles `op` (and what it contains) reads and writes.
void tileAccesses(Operation *op, DenseSet<Value> &reads, DenseSet<Value> &writes) {
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

SmallVector<CopyOp> KernelEmitter::asyncCopies(PipelinedOp op) {
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
  for (Operation &inner : body.without_terminator()) {
    auto copy = dyn_cast<CopyOp>(&inner);
    if (!copy || computeStage.contains(copy))
      continue;
    auto srcIt = buffers.find(copy.getSrc()), dstIt = buffers.find(copy.getDst());
    if (srcIt == buffers.end() || dstIt == buffers.end())
      continue;
    const Buffer &src = *srcIt->second, &dst = *dstIt->second;
    if (src.space != Space::Global || dst.space != Space::Shared ||
        dst.shared.transposed || src.elementType() != dst.elementType())
      continue;
    int64_t bytes = byteWidth(src.elementType()), width = 16 / bytes;
    ArrayRef<int64_t> srcSizes = copy.getSrcSizes(), dstSizes = copy.getDstSizes();
    // Whole shared tile, 16-byte pieces along the last dimension on both sides.
    if (ArrayRef<int64_t>(dstSizes) != dst.shape() || dstSizes.back() % width ||
        srcSizes.back() != dstSizes.back() || ShapedType::isDynamic(src.shape().back()) ||
        src.shape().back() % width ||
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
    // Offsets computable at any iteration: try it without emitting anything.
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
      if (auto element = dyn_cast<memref::LoadOp>(def)) {
        auto it = buffers.find(element.getMemref());
        return it != buffers.end() && it->second->space == Space::Global &&
               !writtenInKernel(element.getMemref()) &&
               llvm::all_of(element.getIndices(),
                            [&](Value i) { return computable(i, depth + 1); });
      }
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
    return input ? cpu::convertScalar(b, loc, input, castOp.getType()) : Value();
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
    SmallVector<Value> srcIdx = cpu::regionIndices(b, loc, srcOff, op.getSrcSizes(), ivs);
    SmallVector<Value> dstIdx = cpu::regionIndices(b, loc, dstOff, op.getDstSizes(), ivs);
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
    SmallVector<Value> srcIdx = cpu::regionIndices(b, loc, srcOff, op.getSrcSizes(), ivs);
    SmallVector<Value> dstIdx = cpu::regionIndices(b, loc, dstOff, op.getDstSizes(), ivs);
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

/// The dimension of a TMA copy's source that runs along the tile's rows:
/// the copy window is 1 wide in every dimension but that one and the last.
std::optional<int64_t> tmaRowDim(CopyOp op, ArrayRef<int64_t> tile) {
  ArrayRef<int64_t> sizes = op.getSrcSizes();
  int64_t rank = sizes.size();
  if (rank < 2 || rank > 5 || sizes.back() != tile[1])
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

bool KernelEmitter::tmaCopyable(CopyOp op) {
  const Buffer &src = *buffers.find(op.getSrc())->second;
  const Buffer &dst = *buffers.find(op.getDst())->second;
  if (!tmaEnabled || !isa<BlockArgument>(op.getSrc()) || dst.shape().size() != 2 ||
      !dst.shared.swizzle || dst.shared.transposed || !tmaRowDim(op, dst.shape()))
    return false;
  int64_t bytes = byteWidth(src.elementType());
  // A dynamic extent is fine outermost (the launch encodes the descriptor
  // with the tensor's extents), not where it sets a stride.
  if (llvm::any_of(src.shape().drop_front(), ShapedType::isDynamic))
    return false;
  // Strides (multiples of the innermost extent) a multiple of 16 bytes; the
  // tile's rows whole swizzle atoms.
  return (src.shape().back() * bytes) % 16 == 0 &&
         (dst.shape()[1] * bytes) % dst.shared.swizzle == 0 &&
         dst.shape()[0] <= 256;
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
  if (!planned)
    return emitLoop(op, lb, ub, step, body);
  PipelinePlan &plan = *planned;
  placePipeline(plan);
  int64_t stages = plan.stages;
  ArrayRef<CopyOp> copies = plan.copies, tmaCopies = plan.tmaCopies;
  std::pair<int64_t, int64_t> area = plan.area;

  if (sync.pending())
    barrier();
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
    if (sync.pending())
      barrier();
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

//===----------------------------------------------------------------------===//
// Warp specialization
//===----------------------------------------------------------------------===//

bool KernelEmitter::writtenInKernel(Value memref) {
  // The tensors the kernel stores to, copies into or adds to, found once.
  if (!kernelWrites) {
    kernelWrites.emplace();
    kernel.walk([&](Operation *op) {
      if (auto store = dyn_cast<memref::StoreOp>(op))
        kernelWrites->insert(store.getMemref());
      else if (auto copy = dyn_cast<CopyOp>(op))
        kernelWrites->insert(copy.getDst());
      else if (auto atomic = dyn_cast<AtomicAddOp>(op))
        kernelWrites->insert(atomic.getDst());
    });
  }
  return kernelWrites->contains(memref);
}

bool KernelEmitter::producerComputable(Value v, Block &body, int depth) {
  if (v == body.getArgument(0) || evalConstant(v))
    return true;
  if (auto arg = dyn_cast<BlockArgument>(v)) {
    // Block indices and scalar parameters are known at the top.
    Block *owner = arg.getOwner();
    return owner == &kernel.getBody().front() ||
           (owner == &oldFunc.getBody().front() && !isa<MemRefType>(arg.getType()));
  }
  Operation *def = v.getDefiningOp();
  if (!def || depth > 16)
    return false;
  if (isa<memref::DimOp>(def))
    return true;
  if (auto load = dyn_cast<memref::LoadOp>(def)) {
    auto it = buffers.find(load.getMemref());
    return it != buffers.end() && it->second->space == Space::Global &&
           !writtenInKernel(load.getMemref()) &&
           llvm::all_of(load.getIndices(), [&](Value i) {
             return producerComputable(i, body, depth + 1);
           });
  }
  if (def->getNumRegions() || def->getNumResults() != 1 ||
      !(isa<arith::ArithDialect>(def->getDialect()) || isa<CastOp>(def)))
    return false;
  return llvm::all_of(def->getOperands(), [&](Value o) {
    return producerComputable(o, body, depth + 1);
  });
}

LogicalResult KernelEmitter::warpSpecialize(Block &body) {
  // The producer is one more warpgroup; the consumers run the kernel as
  // written, on whole warpgroups.
  if (!warpSpecializeEnabled || !tmaEnabled || threads % 128 || threads + 128 > 1024)
    return success();
  SmallVector<PipelinedOp> loops;
  // A loop under a top-level `if`: the condition the producer tests too.
  DenseMap<Operation *, scf::IfOp> guards;
  for (Operation &op : body.without_terminator()) {
    if (auto pipe = dyn_cast<PipelinedOp>(&op))
      loops.push_back(pipe);
    if (auto ifOp = dyn_cast<scf::IfOp>(&op)) {
      for (Region *region : {&ifOp.getThenRegion(), &ifOp.getElseRegion()}) {
        if (region->empty())
          continue;
        for (Operation &inner : region->front().without_terminator())
          if (auto pipe = dyn_cast<PipelinedOp>(&inner)) {
            loops.push_back(pipe);
            guards[pipe] = ifOp;
          }
      }
    }
  }
  if (loops.empty())
    return success();
  // The copies' tiles must be known before the code that allocates them.
  for (Operation &op : body.without_terminator())
    if (auto alloc = dyn_cast<AllocOp>(&op);
        alloc && getMemoryScope(alloc.getType()) == MemoryScope::Shared)
      if (failed(emitAlloc(alloc)))
        return failure();
  for (PipelinedOp pipe : loops) {
    std::optional<PipelinePlan> plan = planPipeline(pipe, /*specialized=*/true);
    if (!plan || plan->tmaCopies.size() != plan->copies.size())
      continue;
    Block &loopBody = pipe.getBody().front();
    SmallVector<Value> known{pipe.getLower(), pipe.getUpper(), pipe.getStep()};
    if (auto it = guards.find(pipe); it != guards.end())
      known.push_back(it->second.getCondition());
    bool computable = llvm::all_of(known, [&](Value v) { return producerComputable(v, loopBody); });
    for (CopyOp c : plan->copies)
      computable &= llvm::all_of(c.getSrcOffsets(), [&](Value v) {
        return producerComputable(v, loopBody);
      });
    if (!computable)
      continue;
    placePipeline(*plan);
    plan->schedule = WarpSchedule::standard(plan->stages, threads);
    std::string error = nvidia::verifySchedule(plan->schedule);
    if (!error.empty())
      return pipe.emitError("internal error: the warp-specialized schedule "
                            "of this loop is unsafe: ")
             << error;
    plans[pipe] = std::move(*plan);
  }
  if (plans.empty())
    return success();

  specialized = true;
  loc = kernel.getLoc();
  // Thread 0 creates every stage barrier; the whole block (producer
  // included) waits until they exist.
  Value threadZero = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, cst(0));
  guarded(threadZero, [&] {
    for (PipelinedOp pipe : loops) {
      auto it = plans.find(pipe);
      if (it == plans.end())
        continue;
      const PipelinePlan &plan = it->second;
      for (int64_t st = 0; st < plan.stages; ++st) {
        initBarrier(stageBarrier(plan, Ring::Full, cst(st)), plan.schedule.fullCount);
        initBarrier(stageBarrier(plan, Ring::Empty, cst(st)), plan.schedule.emptyCount);
      }
    }
    fenceBarrierInit();
  });
  NVVM::Barrier0Op::create(b, loc);

  // Registers: the block starts with R per thread (65536 over all its
  // threads in steps of 8, at most 255: ptxas gives a block that runs alone
  // on its SM that much); the producer keeps 40 and the consumers take
  // what it gives up, when that is more than R.
  int64_t total = threads + 128;
  int64_t start = std::min<int64_t>(255, 65536 / total / 8 * 8);
  int64_t producerRegs = 40;
  int64_t consumerRegs =
      std::min<int64_t>(240, (start + (start - producerRegs) * 128 / threads) / 8 * 8);
  if (consumerRegs <= start)
    consumerRegs = start; // nothing to gain: the consumers keep R
  roleSplit = scf::IfOp::create(b, loc, ult(tid, cst(threads)), /*withElseRegion=*/true);
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(roleSplit.elseBlock()->getTerminator());
    NVVM::SetMaxRegisterOp::create(b, loc, producerRegs, NVVM::SetMaxRegisterAction::decrease);
    Value elected = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::eq, tid, cst(threads));
    guarded(elected, [&] {
      for (PipelinedOp pipe : loops) {
        auto it = plans.find(pipe);
        if (it == plans.end())
          continue;
        auto guard = guards.find(pipe);
        if (guard == guards.end()) {
          emitProducerLoop(pipe, it->second);
          continue;
        }
        // The consumers run this loop on the branch they take; the producer
        // tests the same condition (uniform: from block indices, scalars and
        // tensors the kernel only reads) and feeds it on the same branch.
        scf::IfOp ifOp = guard->second;
        Value cond = valueAtIteration(ifOp.getCondition(), pipe.getBody().front(), Value());
        bool inThen = pipe->getParentRegion() == &ifOp.getThenRegion();
        guarded(inThen ? cond
                       : (Value)arith::XOrIOp::create(
                             b, loc, cond,
                             arith::ConstantIntOp::create(b, loc, b.getI1Type(), 1)),
                [&] { emitProducerLoop(pipe, it->second); });
      }
    });
  }
  b.setInsertionPoint(roleSplit.thenBlock()->getTerminator());
  if (consumerRegs > start)
    NVVM::SetMaxRegisterOp::create(b, loc, consumerRegs, NVVM::SetMaxRegisterAction::increase);
  registerSplit = {start, producerRegs, consumerRegs};
  return success();
}

void KernelEmitter::emitScheduleSteps(const PipelinePlan &plan, const RoleSchedule &role,
                                      Value index, function_ref<void()> load,
                                      function_ref<LogicalResult()> read,
                                      LogicalResult &status) {
  Value stage = urem(index, plan.stages);
  for (const ScheduleStep &st : role.steps) {
    Value bar = stageBarrier(plan, st.ring, stage);
    switch (st.kind) {
    case ScheduleStep::Wait: {
      Value parity = arith::AndIOp::create(b, loc, udiv(index, plan.stages), cst(1));
      if (st.flip)
        parity = arith::XOrIOp::create(b, loc, parity, cst(1));
      waitParity(bar, arith::IndexCastOp::create(b, loc, b.getI32Type(), parity));
      break;
    }
    case ScheduleStep::Arrive:
      // Every thread of the role arrives once.
      assert(st.arrivals == role.threads && "one arrival per thread");
      inlineAsm(Type(), SmallVector<Value>{bar}, "mbarrier.arrive.shared::cta.b64 _, [$0];", "r");
      break;
    case ScheduleStep::ArriveExpectTx:
      arriveExpectTx(bar, plan.tmaBytes);
      break;
    case ScheduleStep::Load:
      load();
      break;
    case ScheduleStep::Read:
      if (failed(read()))
        status = failure();
      break;
    }
  }
}

/// The producer: for every iteration, the steps of the plan's schedule,
/// its loads being the loop's TMA copies into the iteration's stage.
void KernelEmitter::emitProducerLoop(PipelinedOp op, const PipelinePlan &plan) {
  Block &body = op.getBody().front();
  loc = op.getLoc();
  Value lb = valueAtIteration(op.getLower(), body, Value());
  Value ub = valueAtIteration(op.getUpper(), body, Value());
  Value step = valueAtIteration(op.getStep(), body, Value());
  auto loop = scf::ForOp::create(b, loc, lb, ub, step);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPoint(loop.getBody()->getTerminator());
  Value i = loop.getInductionVar();
  Value index = arith::DivUIOp::create(b, loc, arith::SubIOp::create(b, loc, i, lb), step);
  LogicalResult status = success();
  emitScheduleSteps(
      plan, plan.schedule.producer, index,
      [&] {
        Value stage = urem(index, plan.stages);
        setStage(plan, stage);
        for (CopyOp c : plan.copies) {
          loc = c.getLoc();
          emitTmaCopy(c, body, i, add(cst(plan.fullBarriers), mul(stage, 8)));
        }
        loc = op.getLoc();
      },
      [] { return success(); }, status);
  clearStage(plan);
}

/// The consumers: for every iteration, the steps of the plan's schedule,
/// the read being the loop body (its ahead copies skipped) on the
/// iteration's stage. wgmmas still reading the stage finish before the
/// consumers release it.
LogicalResult KernelEmitter::emitConsumerLoop(PipelinedOp op, const PipelinePlan &plan) {
  Block &body = op.getBody().front();
  Value lb = map.lookup(op.getLower()), ub = map.lookup(op.getUpper()),
        step = map.lookup(op.getStep());
  if (sync.pending())
    barrier();
  for (CopyOp c : plan.copies)
    issuedAhead.insert(c);
  PendingWgmma carried = wgmmaAtLoopTop(op, body, plan.area);
  wgmma = carried;
  auto loop = scf::ForOp::create(b, loc, lb, ub, step);
  LogicalResult status = success();
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPoint(loop.getBody()->getTerminator());
    Value i = loop.getInductionVar();
    map.map(body.getArgument(0), i);
    Value index = arith::DivUIOp::create(b, loc, arith::SubIOp::create(b, loc, i, lb), step);
    emitScheduleSteps(
        plan, plan.schedule.consumer, index, [] {},
        [&]() -> LogicalResult {
          setStage(plan, urem(index, plan.stages));
          if (failed(emitBlock(body)))
            return failure();
          loc = op.getLoc();
          if (SyncState::overlaps(wgmma.shared, plan.area))
            waitForWgmma();
          // Only the producer writes the stages, and only after the release
          // that follows: the consumers' reads of them need no barrier.
          llvm::erase_if(sync.reads, [&](std::pair<int64_t, int64_t> r) {
            return r.first >= plan.area.first && r.second <= plan.area.second;
          });
          return success();
        },
        status);
    if (succeeded(status)) {
      if (sync.pending())
        barrier();
      if (!carried.covers(wgmma))
        status = op->emitError("internal error: an iteration leaves a wgmma in "
                               "flight that the loop's top did not account for");
    }
  }
  for (CopyOp c : plan.copies)
    issuedAhead.erase(c);
  clearStage(plan);
  wgmma = carried;
  return status;
}

LogicalResult KernelEmitter::emitFor(scf::ForOp op) {
  if (failed(mapOperands(op)))
    return failure();
  if (!op.getInitArgs().empty()) {
    if (sync.pending())
      barrier();
    PendingWgmma carried = wgmmaAtLoopTop(op, *op.getBody());
    wgmma = carried;
    SmallVector<Value> inits;
    for (Value v : op.getInitArgs())
      inits.push_back(map.lookup(v));
    auto loop = scf::ForOp::create(b, loc, map.lookup(op.getLowerBound()),
                                   map.lookup(op.getUpperBound()),
                                   map.lookup(op.getStep()), inits);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(loop.getBody());
      map.map(op.getInductionVar(), loop.getInductionVar());
      for (auto [old, nv] : llvm::zip(op.getRegionIterArgs(), loop.getRegionIterArgs()))
        map.map(old, nv);
      if (failed(emitBlock(*op.getBody())))
        return failure();
      if (sync.pending())
        barrier();
      if (!carried.covers(wgmma))
        return op->emitError("internal error: an iteration leaves a wgmma in "
                             "flight that the loop's top did not account for");
      FailureOr<SmallVector<Value>> yields =
          lookupAll(op.getBody()->getTerminator()->getOperands());
      if (failed(yields))
        return failure();
      scf::YieldOp::create(b, loc, *yields);
    }
    wgmma = carried;
    for (auto [old, nv] : llvm::zip(op.getResults(), loop.getResults()))
      map.map(old, nv);
    return success();
  }
  return emitLoop(op, map.lookup(op.getLowerBound()),
                  map.lookup(op.getUpperBound()), map.lookup(op.getStep()),
                  *op.getBody());
}

LogicalResult KernelEmitter::emitIf(scf::IfOp op) {
  if (failed(mapOperands(op)))
    return failure();
  auto ifOp = scf::IfOp::create(b, loc, op.getResultTypes(),
                                map.lookup(op.getCondition()),
                                /*withElseRegion=*/true);
  SyncState before = sync, after;
  PendingWgmma wgmmaBefore = wgmma, wgmmaAfter;
  for (auto [oldRegion, newRegion] :
       llvm::zip(op->getRegions(), ifOp->getRegions())) {
    sync = before;
    wgmma = wgmmaBefore;
    Block *newBlock = &newRegion.front();
    OpBuilder::InsertionGuard guard(b);
    if (!newBlock->empty())
      newBlock->getTerminator()->erase();
    b.setInsertionPointToEnd(newBlock);
    if (!oldRegion.empty()) {
      if (failed(emitBlock(oldRegion.front())))
        return failure();
      FailureOr<SmallVector<Value>> yields =
          lookupAll(oldRegion.front().getTerminator()->getOperands());
      if (failed(yields))
        return failure();
      scf::YieldOp::create(b, loc, *yields);
    } else {
      scf::YieldOp::create(b, loc);
    }
    after.merge(sync);
    wgmmaAfter.merge(wgmma);
  }
  sync = after;
  wgmma = wgmmaAfter;
  for (auto [old, nv] : llvm::zip(op.getResults(), ifOp.getResults()))
    map.map(old, nv);
  return success();
}

/// A device `while` (the frontend's form: no loop-carried values). Threads
/// may run different numbers of iterations, so its body may not need a
/// block barrier: one that touches shared memory another thread reads is
/// refused.
LogicalResult KernelEmitter::emitWhile(scf::WhileOp op) {
  if (!op.getInits().empty() || op.getNumResults())
    return op->emitError("a while loop with loop-carried values is not supported on the "
                         "cuda target yet");
  if (sync.pending())
    barrier();
  auto loop = scf::WhileOp::create(b, loc, TypeRange{}, ValueRange{});
  OpBuilder::InsertionGuard guard(b);
  b.createBlock(&loop.getBefore());
  if (failed(emitBlock(op.getBefore().front())))
    return failure();
  auto condition = cast<scf::ConditionOp>(op.getBefore().front().getTerminator());
  FailureOr<Value> cond = lookup(condition.getCondition());
  if (failed(cond))
    return failure();
  scf::ConditionOp::create(b, loc, *cond, ValueRange{});
  b.createBlock(&loop.getAfter());
  if (failed(emitBlock(op.getAfter().front())))
    return failure();
  if (sync.pending())
    return op->emitError("this while loop's body shares memory between threads, which "
                         "needs a block barrier inside a loop threads may leave at "
                         "different times; not supported on the cuda target yet");
  scf::YieldOp::create(b, loc);
  return success();
}

//===----------------------------------------------------------------------===//
// The kernel function
//===----------------------------------------------------------------------===//

/// The T.dynamic name of dimension `dim` of argument `arg` of `func`
/// (tessel.dynamic_dims), or "".
static std::string dynamicName(func::FuncOp func, unsigned arg, int64_t dim) {
  auto all = func->getAttrOfType<ArrayAttr>("tessel.dynamic_dims");
  if (!all || arg >= all.size())
    return "";
  auto dims = dyn_cast<ArrayAttr>(all[arg]);
  if (!dims || dim >= int64_t(dims.size()))
    return "";
  auto name = dyn_cast<StringAttr>(dims[dim]);
  return name ? name.str() : "";
}

/// A grid extent the launcher computes from the dynamic dimensions, in the
/// manifest's expression form: integers, dimension names, and add, sub,
/// mul, floordiv, ceildiv, rem, min, max of two; nothing when `v` is built
/// from anything else.
static std::optional<std::string> gridExpression(func::FuncOp func, Value v,
                                                 int depth = 0) {
  if (depth > 64)
    return std::nullopt;
  if (auto c = evalConstant(v))
    return std::to_string(*c);
  Operation *def = v.getDefiningOp();
  if (!def)
    return std::nullopt;
  if (auto dim = dyn_cast<memref::DimOp>(def)) {
    auto arg = dyn_cast<BlockArgument>(dim.getSource());
    auto index = evalConstant(dim.getIndex());
    if (!arg || !index || arg.getOwner()->getParentOp() != func.getOperation())
      return std::nullopt;
    std::string name = dynamicName(func, arg.getArgNumber(), *index);
    if (name.empty())
      return std::nullopt;
    return name;
  }
  if (isa<arith::IndexCastOp, arith::IndexCastUIOp>(def))
    return gridExpression(func, def->getOperand(0), depth + 1);
  StringRef name =
      llvm::TypeSwitch<Operation *, StringRef>(def)
          .Case<arith::AddIOp>([](auto) { return "add"; })
          .Case<arith::SubIOp>([](auto) { return "sub"; })
          .Case<arith::MulIOp>([](auto) { return "mul"; })
          .Case<arith::DivUIOp, arith::DivSIOp, arith::FloorDivSIOp>(
              [](auto) { return "floordiv"; })
          .Case<arith::CeilDivUIOp, arith::CeilDivSIOp>([](auto) { return "ceildiv"; })
          .Case<arith::RemUIOp, arith::RemSIOp>([](auto) { return "rem"; })
          .Case<arith::MinSIOp, arith::MinUIOp>([](auto) { return "min"; })
          .Case<arith::MaxSIOp, arith::MaxUIOp>([](auto) { return "max"; })
          .Default([](Operation *) { return ""; });
  if (name.empty() || def->getNumOperands() != 2)
    return std::nullopt;
  auto lhs = gridExpression(func, def->getOperand(0), depth + 1);
  auto rhs = gridExpression(func, def->getOperand(1), depth + 1);
  if (!lhs || !rhs)
    return std::nullopt;
  return (name + "(" + *lhs + ", " + *rhs + ")").str();
}

LogicalResult KernelEmitter::run() {
  threads = kernel.getThreads();
  if (threads <= 0 || threads > 1024)
    return kernel.emitError("a block has 1 to 1024 threads on the cuda target");
  // The signature: a global pointer per tensor, scalars as themselves, then
  // the launch's value of each T.dynamic dimension (i64, in order of first
  // appearance).
  SmallVector<Type> params;
  SmallVector<std::string> dynamicNames;
  for (BlockArgument arg : oldFunc.getArguments()) {
    if (auto type = dyn_cast<MemRefType>(arg.getType())) {
      for (int64_t d = 0; d < type.getRank(); ++d) {
        if (!type.isDynamicDim(d))
          continue;
        std::string name = dynamicName(oldFunc, arg.getArgNumber(), d);
        if (name.empty())
          return oldFunc.emitError("argument ")
                 << arg.getArgNumber() << "'s dimension " << d
                 << " is dynamic without a T.dynamic name; the cuda target "
                    "passes dynamic dimensions by name";
        if (!llvm::is_contained(dynamicNames, name))
          dynamicNames.push_back(name);
      }
      params.push_back(ptrType(kGlobalSpace));
      continue;
    }
    params.push_back(arg.getType().isIndex() ? b.getI64Type() : arg.getType());
  }
  for (size_t i = 0; i < dynamicNames.size(); ++i)
    params.push_back(b.getI64Type());
  // A grid extent is a constant, or an expression the launcher evaluates
  // over the dynamic dimensions (then 0 here).
  SmallVector<int32_t> grid;
  SmallVector<std::string> gridExprs;
  for (Value extent : kernel.getGrid()) {
    if (auto v = evalConstant(extent)) {
      grid.push_back(*v);
      gridExprs.push_back("");
      blockRanges[kernel.getBody().front().getArgument(grid.size() - 1)] =
          IndexRange{0, int64_t(*v) - 1};
      continue;
    }
    std::optional<std::string> expr = gridExpression(oldFunc, extent);
    if (!expr)
      return kernel.emitError("the cuda target computes a grid extent at launch "
                              "only from constants and T.dynamic dimensions "
                              "(with + - * // ceildiv % min max)");
    grid.push_back(0);
    gridExprs.push_back(*expr);
  }
  while (grid.size() < 3) {
    grid.push_back(1);
    gridExprs.push_back("");
  }

  b.setInsertionPoint(oldFunc);
  newFunc = func::FuncOp::create(b, oldFunc.getLoc(),
                                 (oldFunc.getName() + ".cuda").str(),
                                 b.getFunctionType(params, {}));
  entry = newFunc.addEntryBlock();
  b.setInsertionPointToStart(entry);
  loc = kernel.getLoc();
  SmallVector<Value> dynamicValues;
  for (size_t i = 0; i < dynamicNames.size(); ++i)
    dynamicValues.push_back(arith::IndexCastOp::create(
        b, loc, b.getIndexType(),
        entry->getArgument(oldFunc.getNumArguments() + i)));
  for (auto [old, param] : llvm::zip(oldFunc.getArguments(), entry->getArguments())) {
    if (auto type = dyn_cast<MemRefType>(old.getType())) {
      Buffer buf;
      buf.space = Space::Global;
      buf.type = type;
      buf.ptr = param;
      buf.dynamicExtents.assign(type.getRank(), Value());
      for (int64_t d = 0; d < type.getRank(); ++d)
        if (type.isDynamicDim(d)) {
          std::string name = dynamicName(oldFunc, old.getArgNumber(), d);
          buf.dynamicExtents[d] =
              dynamicValues[llvm::find(dynamicNames, name) - dynamicNames.begin()];
        }
      buffers[old] = std::make_unique<Buffer>(std::move(buf));
      continue;
    }
    Value v = param;
    if (old.getType().isIndex())
      v = arith::IndexCastOp::create(b, loc, b.getIndexType(), param);
    map.map(old, v);
  }
  auto threadId = NVVM::ThreadIdXOp::create(b, loc, b.getI32Type());
  prologueEnd = threadId;
  tid = arith::IndexCastOp::create(b, loc, b.getIndexType(), threadId);
  Block &body = kernel.getBody().front();
  for (auto [d, arg] : llvm::enumerate(body.getArguments())) {
    Value id = d == 0   ? (Value)NVVM::BlockIdXOp::create(b, loc, b.getI32Type())
               : d == 1 ? (Value)NVVM::BlockIdYOp::create(b, loc, b.getI32Type())
                        : (Value)NVVM::BlockIdZOp::create(b, loc, b.getI32Type());
    map.map(arg, arith::IndexCastOp::create(b, loc, b.getIndexType(), id));
  }
  smemBase = LLVM::AddressOfOp::create(b, loc, ptrType(kSharedSpace), kSharedSymbol);

  int64_t sharedBytes = 0;
  if (auto attr = kernel->getAttrOfType<IntegerAttr>("tessel.shared_bytes"))
    sharedBytes = attr.getInt();
  scratchBase = llvm::alignTo(sharedBytes, 1024);
  stageTop = scratchBase;
  kernel.walk([&](Operation *op) {
    if (auto gemm = dyn_cast<GemmOp>(op)) {
      asyncTiles.push_back(gemm.getA());
      asyncTiles.push_back(gemm.getB());
    } else if (auto copy = dyn_cast<CopyOp>(op); copy && copy->getParentOfType<PipelinedOp>()) {
      asyncTiles.push_back(copy.getDst());
    }
  });
  if (failed(placeSharedTiles()) || failed(warpSpecialize(body)) ||
      failed(emitBlock(body)))
    return failure();
  waitForWgmma();
  if (roleSplit)
    b.setInsertionPointAfter(roleSplit);
  func::ReturnOp::create(b, loc);
  if (stageTop > scratchBase)
    sharedBytes = stageTop;
  if (scratchBytes) {
    int64_t base = llvm::alignTo(sharedBytes, 16);
    reductionBase.setValueAttr(b.getIndexAttr(base));
    sharedBytes = base + scratchBytes;
  }
  {
    constexpr int64_t kMaxShared = 232448; // 227 KB per block on sm_90
    if (sharedBytes > kMaxShared)
      return kernel.emitError("the kernel's shared tiles, pipeline stages and ")
             << scratchBytes << " bytes of reduction scratch need "
             << sharedBytes << " bytes of shared memory; a block has at most "
             << kMaxShared;
  }
  // nvvm.kernel and nvvm.maxntid go on once the function is an llvm.func.
  newFunc->setAttr("tessel.grid", b.getDenseI32ArrayAttr(grid));
  if (llvm::any_of(gridExprs, [](auto &e) { return !e.empty(); })) {
    SmallVector<StringRef> exprs(gridExprs.begin(), gridExprs.end());
    newFunc->setAttr("tessel.grid_exprs", b.getStrArrayAttr(exprs));
  }
  if (!dynamicNames.empty()) {
    SmallVector<StringRef> names(dynamicNames.begin(), dynamicNames.end());
    newFunc->setAttr("tessel.dynamic_params", b.getStrArrayAttr(names));
  }
  // A warp-specialized block has the producer warpgroup after the threads
  // the kernel asked for.
  newFunc->setAttr("tessel.threads",
                   b.getI64IntegerAttr(specialized ? threads + 128 : threads));
  if (specialized)
    newFunc->setAttr("tessel.warp_specialized",
                     b.getDenseI64ArrayAttr(registerSplit));
  newFunc->setAttr("tessel.shared_bytes", b.getI64IntegerAttr(sharedBytes));
  if (Attribute names = oldFunc->getAttr("tessel.arg_names"))
    newFunc->setAttr("tessel.arg_names", names);
  // The TMA descriptors the kernel takes after the tensors: which tensor,
  // the box (row-major) and the swizzle, for the launcher to encode.
  if (!tensorMaps.empty()) {
    SmallVector<Attribute> maps;
    for (auto &[tensor, box, swizzle, param] : tensorMaps)
      maps.push_back(b.getDictionaryAttr({
          b.getNamedAttr("param", b.getI64IntegerAttr(cast<BlockArgument>(param).getArgNumber())),
          b.getNamedAttr("tensor", b.getI64IntegerAttr(tensor)),
          b.getNamedAttr("box", b.getDenseI64ArrayAttr(box)),
          b.getNamedAttr("swizzle", b.getI64IntegerAttr(swizzle))}));
    newFunc->setAttr("tessel.tensor_maps", b.getArrayAttr(maps));
  }
  return success();
}

struct TileLowerToNVVMPass
    : public nvidia::impl::TileLowerToNVVMPassBase<TileLowerToNVVMPass> {
  using TileLowerToNVVMPassBase::TileLowerToNVVMPassBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder b(&getContext());
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    bool any = false;
    for (func::FuncOp func : funcs) {
      SmallVector<KernelOp> kernels;
      func.walk([&](KernelOp k) { kernels.push_back(k); });
      if (kernels.empty())
        continue;
      if (kernels.size() > 1) {
        kernels[1].emitError("the cuda target takes one T.Kernel per "
                             "prim_func");
        return signalPassFailure();
      }
      if (!any) {
        b.setInsertionPointToStart(module.getBody());
        LLVM::GlobalOp::create(
            b, module.getLoc(), LLVM::LLVMArrayType::get(b.getI8Type(), 0),
            /*isConstant=*/false, LLVM::Linkage::External, kSharedSymbol,
            Attribute(), /*alignment=*/1024, /*addrSpace=*/kSharedSpace);
        any = true;
      }
      KernelEmitter emitter(func, kernels[0]);
      emitter.asyncCopiesEnabled = asyncCopies;
      emitter.tmaEnabled = tma;
      emitter.warpSpecializeEnabled = warpSpecialize;
      if (failed(emitter.run()))
        return signalPassFailure();
      std::string name = func.getName().str();
      func.erase();
      for (func::FuncOp f : module.getOps<func::FuncOp>())
        if (f.getName() == name + ".cuda") {
          f.setName(name);
          break;
        }
    }
  }
};

} // namespace
