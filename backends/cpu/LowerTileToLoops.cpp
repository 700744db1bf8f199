//===- LowerTileToLoops.cpp - tile programs as sequential loops for the CPU ===//

#include "backends/cpu/Passes.h"
#include "dialects/tile/Transforms/ScalarBuilders.h"

#include "dialects/tile/IR/TileOps.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/SCF/Utils/Utils.h"
#include "mlir/IR/PatternMatch.h"

namespace tessel::cpu {
#define GEN_PASS_DEF_TILELOWERTOLOOPSPASS
#include "backends/cpu/Passes.h.inc"
} // namespace tessel::cpu

#define DEBUG_TYPE "tile-lower-to-loops"

using namespace mlir;
using namespace tessel;
using namespace tessel::tile;

namespace {

Value constIndex(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

Value zeroOf(OpBuilder &b, Location loc, Type t) {
  if (isa<FloatType>(t))
    return arith::ConstantOp::create(b, loc, b.getFloatAttr(t, 0.0));
  return arith::ConstantOp::create(b, loc, b.getIntegerAttr(t, 0));
}

/// Builds a loop nest 0..extents[i] and calls `body` with the induction
/// variables; zero-rank nests call it once.
void loopNest(OpBuilder &b, Location loc, ArrayRef<int64_t> extents,
              function_ref<void(OpBuilder &, Location, ValueRange)> body) {
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t e : extents) {
    lbs.push_back(constIndex(b, loc, 0));
    ubs.push_back(constIndex(b, loc, e));
    steps.push_back(constIndex(b, loc, 1));
  }
  scf::buildLoopNest(b, loc, lbs, ubs, steps, body);
}

/// Moves `region`'s single block in front of `before`, with its arguments
/// replaced by `args`, and drops its tile.yield.
void inlineBody(RewriterBase &rewriter, Region &region, Operation *before,
                ValueRange args) {
  Block &block = region.front();
  Operation *yield = block.getTerminator();
  rewriter.eraseOp(yield);
  rewriter.inlineBlockBefore(&block, before, args);
}

/// The innermost loop body's terminator after scf::buildLoopNest.
Operation *innermostTerminator(OpBuilder &b, Location loc,
                               ArrayRef<Value> lbs, ArrayRef<Value> ubs,
                               ArrayRef<Value> steps,
                               SmallVectorImpl<Value> &ivs) {
  scf::LoopNest nest = scf::buildLoopNest(b, loc, lbs, ubs, steps);
  for (scf::ForOp loop : nest.loops)
    ivs.push_back(loop.getInductionVar());
  return nest.loops.back().getBody()->getTerminator();
}

//===----------------------------------------------------------------------===//
// Structure
//===----------------------------------------------------------------------===//

/// A grid extent computed at run time outside CUDA's limits (a negative one
/// ran no blocks: the outputs silently stayed zero) is reported to the
/// runner through tessel_cpu_grid_error(axis, extent), which CPUModule::run
/// turns into the launch's error; no block runs then. Returns the extent the
/// loop takes (0 when it is out of range).
Value guardGridExtent(IRRewriter &rewriter, Location loc, int axis, Value extent) {
  if (getConstantIntValue(extent))
    return extent; // static: the frontend checked it
  auto module = extent.getParentRegion()->getParentOfType<ModuleOp>();
  constexpr const char *kHook = "tessel_cpu_grid_error";
  auto hook = module.lookupSymbol<func::FuncOp>(kHook);
  if (!hook) {
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(module.getBody());
    hook = func::FuncOp::create(
        rewriter, loc, kHook,
        rewriter.getFunctionType({rewriter.getI64Type(), rewriter.getI64Type()}, {}));
    hook.setPrivate();
  }
  int64_t limit = axis == 0 ? 2147483647 : 65535;
  Value low = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::slt, extent,
                                    constIndex(rewriter, loc, 0));
  Value high = arith::CmpIOp::create(rewriter, loc, arith::CmpIPredicate::sgt, extent,
                                     constIndex(rewriter, loc, limit));
  Value bad = arith::OrIOp::create(rewriter, loc, low, high);
  auto branch = scf::IfOp::create(rewriter, loc, bad, /*withElseRegion=*/false);
  {
    OpBuilder::InsertionGuard guard(rewriter);
    rewriter.setInsertionPointToStart(&branch.getThenRegion().front());
    Value axisValue = arith::ConstantIntOp::create(rewriter, loc, axis, 64);
    Value extent64 = arith::IndexCastOp::create(rewriter, loc, rewriter.getI64Type(), extent);
    func::CallOp::create(rewriter, loc, hook, ValueRange{axisValue, extent64});
  }
  return arith::SelectOp::create(rewriter, loc, bad, constIndex(rewriter, loc, 0), extent);
}

/// The grid becomes a loop nest with x innermost; the body runs once per block.
void lowerKernel(IRRewriter &rewriter, KernelOp op) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  SmallVector<Value> extents;
  for (auto [axis, extent] : llvm::enumerate(op.getGrid()))
    extents.push_back(guardGridExtent(rewriter, loc, int(axis), extent));
  SmallVector<Value> lbs, ubs, steps;
  for (Value extent : llvm::reverse(extents)) {
    lbs.push_back(constIndex(rewriter, loc, 0));
    ubs.push_back(extent);
    steps.push_back(constIndex(rewriter, loc, 1));
  }
  SmallVector<Value> ivs;
  Operation *term = innermostTerminator(rewriter, loc, lbs, ubs, steps, ivs);
  std::reverse(ivs.begin(), ivs.end());
  inlineBody(rewriter, op.getBody(), term, ivs);
  rewriter.eraseOp(op);
}

void lowerParallel(IRRewriter &rewriter, ParallelOp op) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t extent : op.getExtents()) {
    lbs.push_back(constIndex(rewriter, loc, 0));
    ubs.push_back(constIndex(rewriter, loc, extent));
    steps.push_back(constIndex(rewriter, loc, 1));
  }
  SmallVector<Value> ivs;
  Operation *term = innermostTerminator(rewriter, loc, lbs, ubs, steps, ivs);
  inlineBody(rewriter, op.getBody(), term, ivs);
  rewriter.eraseOp(op);
}

void lowerPipelined(IRRewriter &rewriter, PipelinedOp op) {
  rewriter.setInsertionPoint(op);
  auto loop = scf::ForOp::create(rewriter, op.getLoc(), op.getLower(),
                                 op.getUpper(), op.getStep());
  inlineBody(rewriter, op.getBody(), loop.getBody()->getTerminator(),
             {loop.getInductionVar()});
  rewriter.eraseOp(op);
}

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

/// A block's tiles are heap buffers freed at the end of the block's scope.
void lowerAlloc(IRRewriter &rewriter, AllocOp op) {
  rewriter.setInsertionPoint(op);
  auto alloc = memref::AllocOp::create(rewriter, op.getLoc(), op.getType());
  rewriter.setInsertionPoint(op->getBlock()->getTerminator());
  memref::DeallocOp::create(rewriter, op.getLoc(), alloc);
  rewriter.replaceOp(op, alloc);
}

/// True when `index` is inside dimension `dim` of `buffer` (unsigned compare,
/// so negative offsets are outside too).
Value inBounds(OpBuilder &b, Location loc, Value buffer,
               ArrayRef<Value> indices) {
  Value ok;
  for (auto [dim, index] : llvm::enumerate(indices)) {
    Value extent = memref::DimOp::create(b, loc, buffer, dim);
    Value lt = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::ult, index,
                                     extent);
    ok = ok ? (Value)arith::AndIOp::create(b, loc, ok, lt) : lt;
  }
  return ok;
}

/// The element at `indices`, or zero when they are outside `buffer`.
Value loadOrZero(OpBuilder &b, Location loc, Value buffer, ArrayRef<Value> indices) {
  Type elt = cast<MemRefType>(buffer.getType()).getElementType();
  auto ifOp = scf::IfOp::create(
      b, loc, inBounds(b, loc, buffer, indices),
      [&](OpBuilder &b, Location loc) {
        scf::YieldOp::create(b, loc, ValueRange{memref::LoadOp::create(b, loc, buffer, indices)});
      },
      [&](OpBuilder &b, Location loc) {
        scf::YieldOp::create(b, loc, ValueRange{zeroOf(b, loc, elt)});
      });
  return ifOp.getResult(0);
}

/// Runs `body` only when `indices` are inside `buffer` (writes past a
/// tensor's edge are dropped).
void ifInBounds(OpBuilder &b, Location loc, Value buffer, ArrayRef<Value> indices,
                llvm::function_ref<void(OpBuilder &, Location)> body) {
  scf::IfOp::create(b, loc, inBounds(b, loc, buffer, indices), [&](OpBuilder &b, Location loc) {
    body(b, loc);
    scf::YieldOp::create(b, loc);
  });
}

void lowerCopy(IRRewriter &rewriter, CopyOp op) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  SmallVector<int64_t> shape;
  llvm::copy_if(op.getSrcSizes(), std::back_inserter(shape),
                [](int64_t s) { return s != 1; });
  Type srcElt = op.getSrc().getType().getElementType();
  Type dstElt = op.getDst().getType().getElementType();
  bool srcGlobal = getMemoryScope(op.getSrc().getType()) == MemoryScope::Global;
  bool dstGlobal = getMemoryScope(op.getDst().getType()) == MemoryScope::Global;
  loopNest(rewriter, loc, shape, [&](OpBuilder &b, Location loc, ValueRange ivs) {
    SmallVector<Value> src =
        tile::regionIndices(b, loc, op.getSrcOffsets(), op.getSrcSizes(), ivs);
    SmallVector<Value> dst =
        tile::regionIndices(b, loc, op.getDstOffsets(), op.getDstSizes(), ivs);
    // Outside the tensor reads as zero.
    Value value = srcGlobal ? loadOrZero(b, loc, op.getSrc(), src)
                            : (Value)memref::LoadOp::create(b, loc, op.getSrc(), src);
    value = tile::convertScalar(b, loc, value, dstElt);
    if (!dstGlobal) {
      memref::StoreOp::create(b, loc, value, op.getDst(), dst);
      return;
    }
    ifInBounds(b, loc, op.getDst(), dst, [&](OpBuilder &b, Location loc) {
      memref::StoreOp::create(b, loc, value, op.getDst(), dst);
    });
  });
  rewriter.eraseOp(op);
}

void fillBuffer(OpBuilder &b, Location loc, Value buffer, Value value) {
  auto type = cast<MemRefType>(buffer.getType());
  loopNest(b, loc, type.getShape(), [&](OpBuilder &b, Location loc, ValueRange ivs) {
    memref::StoreOp::create(b, loc, value, buffer, ivs);
  });
}

void lowerFill(IRRewriter &rewriter, FillOp op) {
  rewriter.setInsertionPoint(op);
  fillBuffer(rewriter, op.getLoc(), op.getDst(), op.getValue());
  rewriter.eraseOp(op);
}

//===----------------------------------------------------------------------===//
// Compute
//===----------------------------------------------------------------------===//

/// A copy of `tile` converted to `elt`, so that the inner product loop does
/// no conversions; `tile` itself when it already has that type.
Value converted(OpBuilder &b, Location loc, Value tile, Type elt) {
  auto type = cast<MemRefType>(tile.getType());
  if (type.getElementType() == elt)
    return tile;
  auto copyType = MemRefType::get(type.getShape(), elt);
  Value copy = memref::AllocOp::create(b, loc, copyType);
  loopNest(b, loc, type.getShape(), [&](OpBuilder &b, Location loc, ValueRange ivs) {
    Value v = memref::LoadOp::create(b, loc, tile, ivs);
    memref::StoreOp::create(b, loc, tile::convertScalar(b, loc, v, elt), copy, ivs);
  });
  return copy;
}

void lowerGemm(IRRewriter &rewriter, GemmOp op) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  MemRefType cType = op.getC().getType();
  Type acc = cType.getElementType();
  bool isFloat = isa<FloatType>(acc);
  Value a = converted(rewriter, loc, op.getA(), acc);
  Value b = converted(rewriter, loc, op.getB(), acc);
  int64_t kExtent = op.getA().getType().getDimSize(op.getTransposeA() ? 0 : 1);
  Value c0 = constIndex(rewriter, loc, 0), c1 = constIndex(rewriter, loc, 1);
  Value kUpper = constIndex(rewriter, loc, kExtent);
  bool clear = op.getClearAccum(), ta = op.getTransposeA(),
       tb = op.getTransposeB();
  loopNest(rewriter, loc, cType.getShape(), [&](OpBuilder &bld, Location loc, ValueRange mn) {
    Value init = clear ? zeroOf(bld, loc, acc)
                       : (Value)memref::LoadOp::create(bld, loc, op.getC(), mn);
    auto kLoop = scf::ForOp::create(
        bld, loc, c0, kUpper, c1, ValueRange{init},
        [&](OpBuilder &bld, Location loc, Value k, ValueRange iter) {
          Value av = memref::LoadOp::create(
              bld, loc, a, ta ? ValueRange{k, mn[0]} : ValueRange{mn[0], k});
          Value bv = memref::LoadOp::create(
              bld, loc, b, tb ? ValueRange{mn[1], k} : ValueRange{k, mn[1]});
          Value prod = isFloat ? (Value)arith::MulFOp::create(bld, loc, av, bv)
                               : (Value)arith::MulIOp::create(bld, loc, av, bv);
          Value sum = isFloat
                          ? (Value)arith::AddFOp::create(bld, loc, iter[0], prod)
                          : (Value)arith::AddIOp::create(bld, loc, iter[0], prod);
          scf::YieldOp::create(bld, loc, ValueRange{sum});
        });
    memref::StoreOp::create(bld, loc, kLoop.getResult(0), op.getC(), mn);
  });
  for (Value tmp : {a, b})
    if (tmp != op.getA() && tmp != op.getB())
      memref::DeallocOp::create(rewriter, loc, tmp);
  rewriter.eraseOp(op);
}

/// One step of a reduction: |x| first for the abs kinds.
Value reductionStep(OpBuilder &b, Location loc, ReduceKind kind, Value acc,
                    Value x) {
  if (kind == ReduceKind::AbsSum || kind == ReduceKind::AbsMax)
    x = isa<FloatType>(x.getType()) ? (Value)math::AbsFOp::create(b, loc, x)
                                    : (Value)math::AbsIOp::create(b, loc, x);
  return tile::reductionCombine(b, loc, kind, acc, x);
}

void lowerReduce(IRRewriter &rewriter, ReduceOp op) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  MemRefType srcType = op.getSrc().getType();
  MemRefType dstType = op.getDst().getType();
  int64_t dim = op.getDim();
  SmallVector<int64_t> outer(srcType.getShape());
  outer.erase(outer.begin() + dim);
  Type elt = srcType.getElementType();
  Value c0 = constIndex(rewriter, loc, 0), c1 = constIndex(rewriter, loc, 1);
  Value upper = constIndex(rewriter, loc, srcType.getDimSize(dim));
  loopNest(rewriter, loc, outer, [&](OpBuilder &b, Location loc, ValueRange ivs) {
    // A 1-d source reduces into a rank-0 or one-element destination.
    SmallVector<Value> dstIdx(ivs);
    if (dstType.getRank() == 1 && ivs.empty())
      dstIdx.push_back(c0);
    Value init = op.getClear()
                     ? tile::reductionIdentity(b, loc, op.getKind(), elt)
                     : (Value)memref::LoadOp::create(b, loc, op.getDst(), dstIdx);
    auto loop = scf::ForOp::create(
        b, loc, c0, upper, c1, ValueRange{init},
        [&](OpBuilder &b, Location loc, Value r, ValueRange iter) {
          SmallVector<Value> srcIdx(ivs);
          srcIdx.insert(srcIdx.begin() + dim, r);
          Value x = memref::LoadOp::create(b, loc, op.getSrc(), srcIdx);
          scf::YieldOp::create(b, loc,
                               ValueRange{reductionStep(b, loc, op.getKind(),
                                                        iter[0], x)});
        });
    memref::StoreOp::create(b, loc, loop.getResult(0), op.getDst(), dstIdx);
  });
  rewriter.eraseOp(op);
}

/// Blocks run one after another on the CPU, so a plain read-modify-write is
/// atomic with respect to every other block, and every memory order holds.
/// Past a tensor's edge it adds nothing, as stores there are dropped, and the
/// previous value it yields is zero, as loads there read.
void lowerAtomicAdd(IRRewriter &rewriter, AtomicAddOp op) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  SmallVector<Value> indices(op.getIndices());
  Type elt = op.getValue().getType();
  auto add = [&](OpBuilder &b, Location loc) -> Value {
    Value old = memref::LoadOp::create(b, loc, op.getDst(), indices);
    Value sum = isa<FloatType>(elt) ? (Value)arith::AddFOp::create(b, loc, old, op.getValue())
                                    : (Value)arith::AddIOp::create(b, loc, old, op.getValue());
    memref::StoreOp::create(b, loc, sum, op.getDst(), indices);
    return old;
  };
  Value old;
  if (getMemoryScope(op.getDst().getType()) != MemoryScope::Global) {
    old = add(rewriter, loc);
  } else if (!op.getPrevious()) {
    ifInBounds(rewriter, loc, op.getDst(), indices, [&](OpBuilder &b, Location loc) { add(b, loc); });
  } else {
    old = scf::IfOp::create(
              rewriter, loc, inBounds(rewriter, loc, op.getDst(), indices),
              [&](OpBuilder &b, Location loc) {
                scf::YieldOp::create(b, loc, ValueRange{add(b, loc)});
              },
              [&](OpBuilder &b, Location loc) {
                scf::YieldOp::create(b, loc, ValueRange{zeroOf(b, loc, elt)});
              })
              .getResult(0);
  }
  if (Value prev = op.getPrevious())
    rewriter.replaceAllUsesWith(prev, old);
  rewriter.eraseOp(op);
}

/// Element loads and stores a kernel makes on global tensors: past the
/// tensor's edge a load reads zero and a store is dropped, as tile copies
/// do (and as the cuda target does).
void guardElementAccess(IRRewriter &rewriter, Operation *op) {
  Location loc = op->getLoc();
  rewriter.setInsertionPoint(op);
  if (auto load = dyn_cast<memref::LoadOp>(op)) {
    SmallVector<Value> indices(load.getIndices());
    rewriter.replaceOp(load, loadOrZero(rewriter, loc, load.getMemref(), indices));
    return;
  }
  auto store = cast<memref::StoreOp>(op);
  SmallVector<Value> indices(store.getIndices());
  ifInBounds(rewriter, loc, store.getMemref(), indices, [&](OpBuilder &b, Location loc) {
    memref::StoreOp::create(b, loc, store.getValueToStore(), store.getMemref(), indices);
  });
  rewriter.eraseOp(store);
}

/// A scalar as vector.print can print it: f32, or a 64-bit integer.
Value printable(OpBuilder &b, Location loc, Value v) {
  if (isa<FloatType>(v.getType()))
    return tile::convertScalar(b, loc, v, b.getF32Type());
  return tile::convertScalar(b, loc, v, b.getI64Type());
}

void lowerPrint(IRRewriter &rewriter, PrintOp op) {
  Location loc = op.getLoc();
  rewriter.setInsertionPoint(op);
  vector::PrintOp::create(rewriter, loc, (op.getMessage() + " ").str());
  for (Value v : op.getValues()) {
    auto type = dyn_cast<MemRefType>(v.getType());
    if (!type) {
      vector::PrintOp::create(rewriter, loc, printable(rewriter, loc, v),
                              vector::PrintPunctuation::Comma);
      continue;
    }
    loopNest(rewriter, loc, type.getShape(),
             [&](OpBuilder &b, Location loc, ValueRange ivs) {
               Value x = memref::LoadOp::create(b, loc, v, ivs);
               vector::PrintOp::create(b, loc, printable(b, loc, x),
                                       vector::PrintPunctuation::Comma);
             });
  }
  vector::PrintOp::create(rewriter, loc, vector::PrintPunctuation::NewLine);
  rewriter.eraseOp(op);
}

/// Buffers lose their #tile.scope: on the CPU every scope is plain memory.
MemRefType stripScope(MemRefType type) {
  if (!isa_and_nonnull<MemoryScopeAttr>(type.getMemorySpace()))
    return type;
  return MemRefType::get(type.getShape(), type.getElementType(),
                         type.getLayout());
}

Type stripScope(Type type) {
  if (auto memref = dyn_cast<MemRefType>(type))
    return stripScope(memref);
  return type;
}

void stripScopes(ModuleOp module) {
  module.walk([](Operation *op) {
    for (Value result : op->getResults())
      result.setType(stripScope(result.getType()));
    for (Region &region : op->getRegions())
      for (Block &block : region)
        for (BlockArgument arg : block.getArguments())
          arg.setType(stripScope(arg.getType()));
    if (auto func = dyn_cast<func::FuncOp>(op)) {
      FunctionType type = func.getFunctionType();
      SmallVector<Type> inputs, results;
      for (Type t : type.getInputs())
        inputs.push_back(stripScope(t));
      for (Type t : type.getResults())
        results.push_back(stripScope(t));
      func.setFunctionType(FunctionType::get(op->getContext(), inputs, results));
    }
  });
}

struct TileLowerToLoopsPass
    : public cpu::impl::TileLowerToLoopsPassBase<TileLowerToLoopsPass> {
  void runOnOperation() override {
    ModuleOp module = getOperation();
    IRRewriter rewriter(&getContext());

    // The kernel's own element accesses of global tensors, before the
    // leaves below add loads and stores of their own.
    SmallVector<Operation *> elementAccesses;
    module.walk([&](Operation *op) {
      if (!isa<memref::LoadOp, memref::StoreOp>(op) || !op->getParentOfType<KernelOp>())
        return;
      Value memref = isa<memref::LoadOp>(op) ? cast<memref::LoadOp>(op).getMemref()
                                              : cast<memref::StoreOp>(op).getMemref();
      if (getMemoryScope(cast<MemRefType>(memref.getType())) == MemoryScope::Global)
        elementAccesses.push_back(op);
    });
    for (Operation *op : elementAccesses)
      guardElementAccess(rewriter, op);

    // Leaf operations first, while the scopes still tell global from on-chip.
    SmallVector<Operation *> leaves;
    module.walk([&](Operation *op) {
      if (isa<AllocOp, CopyOp, GemmOp, FillOp, ReduceOp, AtomicAddOp, CastOp,
              BarrierOp, PrintOp>(op))
        leaves.push_back(op);
    });
    for (Operation *op : leaves) {
      if (auto alloc = dyn_cast<AllocOp>(op))
        lowerAlloc(rewriter, alloc);
      else if (auto copy = dyn_cast<CopyOp>(op))
        lowerCopy(rewriter, copy);
      else if (auto gemm = dyn_cast<GemmOp>(op))
        lowerGemm(rewriter, gemm);
      else if (auto fill = dyn_cast<FillOp>(op))
        lowerFill(rewriter, fill);
      else if (auto reduce = dyn_cast<ReduceOp>(op))
        lowerReduce(rewriter, reduce);
      else if (auto atomic = dyn_cast<AtomicAddOp>(op))
        lowerAtomicAdd(rewriter, atomic);
      else if (auto print = dyn_cast<PrintOp>(op))
        lowerPrint(rewriter, print);
      else if (auto castOp = dyn_cast<CastOp>(op)) {
        rewriter.setInsertionPoint(castOp);
        rewriter.replaceOp(castOp,
                           tile::convertScalar(rewriter, castOp.getLoc(),
                                              castOp.getInput(), castOp.getType()));
      } else {
        rewriter.eraseOp(op); // barriers: one logical thread needs none
      }
    }

    // Then the loops, innermost first, then the grids.
    SmallVector<Operation *> loops;
    module.walk<WalkOrder::PostOrder>([&](Operation *op) {
      if (isa<ParallelOp, PipelinedOp, KernelOp>(op))
        loops.push_back(op);
    });
    for (Operation *op : loops) {
      if (auto parallel = dyn_cast<ParallelOp>(op))
        lowerParallel(rewriter, parallel);
      else if (auto pipelined = dyn_cast<PipelinedOp>(op))
        lowerPipelined(rewriter, pipelined);
      else
        lowerKernel(rewriter, cast<KernelOp>(op));
    }
    stripScopes(module);
  }
};

} // namespace
