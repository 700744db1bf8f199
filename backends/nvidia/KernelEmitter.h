//===- KernelEmitter.h - the state of tile-lower-to-nvvm --------*- C++ -*-===//
//
// A tile program describes what a whole block computes; tile-lower-to-nvvm
// decides what each thread does and writes it down with upstream ops (arith
// and scf, the LLVM dialect for memory, NVVM for thread indices, barriers,
// shuffles and warpgroup MMA). KernelEmitter walks a kernel body once,
// emitting code as it goes, because what an op becomes depends on context (a
// fragment load inside T.Parallel becomes a register read whose slot is known
// only once the iteration is). Its methods live in one file per op family:
//
//   KernelEmitter.cpp        values, addresses, shared-tile placement, dispatch
//   LowerSync.cpp            barriers, proxy fences, wgmma waits
//   LowerCopies.cpp          allocations, copies, fills
//   LowerGemm.cpp            T.gemm as wgmma
//   LowerReductions.cpp      reductions, T.print
//   LowerParallel.cpp        T.Parallel, loads, stores, atomics
//   LowerControlFlow.cpp     loops and conditionals
//   LowerPipeline.cpp        T.Pipelined: stages, cp.async, TMA, mbarriers
//   LowerWarpSpecialize.cpp  producer and consumer warps
//   LowerTileToNVVM.cpp      the kernel function, its parameters, the pass
//
// Private to backends/nvidia.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_BACKENDS_NVIDIA_KERNELEMITTER_H
#define TESSEL_BACKENDS_NVIDIA_KERNELEMITTER_H

#include "backends/nvidia/Passes.h"
#include "dialects/tile/Transforms/ThreadMap.h"
#include "backends/nvidia/WarpSchedule.h"
#include "dialects/tile/IR/TileOps.h"
#include "dialects/tile/Transforms/Layouts.h"
#include "dialects/tile/Transforms/ScalarBuilders.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/IRMapping.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"
#include <numeric>

namespace tessel::nvidia::lowering {

using namespace mlir;
using namespace tessel;
using namespace tessel::tile;
using tessel::tile::SlotFormula;
using tessel::tile::ThreadMap;
using tessel::nvidia::Ring;
using tessel::nvidia::RoleSchedule;
using tessel::nvidia::ScheduleStep;
using tessel::nvidia::WarpSchedule;

inline constexpr unsigned kGlobalSpace = 1, kSharedSpace = 3;
inline constexpr const char *kSharedSymbol = "__tessel_smem";

/// fp8 values and bools live in memory as bytes; everything else as itself.
inline Type storageType(Type t) {
  if (auto f = dyn_cast<FloatType>(t); f && f.getWidth() == 8)
    return IntegerType::get(t.getContext(), 8);
  if (t.isInteger(1))
    return IntegerType::get(t.getContext(), 8);
  return t;
}

/// A scalar as memory holds it: fp8 as its bits, a bool as the byte 0 or 1.
inline Value toStorage(OpBuilder &b, Location loc, Value v) {
  Type t = v.getType(), stored = storageType(t);
  if (stored == t)
    return v;
  if (t.isInteger(1))
    return arith::ExtUIOp::create(b, loc, stored, v);
  return arith::BitcastOp::create(b, loc, stored, v);
}

/// A scalar read from memory as an element of type `elt`: any nonzero byte is
/// a true bool.
inline Value fromStorage(OpBuilder &b, Location loc, Value v, Type elt) {
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
inline int64_t byteWidth(Type t) { return std::max<int64_t>(1, (t.getIntOrFloatBitWidth() + 7) / 8); }

inline int64_t product(ArrayRef<int64_t> v) {
  return std::accumulate(v.begin(), v.end(), int64_t(1), std::multiplies<>());
}

/// `sizes` without its unit extents (a copy's shape as the elements move).
inline SmallVector<int64_t> squeezed(ArrayRef<int64_t> sizes) {
  SmallVector<int64_t> shape;
  llvm::copy_if(sizes, std::back_inserter(shape), [](int64_t s) { return s != 1; });
  return shape;
}

/// Closed bounds [lo, hi] on an index value of the input program.
struct IndexRange {
  int64_t lo, hi;
};

/// The value of `v` if it is a constant expression.
std::optional<int64_t> evalConstant(Value v);

/// Bounds on `v` from constants, the kernel's block indices (`blockRanges`
/// maps each to [0, grid - 1]) and the induction variables of loops with
/// constant bounds, combined by interval arithmetic. Nothing when `v` is
/// built from anything else or could overflow.
std::optional<IndexRange>
indexRange(Value v, const DenseMap<Value, IndexRange> &blockRanges, int depth = 0);

/// A number `v` is known to be a multiple of (1 when nothing is known).
int64_t knownMultiple(Value v, int depth = 0);

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

enum class Space { Global, Shared, Fragment, Local };

/// Where a shared tile's element (r, c) lives: gemm operands are stored as
/// written or, where the MMA cannot read them in place, transposed to
/// K-major (gemmOperandStoredTransposed), in swizzle atoms of `swizzle`
/// bytes per row; other tiles are plain row-major.
struct SharedPlacement {
  int64_t offset = 0;
  bool transposed = false;
  int64_t swizzle = 0; // 0, 32, 64 or 128
  int64_t rows = 0;    // physical rows (M or N; K when read MN-major in place)
  int64_t cols = 0;    // physical columns (K; M or N when read MN-major)
};

/// Where each shared gemm operand tile of `kernel` is stored (as written or
/// transposed, and its swizzle); a located error on a tile no placement
/// fits.
FailureOr<DenseMap<Value, SharedPlacement>> gemmOperandPlacements(KernelOp kernel);

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
inline std::pair<int64_t, int64_t> sharedRange(const Buffer &buf) {
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
  /// A barrier between statements (before one, or ending a loop body):
  /// counted in unplannedBarriers when nvidia-insert-barriers placed the
  /// kernel's barriers, since it should have placed this one.
  void statementBarrier() {
    if (barriersPlaced) {
      ++unplannedBarriers;
      if (strictSync && !unplannedError) {
        emitError(loc, "internal error: a barrier is needed here that "
                       "nvidia-insert-barriers did not place");
        unplannedError = true;
      }
    }
    barrier();
  }
  /// The end of a loop body: a barrier when something is outstanding,
  /// unless nvidia-insert-barriers decided the kernel's barriers (it ends a
  /// body with one where a later statement conflicts with what is
  /// outstanding, and only there).
  void endOfIteration() {
    if (!barriersPlaced && sync.pending())
      barrier();
  }
  /// A wait for the wgmma groups in flight before a statement: counted in
  /// unplannedWaits when nvidia-mma-async placed the kernel's waits.
  void statementWait() {
    if (wgmma.empty())
      return;
    if (waitsPlaced) {
      ++unplannedWaits;
      if (strictSync && !unplannedError) {
        emitError(loc, "internal error: a wgmma wait is needed here that "
                       "nvidia-mma-async did not place");
        unplannedError = true;
      }
    }
    waitForWgmma();
  }
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
  /// The same for raw byte ranges (the reduction scratch area, a
  /// pipeline's stages); `statement`: a barrier here goes between statements.
  void beforeSharedRanges(ArrayRef<std::pair<int64_t, int64_t>> reads,
                          ArrayRef<std::pair<int64_t, int64_t>> writes,
                          bool statement = false);

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
  LogicalResult emitMmaSync(GemmOp op, WarpgroupGrid grid);
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
  /// Whether TMA moves this (pipelined) copy: nvidia-pipeline-buffers'
  /// decision, else tmaCopyableTile on the placed tile.
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
  void emitScheduleStep(const PipelinePlan &plan, const RoleSchedule &role,
                        const ScheduleStep &st, Value index, bool draining,
                        function_ref<void()> load, function_ref<LogicalResult()> read,
                        LogicalResult &status);
  DenseMap<Operation *, PipelinePlan> plans;
  /// The block is split into producer and consumers: barriers name only the
  /// consumers (`threads` of them); the producer warpgroup comes after.
  bool specialized = false;
  scf::IfOp roleSplit;
  /// Registers per thread at launch, the producer's and the consumers'.
  SmallVector<int64_t> registerSplit;
  /// The PTX ISA version the kernel's instructions need at least (x10:
  /// mma.sync on fp8 needs 8.4), when above the default.
  int64_t minPtxVersion = 0;
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
  /// The kernel went through nvidia-insert-barriers (`tessel.barriers_placed`).
  bool barriersPlaced = false;
  /// Barriers statementBarrier() added to such a kernel (recorded on the
  /// function as tessel.unplanned_barriers), and the error they are under
  /// strict-sync.
  int64_t unplannedBarriers = 0;
  /// The same for nvidia-mma-async (`tessel.waits_placed`) and waits.
  bool waitsPlaced = false;
  int64_t unplannedWaits = 0;
  bool unplannedError = false;
public:
  bool strictSync = false;
private:
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

} // namespace tessel::nvidia::lowering

#endif // TESSEL_BACKENDS_NVIDIA_KERNELEMITTER_H
