//===- TileLangNames.cpp - TileLang's T. names beyond the core primitives --===//
//
// TileLang programs use scalar helpers (T.Cast, T.clamp, T.floormod),
// variables (T.alloc_var) and explicit synchronization (T.sync_threads)
// besides the tile primitives. Those with a Tessel meaning are emitted here;
// the rest are refused with a message that says so and names what to use
// instead, so that a ported program stops at its first unsupported line.
//
//===----------------------------------------------------------------------===//

#include "lib/Frontend/Emitter.h"

#include "dialects/tile/IR/TileOps.h"
#include "lib/Frontend/Arguments.h"
#include "lib/Frontend/DTypes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "llvm/ADT/StringSwitch.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace tessel::frontend;
namespace tile = tessel::tile;

namespace tessel::frontend {

/// What to write instead of a TileLang name Tessel does not support yet.
static const char *substituteFor(llvm::StringRef name) {
  return llvm::StringSwitch<const char *>(name)
      .Cases({"reducer_init", "reducer_update"},
             "write the reducer's elements directly (R[j] += value) and call "
             "T.finalize_reducer")
      .Cases({"get_warp_idx", "get_lane_idx",
              "get_warp_idx_sync", "get_warp_group_idx", "launch_thread"},
             "Tessel maps threads itself: write the per-element work as a T.Parallel "
             "loop")
      .Case("view", "use T.reshape for another shape of the same elements")
      .Cases({"shfl_xor", "shfl_down", "shfl_up", "shfl_sync"},
             "reduce a fragment with T.reduce_sum / T.reduce_max")
      .Cases({"alloc_barrier", "mbarrier_wait_parity", "mbarrier_arrive",
              "mbarrier_expect_tx", "barrier_arrive", "barrier_wait",
              "fence_proxy_async", "tma_copy", "tma_load", "tma_store_arrive",
              "tma_store_wait", "set_max_nreg", "inc_max_nreg", "dec_max_nreg",
              "annotate_producer_reg_dealloc", "annotate_consumer_reg_alloc",
              "no_set_max_nreg", "create_tma_descriptor"},
             "Tessel places TMA, mbarriers, fences and register budgets itself from "
             "T.copy and T.Pipelined; remove the call")
      .Cases({"ws", "annotate_l2_hit_ratio", "annotate_min_blocks_per_sm"},
             "remove it: Tessel chooses warp roles and launch bounds itself")
      .Default(nullptr);
}

MaybeValue Emitter::callTileLangName(const std::string &name, std::vector<Value> &args,
                                     std::vector<std::pair<std::string, Value>> &kwargs,
                                     std::vector<SourceLoc> &argLocs, SourceLoc l) {
  llvm::StringRef bare = llvm::StringRef(name).drop_front(2);
  auto bind = [&](Signature sig) {
    return bindArgs(sig, args, kwargs, argLocs, l, diags);
  };
  auto requireKernel = [&]() -> bool {
    if (insideDevice())
      return true;
    error(l, name + " can only be used inside a T.Kernel");
    return false;
  };

  //===-- scalar helpers ------------------------------------------------------===//
  if (bare == "Cast") {
    // TileLang's T.Cast(dtype, value): T.cast with the arguments swapped.
    auto a = bind({name, {"dtype", "value"}, 2});
    if (!a)
      return std::nullopt;
    std::vector<Value> castArgs = {*a->get(1), *a->get(0)};
    std::vector<SourceLoc> castLocs = {a->locs[1], a->locs[0]};
    std::vector<std::pair<std::string, Value>> none;
    return callBuiltin("T.cast", castArgs, none, castLocs, l);
  }
  if (bare == "clamp") {
    auto a = bind({name, {"value", "min_val", "max_val"}, 3});
    if (!a)
      return std::nullopt;
    std::vector<std::pair<std::string, Value>> none;
    std::vector<Value> lower = {*a->get(0), *a->get(1)};
    std::vector<SourceLoc> lowerLocs = {a->locs[0], a->locs[1]};
    MaybeValue lo = callBuiltin("T.max", lower, none, lowerLocs, l);
    if (!lo)
      return std::nullopt;
    std::vector<Value> upper = {*lo, *a->get(2)};
    std::vector<SourceLoc> upperLocs = {a->locs[0], a->locs[2]};
    return callBuiltin("T.min", upper, none, upperLocs, l);
  }
  if (bare == "floordiv" || bare == "floormod" || bare == "truncdiv" ||
      bare == "truncmod" || bare == "pow" || bare == "fmod") {
    auto a = bind({name, {"a", "b"}, 2});
    if (!a)
      return std::nullopt;
    MaybeValue x = materialize(*a->get(0), a->locs[0]);
    MaybeValue y = x ? materialize(*a->get(1), a->locs[1]) : std::nullopt;
    if (!y)
      return std::nullopt;
    if (bare == "floordiv")
      return binaryOp("//", *x, *y, l);
    if (bare == "floormod")
      return binaryOp("%", *x, *y, l);
    if (bare == "pow")
      return binaryOp("**", *x, *y, l);
    // C's rounding toward zero (truncdiv/truncmod) and fmod.
    if (x->isConstant() && y->isConstant()) {
      if (x->kind == Value::Kind::Int && y->kind == Value::Kind::Int) {
        if (y->i == 0)
          return error(a->locs[1], "division by zero");
        return Value::integer(bare == "truncdiv" ? x->i / y->i : x->i % y->i);
      }
      double xv = x->kind == Value::Kind::Float ? x->f : (double)x->i;
      double yv = y->kind == Value::Kind::Float ? y->f : (double)y->i;
      return Value::floating(bare == "truncdiv" ? std::trunc(xv / yv) : std::fmod(xv, yv));
    }
    if (!requireKernel())
      return std::nullopt;
    Type t = x->isConstant() ? naturalType(*y) : naturalType(*x);
    std::optional<mlir::Value> xv = toIR(*x, t, a->locs[0]), yv = toIR(*y, t, a->locs[1]);
    if (!xv || !yv)
      return std::nullopt;
    Location at = loc(l);
    if (isa<FloatType>(t)) {
      if (bare == "truncdiv")
        return makeScalar(math::TruncOp::create(builder, at,
                                                arith::DivFOp::create(builder, at, *xv, *yv)));
      return makeScalar(arith::RemFOp::create(builder, at, *xv, *yv));
    }
    if (bare == "truncdiv")
      return makeScalar(arith::DivSIOp::create(builder, at, *xv, *yv));
    return makeScalar(arith::RemSIOp::create(builder, at, *xv, *yv));
  }
  if (bare == "max_value" || bare == "min_value") {
    auto a = bind({name, {"dtype"}, 1});
    if (!a)
      return std::nullopt;
    Type t = requireDType(*a->get(0), a->locs[0]);
    if (!t)
      return std::nullopt;
    bool isMax = bare == "max_value";
    if (auto ft = dyn_cast<FloatType>(t)) {
      llvm::APFloat v = llvm::APFloat::getLargest(ft.getFloatSemantics(), !isMax);
      return Value::floating(v.convertToDouble());
    }
    unsigned bits = t.getIntOrFloatBitWidth();
    if (bits == 1)
      return Value::integer(isMax ? 1 : 0);
    int64_t big = bits >= 64 ? std::numeric_limits<int64_t>::max()
                             : (int64_t(1) << (bits - 1)) - 1;
    return Value::integer(isMax ? big : -big - 1);
  }

  //===-- variables and synchronization ---------------------------------------===//
  if (bare == "alloc_var") {
    // T.alloc_var(dtype[, init][, scope]) (also by keyword): one scalar per
    // thread, read and assigned by its name.
    if (!requireKernel())
      return std::nullopt;
    std::optional<Value> dtypeArg, init;
    SourceLoc dtypeLoc = l, initLoc = l;
    for (size_t i = 0; i < args.size(); ++i) {
      if (i == 0) {
        dtypeArg = args[0];
        dtypeLoc = argLocs[0];
      } else if (args[i].kind == Value::Kind::String && i + 1 == args.size()) {
        continue; // the scope: "local.var"
      } else {
        init = args[i];
        initLoc = argLocs[i];
      }
    }
    for (size_t k = 0; k < kwargs.size(); ++k) {
      auto &[key, v] = kwargs[k];
      SourceLoc kl = argLocs[args.size() + k];
      if (key == "dtype") {
        dtypeArg = v;
        dtypeLoc = kl;
      } else if (key == "init") {
        init = v;
        initLoc = kl;
      } else if (key != "scope") {
        return error(kl, name + "() got an unexpected keyword argument '" + key +
                             "' (it takes dtype, init, scope)");
      }
    }
    if (!dtypeArg)
      return error(l, name + "() is missing its 'dtype' argument");
    Value dtypeV = *dtypeArg;
    Type elt = requireDType(dtypeV, dtypeLoc);
    if (!elt)
      return std::nullopt;
    auto type = MemRefType::get({1}, elt, MemRefLayoutAttrInterface(),
                                tile::MemoryScopeAttr::get(ctx, tile::MemoryScope::Local));
    Value var = threadExtents.empty()
                    ? Value::buffer(tile::AllocOp::create(builder, loc(l), type, nullptr), "")
                    : perThreadBuffer(type, l);
    var.isVar = true;
    var.isUnsigned = dtypeIsUnsigned(dtypeV);
    if (init) {
      MaybeValue v = materialize(*init, initLoc);
      if (!v)
        return std::nullopt;
      std::optional<mlir::Value> ir = toIR(*v, elt, initLoc);
      if (!ir)
        return std::nullopt;
      if (var.perThread) {
        tile::FillOp::create(builder, loc(l), var.ir, *ir);
      } else {
        mlir::Value zero = arith::ConstantIndexOp::create(builder, loc(l), 0);
        memref::StoreOp::create(builder, loc(l), *ir, var.ir, ValueRange{zero});
      }
    }
    return var;
  }
  if (bare == "alloc_global") {
    // Scratch memory in global memory: a kernel argument the caller does not
    // pass (tessel.jit allocates it zeroed; a C launcher takes its pointer),
    // listed in tessel.workspaces.
    auto a = bind({name, {"shape", "dtype", "scope"}, 2});
    if (!a)
      return std::nullopt;
    if (!insidePrimFunc() || !funcEntry)
      return error(l, name + " can only be used inside a @T.prim_func");
    std::vector<Value> dims =
        a->get(0)->isSequence() ? a->get(0)->elems : std::vector<Value>{*a->get(0)};
    SmallVector<int64_t> shape;
    for (const Value &d : dims) {
      std::optional<int64_t> n = requireInt(d, a->locs[0], "a workspace dimension");
      if (!n)
        return std::nullopt;
      if (*n <= 0)
        return error(a->locs[0], "workspace dimensions must be positive, got " +
                                     llvm::Twine(*n));
      shape.push_back(*n);
    }
    Type elt = requireDType(*a->get(1), a->locs[1]);
    if (!elt)
      return std::nullopt;
    auto type = MemRefType::get(shape, elt, MemRefLayoutAttrInterface(),
                                tile::MemoryScopeAttr::get(ctx, tile::MemoryScope::Global));
    mlir::Value arg = funcEntry->addArgument(type, loc(l));
    workspaceArgs.push_back(arg);
    workspaceNames.emplace_back();
    if (eager) {
      EagerArg w;
      w.name = "workspace" + std::to_string(workspaceArgs.size() - 1);
      w.arg = arg;
      w.loc = l;
      eager->args.push_back(w);
    }
    Value buf = Value::buffer(arg, "");
    buf.isUnsigned = dtypeIsUnsigned(*a->get(1));
    return buf;
  }
  if (bare == "reshape") {
    auto a = bind({name, {"src", "shape"}, 2});
    return a ? reshape(*a->get(0), *a->get(1), a->locs[0], a->locs[1]) : std::nullopt;
  }
  if (bare == "alloc_reducer") {
    // A fragment that T.Parallel iterations accumulate into, element by
    // element, with `op`; T.finalize_reducer ends the accumulation. The CPU
    // runs iterations in order, so the fragment is the result.
    auto a = bind({name, {"shape", "dtype", "op", "replication"}, 2});
    if (!a || !requireKernel())
      return std::nullopt;
    std::string op = "sum";
    if (const Value *o = a->get(2)) {
      if (o->kind != Value::Kind::String ||
          (o->s != "sum" && o->s != "max" && o->s != "min"))
        return error(a->locs[2], name + "'s op must be \"sum\", \"max\" or \"min\"");
      op = o->s;
    }
    std::vector<Value> allocArgs = {*a->get(0), *a->get(1)};
    std::vector<SourceLoc> allocLocs = {a->locs[0], a->locs[1]};
    std::vector<std::pair<std::string, Value>> none;
    MaybeValue buf = callBuiltin("T.alloc_fragment", allocArgs, none, allocLocs, l);
    if (!buf)
      return std::nullopt;
    buf->ir.getDefiningOp()->setAttr("tessel.reducer", builder.getStringAttr(op));
    return buf;
  }
  if (bare == "finalize_reducer") {
    auto a = bind({name, {"reducer", "dst", "batch", "annotations"}, 1});
    if (!a || !requireKernel())
      return std::nullopt;
    const Value &r = *a->get(0);
    if (r.kind != Value::Kind::Buffer || !r.ir.getDefiningOp() ||
        !r.ir.getDefiningOp()->hasAttr("tessel.reducer"))
      return error(a->locs[0], name + " takes a buffer made by T.alloc_reducer");
    if (const Value *dst = a->get(1); dst && dst->kind != Value::Kind::None) {
      std::vector<Value> copyArgs = {r, *dst};
      std::vector<SourceLoc> copyLocs = {a->locs[0], a->locs[1]};
      std::vector<std::pair<std::string, Value>> none;
      return callBuiltin("T.copy", copyArgs, none, copyLocs, l);
    }
    return Value::none();
  }
  if (bare == "cumsum") {
    auto a = bind({name, {"src", "dst", "dim", "reverse"}, 1});
    return a && requireKernel() ? cumsum(*a, l) : std::nullopt;
  }
  if (bare == "get_thread_binding") {
    auto a = bind({name, {"dim"}, 0});
    return a ? getThreadBinding(a->get(0), a->locs.empty() ? l : a->locs[0], l) : std::nullopt;
  }
  if (bare == "sync_threads" || bare == "syncthreads" || bare == "tvm_storage_sync") {
    if (!requireKernel())
      return std::nullopt;
    // Under a condition or loop on the thread index the statement runs
    // thread by thread, so no barrier can stand inside it.
    if (threadIv)
      return error(l, name + " inside a statement that runs once per thread (a loop or if on "
                             "the thread index) is not supported yet: only some threads would "
                             "reach it; move it out to the kernel's block-level code");
    tile::BarrierOp::create(builder, loc(l));
    return Value::none();
  }

  //===-- kernel hints, bit casts, printing -----------------------------------===//
  if (bare == "use_swizzle") {
    auto a = bind({name, {"panel_size", "order", "enable"}, 0});
    if (!a || !requireKernel())
      return std::nullopt;
    int64_t panel = 8;
    if (const Value *v = a->get(0)) {
      std::optional<int64_t> n = requireInt(*v, a->locs[0], "panel_size");
      if (!n)
        return std::nullopt;
      panel = *n;
    }
    if (const Value *en = a->get(2); en && en->kind == Value::Kind::Bool && !en->b)
      return Value::none();
    Operation *kernel = builder.getInsertionBlock()->getParentOp();
    while (kernel && !isa<tile::KernelOp>(kernel))
      kernel = kernel->getParentOp();
    if (kernel)
      kernel->setAttr("tessel.swizzle_panel", builder.getI64IntegerAttr(panel));
    return Value::none();
  }
  if (bare == "annotate_layout")
    return Value::none(); // layouts are inferred; an explicit one is a hint

  if (bare == "reinterpret") {
    // The same bits as another type of the same width (a float's bits as
    // an integer, to order or pick them apart).
    auto a = bind({name, {"value", "dtype"}, 2});
    if (!a || !requireKernel())
      return std::nullopt;
    // TileLang takes (value, dtype) and, deprecated, (dtype, value).
    if (a->get(0)->kind == Value::Kind::DType ||
        (a->get(0)->kind == Value::Kind::String && canonicalDTypeName(a->get(0)->s))) {
      std::swap(a->values[0], a->values[1]);
      std::swap(a->locs[0], a->locs[1]);
    }
    Type t = requireDType(*a->get(1), a->locs[1]);
    MaybeValue x = materialize(*a->get(0), a->locs[0]);
    if (!t || !x)
      return std::nullopt;
    std::optional<mlir::Value> v = toIR(*x, naturalType(*x), a->locs[0]);
    if (!v)
      return std::nullopt;
    unsigned from = v->getType().getIntOrFloatBitWidth(), to = t.getIntOrFloatBitWidth();
    if (from != to)
      return error(a->locs[1], "T.reinterpret keeps the bits: a " + std::to_string(from) +
                                   "-bit value cannot be read as a " +
                                   std::to_string(to) + "-bit type");
    if (v->getType() == t)
      return makeScalar(*v);
    return makeScalar(arith::BitcastOp::create(builder, loc(l), t, *v));
  }
  if (bare == "print") {
    auto a = bind({name, {"value", "msg"}, 1});
    if (!a || !requireKernel())
      return std::nullopt;
    std::string msg;
    if (const Value *m = a->get(1)) {
      if (m->kind != Value::Kind::String)
        return error(a->locs[1], "T.print's msg must be a string");
      msg = m->s;
    }
    const Value &v = *a->get(0);
    SmallVector<mlir::Value> values;
    if (v.kind == Value::Kind::Buffer) {
      values.push_back(v.ir);
    } else {
      MaybeValue s = materialize(v, a->locs[0]);
      if (!s)
        return std::nullopt;
      std::optional<mlir::Value> ir = toIR(*s, naturalType(*s), a->locs[0]);
      if (!ir)
        return std::nullopt;
      values.push_back(*ir);
    }
    tile::PrintOp::create(builder, loc(l), builder.getStringAttr(msg), values);
    return Value::none();
  }


  //===-- names Tessel does not support yet -------------------------------------===//
  if (const char *instead = substituteFor(bare))
    return error(l, name + " is a TileLang name Tessel does not support yet: " + instead);
  if (bare == "empty") {
    auto a = bind({name, {"shape", "dtype"}, 1});
    return a ? eagerEmpty(*a, l) : std::nullopt;
  }
  if (bare == "const") {
    auto a = bind({name, {"names", "dtype"}, 1});
    return a ? eagerConst(*a, l) : std::nullopt;
  }
  return error(l, "'" + name + "' is not a Tessel primitive (docs/language.md lists "
                               "TileLang's names and their status in Tessel)");
}

Emitter::Flow Emitter::execPersistent(const ForStmt &s, const Value &spec) {
  // Tile `linear = wave * wave_size + index` of every wave that has one,
  // as coordinates of `domain` (row-major); each tile once over the grid.
  // TileLang's group_size reorders tiles for L2 reuse; the set is the same.
  Location l = loc(s.loc);
  SmallVector<mlir::Value> extents;
  for (const Value &d : spec.elems[0].elems) {
    std::optional<mlir::Value> e = toIndex(d, s.iter->loc);
    if (!e)
      return Flow::Error;
    extents.push_back(*e);
  }
  if (extents.empty()) {
    error(s.iter->loc, "T.Persistent needs a domain of one or more extents");
    return Flow::Error;
  }
  std::optional<mlir::Value> wave = toIndex(spec.elems[1], s.iter->loc);
  std::optional<mlir::Value> index = wave ? toIndex(spec.elems[2], s.iter->loc) : std::nullopt;
  if (!index)
    return Flow::Error;
  mlir::Value total = extents[0];
  for (size_t i = 1; i < extents.size(); ++i)
    total = arith::MulIOp::create(builder, l, total, extents[i]);
  mlir::Value zero = arith::ConstantIndexOp::create(builder, l, 0);
  mlir::Value one = arith::ConstantIndexOp::create(builder, l, 1);
  mlir::Value waves = arith::CeilDivSIOp::create(builder, l, total, *wave);
  auto loop = scf::ForOp::create(builder, l, zero, waves, one);
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPoint(loop.getBody()->getTerminator());
  mlir::Value linear = arith::AddIOp::create(
      builder, l, arith::MulIOp::create(builder, l, loop.getInductionVar(), *wave), *index);
  mlir::Value inside = arith::CmpIOp::create(builder, l, arith::CmpIPredicate::slt, linear, total);
  auto guardIf = scf::IfOp::create(builder, l, inside, /*withElseRegion=*/false);
  builder.setInsertionPoint(guardIf.thenBlock()->getTerminator());
  std::vector<Value> coords(extents.size());
  mlir::Value rest = linear;
  for (size_t i = extents.size(); i-- > 0;) {
    coords[i] = makeScalar(i ? (mlir::Value)arith::RemUIOp::create(builder, l, rest, extents[i])
                             : rest);
    if (i)
      rest = arith::DivUIOp::create(builder, l, rest, extents[i]);
  }
  std::vector<std::pair<std::string, Value>> bindings;
  if (!bindTargets(*s.target, coords, bindings, diags))
    return Flow::Error;
  return execRegionBody(s.body, bindings);
}

} // namespace tessel::frontend
