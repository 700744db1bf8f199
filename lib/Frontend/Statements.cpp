//===- Statements.cpp - statements, the module level and the entry --------===//

#include "lib/Frontend/Emitter.h"

#include <set>

#include "dialects/tile/IR/TileOps.h"
#include "lib/Frontend/DTypes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace tessel::frontend;
using llvm::cast;
using llvm::dyn_cast;
using llvm::isa;

namespace tessel::frontend {

Emitter::Flow Emitter::execBlock(const Block &block) {
  for (const StmtPtr &s : block) {
    Flow f = execStmt(*s);
    if (f != Flow::Normal)
      return f;
  }
  return Flow::Normal;
}

Emitter::Flow Emitter::execStmt(const Stmt &s) {
  DepthScope depth(evalDepth);
  if (depth.tooDeep()) {
    error(s.loc, "evaluation nested too deeply (more than " + llvm::Twine(kMaxEvalDepth) +
                     " levels of expressions, statements and calls)");
    return Flow::Error;
  }
  if (!threadExtents.empty() && !threadIv && insideDevice() && runsPerThread(s))
    return execPerThread(s);
  switch (s.getKind()) {
  case Stmt::Kind::FunctionDef:
    return execFunctionDef(cast<FunctionDef>(s));
  case Stmt::Kind::Assign:
    return execAssign(cast<AssignStmt>(s));
  case Stmt::Kind::AnnAssign: {
    const auto &a = cast<AnnAssignStmt>(s);
    if (!a.value && eager && isa<NameExpr>(*a.target) &&
        llvm::is_contained(eager->tensorParams, cast<NameExpr>(*a.target).id))
      return execEagerAnnotation(a);
    if (!a.value)
      return Flow::Normal;
    MaybeValue v = evalScalar(*a.value);
    if (!v || !assignTo(*a.target, *v, a.value->loc))
      return Flow::Error;
    return Flow::Normal;
  }
  case Stmt::Kind::AugAssign:
    return execAugAssign(cast<AugAssignStmt>(s));
  case Stmt::Kind::For:
    return execFor(cast<ForStmt>(s));
  case Stmt::Kind::If:
    return execIf(cast<IfStmt>(s));
  case Stmt::Kind::While:
    return execWhile(cast<WhileStmt>(s));
  case Stmt::Kind::With:
    return execWith(cast<WithStmt>(s));
  case Stmt::Kind::Return: {
    const auto &r = cast<ReturnStmt>(s);
    if (insideDevice() && deviceCallRegionDepth < 0) {
      error(s.loc, "'return' inside a T.Kernel is not supported");
      return Flow::Error;
    }
    if (insideDevice() && regionDepth != deviceCallRegionDepth) {
      error(s.loc, "a function called in a kernel can return only from its "
                   "top level, not from inside a device loop or a branch on "
                   "a device value");
      return Flow::Error;
    }
    if (r.value) {
      MaybeValue v = evalScalar(*r.value);
      if (!v)
        return Flow::Error;
      returnValue = std::move(*v);
    } else {
      returnValue = Value::none();
    }
    return Flow::Return;
  }
  case Stmt::Kind::Pass:
    return Flow::Normal;
  case Stmt::Kind::Break:
    return Flow::Break;
  case Stmt::Kind::Continue:
    return Flow::Continue;
  case Stmt::Kind::Expr: {
    const Expr &e = *cast<ExprStmt>(s).value;
    if (isa<StringExpr>(e)) // docstrings
      return Flow::Normal;
    if (auto *u = dyn_cast<UnsupportedExpr>(&e); u && u->message.find("'...'") == 0)
      return Flow::Normal; // a bare `...` is a placeholder statement
    return eval(e) ? Flow::Normal : Flow::Error;
  }
  case Stmt::Kind::Import:
    return execImport(cast<ImportStmt>(s));
  case Stmt::Kind::Assert:
    return execAssert(cast<AssertStmt>(s));
  case Stmt::Kind::Raise:
    return execRaise(cast<RaiseStmt>(s));
  case Stmt::Kind::Try:
    error(s.loc, "'try' statements are not supported in Tessel kernels");
    return Flow::Error;
  case Stmt::Kind::Unsupported:
    error(s.loc, cast<UnsupportedStmt>(s).message);
    return Flow::Error;
  }
  return Flow::Normal;
}

Emitter::Flow Emitter::execFunctionDef(const FunctionDef &def) {
  Value fn;
  fn.kind = Value::Kind::Function;
  fn.function = &def;
  fn.closure = scope;
  fn.s = def.name;
  fn.defaults = std::make_shared<std::vector<std::optional<Value>>>();
  for (const Param &p : def.params) {
    if (!p.defaultValue) {
      fn.defaults->push_back(std::nullopt);
      continue;
    }
    MaybeValue d = evalScalar(*p.defaultValue);
    if (!d)
      return Flow::Error;
    fn.defaults->push_back(std::move(*d));
  }
  // Decorators apply bottom-up; T.prim_func and T.macro mark the function,
  // tessel.jit and tessel.autotune describe how the host calls it.
  for (auto it = def.decorators.rbegin(); it != def.decorators.rend(); ++it) {
    // tessel.autotune(...)'s arguments (configs, keys) are the host's.
    if (auto *call = dyn_cast<CallExpr>(it->get())) {
      MaybeValue callee = eval(*call->func);
      if (!callee)
        return Flow::Error;
      if (callee->kind == Value::Kind::Builtin &&
          (callee->s == "tessel.autotune" || callee->s == "tessel.jit"))
        continue;
    }
    MaybeValue d = eval(**it);
    if (!d)
      return Flow::Error;
    if (d->kind == Value::Kind::Builtin &&
        (d->s == "T.prim_func" || d->s == "T.macro")) {
      fn.functionKind = d->s == "T.prim_func" ? FunctionKind::PrimFunc
                                              : FunctionKind::Macro;
      continue;
    }
    if ((d->kind == Value::Kind::Spec && d->spec == SpecKind::JitDecorator) ||
        (d->kind == Value::Kind::Builtin &&
         (d->s == "tessel.jit" || d->s == "tessel.autotune")))
      continue;
    error((*it)->loc, "unsupported decorator: Tessel kernels take "
                      "@T.prim_func, @T.macro, @tessel.jit and @tessel.autotune");
    return Flow::Error;
  }
  return bindName(def.name, fn, def.loc) ? Flow::Normal : Flow::Error;
}

bool Emitter::bindName(const std::string &name, const Value &valueIn, SourceLoc l) {
  Value value = valueIn;
  // A buffer is known by the first name it is bound to, in messages (and a
  // T.alloc_global workspace, in the signature).
  if (value.kind == Value::Kind::Buffer && value.s.empty()) {
    value.s = name;
    for (auto [arg, argName] : llvm::zip(workspaceArgs, workspaceNames))
      if (arg == value.ir && argName.empty())
        argName = name;
  }
  // Names bound inside a device region end with it; rebinding a name of an
  // enclosing scope from inside one would be silently lost, so it is an error.
  if (scope->isRegion && !scope->vars.count(name)) {
    for (Scope *s = scope->parent.get(); s; s = s->parent.get()) {
      if (!s->vars.count(name))
        continue;
      error(l, "cannot rebind '" + name + "' inside a device loop, if or "
               "kernel: its new value would not be seen after it; keep "
               "device values that change in a T.alloc_local buffer");
      return false;
    }
  }
  scope->vars[name] = value;
  return true;
}

bool Emitter::assignTo(const Expr &target, const Value &valueIn, SourceLoc vl) {
  MaybeValue maybe = materialize(valueIn, vl);
  if (!maybe)
    return false;
  const Value &value = *maybe;
  if (auto *name = dyn_cast<NameExpr>(&target)) {
    // A T.alloc_var name is a variable: assigning stores into it.
    const Value *current = scope->lookup(name->id);
    if (current && current->kind == Value::Kind::Buffer && current->isVar &&
        !(value.kind == Value::Kind::Buffer)) {
      if (!insideDevice()) {
        error(target.loc, "a T.alloc_var variable can only be written inside a T.Kernel");
        return false;
      }
      Type elt = cast<MemRefType>(current->ir.getType()).getElementType();
      std::optional<mlir::Value> v = toIR(value, elt, vl);
      if (!v)
        return false;
      if (current->perThread && !threadIv) {
        error(target.loc, "a per-thread variable can only be assigned by a statement that "
                          "runs once per thread");
        return false;
      }
      mlir::Value index = current->perThread
                              ? threadIv
                              : (mlir::Value)arith::ConstantIndexOp::create(builder, loc(target.loc), 0);
      memref::StoreOp::create(builder, loc(target.loc), *v, current->ir, ValueRange{index});
      return true;
    }
    return bindName(name->id, value, target.loc);
  }
  if (isa<TupleExpr>(target) || isa<ListExpr>(target)) {
    const auto &elts = isa<TupleExpr>(target) ? cast<TupleExpr>(target).elts
                                              : cast<ListExpr>(target).elts;
    if (!value.isSequence()) {
      error(target.loc, "cannot unpack " + describe(value) + " into " +
                            llvm::Twine(elts.size()) + " names");
      return false;
    }
    if (value.elems.size() != elts.size()) {
      error(target.loc, "cannot unpack " + llvm::Twine(value.elems.size()) +
                            " values into " + llvm::Twine(elts.size()) + " names");
      return false;
    }
    for (size_t i = 0; i < elts.size(); ++i)
      if (!assignTo(*elts[i], value.elems[i], vl))
        return false;
    return true;
  }
  if (auto *sub = dyn_cast<SubscriptExpr>(&target)) {
    MaybeValue region = eval(*sub);
    if (!region)
      return false;
    if (region->kind != Value::Kind::Region) {
      error(target.loc, "only buffer elements can be assigned to");
      return false;
    }
    SmallVector<mlir::Value> indices;
    for (const Value::RegionDim &d : region->dims) {
      if (!d.point) {
        error(target.loc, "assigning to a slice is not supported; use a "
                          "T.Parallel loop or T.fill");
        return false;
      }
      std::optional<mlir::Value> idx = toIndex(*d.offset, target.loc);
      if (!idx)
        return false;
      indices.push_back(*idx);
    }
    if (!insideDevice()) {
      error(target.loc, "buffer elements can only be written inside a T.Kernel");
      return false;
    }
    Type elt = cast<MemRefType>(region->ir.getType()).getElementType();
    std::optional<mlir::Value> v =
        value.kind == Value::Kind::Scalar
            ? std::optional<mlir::Value>(
                  convert(value.ir, elt, value.isUnsigned, region->isUnsigned, vl))
            : toIR(value, elt, vl);
    if (!v)
      return false;
    memref::StoreOp::create(builder, loc(target.loc), *v, region->ir, indices);
    return true;
  }
  error(target.loc, "cannot assign to this expression");
  return false;
}

Emitter::Flow Emitter::execAssign(const AssignStmt &s) {
  MaybeValue v = evalScalar(*s.value);
  if (!v)
    return Flow::Error;
  for (const ExprPtr &t : s.targets)
    if (!assignTo(*t, *v, s.value->loc))
      return Flow::Error;
  return Flow::Normal;
}

Emitter::Flow Emitter::execAugAssign(const AugAssignStmt &s) {
  MaybeValue current = evalScalar(*s.target);
  if (!current)
    return Flow::Error;
  MaybeValue rhs = evalScalar(*s.value);
  if (!rhs)
    return Flow::Error;
  MaybeValue result = binaryOp(s.op, *current, *rhs, s.loc);
  if (!result || !assignTo(*s.target, *result, s.loc))
    return Flow::Error;
  return Flow::Normal;
}

Emitter::Flow Emitter::execRegionBody(
    const Block &body, llvm::ArrayRef<std::pair<std::string, Value>> bindings) {
  auto region = newScope();
  region->parent = scope;
  region->isRegion = true;
  for (auto &[name, value] : bindings)
    region->vars[name] = value;
  std::shared_ptr<Scope> saved = scope;
  scope = region;
  ++regionDepth;
  Flow f = execBlock(body);
  --regionDepth;
  scope = saved;
  if (f == Flow::Break || f == Flow::Continue) {
    error(body.empty() ? SourceLoc() : body.front()->loc,
          "'break' and 'continue' are not supported in device loops");
    return Flow::Error;
  }
  return f;
}

bool bindTargets(const Expr &target, llvm::ArrayRef<Value> ivs,
                                   std::vector<std::pair<std::string, Value>> &out,
                                   DiagnosticEngine &diags) {
  std::vector<const Expr *> names;
  if (auto *t = dyn_cast<TupleExpr>(&target))
    for (const ExprPtr &e : t->elts)
      names.push_back(e.get());
  else
    names.push_back(&target);
  if (names.size() != ivs.size()) {
    diags.error(target.loc, "the loop has " + llvm::Twine(ivs.size()) +
                                " indices but " + llvm::Twine(names.size()) +
                                " names to bind them to");
    return false;
  }
  for (size_t i = 0; i < names.size(); ++i) {
    auto *n = dyn_cast<NameExpr>(names[i]);
    if (!n) {
      diags.error(names[i]->loc, "a device loop binds plain names");
      return false;
    }
    out.emplace_back(n->id, ivs[i]);
  }
  return true;
}

Emitter::Flow Emitter::execFor(const ForStmt &s) {
  if (!s.orelse.empty()) {
    error(s.elseLoc, "'for ... else' is not supported in Tessel kernels");
    return Flow::Error;
  }
  MaybeValue iter = eval(*s.iter);
  if (!iter)
    return Flow::Error;
  // Compile-time iteration: tuples, lists, and range() outside kernels.
  if (iter->isSequence()) {
    for (const Value &v : iter->elems) {
      if (!assignTo(*s.target, v, s.iter->loc))
        return Flow::Error;
      Flow f = execBlock(s.body);
      if (f == Flow::Break)
        break;
      if (f == Flow::Return || f == Flow::Error)
        return f;
    }
    return Flow::Normal;
  }
  if (iter->kind != Value::Kind::Spec ||
      (iter->spec != SpecKind::Parallel && iter->spec != SpecKind::Pipelined &&
       iter->spec != SpecKind::Serial && iter->spec != SpecKind::Unroll &&
       iter->spec != SpecKind::Range && iter->spec != SpecKind::Persistent &&
       iter->spec != SpecKind::ThreadBinding)) {
    error(s.iter->loc, "cannot iterate over " + describe(*iter) +
                           "; use T.Pipelined, T.Parallel, T.serial, "
                           "T.unroll or range");
    return Flow::Error;
  }
  const Value &spec = *iter;
  auto kwarg = [&](llvm::StringRef name) -> const Value * {
    for (auto &[k, v] : spec.kwargs)
      if (k == name)
        return &v;
    return nullptr;
  };

  if (spec.spec == SpecKind::Range && !insideDevice()) {
    // A compile-time range: unrolled while the kernel is evaluated.
    int64_t lo = 0, hi, step = 1;
    std::vector<int64_t> bounds;
    for (const Value &v : spec.elems) {
      std::optional<int64_t> b = requireInt(v, s.iter->loc, "a range bound outside a kernel");
      if (!b)
        return Flow::Error;
      bounds.push_back(*b);
    }
    if (bounds.size() == 1) {
      hi = bounds[0];
    } else {
      lo = bounds[0];
      hi = bounds[1];
      if (bounds.size() == 3)
        step = bounds[2];
    }
    if (step == 0) {
      error(s.iter->loc, "range() step must not be zero");
      return Flow::Error;
    }
    int64_t trips = 0;
    for (int64_t i = lo; step > 0 ? i < hi : i > hi; i += step) {
      if (++trips > kMaxCompileTimeIterations) {
        error(s.iter->loc, "this compile-time range has more than " +
                               llvm::Twine(kMaxCompileTimeIterations) +
                               " iterations; use T.serial for a device loop");
        return Flow::Error;
      }
      if (!assignTo(*s.target, Value::integer(i), s.iter->loc))
        return Flow::Error;
      Flow f = execBlock(s.body);
      if (f == Flow::Break)
        break;
      if (f == Flow::Return || f == Flow::Error)
        return f;
    }
    return Flow::Normal;
  }
  if (!insideDevice()) {
    error(s.iter->loc, "device loops can only be used inside a T.Kernel");
    return Flow::Error;
  }

  Location location = loc(s.loc);
  if (spec.spec == SpecKind::Parallel) {
    SmallVector<int64_t> extents;
    for (const Value &v : spec.elems) {
      std::optional<int64_t> e = requireInt(v, s.iter->loc, "a T.Parallel extent");
      if (!e)
        return Flow::Error;
      if (*e < 0) {
        error(s.iter->loc, "T.Parallel extents must not be negative");
        return Flow::Error;
      }
      extents.push_back(*e);
    }
    OpBuilder::InsertionGuard guard(builder);
    SmallVector<mlir::Value> indices;
    openParallel(extents, location, indices);
    std::vector<Value> ivs;
    for (mlir::Value iv : indices)
      ivs.push_back(makeScalar(iv));
    std::vector<std::pair<std::string, Value>> bindings;
    if (!bindTargets(*s.target, ivs, bindings, diags))
      return Flow::Error;
    return execRegionBody(s.body, bindings);
  }

  if (spec.spec == SpecKind::Persistent)
    return execPersistent(s, spec);
  if (spec.spec == SpecKind::ThreadBinding)
    return execThreadBindingLoop(s, spec);

  // Serial, unrolled and pipelined loops: (stop), (start, stop) or
  // (start, stop, step).
  std::vector<Value> bounds(spec.elems.begin(), spec.elems.end());
  if (bounds.empty() || bounds.size() > 3) {
    error(s.iter->loc, "a loop takes (stop), (start, stop) or (start, stop, step)");
    return Flow::Error;
  }
  Value lo = Value::integer(0), hi = bounds[0], step = Value::integer(1);
  if (bounds.size() >= 2) {
    lo = bounds[0];
    hi = bounds[1];
  }
  if (bounds.size() == 3)
    step = bounds[2];
  std::optional<mlir::Value> loV = toIndex(lo, s.iter->loc), hiV = toIndex(hi, s.iter->loc),
                             stepV = toIndex(step, s.iter->loc);
  if (!loV || !hiV || !stepV)
    return Flow::Error;
  if (step.kind == Value::Kind::Int && step.i <= 0) {
    error(s.iter->loc, "loop step must be positive");
    return Flow::Error;
  }
  mlir::Block *body;
  mlir::Value iv;
  if (spec.spec == SpecKind::Pipelined) {
    int64_t stages = 0;
    if (const Value *n = kwarg("num_stages")) {
      std::optional<int64_t> v = requireInt(*n, s.iter->loc, "num_stages");
      if (!v)
        return Flow::Error;
      if (*v < 0) {
        error(s.iter->loc, "num_stages must not be negative");
        return Flow::Error;
      }
      stages = *v;
    }
    auto intList = [&](llvm::StringRef name, DenseI64ArrayAttr &out) {
      const Value *v = kwarg(name);
      if (!v || v->kind == Value::Kind::None)
        return true;
      if (!v->isSequence()) {
        error(s.iter->loc, name + " must be a list of compile-time integers");
        return false;
      }
      SmallVector<int64_t> xs;
      for (const Value &x : v->elems) {
        std::optional<int64_t> i = requireInt(x, s.iter->loc, (name + " entries").str());
        if (!i)
          return false;
        xs.push_back(*i);
      }
      out = builder.getDenseI64ArrayAttr(xs);
      return true;
    };
    DenseI64ArrayAttr order, stage;
    if (!intList("order", order) || !intList("stage", stage))
      return Flow::Error;
    auto op = tessel::tile::PipelinedOp::create(
        builder, location, *loV, *hiV, *stepV, builder.getI64IntegerAttr(stages),
        order, stage);
    body = new mlir::Block();
    op.getBody().push_back(body);
    iv = body->addArgument(builder.getIndexType(), location);
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(body);
    tessel::tile::YieldOp::create(builder, location);
  } else {
    auto op = scf::ForOp::create(builder, location, *loV, *hiV, *stepV);
    if (spec.spec == SpecKind::Unroll)
      op->setAttr("tessel.unroll", builder.getUnitAttr());
    body = op.getBody();
    iv = op.getInductionVar();
  }
  std::vector<std::pair<std::string, Value>> bindings;
  if (!bindTargets(*s.target, {makeScalar(iv)}, bindings, diags))
    return Flow::Error;
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPoint(body->getTerminator());
  return execRegionBody(s.body, bindings);
}

Emitter::Flow Emitter::execIf(const IfStmt &s) {
  MaybeValue test = evalScalar(*s.test);
  if (!test)
    return Flow::Error;
  if (std::optional<bool> t = truthValue(*test))
    return execBlock(*t ? s.body : s.orelse);
  std::optional<mlir::Value> cond = toIR(*test, builder.getI1Type(), s.test->loc);
  if (!cond)
    return Flow::Error;
  auto op = scf::IfOp::create(builder, loc(s.loc), *cond,
                              /*withElseRegion=*/!s.orelse.empty());
  {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPoint(op.thenBlock()->getTerminator());
    Flow f = execRegionBody(s.body, {});
    if (f != Flow::Normal)
      return f;
  }
  if (!s.orelse.empty()) {
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPoint(op.elseBlock()->getTerminator());
    Flow f = execRegionBody(s.orelse, {});
    if (f != Flow::Normal)
      return f;
  }
  return Flow::Normal;
}

Emitter::Flow Emitter::execDeviceWhile(const WhileStmt &s) {
  // A run-time condition: an scf.while whose "before" region evaluates the
  // condition (reading T.alloc_var variables and tensors) each time.
  if (!insideDevice()) {
    error(s.test->loc, "a while loop on a device value can only run inside a T.Kernel");
    return Flow::Error;
  }
  auto op = scf::WhileOp::create(builder, loc(s.loc), TypeRange{}, ValueRange{});
  OpBuilder::InsertionGuard guard(builder);
  builder.createBlock(&op.getBefore());
  MaybeValue test = evalScalar(*s.test);
  if (!test)
    return Flow::Error;
  std::optional<mlir::Value> cond = toIR(*test, builder.getI1Type(), s.test->loc);
  if (!cond)
    return Flow::Error;
  scf::ConditionOp::create(builder, loc(s.test->loc), *cond, ValueRange{});
  builder.createBlock(&op.getAfter());
  auto yield = scf::YieldOp::create(builder, loc(s.loc));
  builder.setInsertionPoint(yield);
  Flow f = execRegionBody(s.body, {});
  return f == Flow::Error ? Flow::Error : Flow::Normal;
}

Emitter::Flow Emitter::execWhile(const WhileStmt &s) {
  if (!s.orelse.empty()) {
    error(s.elseLoc, "'while ... else' is not supported in Tessel kernels");
    return Flow::Error;
  }
  for (int iterations = 0;; ++iterations) {
    MaybeValue test = evalScalar(*s.test);
    if (!test)
      return Flow::Error;
    std::optional<bool> t = truthValue(*test);
    if (!t && iterations == 0)
      return execDeviceWhile(s);
    if (!t) {
      error(s.test->loc, "this while loop's condition became a device value after "
                         "its first iteration; make it a device condition from the start");
      return Flow::Error;
    }
    if (!*t)
      return Flow::Normal;
    if (iterations == kMaxCompileTimeIterations) {
      error(s.loc, "this compile-time while loop ran " +
                       llvm::Twine(kMaxCompileTimeIterations) +
                       " times; is its condition ever false?");
      return Flow::Error;
    }
    Flow f = execBlock(s.body);
    if (f == Flow::Break)
      return Flow::Normal;
    if (f == Flow::Return || f == Flow::Error)
      return f;
  }
}

Emitter::Flow Emitter::execWith(const WithStmt &s) {
  if (s.items.size() != 1) {
    error(s.loc, "a 'with' in a kernel takes exactly one T.Kernel(...)");
    return Flow::Error;
  }
  const WithItem &item = s.items[0];
  MaybeValue ctxValue = eval(*item.context);
  if (!ctxValue)
    return Flow::Error;
  if (ctxValue->kind != Value::Kind::Spec || ctxValue->spec != SpecKind::Kernel) {
    error(item.context->loc, "'with' takes T.Kernel(...) in Tessel kernels, not " +
                                 describe(*ctxValue));
    return Flow::Error;
  }
  if (!insidePrimFunc()) {
    error(item.context->loc, "T.Kernel can only be used inside a @T.prim_func");
    return Flow::Error;
  }
  if (insideDevice()) {
    error(item.context->loc, "T.Kernel cannot be nested inside another T.Kernel");
    return Flow::Error;
  }
  const Value &spec = *ctxValue;
  if (!checkGridExtents(spec.elems, item.context->loc))
    return Flow::Error;
  SmallVector<mlir::Value> grid;
  for (const Value &g : spec.elems) {
    std::optional<mlir::Value> v = toIndex(g, item.context->loc);
    if (!v)
      return Flow::Error;
    grid.push_back(*v);
  }
  int64_t threads = 128;
  SmallVector<int64_t, 3> extents;
  SmallVector<int64_t> cluster;
  for (auto &[k, v] : spec.kwargs) {
    if (k == "threads") {
      if (v.isSequence()) {
        threads = 1;
        for (const Value &t : v.elems) {
          std::optional<int64_t> n = requireInt(t, item.context->loc, "threads");
          if (!n)
            return Flow::Error;
          if (*n < 1 || *n > 1024) {
            error(item.context->loc, "thread extents must be in [1, 1024], got " + llvm::Twine(*n));
            return Flow::Error;
          }
          threads *= *n;
          extents.push_back(*n);
        }
      } else {
        std::optional<int64_t> n = requireInt(v, item.context->loc, "threads");
        if (!n)
          return Flow::Error;
        threads = *n;
      }
    } else if (k == "cluster" || k == "cluster_dims") {
      std::vector<Value> dims = v.isSequence() ? v.elems : std::vector<Value>{v};
      for (const Value &c : dims) {
        std::optional<int64_t> n = requireInt(c, item.context->loc, "cluster extents");
        if (!n)
          return Flow::Error;
        cluster.push_back(*n);
      }
    }
  }
  if (threads < 1 || threads > 1024) {
    error(item.context->loc, "threads must be in [1, 1024], got " + llvm::Twine(threads));
    return Flow::Error;
  }
  Location location = loc(s.loc);
  auto op = tessel::tile::KernelOp::create(
      builder, location, grid, builder.getI64IntegerAttr(threads),
      cluster.empty() ? DenseI64ArrayAttr() : builder.getDenseI64ArrayAttr(cluster));
  mlir::Block *body = new mlir::Block();
  op.getBody().push_back(body);
  std::vector<Value> ids;
  for (size_t i = 0; i < grid.size(); ++i)
    ids.push_back(makeScalar(body->addArgument(builder.getIndexType(), location)));
  std::vector<std::pair<std::string, Value>> bindings;
  if (item.target) {
    if (auto *n = dyn_cast<NameExpr>(item.target.get())) {
      if (ids.size() == 1)
        bindings.emplace_back(n->id, ids[0]);
      else
        bindings.emplace_back(n->id, Value::tuple(ids));
    } else if (!bindTargets(*item.target, ids, bindings, diags)) {
      return Flow::Error;
    }
  }
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToStart(body);
  tessel::tile::YieldOp::create(builder, location);
  builder.setInsertionPointToStart(body);
  // A body that reads thread indices runs statement by statement per thread
  // where it uses them (ThreadBinding.cpp).
  SmallVector<int64_t, 3> savedExtents = threadExtents;
  threadExtents.clear();
  if (usesThreadIndices(s.body)) {
    threadExtents = extents.empty() ? SmallVector<int64_t, 3>{threads} : extents;
    if (threadExtents.size() > 3) {
      error(item.context->loc, "threads takes at most 3 extents (x, y, z)");
      return Flow::Error;
    }
  }
  ++kernelDepth;
  Flow f = execRegionBody(s.body, bindings);
  --kernelDepth;
  threadExtents = savedExtents;
  return f;
}

Emitter::Flow Emitter::execImport(const ImportStmt &s) {
  for (const ImportStmt::Alias &a : s.names)
    if (!bindName(a.alias, importedValue(a.path), a.loc))
      return Flow::Error;
  return Flow::Normal;
}

Emitter::Flow Emitter::execAssert(const AssertStmt &s) {
  MaybeValue test = evalScalar(*s.test);
  if (!test)
    return Flow::Error;
  std::optional<bool> ok = truthValue(*test);
  if (!ok) {
    error(s.test->loc, "assert needs a compile-time condition");
    return Flow::Error;
  }
  if (*ok)
    return Flow::Normal;
  std::string message = "assertion failed";
  if (s.msg) {
    MaybeValue m = evalScalar(*s.msg);
    if (m && m->kind == Value::Kind::String)
      message += ": " + m->s;
  }
  error(s.loc, message);
  return Flow::Error;
}

//===----------------------------------------------------------------------===//
// The module level and the entry
//===----------------------------------------------------------------------===//

MaybeValue Emitter::evalConstant(const Expr &e, const std::shared_ptr<Scope> &s) {
  trackScope(s);
  scope = s;
  MaybeValue v = evalScalar(e);
  if (v && v->kind == Value::Kind::Scalar)
    return error(e.loc, "expected a compile-time value");
  return v;
}

OwningOpRef<ModuleOp> Emitter::emitEntry(const EntryRequest &request,
                                         const std::shared_ptr<Scope> &globals,
                                         SourceLoc entryLoc) {
  OwningOpRef<ModuleOp> owned = ModuleOp::create(loc(entryLoc));
  module = *owned;
  trackScope(globals);
  scope = globals;
  const Value *entry = globals->lookup(request.entry);
  if (!entry || entry->kind != Value::Kind::Function) {
    std::string known;
    for (auto &kv : globals->vars)
      if (kv.second.kind == Value::Kind::Function)
        known += (known.empty() ? "" : ", ") + kv.first().str();
    error(entryLoc, "no function named '" + request.entry + "' in this file" +
                        (known.empty() ? "" : " (functions: " + known + ")"));
    return nullptr;
  }
  Value fn = *entry;
  if (fn.functionKind != FunctionKind::PrimFunc && (request.eager || isEagerStyle(*fn.function)))
    return emitEager(fn, request) ? std::move(owned) : nullptr;
  if (fn.functionKind != FunctionKind::PrimFunc) {
    // A factory: call it with the requested arguments.
    const FunctionDef &def = *fn.function;
    std::vector<std::pair<std::string, Value>> kwargs;
    for (size_t i = 0; i < request.args.size(); ++i) {
      const auto &[name, value] = request.args[i];
      bool known = llvm::any_of(def.params, [&](const Param &p) { return p.name == name; });
      if (!known) {
        std::string params;
        for (const Param &p : def.params)
          params += (params.empty() ? "" : ", ") + p.name;
        error(def.loc, "'" + def.name + "' has no parameter '" + name +
                           "' (parameters: " + params + ")");
        return nullptr;
      }
      kwargs.emplace_back(name, value);
    }
    for (size_t i = 0; i < def.params.size(); ++i) {
      bool given = llvm::any_of(request.args, [&](auto &a) { return a.first == def.params[i].name; });
      if (!given && !(*fn.defaults)[i]) {
        error(def.params[i].loc, "'" + def.name + "' needs a value for '" +
                                     def.params[i].name + "' (pass -D " +
                                     def.params[i].name + "=...)");
        return nullptr;
      }
    }
    MaybeValue result = callFunction(fn, {}, std::move(kwargs), def.loc);
    if (!result)
      return nullptr;
    if (result->kind != Value::Kind::Function ||
        result->functionKind != FunctionKind::PrimFunc) {
      error(def.loc, "'" + def.name + "' must return a @T.prim_func, but it "
                         "returned " + describe(*result));
      return nullptr;
    }
    fn = *result;
  } else if (!request.args.empty()) {
    error(fn.function->loc, "'" + request.entry + "' is a prim_func and takes no "
                            "-D values; write a factory that returns it");
    return nullptr;
  }
  if (!emitPrimFunc(fn, request.entry, fn.function->loc))
    return nullptr;
  return owned;
}

void Emitter::addWorkspaces(func::FuncOp func, const std::shared_ptr<Scope> &frame) {
  // T.alloc_global added arguments after the parameters: the function's
  // type and its per-argument attributes grow to match.
  func.setType(builder.getFunctionType(funcEntry->getArgumentTypes(), {}));
  SmallVector<Attribute> names(func->getAttrOfType<ArrayAttr>("tessel.arg_names").getValue());
  SmallVector<int64_t> indices;
  for (auto [i, arg] : llvm::enumerate(workspaceArgs)) {
    std::string name = workspaceNames[i].empty() ? "workspace" + std::to_string(i)
                                                 : workspaceNames[i];
    names.push_back(builder.getStringAttr(name));
    indices.push_back(cast<BlockArgument>(arg).getArgNumber());
  }
  func->setAttr("tessel.arg_names", builder.getArrayAttr(names));
  if (auto dyn = func->getAttrOfType<ArrayAttr>("tessel.dynamic_dims")) {
    SmallVector<Attribute> perArg(dyn.getValue());
    for (mlir::Value arg : workspaceArgs) {
      SmallVector<Attribute> empty(cast<MemRefType>(arg.getType()).getRank(),
                                   builder.getStringAttr(""));
      perArg.push_back(builder.getArrayAttr(empty));
    }
    func->setAttr("tessel.dynamic_dims", builder.getArrayAttr(perArg));
  }
  func->setAttr("tessel.workspaces", builder.getDenseI64ArrayAttr(indices));
}

func::FuncOp Emitter::emitPrimFunc(const Value &fn, const std::string &name,
                                   SourceLoc l) {
  const FunctionDef &def = *fn.function;
  // Parameters: T.Tensor(shape, dtype) annotations become global memrefs;
  // dtype annotations become scalars.
  SmallVector<Type> types;
  std::vector<std::vector<std::pair<int64_t, std::string>>> dynamics;
  std::set<size_t> unsignedParams, inPlaceParams;
  scope = fn.closure;
  for (const Param &p : def.params) {
    if (!p.annotation) {
      error(p.loc, "parameter '" + p.name + "' of a prim_func needs an "
                   "annotation such as T.Tensor((M, N), dtype)");
      return nullptr;
    }
    MaybeValue ann = eval(*p.annotation);
    if (!ann)
      return nullptr;
    dynamics.emplace_back();
    if (ann->kind == Value::Kind::DType) {
      types.push_back(requireDType(*ann, p.annotation->loc));
      if (dtypeIsUnsigned(*ann))
        unsignedParams.insert(types.size() - 1);
      continue;
    }
    if (ann->kind != Value::Kind::Spec || ann->spec != SpecKind::Tensor) {
      error(p.annotation->loc, "expected T.Tensor(shape, dtype) or a dtype, got " +
                                   describe(*ann));
      return nullptr;
    }
    SmallVector<int64_t> shape;
    for (const Value &d : ann->elems[0].elems) {
      if (d.kind == Value::Kind::Dynamic) {
        dynamics.back().emplace_back(shape.size(), d.s);
        shape.push_back(ShapedType::kDynamic);
        continue;
      }
      std::optional<int64_t> n = requireInt(d, p.annotation->loc, "a tensor dimension");
      if (!n)
        return nullptr;
      if (*n <= 0) {
        error(p.annotation->loc, "tensor dimensions must be positive, got " +
                                     llvm::Twine(*n));
        return nullptr;
      }
      shape.push_back(*n);
    }
    Type elt = requireDType(ann->elems[1], p.annotation->loc);
    if (!elt || !checkTensorBytes(shape, elt, p.annotation->loc))
      return nullptr;
    if (dtypeIsUnsigned(ann->elems[1]))
      unsignedParams.insert(types.size());
    if (ann->elems.size() > 2 && truthValue(ann->elems[2]).value_or(false))
      inPlaceParams.insert(types.size()); // T.Tensor(..., in_place=True)
    types.push_back(MemRefType::get(
        shape, elt, MemRefLayoutAttrInterface(),
        tessel::tile::MemoryScopeAttr::get(ctx, tessel::tile::MemoryScope::Global)));
  }
  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(builder, loc(l), name,
                                   builder.getFunctionType(types, {}));
  SmallVector<Attribute> argNames;
  for (const Param &p : def.params)
    argNames.push_back(builder.getStringAttr(p.name));
  func->setAttr("tessel.arg_names", builder.getArrayAttr(argNames));
  if (llvm::any_of(dynamics, [](auto &d) { return !d.empty(); })) {
    SmallVector<Attribute> perArg;
    for (size_t i = 0; i < types.size(); ++i) {
      auto memref = dyn_cast<MemRefType>(types[i]);
      SmallVector<Attribute> dimNames(memref ? memref.getRank() : 0,
                                      builder.getStringAttr(""));
      for (auto &[dim, dynName] : dynamics[i])
        dimNames[dim] = builder.getStringAttr(dynName);
      perArg.push_back(builder.getArrayAttr(dimNames));
    }
    func->setAttr("tessel.dynamic_dims", builder.getArrayAttr(perArg));
  }
  for (auto [set, attr] : {std::pair(&unsignedParams, "tessel.unsigned"),
                           std::pair(&inPlaceParams, "tessel.in_place")}) {
    SmallVector<int64_t> args;
    for (size_t i : *set)
      if (i < def.params.size())
        args.push_back(static_cast<int64_t>(i));
    if (!args.empty())
      func->setAttr(attr, builder.getDenseI64ArrayAttr(args));
  }
  funcEntry = func.addEntryBlock();
  builder.setInsertionPointToEnd(funcEntry);
  auto ret = func::ReturnOp::create(builder, loc(l));
  builder.setInsertionPoint(ret);

  auto frame = newScope();
  frame->parent = fn.closure;
  dynamicDims.clear();
  for (size_t i = 0; i < def.params.size(); ++i) {
    mlir::Value arg = funcEntry->getArgument(i);
    Value param = isa<MemRefType>(arg.getType()) ? Value::buffer(arg, def.params[i].name)
                                                 : makeScalar(arg);
    param.isUnsigned = unsignedParams.count(i) != 0;
    frame->vars[def.params[i].name] = param;
    for (auto &[dim, dynName] : dynamics[i])
      dynamicDims.emplace(dynName, std::make_pair(arg, dim));
  }
  scope = frame;
  workspaceArgs.clear();
  workspaceNames.clear();
  ++primFuncDepth;
  Flow f = execBlock(def.body);
  --primFuncDepth;
  if (f == Flow::Error)
    return nullptr;
  if (!workspaceArgs.empty())
    addWorkspaces(func, frame);
  return func;
}

} // namespace tessel::frontend
