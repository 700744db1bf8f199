//===- ThreadBinding.cpp - TileLang's per-thread code: thread indices ------===//
//
// TileLang runs a kernel's body on every thread of the block; a kernel may
// read its thread's index (T.get_thread_binding) and keep per-thread state in
// T.alloc_local and T.alloc_var. Tessel's body is block-level code: scalar
// statements run once, T.Parallel spreads elements over threads. A kernel
// that uses thread indices is brought to that model statement by statement:
//
//  - a statement that reads a thread index or a per-thread buffer runs once
//    per thread, as a T.Parallel over the block's threads whose index is the
//    thread's; the statements between are a barrier apart, as TileLang's own
//    synchronization makes them;
//  - T.alloc_local and T.alloc_var become fragments with one copy per thread,
//    which such a statement indexes by its thread;
//  - a name assigned a per-thread value becomes a per-thread variable;
//  - a statement that reads neither (a serial loop, a uniform if, a T.copy)
//    stays block-level code, and a per-thread statement inside it runs for
//    every thread in each iteration.
//
//===----------------------------------------------------------------------===//

#include "lib/Frontend/Emitter.h"

#include "dialects/tile/IR/TileOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace tessel::frontend;
namespace tile = tessel::tile;

namespace tessel::frontend {

namespace {

bool isCallTo(const Expr &e, llvm::StringRef attr) {
  auto *call = dyn_cast<CallExpr>(&e);
  if (!call)
    return false;
  auto *fn = dyn_cast<AttributeExpr>(call->func.get());
  return fn && fn->attr == attr;
}

/// True when `pred` holds for `e` or any expression inside it.
bool anySubexpr(const Expr &e, llvm::function_ref<bool(const Expr &)> pred) {
  if (pred(e))
    return true;
  auto any = [&](const std::vector<ExprPtr> &es) {
    return llvm::any_of(es, [&](const ExprPtr &x) { return x && anySubexpr(*x, pred); });
  };
  auto one = [&](const ExprPtr &x) { return x && anySubexpr(*x, pred); };
  if (auto *c = dyn_cast<CallExpr>(&e))
    return one(c->func) || any(c->args) ||
           llvm::any_of(c->keywords, [&](const Keyword &k) { return one(k.value); });
  if (auto *a = dyn_cast<AttributeExpr>(&e))
    return one(a->value);
  if (auto *s = dyn_cast<SubscriptExpr>(&e))
    return one(s->value) || any(s->indices);
  if (auto *s = dyn_cast<SliceExpr>(&e))
    return one(s->lower) || one(s->upper);
  if (auto *u = dyn_cast<UnaryExpr>(&e))
    return one(u->operand);
  if (auto *b = dyn_cast<BinaryExpr>(&e))
    return one(b->lhs) || one(b->rhs);
  if (auto *b = dyn_cast<BoolOpExpr>(&e))
    return any(b->values);
  if (auto *c = dyn_cast<CompareExpr>(&e))
    return one(c->left) || any(c->comparators);
  if (auto *i = dyn_cast<IfExpr>(&e))
    return one(i->test) || one(i->body) || one(i->orelse);
  if (auto *t = dyn_cast<TupleExpr>(&e))
    return any(t->elts);
  if (auto *l = dyn_cast<ListExpr>(&e))
    return any(l->elts);
  return false;
}

bool exprCalls(const Expr &e, llvm::StringRef attr) {
  return anySubexpr(e, [&](const Expr &x) { return isCallTo(x, attr); });
}

bool blockCalls(const Block &body, llvm::StringRef attr);

bool stmtCalls(const Stmt &s, llvm::StringRef attr) {
  auto has = [&](const ExprPtr &e) { return e && exprCalls(*e, attr); };
  switch (s.getKind()) {
  case Stmt::Kind::Assign: {
    const auto &a = cast<AssignStmt>(s);
    return has(a.value) || llvm::any_of(a.targets, has);
  }
  case Stmt::Kind::AnnAssign:
    return has(cast<AnnAssignStmt>(s).value);
  case Stmt::Kind::AugAssign:
    return has(cast<AugAssignStmt>(s).target) || has(cast<AugAssignStmt>(s).value);
  case Stmt::Kind::Expr:
    return has(cast<ExprStmt>(s).value);
  case Stmt::Kind::For:
    return has(cast<ForStmt>(s).iter) || blockCalls(cast<ForStmt>(s).body, attr);
  case Stmt::Kind::If:
    return has(cast<IfStmt>(s).test) || blockCalls(cast<IfStmt>(s).body, attr) ||
           blockCalls(cast<IfStmt>(s).orelse, attr);
  case Stmt::Kind::While:
    return has(cast<WhileStmt>(s).test) || blockCalls(cast<WhileStmt>(s).body, attr);
  case Stmt::Kind::With:
    return blockCalls(cast<WithStmt>(s).body, attr);
  default:
    return false;
  }
}

bool blockCalls(const Block &body, llvm::StringRef attr) {
  return llvm::any_of(body, [&](const StmtPtr &s) { return stmtCalls(*s, attr); });
}

/// The thread dimension a TileLang thread tag names ("threadIdx.x" is 0).
std::optional<int64_t> threadTagDim(llvm::StringRef tag) {
  if (tag == "threadIdx.x" || tag == "tx")
    return 0;
  if (tag == "threadIdx.y" || tag == "ty")
    return 1;
  if (tag == "threadIdx.z" || tag == "tz")
    return 2;
  return std::nullopt;
}

} // namespace

bool Emitter::usesThreadIndices(const Block &body) {
  return blockCalls(body, "get_thread_binding") || blockCalls(body, "thread_binding");
}

bool Emitter::perThreadExpr(const Expr &e) {
  return anySubexpr(e, [&](const Expr &x) {
    if (isCallTo(x, "get_thread_binding"))
      return true;
    // A thread index, a per-thread variable, or an element of a per-thread
    // buffer (the buffer named whole is block-level: T.clear(acc)).
    const auto *sub = dyn_cast<SubscriptExpr>(&x);
    const auto *name = dyn_cast<NameExpr>(sub ? sub->value.get() : &x);
    const Value *v = name ? scope->lookup(name->id) : nullptr;
    if (!v)
      return false;
    if (sub)
      return v->kind == Value::Kind::Buffer && v->perThread;
    return (v->kind == Value::Kind::Opaque && v->threadDim >= 0) ||
           (v->kind == Value::Kind::Buffer && v->perThread && v->isVar);
  });
}

bool Emitter::runsPerThread(const Stmt &s) {
  auto has = [&](const ExprPtr &e) { return e && perThreadExpr(*e); };
  switch (s.getKind()) {
  case Stmt::Kind::Assign: {
    const auto &a = cast<AssignStmt>(s);
    return has(a.value) || llvm::any_of(a.targets, has) || isCallTo(*a.value, "thread_binding");
  }
  case Stmt::Kind::AnnAssign: {
    const auto &a = cast<AnnAssignStmt>(s);
    return a.value && (has(a.value) || has(a.target));
  }
  case Stmt::Kind::AugAssign:
    return has(cast<AugAssignStmt>(s).target) || has(cast<AugAssignStmt>(s).value);
  case Stmt::Kind::Expr:
    return has(cast<ExprStmt>(s).value);
  case Stmt::Kind::For:
    return has(cast<ForStmt>(s).iter);
  case Stmt::Kind::If:
    return has(cast<IfStmt>(s).test);
  case Stmt::Kind::While:
    return has(cast<WhileStmt>(s).test);
  default:
    return false;
  }
}

MaybeValue Emitter::threadIndex(int64_t dim, SourceLoc l) {
  // x fastest: tid = x + X * (y + Y * z); the index is never negative, so
  // unsigned division and remainder give each coordinate.
  int64_t below = 1, total = 1;
  for (int64_t d = 0; d < dim; ++d)
    below *= threadExtents[d];
  for (int64_t e : threadExtents)
    total *= e;
  Location at = loc(l);
  mlir::Value index = threadIv;
  if (below > 1)
    index = arith::DivUIOp::create(builder, at, index,
                                   arith::ConstantIndexOp::create(builder, at, below));
  if (below * threadExtents[dim] < total)
    index = arith::RemUIOp::create(
        builder, at, index, arith::ConstantIndexOp::create(builder, at, threadExtents[dim]));
  return makeScalar(index);
}

MaybeValue Emitter::getThreadBinding(const Value *dimV, SourceLoc dimLoc, SourceLoc l) {
  if (!insideDevice())
    return error(l, "T.get_thread_binding can only be used inside a T.Kernel");
  int64_t dim = 0;
  if (dimV) {
    std::optional<int64_t> d = requireInt(*dimV, dimLoc, "a thread dimension");
    if (!d)
      return std::nullopt;
    dim = *d;
  }
  if (threadExtents.empty())
    return error(l, "T.get_thread_binding is not supported here: only in the body of the "
                    "T.Kernel that calls it, not in a T.macro or helper it calls");
  if (dim < 0 || dim >= static_cast<int64_t>(threadExtents.size()))
    return error(dimLoc, "this T.Kernel has " + llvm::Twine(threadExtents.size()) +
                             " thread dimension" + (threadExtents.size() == 1 ? "" : "s") +
                             "; thread dimension " + llvm::Twine(dim) + " does not exist");
  if (threadIv)
    return threadIndex(dim, l);
  // Outside a per-thread statement: a name that each per-thread statement
  // reads as its thread's index.
  Value v;
  v.kind = Value::Kind::Opaque;
  v.threadDim = static_cast<int>(dim);
  v.s = "is a thread index (T.get_thread_binding): only statements that run once per "
        "thread can read it, and this one cannot";
  return v;
}

Value Emitter::perThreadBuffer(MemRefType type, SourceLoc l) {
  int64_t threads = 1;
  for (int64_t e : threadExtents)
    threads *= e;
  SmallVector<int64_t> shape{threads};
  if (!(type.getRank() == 1 && type.getDimSize(0) == 1))
    llvm::append_range(shape, type.getShape());
  auto fragment = MemRefType::get(
      shape, type.getElementType(), MemRefLayoutAttrInterface(),
      tile::MemoryScopeAttr::get(builder.getContext(), tile::MemoryScope::Fragment));
  Value buf = Value::buffer(tile::AllocOp::create(builder, loc(l), fragment, nullptr), "");
  buf.perThread = true;
  return buf;
}

MaybeValue Emitter::perThreadElement(const Value &buffer, const SubscriptExpr *subscript,
                                     SourceLoc l) {
  if (!threadIv)
    return error(l, "a per-thread buffer (T.alloc_local or T.alloc_var in a kernel that "
                    "uses thread indices) can only be indexed by a statement that runs once "
                    "per thread");
  auto type = cast<MemRefType>(buffer.ir.getType());
  Value region = buffer;
  region.kind = Value::Kind::Region;
  region.isVar = false;
  Value::RegionDim thread;
  thread.offset = std::make_shared<Value>(makeScalar(threadIv));
  region.dims.push_back(thread);
  size_t given = subscript ? subscript->indices.size() : 0;
  if (type.getRank() == 1) {
    // A (1,)-shaped buffer: its one element, index 0.
    if (given > 1)
      return error(subscript->indices[1]->loc, "too many indices for a buffer of shape (1,)");
    if (given == 1) {
      MaybeValue i = evalScalar(*subscript->indices[0]);
      if (!i)
        return std::nullopt;
      if (!(i->kind == Value::Kind::Int && i->i == 0))
        return error(subscript->indices[0]->loc,
                     "a per-thread buffer of shape (1,) is indexed by 0 only");
    }
    return region;
  }
  if (given > static_cast<size_t>(type.getRank() - 1))
    return error(subscript->indices[type.getRank() - 1]->loc,
                 "too many indices: this per-thread buffer has rank " +
                     llvm::Twine(type.getRank() - 1));
  for (int64_t d = 1; d < type.getRank(); ++d) {
    Value::RegionDim dim;
    if (static_cast<size_t>(d - 1) >= given || isa<SliceExpr>(*subscript->indices[d - 1]))
      return error(l, "a per-thread buffer is indexed one element at a time here (slices and "
                      "missing indices are not supported yet)");
    MaybeValue i = evalScalar(*subscript->indices[d - 1]);
    if (!i)
      return std::nullopt;
    dim.offset = std::make_shared<Value>(*i);
    region.dims.push_back(dim);
  }
  return region;
}

Emitter::Flow Emitter::execPerThread(const Stmt &s) {
  for (Operation *op = builder.getInsertionBlock()->getParentOp(); op; op = op->getParentOp()) {
    if (isa<tile::KernelOp>(op))
      break;
    if (isa<tile::ParallelOp>(op)) {
      error(s.loc, "this statement reads a thread index or a per-thread buffer inside a "
                   "T.Parallel, which Tessel does not support yet: a T.Parallel already "
                   "runs each element on a thread of its choosing");
      return Flow::Error;
    }
  }
  // `tx = T.get_thread_binding()` (or TIR's `tx = T.thread_binding(0, n,
  // "threadIdx.x")`): the name stands for the thread index.
  if (auto *a = dyn_cast<AssignStmt>(&s);
      a && a->targets.size() == 1 && isa<NameExpr>(*a->targets[0]) &&
      (isCallTo(*a->value, "get_thread_binding") || isCallTo(*a->value, "thread_binding"))) {
    MaybeValue v = eval(*a->value);
    if (v && v->kind == Value::Kind::Spec && v->spec == SpecKind::ThreadBinding)
      v = threadBindingIndex(*v, a->value->loc);
    return v && bindName(cast<NameExpr>(*a->targets[0]).id, *v, a->loc) ? Flow::Normal
                                                                         : Flow::Error;
  }
  int64_t threads = 1;
  for (int64_t e : threadExtents)
    threads *= e;
  Location location = loc(s.loc);
  OpBuilder::InsertionGuard guard(builder);
  SmallVector<mlir::Value, 1> ivs;
  Operation *par = openParallel({threads}, location, ivs);
  mlir::Value iv = ivs[0];
  threadIv = iv;
  auto region = newScope();
  region->parent = scope;
  region->isRegion = true;
  std::shared_ptr<Scope> saved = scope;
  scope = region;
  ++regionDepth;
  Flow f = Flow::Normal;
  // `x = <per-thread value>`: x becomes (or stays) a per-thread variable.
  const Expr *target = nullptr, *valueExpr = nullptr;
  if (const auto *assign = dyn_cast<AssignStmt>(&s); assign && assign->targets.size() == 1) {
    target = assign->targets[0].get();
    valueExpr = assign->value.get();
  } else if (const auto *ann = dyn_cast<AnnAssignStmt>(&s); ann && ann->value) {
    target = ann->target.get();
    valueExpr = ann->value.get();
  }
  if (target && (isa<TupleExpr>(target) || isa<ListExpr>(target))) {
    error(target->loc, "unpacking per-thread values into several names is not supported yet; "
                       "assign them one by one");
    f = Flow::Error;
  } else if (target && isa<NameExpr>(target)) {
    const std::string &name = cast<NameExpr>(target)->id;
    const Value *existing = saved->lookup(name);
    bool isVar = existing && existing->kind == Value::Kind::Buffer && existing->isVar;
    MaybeValue v = evalScalar(*valueExpr);
    std::optional<mlir::Value> ir;
    if (v && v->kind == Value::Kind::Scalar)
      ir = v->ir;
    else if (v && (v->kind == Value::Kind::Int || v->kind == Value::Kind::Float ||
                   v->kind == Value::Kind::Bool))
      ir = toIR(*v, v->kind == Value::Kind::Float ? (Type)builder.getF32Type()
                    : v->kind == Value::Kind::Bool ? (Type)builder.getI1Type()
                                                   : (Type)builder.getI32Type(),
                valueExpr->loc);
    else if (v)
      error(valueExpr->loc, "a per-thread value must be a scalar, got " + describe(*v));
    if (!ir) {
      f = Flow::Error;
    } else {
      Type elt = ir->getType().isIndex() ? builder.getI32Type() : ir->getType();
      Type held = isVar ? cast<MemRefType>(existing->ir.getType()).getElementType() : Type();
      // A T.alloc_var keeps its dtype (the value converts, as a store does);
      // a name bound by assignment takes the new value's type, as a Python
      // rebinding does.
      bool reuse = isVar && (!existing->implicitVar || held == elt);
      Value var;
      if (reuse) {
        var = *existing;
      } else {
        OpBuilder::InsertionGuard g(builder);
        builder.setInsertionPoint(par);
        var = perThreadBuffer(MemRefType::get({1}, elt), s.loc);
        var.isVar = true;
        var.implicitVar = true;
        var.isUnsigned = v->isUnsigned;
      }
      Type stored = cast<MemRefType>(var.ir.getType()).getElementType();
      std::optional<mlir::Value> x = *ir;
      if (x->getType().isIndex())
        x = arith::IndexCastOp::create(builder, location, elt, *x);
      if (x->getType() != stored)
        x = toIR(makeScalar(*x), stored, valueExpr->loc);
      if (!x) {
        f = Flow::Error;
      } else {
        memref::StoreOp::create(builder, location, *x, var.ir, ValueRange{iv});
        scope = saved;
        if (!reuse && !bindName(name, var, target->loc))
          f = Flow::Error;
      }
    }
  } else {
    f = execStmt(s);
  }
  --regionDepth;
  scope = saved;
  threadIv = nullptr;
  if (f == Flow::Break || f == Flow::Continue || f == Flow::Return) {
    error(s.loc, "'break', 'continue' and 'return' are not supported in a statement that "
                 "runs once per thread");
    return Flow::Error;
  }
  return f;
}

bool Emitter::refusedPerThread(const std::string &name, const std::vector<Value> &args,
                               SourceLoc l) {
  if (!threadIv)
    return false;
  static const char *const kWholeTile[] = {
      "T.copy", "T.fill", "T.clear", "T.gemm", "T.cumsum", "T.Parallel", "T.Pipelined",
      "T.Persistent", "T.Kernel", "T.alloc_shared", "T.alloc_fragment", "T.alloc_local",
      "T.alloc_var", "T.alloc_reducer", "T.alloc_global", "T.finalize_reducer", "T.reshape"};
  bool tileAtomic = name == "T.atomic_add" && args.size() > 1 &&
                    args[1].kind == Value::Kind::Buffer;
  if (!llvm::is_contained(kWholeTile, name) && !llvm::StringRef(name).starts_with("T.reduce_") &&
      !tileAtomic)
    return false;
  error(l, name + " inside a statement that runs once per thread (one that reads a thread "
                  "index or a per-thread buffer) is not supported yet: it works on whole "
                  "buffers for the block; write it as block-level code, outside the "
                  "thread-dependent statement");
  return true;
}

MaybeValue Emitter::threadBindingIndex(const Value &spec, SourceLoc l) {
  // T.thread_binding(extent, thread=) or (begin, end, thread): the thread
  // index along the tagged dimension, which must span the kernel's threads.
  std::vector<Value> bounds(spec.elems.begin(), spec.elems.end());
  std::string tag;
  for (auto &[k, v] : spec.kwargs)
    if (k == "thread" && v.kind == Value::Kind::String)
      tag = v.s;
  if (!bounds.empty() && bounds.back().kind == Value::Kind::String) {
    tag = bounds.back().s;
    bounds.pop_back();
  }
  std::optional<int64_t> dim = threadTagDim(tag);
  if (!dim)
    return error(l, "T.thread_binding needs thread=\"threadIdx.x\", \"threadIdx.y\" or "
                    "\"threadIdx.z\"" +
                        (tag.empty() ? std::string() : ", got '" + tag + "'"));
  if (bounds.empty() || bounds.size() > 2)
    return error(l, "T.thread_binding takes (extent) or (begin, end)");
  std::optional<int64_t> lo = bounds.size() == 2
                                  ? requireInt(bounds[0], l, "a thread_binding bound")
                                  : std::optional<int64_t>(0);
  std::optional<int64_t> hi = requireInt(bounds.back(), l, "a thread_binding bound");
  if (!lo || !hi)
    return std::nullopt;
  bool known = !threadExtents.empty() && *dim < static_cast<int64_t>(threadExtents.size());
  if (!known || *lo != 0 || *hi != threadExtents[*dim])
    return error(l, "T.thread_binding over [" + llvm::Twine(*lo) + ", " + llvm::Twine(*hi) +
                        ") does not match the T.Kernel's threads along " + tag + " (" +
                        (known ? std::to_string(threadExtents[*dim]) : std::string("none")) +
                        "); Tessel binds the kernel's whole thread range only");
  if (threadIv)
    return threadIndex(*dim, l);
  Value index;
  index.kind = Value::Kind::Opaque;
  index.threadDim = static_cast<int>(*dim);
  index.s = "is a thread index (T.thread_binding): only statements that run once per "
            "thread can read it, and this one cannot";
  return index;
}

Emitter::Flow Emitter::execThreadBindingLoop(const ForStmt &s, const Value &spec) {
  // The body runs on every thread with the loop variable its index.
  MaybeValue index = threadBindingIndex(spec, s.iter->loc);
  if (!index)
    return Flow::Error;
  auto *name = dyn_cast<NameExpr>(s.target.get());
  if (!name) {
    error(s.target->loc, "T.thread_binding binds one loop variable");
    return Flow::Error;
  }
  return execRegionBody(s.body, {{name->id, *index}});
}

} // namespace tessel::frontend
