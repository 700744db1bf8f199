//===- Eager.cpp - the eager style: the decorated function is the kernel --===//
//
// TileLang's current style writes a kernel without a prim_func:
//
//   @tessel.jit
//   def add(A, B, block_M=64):
//       M, N = T.const("M, N")
//       A: T.Tensor((M, N), "float32")
//       B: T.Tensor((M, N), "float32")
//       C = T.empty((M, N), "float32")
//       with T.Kernel(...) as bx: ...
//       return C
//
// Its tensor parameters are annotated by statements in the body, T.const
// names sizes that the caller reads off the tensors' shapes, and T.empty
// tensors are outputs the kernel returns. The function is emitted as a
// func.func whose arguments are the annotated parameters, in parameter
// order, then the returned outputs in return order, then any other T.empty
// tensors; `tessel.outputs` lists the returned ones.
//
//===----------------------------------------------------------------------===//

#include "lib/Frontend/Emitter.h"

#include "dialects/tile/IR/TileOps.h"
#include "lib/Frontend/Arguments.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/STLExtras.h"

using namespace mlir;
using namespace tessel::frontend;
using llvm::cast;
using llvm::dyn_cast;
using llvm::isa;

namespace tessel::frontend {

bool isEagerStyle(const FunctionDef &def) {
  for (const StmtPtr &s : def.body) {
    auto *ann = dyn_cast<AnnAssignStmt>(s.get());
    if (!ann || ann->value)
      continue;
    auto *name = dyn_cast<NameExpr>(ann->target.get());
    if (name && llvm::any_of(def.params, [&](const Param &p) { return p.name == name->id; }))
      return true;
  }
  return false;
}

/// The parameters an eager function annotates in its body.
static std::vector<std::string> annotatedParams(const FunctionDef &def) {
  std::vector<std::string> names;
  for (const StmtPtr &s : def.body) {
    auto *ann = dyn_cast<AnnAssignStmt>(s.get());
    auto *name = ann && !ann->value ? dyn_cast<NameExpr>(ann->target.get()) : nullptr;
    if (name && llvm::any_of(def.params, [&](const Param &p) { return p.name == name->id; }))
      names.push_back(name->id);
  }
  return names;
}

MemRefType Emitter::tensorType(const Value &spec, SourceLoc l,
                               std::vector<std::pair<int64_t, std::string>> &dynamics) {
  SmallVector<int64_t> shape;
  const Value &shapeV = spec.elems[0];
  std::vector<Value> dims = shapeV.isSequence() ? shapeV.elems : std::vector<Value>{shapeV};
  for (const Value &d : dims) {
    if (d.kind == Value::Kind::Dynamic) {
      dynamics.emplace_back(shape.size(), d.s);
      shape.push_back(ShapedType::kDynamic);
      continue;
    }
    std::optional<int64_t> n = requireInt(d, l, "a tensor dimension");
    if (!n)
      return nullptr;
    if (*n <= 0) {
      error(l, "tensor dimensions must be positive, got " + llvm::Twine(*n));
      return nullptr;
    }
    shape.push_back(*n);
  }
  Type elt = requireDType(spec.elems[1], l);
  if (!elt || !checkTensorBytes(shape, elt, l))
    return nullptr;
  return MemRefType::get(shape, elt, MemRefLayoutAttrInterface(),
                         tile::MemoryScopeAttr::get(ctx, tile::MemoryScope::Global));
}

Value Emitter::constPlaceholder(std::string name) {
  Value v = Value::named(Value::Kind::Dynamic, std::move(name));
  v.b = true;
  return v;
}

func::FuncOp Emitter::emitEager(const Value &fn, const EntryRequest &request) {
  // T.const values the caller did not give are found by discovery runs:
  // each binds the names an annotation uses as a dimension to the shape of
  // the tensor passed there; a name computed from another (K - 1) needs
  // the first bound, hence a few rounds.
  EntryRequest current = request;
  for (int round = 0; round < 4 && !request.tensorShapes.empty(); ++round) {
    bool grew = false;
    for (auto &[name, value] : discoverConsts(fn, current)) {
      if (llvm::any_of(current.consts, [&](auto &c) { return c.first == name; }))
        continue;
      current.consts.emplace_back(name, Value::integer(value));
      grew = true;
    }
    if (!grew)
      break;
  }
  return emitEagerOnce(fn, current, /*discovery=*/false);
}

std::map<std::string, int64_t> Emitter::discoverConsts(const Value &fn,
                                                       const EntryRequest &request) {
  SourceFile scratchFile = file;
  DiagnosticEngine scratch(scratchFile);
  Emitter probe(ctx, file, scratch);
  OwningOpRef<ModuleOp> scratchModule = ModuleOp::create(loc(fn.function->loc));
  probe.module = *scratchModule;
  probe.emitEagerOnce(fn, request, /*discovery=*/true);
  adoptScopes(probe);
  return probe.discoveredConsts;
}

func::FuncOp Emitter::emitEagerOnce(const Value &fn, const EntryRequest &request,
                                    bool discovery) {
  const FunctionDef &def = *fn.function;
  eager = std::make_unique<EagerState>();
  eager->discovery = discovery;
  eager->tensorShapes = request.tensorShapes;
  eager->tensorParams =
      request.eager && !request.tensorParams.empty() ? request.tensorParams : annotatedParams(def);
  for (const auto &[name, value] : request.consts)
    eager->consts[name] = value;

  OpBuilder::InsertionGuard guard(builder);
  builder.setInsertionPointToEnd(module.getBody());
  auto func = func::FuncOp::create(builder, loc(def.loc), request.entry,
                                   builder.getFunctionType({}, {}));
  eager->entry = func.addEntryBlock();
  funcEntry = eager->entry;
  builder.setInsertionPointToEnd(eager->entry);
  auto ret = func::ReturnOp::create(builder, loc(def.loc));
  builder.setInsertionPoint(ret);

  // The frame: tensor parameters wait for their annotation; the others take
  // the request's values or their defaults. -D names that are not
  // parameters are T.const values (tesselc's way to give them).
  auto frame = newScope();
  frame->parent = fn.closure;
  for (size_t i = 0; i < def.params.size(); ++i) {
    const Param &p = def.params[i];
    if (llvm::is_contained(eager->tensorParams, p.name)) {
      frame->vars[p.name] = Value::named(
          Value::Kind::Opaque, "is a tensor argument: annotate it first, as in `" + p.name +
                                   ": T.Tensor((M, N), dtype)`");
      continue;
    }
    auto given = llvm::find_if(request.args, [&](auto &a) { return a.first == p.name; });
    if (given != request.args.end()) {
      frame->vars[p.name] = given->second;
    } else if ((*fn.defaults)[i]) {
      frame->vars[p.name] = *(*fn.defaults)[i];
    } else {
      error(p.loc, "'" + def.name + "' needs a value for '" + p.name + "'");
      return nullptr;
    }
  }
  for (const auto &[name, value] : request.args)
    if (!llvm::any_of(def.params, [&](const Param &p) { return p.name == name; }))
      eager->consts[name] = value;

  scope = frame;
  dynamicDims.clear();
  workspaceArgs.clear();
  workspaceNames.clear();
  ++primFuncDepth;
  MaybeValue savedReturn = std::move(returnValue);
  returnValue.reset();
  Flow f = execBlock(def.body);
  --primFuncDepth;
  MaybeValue result = std::move(returnValue);
  returnValue = std::move(savedReturn);
  if (discovery) {
    discoveredConsts = eager->discovered;
    eager.reset();
    return nullptr;
  }
  if (f == Flow::Error)
    return nullptr;

  // A workspace is known by the name the body bound it to.
  for (auto [arg, argName] : llvm::zip(workspaceArgs, workspaceNames))
    for (EagerArg &a : eager->args)
      if (a.arg == arg && !argName.empty())
        a.name = argName;
  // An output is known by the name the body gave it (`C = T.empty(...)`).
  for (EagerArg &a : eager->args)
    if (a.output)
      for (auto &entry : frame->vars)
        if (entry.second.kind == Value::Kind::Buffer && entry.second.ir == a.arg) {
          a.name = entry.first().str();
          break;
        }

  // Returned tensors are the outputs, in return order.
  std::vector<mlir::Value> returned;
  if (result && result->kind != Value::Kind::None) {
    std::vector<Value> values = result->isSequence() ? result->elems : std::vector<Value>{*result};
    for (const Value &v : values) {
      auto it = llvm::find_if(eager->args, [&](const EagerArg &a) {
        return v.kind == Value::Kind::Buffer && a.arg == v.ir && a.output;
      });
      if (it == eager->args.end()) {
        error(def.loc, "'" + def.name + "' returns " + describe(v) +
                           "; an eager kernel returns the tensors it made with T.empty");
        return nullptr;
      }
      returned.push_back(it->arg);
    }
  }
  // An output's dynamic extents come from the inputs at launch.
  for (const EagerArg &out : eager->args)
    for (auto &[dim, dynName] : out.dynamics)
      if (out.output && !llvm::any_of(eager->args, [&, &n = dynName](const EagerArg &in) {
            return !in.output && llvm::any_of(in.dynamics, [&](auto &d) { return d.second == n; });
          })) {
        error(out.loc, "dynamic dimension '" + dynName + "' of this output is not a "
                       "dimension of any tensor argument");
        return nullptr;
      }
  for (const std::string &p : eager->tensorParams)
    if (!llvm::any_of(eager->args, [&](const EagerArg &a) { return a.name == p && !a.output; })) {
      error(def.loc, "tensor argument '" + p + "' of '" + def.name +
                         "' is never annotated: write `" + p +
                         ": T.Tensor((M, N), dtype)` in the body");
      return nullptr;
    }

  // The argument order: inputs in parameter order, returned outputs in
  // return order, then the other T.empty tensors.
  std::vector<const EagerArg *> order;
  for (const Param &p : def.params)
    for (const EagerArg &a : eager->args)
      if (!a.output && a.name == p.name)
        order.push_back(&a);
  for (mlir::Value r : returned)
    for (const EagerArg &a : eager->args)
      if (a.arg == r && !llvm::is_contained(order, &a))
        order.push_back(&a);
  for (const EagerArg &a : eager->args)
    if (!llvm::is_contained(order, &a))
      order.push_back(&a);

  mlir::Block *entry = eager->entry;
  unsigned oldCount = entry->getNumArguments();
  SmallVector<Type> types;
  SmallVector<Attribute> names, perArg;
  SmallVector<int64_t> outputs, unsignedArgs, workspaces;
  bool anyDynamic = false;
  for (auto [i, a] : llvm::enumerate(order)) {
    mlir::Value fresh = entry->addArgument(a->arg.getType(), a->arg.getLoc());
    mlir::Value old = a->arg;
    old.replaceAllUsesWith(fresh);
    types.push_back(fresh.getType());
    names.push_back(builder.getStringAttr(a->name));
    auto memref = cast<MemRefType>(fresh.getType());
    SmallVector<Attribute> dimNames(memref.getRank(), builder.getStringAttr(""));
    for (auto &[dim, dynName] : a->dynamics) {
      dimNames[dim] = builder.getStringAttr(dynName);
      anyDynamic = true;
    }
    perArg.push_back(builder.getArrayAttr(dimNames));
    if (llvm::is_contained(returned, a->arg))
      outputs.push_back(static_cast<int64_t>(i));
    if (a->isUnsigned)
      unsignedArgs.push_back(static_cast<int64_t>(i));
    if (llvm::is_contained(workspaceArgs, a->arg))
      workspaces.push_back(static_cast<int64_t>(i));
  }
  entry->eraseArguments(0, oldCount);
  func.setType(builder.getFunctionType(types, {}));
  func->setAttr("tessel.arg_names", builder.getArrayAttr(names));
  if (anyDynamic)
    func->setAttr("tessel.dynamic_dims", builder.getArrayAttr(perArg));
  func->setAttr("tessel.outputs", builder.getDenseI64ArrayAttr(outputs));
  if (!unsignedArgs.empty())
    func->setAttr("tessel.unsigned", builder.getDenseI64ArrayAttr(unsignedArgs));
  if (!workspaces.empty())
    func->setAttr("tessel.workspaces", builder.getDenseI64ArrayAttr(workspaces));
  eager.reset();
  return func;
}

Emitter::Flow Emitter::execEagerAnnotation(const AnnAssignStmt &s) {
  const std::string &name = cast<NameExpr>(*s.target).id;
  if (llvm::any_of(eager->args, [&](const EagerArg &a) { return a.name == name && !a.output; })) {
    error(s.loc, "tensor argument '" + name + "' is annotated twice");
    return Flow::Error;
  }
  MaybeValue ann = eval(*s.annotation);
  if (!ann)
    return Flow::Error;
  if (ann->kind != Value::Kind::Spec || ann->spec != SpecKind::Tensor) {
    error(s.annotation->loc, "expected T.Tensor(shape, dtype), got " + describe(*ann));
    return Flow::Error;
  }
  EagerArg a;
  a.name = name;
  if (eager->discovery) {
    // Placeholders among the dimensions take the passed tensor's extents.
    auto shape = eager->tensorShapes.find(name);
    Value &dims = ann->elems[0];
    if (!dims.isSequence())
      dims = Value::tuple({dims});
    for (auto [d, dim] : llvm::enumerate(dims.elems)) {
      if (!isConstPlaceholder(dim))
        continue;
      if (shape == eager->tensorShapes.end() || d >= shape->second.size())
        return Flow::Error;
      if (!dim.s.empty())
        eager->discovered.emplace(dim.s, shape->second[d]);
      dim = Value::integer(shape->second[d]);
    }
  }
  MemRefType type = tensorType(*ann, s.annotation->loc, a.dynamics);
  if (!type)
    return Flow::Error;
  a.arg = eager->entry->addArgument(type, loc(s.loc));
  a.isUnsigned = dtypeIsUnsigned(ann->elems[1]);
  for (auto &[dim, dynName] : a.dynamics)
    dynamicDims.emplace(dynName, std::make_pair(a.arg, dim));
  eager->args.push_back(a);
  // The parameter's frame entry (the function's scope) becomes the tensor.
  for (Scope *sc = scope.get(); sc; sc = sc->parent.get())
    if (auto it = sc->vars.find(name); it != sc->vars.end()) {
      it->second = Value::buffer(a.arg, name);
      it->second.isUnsigned = a.isUnsigned;
      break;
    }
  return Flow::Normal;
}

MaybeValue Emitter::eagerEmpty(BoundArgs &args, SourceLoc l) {
  if (!eager || insideDevice())
    return error(l, eager ? "T.empty makes a kernel output: call it outside T.Kernel"
                          : "T.empty belongs to the eager style: use it in a @tessel.jit "
                            "function that defines no @T.prim_func and annotates its tensor "
                            "parameters (A: T.Tensor((M, N), dtype))");
  Value spec = Value::tuple({*args.get(0), args.get(1) ? *args.get(1) : Value::dtype("float32")});
  EagerArg a;
  a.output = true;
  MemRefType type = tensorType(spec, args.locs[0], a.dynamics);
  if (!type)
    return std::nullopt;
  a.arg = eager->entry->addArgument(type, loc(l));
  a.loc = args.locs[0];
  a.isUnsigned = args.get(1) && dtypeIsUnsigned(*args.get(1));
  a.name = "out" + std::to_string(llvm::count_if(eager->args, [](auto &x) { return x.output; }));
  eager->args.push_back(a);
  Value out = Value::buffer(a.arg, "");
  out.isUnsigned = a.isUnsigned;
  return out;
}

MaybeValue Emitter::eagerConst(BoundArgs &args, SourceLoc l) {
  if (!eager)
    return error(l, "T.const belongs to the eager style: use it in a @tessel.jit function "
                    "that defines no @T.prim_func and annotates its tensor parameters");
  const Value &names = *args.get(0);
  if (names.kind != Value::Kind::String)
    return error(args.locs[0], "T.const takes the names as one string: T.const(\"M, N\")");
  std::vector<Value> values;
  llvm::SmallVector<llvm::StringRef> parts;
  llvm::StringRef(names.s).split(parts, ',', -1, false);
  for (llvm::StringRef part : parts) {
    std::string n = part.trim().str();
    if (n.empty())
      continue;
    auto it = eager->consts.find(n);
    if (it == eager->consts.end() && eager->discovery) {
      values.push_back(constPlaceholder(n));
      continue;
    }
    if (it == eager->consts.end())
      return error(args.locs[0], "T.const '" + n + "' has no value: it is not a dimension "
                                     "of any tensor argument's annotation; pass " + n +
                                     "=... when compiling");
    values.push_back(it->second);
  }
  if (values.size() == 1)
    return values[0];
  return Value::tuple(std::move(values));
}

} // namespace tessel::frontend
