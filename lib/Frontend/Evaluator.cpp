//===- Evaluator.cpp - statements and expressions of the kernel language --===//
//
// Compile-time values are computed here; run-time values become arith, scf
// and memref IR at the builder's insertion point.
//
//===----------------------------------------------------------------------===//

#include "lib/Frontend/Emitter.h"

#include "dialects/tile/IR/TileOps.h"
#include "lib/Frontend/DTypes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>

using namespace mlir;
using namespace tessel::frontend;
using llvm::cast;
using llvm::dyn_cast;
using llvm::isa;

namespace tessel::frontend {

Emitter::Emitter(MLIRContext *ctx, const SourceFile &file,
                 DiagnosticEngine &diags)
    : ctx(ctx), file(file), diags(diags), builder(ctx) {}

std::nullopt_t Emitter::error(SourceLoc l, const llvm::Twine &message) {
  diags.error(l, message);
  return std::nullopt;
}

Location Emitter::loc(SourceLoc l) const {
  const SourceFile &f = diags.fileOf(l);
  return FileLineColLoc::get(ctx, f.path, f.fileLine(l), l.col);
}

//===----------------------------------------------------------------------===//
// Scalars and IR
//===----------------------------------------------------------------------===//

Type Emitter::naturalType(const Value &v) {
  switch (v.kind) {
  case Value::Kind::Bool: return builder.getI1Type();
  case Value::Kind::Int: return builder.getI32Type();
  case Value::Kind::Float: return builder.getF32Type();
  case Value::Kind::Scalar: return v.ir.getType();
  case Value::Kind::Dynamic: return builder.getIndexType();
  default: return Type();
  }
}

Value makeScalar(mlir::Value ir) {
  // Integers (an index, or an offset loaded from a tensor) carry a linear
  // form, so that `x[s:s + n]` has the known extent n.
  if (ir.getType().isIntOrIndex() && !ir.getType().isInteger(1))
    return Value::scalar(ir, std::make_shared<LinearForm>(LinearForm::ofValue(ir)));
  return Value::scalar(ir);
}

mlir::Value Emitter::castTo(mlir::Value v, Type type, SourceLoc l) {
  if (v.getType() == type)
    return v;
  return tessel::tile::CastOp::create(builder, loc(l), type, v);
}

mlir::Value Emitter::convert(mlir::Value v, Type type, bool fromUnsigned, bool toUnsigned,
                             SourceLoc l) {
  Type from = v.getType();
  if (from == type)
    return v;
  Location at = loc(l);
  // An unsigned integer widens with zeros and becomes a float as unsigned;
  // a float becomes an unsigned integer as unsigned. The rest are the
  // language's (signed) conversions.
  if (fromUnsigned && from.isInteger() && from.getIntOrFloatBitWidth() > 1) {
    if (isa<FloatType>(type))
      return arith::UIToFPOp::create(builder, at, type, v);
    if (type.isIndex())
      return arith::IndexCastUIOp::create(builder, at, type, v);
    if (type.isInteger() && type.getIntOrFloatBitWidth() > from.getIntOrFloatBitWidth())
      return arith::ExtUIOp::create(builder, at, type, v);
    if (type.isInteger())
      return arith::TruncIOp::create(builder, at, type, v);
  }
  if (toUnsigned && isa<FloatType>(from) && type.isInteger())
    return arith::FPToUIOp::create(builder, at, type, v);
  return castTo(v, type, l);
}

bool Emitter::dtypeIsUnsigned(const Value &v) {
  if (v.kind != Value::Kind::DType && v.kind != Value::Kind::String)
    return false;
  std::optional<llvm::StringRef> name = canonicalDTypeName(v.s);
  return name && isUnsignedDType(*name);
}

std::optional<mlir::Value> Emitter::toIR(const Value &v, Type type, SourceLoc l) {
  Location location = loc(l);
  switch (v.kind) {
  case Value::Kind::Bool:
  case Value::Kind::Int:
  case Value::Kind::Float: {
    if (isa<FloatType>(type)) {
      double d = v.kind == Value::Kind::Float ? v.f : (double)(v.kind == Value::Kind::Int ? v.i : v.b);
      if (cast<FloatType>(type).getWidth() <= 8) {
        // fp8 constants are made in f32 and converted by the backends' rules.
        mlir::Value wide = arith::ConstantOp::create(
            builder, location, builder.getF32FloatAttr(static_cast<float>(d)));
        return castTo(wide, type, l);
      }
      return (mlir::Value)arith::ConstantOp::create(builder, location,
                                                    builder.getFloatAttr(type, d));
    }
    if (type.isIntOrIndex()) {
      if (v.kind == Value::Kind::Float)
        return error(l, "a float cannot be used where an integer is needed");
      int64_t i = v.kind == Value::Kind::Int ? v.i : v.b;
      if (type.isIndex())
        return (mlir::Value)arith::ConstantIndexOp::create(builder, location, i);
      // The constant must fit the type it becomes (signed, or as the bit
      // pattern of the unsigned type of that width): no silent wrap.
      unsigned width = type.getIntOrFloatBitWidth();
      std::optional<llvm::APInt> bits = width == 1 ? llvm::APInt(1, i != 0) // truth
                                                   : integerForWidth(v, width);
      if (!bits)
        return error(l, "the integer " + llvm::Twine(i) + " does not fit in " +
                            (width == 1 ? llvm::Twine("a bool") : "int" + llvm::Twine(width)));
      return (mlir::Value)arith::ConstantOp::create(builder, location,
                                                    builder.getIntegerAttr(type, *bits));
    }
    return error(l, "cannot use a constant as a value of this type");
  }
  case Value::Kind::Scalar:
    return convert(v.ir, type, v.isUnsigned, false, l);
  case Value::Kind::Dynamic: {
    auto it = dynamicDims.find(v.s);
    if (it == dynamicDims.end() && !v.dynOp.empty()) {
      // An expression over dynamic dimensions, computed where it is used.
      std::optional<mlir::Value> a = toIR(v.elems[0], builder.getIndexType(), l);
      std::optional<mlir::Value> b = a ? toIR(v.elems[1], builder.getIndexType(), l)
                                       : std::nullopt;
      if (!b)
        return std::nullopt;
      Location at = loc(l);
      mlir::Value r =
          v.dynOp == "+"         ? (mlir::Value)arith::AddIOp::create(builder, at, *a, *b)
          : v.dynOp == "-"       ? (mlir::Value)arith::SubIOp::create(builder, at, *a, *b)
          : v.dynOp == "*"       ? (mlir::Value)arith::MulIOp::create(builder, at, *a, *b)
          : v.dynOp == "//"      ? (mlir::Value)arith::FloorDivSIOp::create(builder, at, *a, *b)
          : v.dynOp == "%"       ? floorMod(*a, *b, at)
          : v.dynOp == "ceildiv" ? (mlir::Value)arith::CeilDivSIOp::create(builder, at, *a, *b)
          : v.dynOp == "max"     ? (mlir::Value)arith::MaxSIOp::create(builder, at, *a, *b)
                                 : (mlir::Value)arith::MinSIOp::create(builder, at, *a, *b);
      return castTo(r, type, l);
    }
    if (it == dynamicDims.end())
      return error(l, "dynamic dimension '" + v.s +
                          "' is not the dimension of any kernel argument");
    OpBuilder::InsertionGuard guard(builder);
    builder.setInsertionPointToStart(funcEntry);
    // At the function's entry, so that every use inside loops sees it.
    mlir::Value dim = memref::DimOp::create(builder, location, it->second.first,
                                            it->second.second);
    return castTo(dim, type, l);
  }
  case Value::Kind::Region: {
    MaybeValue scalar = materialize(v, l);
    if (!scalar)
      return std::nullopt;
    return toIR(*scalar, type, l);
  }
  case Value::Kind::BigInt: {
    // Past int64: only the bit pattern of a 64-bit unsigned constant
    // (0xFFFFFFFFFFFFFFFF) or a float is representable.
    if (isa<FloatType>(type))
      return (mlir::Value)arith::ConstantOp::create(
          builder, location, builder.getFloatAttr(type, exactIntegerToDouble(v)));
    std::optional<llvm::APInt> bits;
    if (type.isInteger())
      bits = integerForWidth(v, type.getIntOrFloatBitWidth());
    if (!bits)
      return error(l, "the integer " + bigIntText(v) + " does not fit in " +
                          (type.isIndex() ? std::string("an index (64 bits)")
                           : type.isInteger()
                               ? "int" + std::to_string(type.getIntOrFloatBitWidth())
                               : std::string("this type")));
    return (mlir::Value)arith::ConstantOp::create(builder, location,
                                                  builder.getIntegerAttr(type, *bits));
  }
  default:
    return error(l, "expected a number, got " + describe(v));
  }
}

std::optional<mlir::Value> Emitter::toIndex(const Value &v, SourceLoc l) {
  if (v.kind == Value::Kind::Float ||
      (v.kind == Value::Kind::Scalar && isa<FloatType>(v.ir.getType())))
    return error(l, "expected an integer, got a float");
  return toIR(v, builder.getIndexType(), l);
}

std::optional<int64_t> Emitter::requireInt(const Value &v, SourceLoc l,
                                           llvm::StringRef what) {
  if (v.kind == Value::Kind::Int)
    return v.i;
  if (v.kind == Value::Kind::Bool)
    return (int64_t)v.b;
  if (v.kind == Value::Kind::BigInt)
    return error(l, what + " is " + bigIntText(v) + ", which does not fit in 64 bits");
  return error(l, what + " must be a compile-time integer, got " + describe(v));
}

Type Emitter::requireDType(const Value &v, SourceLoc l) {
  if (v.kind == Value::Kind::DType || v.kind == Value::Kind::String) {
    std::optional<llvm::StringRef> name = canonicalDTypeName(v.s);
    if (name)
      return dtypeToType(*name, ctx);
    error(l, "unknown dtype '" + v.s + "' (known: " + knownDTypeNames() + ")");
    return Type();
  }
  error(l, "expected a dtype, got " + describe(v) +
               (v.kind == Value::Kind::Builtin ? " ('" + v.s + "')" : std::string()));
  return Type();
}

MaybeValue Emitter::materialize(const Value &v, SourceLoc l) {
  if (v.kind == Value::Kind::Opaque)
    return error(l, v.s);
  if (v.kind != Value::Kind::Region)
    return v;
  SmallVector<mlir::Value> indices;
  for (const Value::RegionDim &d : v.dims) {
    if (!d.point)
      return error(l, "a slice of '" + v.s +
                          "' cannot be used as a single value");
    std::optional<mlir::Value> idx = toIndex(*d.offset, l);
    if (!idx)
      return std::nullopt;
    indices.push_back(*idx);
  }
  if (!insideDevice())
    return error(l, "elements of '" + v.s +
                        "' can only be read inside a T.Kernel");
  Value loaded = makeScalar(memref::LoadOp::create(builder, loc(l), v.ir, indices));
  loaded.isUnsigned = v.isUnsigned;
  return loaded;
}

//===----------------------------------------------------------------------===//
// Binary operators
//===----------------------------------------------------------------------===//

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//
MaybeValue Emitter::evalScalar(const Expr &e) {
  MaybeValue v = eval(e);
  if (!v)
    return std::nullopt;
  return materialize(*v, e.loc);
}

MaybeValue Emitter::eval(const Expr &e) {
  DepthScope depth(evalDepth);
  if (depth.tooDeep())
    return error(e.loc, "evaluation nested too deeply (more than " +
                            llvm::Twine(kMaxEvalDepth) +
                            " levels of expressions, statements and calls)");
  switch (e.getKind()) {
  case Expr::Kind::Name:
    return evalName(cast<NameExpr>(e));
  case Expr::Kind::Int:
    if (!cast<IntExpr>(e).big.empty())
      return exactIntegerFromText(cast<IntExpr>(e).big);
    return Value::integer(cast<IntExpr>(e).value);
  case Expr::Kind::Float:
    return Value::floating(cast<FloatExpr>(e).value);
  case Expr::Kind::String:
    return Value::string(cast<StringExpr>(e).value);
  case Expr::Kind::Bool:
    return Value::boolean(cast<BoolExpr>(e).value);
  case Expr::Kind::None:
    return Value::none();
  case Expr::Kind::Tuple:
  case Expr::Kind::List: {
    const auto &elts = e.getKind() == Expr::Kind::Tuple
                           ? cast<TupleExpr>(e).elts
                           : cast<ListExpr>(e).elts;
    std::vector<Value> values;
    for (const ExprPtr &x : elts) {
      MaybeValue v = evalScalar(*x);
      if (!v)
        return std::nullopt;
      values.push_back(std::move(*v));
    }
    return Value::tuple(std::move(values), e.getKind() == Expr::Kind::Tuple
                                               ? Value::Kind::Tuple
                                               : Value::Kind::List);
  }
  case Expr::Kind::Attribute:
    return evalAttribute(cast<AttributeExpr>(e));
  case Expr::Kind::Call:
    return evalCall(cast<CallExpr>(e));
  case Expr::Kind::Subscript:
    return evalSubscript(cast<SubscriptExpr>(e));
  case Expr::Kind::Slice:
    return error(e.loc, "a slice can only appear inside '[]'");
  case Expr::Kind::Unary:
    return evalUnary(cast<UnaryExpr>(e));
  case Expr::Kind::Binary:
    return evalBinary(cast<BinaryExpr>(e));
  case Expr::Kind::BoolOp:
    return evalBoolOp(cast<BoolOpExpr>(e));
  case Expr::Kind::Compare:
    return evalCompare(cast<CompareExpr>(e));
  case Expr::Kind::IfExp:
    return evalIfExp(cast<IfExpr>(e));
  case Expr::Kind::Unsupported:
    return error(e.loc, cast<UnsupportedExpr>(e).message);
  case Expr::Kind::Comprehension:
    return evalComprehension(cast<ComprehensionExpr>(e));
  }
  return error(e.loc, "unsupported expression");
}

/// Names every kernel can use without importing anything.
static const char *const kPythonBuiltins[] = {
    "range", "min", "max", "abs", "len", "int", "float", "bool", "print",
    "isinstance", "tuple", "list", "str", "round", "sum", "any", "all", "divmod",
    "enumerate", "zip", "reversed", "sorted"};

MaybeValue Emitter::evalName(const NameExpr &e) {
  if (const Value *v = scope->lookup(e.id)) {
    if (v->kind == Value::Kind::Opaque && v->threadDim >= 0 && threadIv)
      return threadIndex(v->threadDim, e.loc);
    if (v->kind == Value::Kind::Buffer && v->isVar && v->perThread)
      return perThreadElement(*v, nullptr, e.loc);
    if (v->kind == Value::Kind::Opaque) {
      if (v->function) {
        // A def the top level could not evaluate: run it again here, so
        // the error points at its cause.
        std::shared_ptr<Scope> saved = scope;
        scope = v->closure ? v->closure : scope;
        execFunctionDef(*v->function);
        scope = saved;
      }
      return error(e.loc, "'" + e.id + "' " + v->s);
    }
    if (v->kind == Value::Kind::Buffer && v->isVar) {
      // A T.alloc_var variable reads as its element.
      Value element = *v;
      element.kind = Value::Kind::Region;
      Value::RegionDim dim;
      dim.offset = std::make_shared<Value>(Value::integer(0));
      element.dims.push_back(dim);
      return element;
    }
    return *v;
  }
  if (llvm::is_contained(kPythonBuiltins, e.id))
    return Value::named(Value::Kind::Builtin, e.id);
  if (canonicalDTypeName(e.id) && e.id != "float" && e.id != "bool")
    return Value::dtype(canonicalDTypeName(e.id)->str());
  if (e.id == "__name__")
    return Value::string("tessel");
  return error(e.loc, "name '" + e.id + "' is not defined");
}

/// The canonical prefix of builtins reached through a module: T.copy is
/// "T.copy" whether the module was imported as T or as tessel.language.
static std::string modulePrefix(llvm::StringRef path) {
  if (path == "tessel.language" || path == "tilelang.language")
    return "T";
  if (path == "tessel" || path == "tilelang" || path == "tessel.math" ||
      path == "tilelang.math")
    return "tessel";
  return path.str();
}

MaybeValue Emitter::evalAttribute(const AttributeExpr &e) {
  MaybeValue base = eval(*e.value);
  if (!base)
    return std::nullopt;
  const std::string &attr = e.attr;
  // `x.astype(dtype)` on a value (TileLang's PrimExpr method): T.cast.
  if (attr == "astype" &&
      (base->kind == Value::Kind::Scalar || base->kind == Value::Kind::Int ||
       base->kind == Value::Kind::Float ||
       (base->kind == Value::Kind::Region &&
        llvm::all_of(base->dims, [](const Value::RegionDim &d) { return d.point; })))) {
    Value method = Value::named(Value::Kind::Builtin, "T.cast");
    method.elems.push_back(*base);
    return method;
  }
  switch (base->kind) {
  case Value::Kind::Module: {
    std::string prefix = modulePrefix(base->s);
    if (prefix == "tessel" && attr == "language")
      return Value::named(Value::Kind::Module, "tessel.language");
    if (prefix == "T") {
      if (std::optional<llvm::StringRef> name = canonicalDTypeName(attr))
        return Value::dtype(name->str());
      if (attr == "GemmWarpPolicy")
        return Value::named(Value::Kind::Module, "T.GemmWarpPolicy");
      return Value::named(Value::Kind::Builtin, "T." + attr);
    }
    if (prefix == "T.GemmWarpPolicy") {
      if (attr == "Square") return Value::string("square");
      if (attr == "FullRow") return Value::string("full_row");
      if (attr == "FullCol") return Value::string("full_col");
      return error(e.attrLoc, "T.GemmWarpPolicy has no member '" + attr +
                                  "' (Square, FullRow, FullCol)");
    }
    if (std::optional<Value> v = hostModuleAttribute(prefix, attr))
      return *v;
    if (prefix == "tessel")
      return Value::named(Value::Kind::Builtin, "tessel." + attr);
    return error(e.loc, "module '" + base->s +
                            "' is not available inside Tessel kernels");
  }
  case Value::Kind::Int:
    if (attr == "bit_length") {
      Value method = Value::named(Value::Kind::Builtin, "int.bit_length");
      method.elems.push_back(*base);
      return method;
    }
    return error(e.attrLoc, "an int has no attribute '" + attr + "'");
  case Value::Kind::View:
    if (attr == "shape") {
      std::vector<Value> dims;
      for (int64_t d : base->viewShape)
        dims.push_back(Value::integer(d));
      return Value::tuple(std::move(dims));
    }
    if (attr == "dtype") {
      Type elt = cast<MemRefType>(base->ir.getType()).getElementType();
      if (base->isUnsigned)
        return Value::dtype("uint" + std::to_string(elt.getIntOrFloatBitWidth()));
      for (llvm::StringRef n : {"float16", "bfloat16", "float32", "float64", "float8_e4m3",
                                "float8_e5m2", "int8", "int16", "int32", "int64", "bool"})
        if (dtypeToType(n, ctx) == elt)
          return Value::dtype(n.str());
    }
    return error(e.attrLoc, "a reshaped view has no attribute '" + attr +
                                "' (it has shape and dtype)");
  case Value::Kind::Buffer:
  case Value::Kind::Region: {
    auto type = cast<MemRefType>(base->ir.getType());
    if (attr == "shape") {
      std::vector<Value> dims;
      for (int64_t i = 0; i < type.getRank(); ++i) {
        if (!type.isDynamicDim(i)) {
          dims.push_back(Value::integer(type.getDimSize(i)));
          continue;
        }
        mlir::Value d = memref::DimOp::create(builder, loc(e.loc), base->ir, i);
        dims.push_back(makeScalar(d));
      }
      return Value::tuple(std::move(dims));
    }
    if (attr == "dtype" && base->isUnsigned)
      return Value::dtype("uint" + std::to_string(type.getElementType().getIntOrFloatBitWidth()));
    if (attr == "dtype") {
      for (llvm::StringRef n : {"float16", "bfloat16", "float32", "float64",
                                "float8_e4m3", "float8_e5m2", "int8", "int16",
                                "int32", "int64", "bool"})
        if (dtypeToType(n, ctx) == type.getElementType())
          return Value::dtype(n.str());
    }
    if (attr == "data" || attr == "access_ptr")
      return error(e.attrLoc, "'" + base->s + "." + attr +
                                  "' (a view of a tensor with another shape, "
                                  "T.Tensor(shape, dtype, buffer.data)) is not supported "
                                  "yet: index the tensor with the other shape's arithmetic");
    return error(e.attrLoc, "a buffer has no attribute '" + attr +
                                "' (it has shape and dtype)");
  }
  default:
    return error(e.attrLoc, describe(*base) + " has no attribute '" + attr + "'");
  }
}

MaybeValue Emitter::evalSubscript(const SubscriptExpr &e) {
  MaybeValue base = eval(*e.value);
  if (!base)
    return std::nullopt;
  if (base->isSequence()) {
    if (e.indices.size() != 1)
      return error(e.loc, "a tuple takes one index");
    MaybeValue idx = evalScalar(*e.indices[0]);
    if (!idx)
      return std::nullopt;
    std::optional<int64_t> i = requireInt(*idx, e.indices[0]->loc, "a tuple index");
    if (!i)
      return std::nullopt;
    int64_t n = base->elems.size();
    if (*i < -n || *i >= n)
      return error(e.indices[0]->loc, "tuple index " + llvm::Twine(*i) +
                                          " is out of range for " +
                                          llvm::Twine(n) + " elements");
    return base->elems[*i < 0 ? *i + n : *i];
  }
  if (base->kind == Value::Kind::Builtin && (base->s == "T.Tensor" || base->s == "T.Buffer")) {
    // T.Tensor[(M, N), dtype]: the subscript form of T.Tensor((M, N), dtype).
    std::vector<Value> args;
    std::vector<SourceLoc> locs;
    for (const ExprPtr &index : e.indices) {
      MaybeValue v = eval(*index);
      if (!v)
        return std::nullopt;
      args.push_back(*v);
      locs.push_back(index->loc);
    }
    if (args.size() != 2)
      return error(e.loc, base->s + "[...] takes a shape and a dtype: " + base->s +
                              "[(M, N), dtype]");
    std::vector<std::pair<std::string, Value>> none;
    return callBuiltin(base->s, args, none, locs, e.loc);
  }
  if (base->kind == Value::Kind::View)
    return viewElement(*base, e);
  if (base->kind == Value::Kind::Buffer && base->perThread)
    return perThreadElement(*base, &e, e.loc);
  if (base->kind != Value::Kind::Buffer)
    return error(e.loc, describe(*base) + " cannot be indexed");
  auto type = cast<MemRefType>(base->ir.getType());
  if (static_cast<int64_t>(e.indices.size()) > type.getRank())
    return error(e.indices[type.getRank()]->loc,
                 "too many indices for '" + base->s + "': it has rank " +
                     llvm::Twine(type.getRank()));
  Value region = *base;
  region.kind = Value::Kind::Region;
  for (size_t d = 0; d < static_cast<size_t>(type.getRank()); ++d) {
    Value::RegionDim dim;
    if (d >= e.indices.size()) {
      // Missing trailing indices select whole dimensions, like ':'.
      dim.point = false;
      dim.offset = std::make_shared<Value>(Value::integer(0));
      dim.size = type.isDynamicDim(d) ? -1 : type.getDimSize(d);
      region.dims.push_back(dim);
      continue;
    }
    const Expr &index = *e.indices[d];
    if (auto *slice = dyn_cast<SliceExpr>(&index)) {
      if (slice->step)
        return error(slice->step->loc, "slices with a step are not supported");
      dim.point = false;
      Value lower = Value::integer(0);
      if (slice->lower) {
        MaybeValue v = evalScalar(*slice->lower);
        if (!v)
          return std::nullopt;
        lower = *v;
      }
      dim.offset = std::make_shared<Value>(lower);
      if (!slice->upper) {
        if (type.isDynamicDim(d) || lower.kind != Value::Kind::Int)
          dim.size = -1;
        else
          dim.size = type.getDimSize(d) - lower.i;
      } else {
        MaybeValue upper = evalScalar(*slice->upper);
        if (!upper)
          return std::nullopt;
        MaybeValue extent = binaryOp("-", *upper, lower, slice->loc);
        if (!extent)
          return std::nullopt;
        std::optional<int64_t> size;
        if (extent->kind == Value::Kind::Int)
          size = extent->i;
        else if (extent->kind == Value::Kind::Scalar && extent->linear)
          size = extent->linear->asConstant();
        if (!size)
          return error(slice->loc, "the extent of this slice must be known at "
                                   "compile time");
        if (*size <= 0)
          return error(slice->loc, "this slice is empty (extent " +
                                       llvm::Twine(*size) + ")");
        dim.size = *size;
      }
    } else {
      MaybeValue v = evalScalar(index);
      if (!v)
        return std::nullopt;
      if (v->kind == Value::Kind::Float ||
          (v->kind == Value::Kind::Scalar && isa<FloatType>(v->ir.getType())))
        return error(index.loc, "buffer indices must be integers, got a float");
      if (!v->isConstant() && v->kind != Value::Kind::Scalar &&
          v->kind != Value::Kind::Dynamic)
        return error(index.loc, "buffer indices must be integers, got " +
                                    describe(*v));
      dim.offset = std::make_shared<Value>(*v);
      dim.size = 1;
    }
    region.dims.push_back(dim);
  }
  return region;
}

MaybeValue Emitter::evalUnary(const UnaryExpr &e) {
  MaybeValue v = evalScalar(*e.operand);
  if (!v)
    return std::nullopt;
  if (e.op == "not") {
    if (v->isConstant())
      return Value::boolean(!(v->kind == Value::Kind::Float ? v->f != 0
                              : v->kind == Value::Kind::Int ? v->i != 0
                                                            : v->b));
    if (v->kind == Value::Kind::None)
      return Value::boolean(true);
    if (v->kind == Value::Kind::BigInt)
      return Value::boolean(false);
    if (v->kind == Value::Kind::Scalar) {
      std::optional<mlir::Value> b = toIR(*v, builder.getI1Type(), e.loc);
      if (!b)
        return std::nullopt;
      mlir::Value one = arith::ConstantOp::create(builder, loc(e.loc),
                                                  builder.getBoolAttr(true));
      return makeScalar(arith::XOrIOp::create(builder, loc(e.loc), *b, one));
    }
    return error(e.loc, "'not' does not apply to " + describe(*v));
  }
  if (e.op == "+")
    return v;
  if (e.op == "-") {
    if (v->kind == Value::Kind::Float)
      return Value::floating(-v->f);
    if (v->kind == Value::Kind::Scalar && isa<FloatType>(v->ir.getType()))
      return makeScalar(arith::NegFOp::create(builder, loc(e.loc), v->ir));
    return binaryOp("-", Value::integer(0), *v, e.loc);
  }
  // ~x
  if (v->kind == Value::Kind::Int)
    return Value::integer(~v->i);
  return binaryOp("^", *v, Value::integer(-1), e.loc);
}

MaybeValue Emitter::evalBinary(const BinaryExpr &e) {
  MaybeValue lhs = evalScalar(*e.lhs);
  if (!lhs)
    return std::nullopt;
  MaybeValue rhs = evalScalar(*e.rhs);
  if (!rhs)
    return std::nullopt;
  return binaryOp(e.op, *lhs, *rhs, e.opLoc);
}

std::optional<bool> truthValue(const Value &v) {
  switch (v.kind) {
  case Value::Kind::Bool: return v.b;
  case Value::Kind::Int: return v.i != 0;
  case Value::Kind::BigInt: return true; // never zero
  case Value::Kind::Float: return v.f != 0;
  case Value::Kind::None: return false;
  case Value::Kind::String: return !v.s.empty();
  case Value::Kind::Tuple:
  case Value::Kind::List: return !v.elems.empty();
  case Value::Kind::Scalar:
  case Value::Kind::Dynamic:
  case Value::Kind::Region: return std::nullopt;
  default: return true;
  }
}

MaybeValue Emitter::evalBoolOp(const BoolOpExpr &e) {
  std::optional<mlir::Value> acc;
  for (const ExprPtr &x : e.values) {
    MaybeValue v = evalScalar(*x);
    if (!v)
      return std::nullopt;
    std::optional<bool> t = truthValue(*v);
    if (t && !acc) {
      // Compile-time short circuit.
      if (e.isAnd ? !*t : *t)
        return v;
      continue;
    }
    if (t) // constant after a device value: x and True == x
      continue;
    std::optional<mlir::Value> b = toIR(*v, builder.getI1Type(), x->loc);
    if (!b)
      return std::nullopt;
    acc = acc ? (e.isAnd ? (mlir::Value)arith::AndIOp::create(builder, loc(x->loc), *acc, *b)
                         : (mlir::Value)arith::OrIOp::create(builder, loc(x->loc), *acc, *b))
              : *b;
  }
  if (acc)
    return makeScalar(*acc);
  return Value::boolean(e.isAnd);
}

MaybeValue Emitter::evalCompare(const CompareExpr &e) {
  MaybeValue left = evalScalar(*e.left);
  if (!left)
    return std::nullopt;
  std::optional<mlir::Value> acc;
  bool constResult = true;
  for (size_t i = 0; i < e.ops.size(); ++i) {
    MaybeValue right = evalScalar(*e.comparators[i]);
    if (!right)
      return std::nullopt;
    const std::string &op = e.ops[i];
    SourceLoc l = e.opLocs[i];
    Value r;
    if (op == "is" || op == "is not" || op == "in" || op == "not in") {
      bool result;
      if (op == "is" || op == "is not") {
        result = left->kind == right->kind &&
                 (left->kind != Value::Kind::Bool || left->b == right->b);
      } else {
        if (!right->isSequence())
          return error(l, "'in' needs a tuple or list on its right");
        result = llvm::any_of(right->elems, [&](const Value &x) {
          return x.kind == left->kind && x.i == left->i && x.s == left->s &&
                 x.f == left->f && x.b == left->b &&
                 (x.kind != Value::Kind::BigInt || compareExactIntegers(x, *left) == 0);
        });
      }
      if (op == "is not" || op == "not in")
        result = !result;
      r = Value::boolean(result);
    } else if (isExactInteger(*left) && isExactInteger(*right)) {
      int c = compareExactIntegers(*left, *right);
      bool result = op == "<" ? c < 0 : op == "<=" ? c <= 0 : op == ">" ? c > 0
                  : op == ">=" ? c >= 0 : op == "==" ? c == 0 : c != 0;
      r = Value::boolean(result);
    } else if ((left->kind == Value::Kind::BigInt && right->kind == Value::Kind::Float) ||
               (left->kind == Value::Kind::Float && right->kind == Value::Kind::BigInt)) {
      // Exactly, as Python compares an int with a float (2**64 + 1 > 2.0**64).
      bool flip = left->kind == Value::Kind::Float;
      std::optional<int> c = compareExactIntegerWithDouble(flip ? *right : *left,
                                                           flip ? left->f : right->f);
      if (c && flip)
        c = -*c;
      bool result = !c ? op == "!=" // NaN: unordered
                       : op == "<" ? *c < 0 : op == "<=" ? *c <= 0 : op == ">" ? *c > 0
                       : op == ">=" ? *c >= 0 : op == "==" ? *c == 0 : *c != 0;
      r = Value::boolean(result);
    } else if (left->isConstant() && right->isConstant()) {
      double a = left->kind == Value::Kind::Float ? left->f : (double)(left->kind == Value::Kind::Int ? left->i : left->b);
      double b = right->kind == Value::Kind::Float ? right->f : (double)(right->kind == Value::Kind::Int ? right->i : right->b);
      bool result = op == "<" ? a < b : op == "<=" ? a <= b : op == ">" ? a > b
                  : op == ">=" ? a >= b : op == "==" ? a == b : a != b;
      r = Value::boolean(result);
    } else if ((op == "==" || op == "!=") &&
               (left->kind == Value::Kind::String || left->kind == Value::Kind::DType) &&
               (right->kind == Value::Kind::String || right->kind == Value::Kind::DType)) {
      auto canon = [](const Value &v) {
        std::optional<llvm::StringRef> c = canonicalDTypeName(v.s);
        return c ? c->str() : v.s;
      };
      bool eq = (left->kind == Value::Kind::String && right->kind == Value::Kind::String)
                    ? left->s == right->s
                    : canon(*left) == canon(*right);
      r = Value::boolean(op == "==" ? eq : !eq);
    } else if ((op == "==" || op == "!=") &&
               (left->kind == Value::Kind::None || right->kind == Value::Kind::None)) {
      bool eq = left->kind == right->kind;
      r = Value::boolean(op == "==" ? eq : !eq);
    } else {
      bool numeric = [&](const Value &v) {
        return v.isConstant() || v.kind == Value::Kind::Scalar || v.kind == Value::Kind::Dynamic;
      }(*left) && [&](const Value &v) {
        return v.isConstant() || v.kind == Value::Kind::Scalar || v.kind == Value::Kind::Dynamic;
      }(*right);
      if (!numeric)
        return error(l, "cannot compare " + describe(*left) + " and " + describe(*right));
      Type lt = naturalType(*left), rt = naturalType(*right);
      Type t = left->isConstant() ? rt : right->isConstant() ? lt : unify(lt, rt);
      if ((left->kind == Value::Kind::Float || right->kind == Value::Kind::Float) &&
          !isa<FloatType>(t))
        t = builder.getF32Type();
      std::optional<mlir::Value> a = toIR(*left, t, l), b = toIR(*right, t, l);
      if (!a || !b)
        return std::nullopt;
      mlir::Value c;
      if (isa<FloatType>(t)) {
        auto pred = op == "<" ? arith::CmpFPredicate::OLT : op == "<=" ? arith::CmpFPredicate::OLE
                  : op == ">" ? arith::CmpFPredicate::OGT : op == ">=" ? arith::CmpFPredicate::OGE
                  : op == "==" ? arith::CmpFPredicate::OEQ : arith::CmpFPredicate::UNE;
        c = arith::CmpFOp::create(builder, loc(l), pred, *a, *b);
      } else {
        // Unsigned when a device operand is (a constant takes its side's type).
        bool u = (left->isUnsigned || right->isUnsigned) &&
                 (left->isUnsigned || left->isConstant()) &&
                 (right->isUnsigned || right->isConstant());
        auto pred = op == "<"    ? (u ? arith::CmpIPredicate::ult : arith::CmpIPredicate::slt)
                    : op == "<=" ? (u ? arith::CmpIPredicate::ule : arith::CmpIPredicate::sle)
                    : op == ">"  ? (u ? arith::CmpIPredicate::ugt : arith::CmpIPredicate::sgt)
                    : op == ">=" ? (u ? arith::CmpIPredicate::uge : arith::CmpIPredicate::sge)
                    : op == "==" ? arith::CmpIPredicate::eq : arith::CmpIPredicate::ne;
        c = arith::CmpIOp::create(builder, loc(l), pred, *a, *b);
      }
      r = makeScalar(c);
    }
    if (r.kind == Value::Kind::Bool) {
      if (!r.b && !acc)
        return Value::boolean(false);
    } else {
      constResult = false;
      acc = acc ? (mlir::Value)arith::AndIOp::create(builder, loc(l), *acc, r.ir) : r.ir;
    }
    left = right;
  }
  if (constResult || !acc)
    return Value::boolean(true);
  return makeScalar(*acc);
}

MaybeValue Emitter::evalIfExp(const IfExpr &e) {
  MaybeValue test = evalScalar(*e.test);
  if (!test)
    return std::nullopt;
  if (std::optional<bool> t = truthValue(*test))
    return evalScalar(*t ? *e.body : *e.orelse);
  MaybeValue a = evalScalar(*e.body), b = evalScalar(*e.orelse);
  if (!a || !b)
    return std::nullopt;
  Type t = a->isConstant() ? naturalType(*b) : b->isConstant() ? naturalType(*a)
                                             : unify(naturalType(*a), naturalType(*b));
  if (!t)
    return error(e.loc, "both branches of a device conditional must be numbers");
  std::optional<mlir::Value> c = toIR(*test, builder.getI1Type(), e.test->loc);
  std::optional<mlir::Value> x = toIR(*a, t, e.body->loc), y = toIR(*b, t, e.orelse->loc);
  if (!c || !x || !y)
    return std::nullopt;
  return makeScalar(arith::SelectOp::create(builder, loc(e.loc), *c, *x, *y));
}

MaybeValue Emitter::evalCall(const CallExpr &e) {
  MaybeValue fn = eval(*e.func);
  if (!fn)
    return std::nullopt;
  std::vector<Value> args;
  std::vector<SourceLoc> argLocs;
  // Layout annotations are hints: Tessel infers layouts, so their
  // arguments (a dict of TileLang layout objects) are not evaluated.
  if (fn->kind == Value::Kind::Builtin && fn->s == "T.annotate_layout")
    return Value::none();
  // Primitives that move whole regions (T.copy, T.gemm, ...) see regions;
  // everything else sees element values.
  bool keepRegions = fn->kind == Value::Kind::Builtin;
  for (const ExprPtr &a : e.args) {
    MaybeValue v = keepRegions ? eval(*a) : evalScalar(*a);
    if (!v)
      return std::nullopt;
    args.push_back(std::move(*v));
    argLocs.push_back(a->loc);
  }
  std::vector<std::pair<std::string, Value>> kwargs;
  for (const Keyword &k : e.keywords) {
    MaybeValue v = keepRegions ? eval(*k.value) : evalScalar(*k.value);
    if (!v)
      return std::nullopt;
    kwargs.emplace_back(k.name, std::move(*v));
    argLocs.push_back(k.value->loc);
  }
  switch (fn->kind) {
  case Value::Kind::Builtin:
    // A bound method (`n.bit_length`) carries its object as a first argument.
    for (auto it = fn->elems.rbegin(); it != fn->elems.rend(); ++it) {
      args.insert(args.begin(), *it);
      argLocs.insert(argLocs.begin(), e.func->loc);
    }
    return callBuiltin(fn->s, args, kwargs, argLocs, e.loc);
  case Value::Kind::Function:
    return callFunction(*fn, std::move(args), std::move(kwargs), e.loc);
  case Value::Kind::DType: {
    // T.float32(x) is a cast.
    if (args.size() != 1 || !kwargs.empty())
      return error(e.loc, "a dtype called as a function takes one value");
    std::vector<Value> castArgs = {args[0], *fn};
    std::vector<SourceLoc> castLocs = {argLocs[0], e.func->loc}; // one per argument
    std::vector<std::pair<std::string, Value>> none;
    return callBuiltin("T.cast", castArgs, none, castLocs, e.loc);
  }
  default:
    return error(e.loc, describe(*fn) + " is not callable");
  }
}

MaybeValue Emitter::callFunction(const Value &fn, std::vector<Value> args,
                                 std::vector<std::pair<std::string, Value>> kwargs,
                                 SourceLoc l) {
  const FunctionDef &def = *fn.function;
  if (!def.starParam.empty())
    return error(l, "'" + def.name + "' takes " + def.starParam +
                        ", which Tessel cannot pass: name its parameters");
  if (fn.functionKind == FunctionKind::PrimFunc)
    return error(l, "'" + def.name + "' is a prim_func: it is compiled, not "
                        "called from kernel code");
  if (++callDepth > 64) {
    --callDepth;
    return error(l, "calls nested too deeply (is '" + def.name + "' recursive?)");
  }
  auto frame = newScope();
  frame->parent = fn.closure;
  if (args.size() > def.params.size()) {
    --callDepth;
    return error(l, "'" + def.name + "' takes " + llvm::Twine(def.params.size()) +
                        " arguments, got " + llvm::Twine(args.size()));
  }
  for (size_t i = 0; i < args.size(); ++i)
    frame->vars[def.params[i].name] = args[i];
  for (auto &[name, value] : kwargs) {
    auto it = llvm::find_if(def.params, [&](const Param &p) { return p.name == name; });
    if (it == def.params.end()) {
      --callDepth;
      return error(l, "'" + def.name + "' has no parameter '" + name + "'");
    }
    if (frame->vars.count(name)) {
      --callDepth;
      return error(l, "'" + def.name + "' got two values for '" + name + "'");
    }
    frame->vars[name] = value;
  }
  for (size_t i = 0; i < def.params.size(); ++i) {
    if (frame->vars.count(def.params[i].name))
      continue;
    const std::optional<Value> &d = (*fn.defaults)[i];
    if (!d) {
      --callDepth;
      return error(l, "'" + def.name + "' needs a value for '" +
                          def.params[i].name + "'");
    }
    frame->vars[def.params[i].name] = *d;
  }
  std::shared_ptr<Scope> saved = scope;
  scope = frame;
  MaybeValue savedReturn = std::move(returnValue);
  returnValue.reset();
  int savedCallRegionDepth = deviceCallRegionDepth;
  deviceCallRegionDepth = insideDevice() ? regionDepth : -1;
  Flow flow = execBlock(def.body);
  deviceCallRegionDepth = savedCallRegionDepth;
  scope = saved;
  --callDepth;
  MaybeValue result = std::move(returnValue);
  returnValue = std::move(savedReturn);
  if (flow == Flow::Error)
    return std::nullopt;
  if (flow == Flow::Break || flow == Flow::Continue)
    return error(l, "'break' or 'continue' outside a loop in '" + def.name + "'");
  return result ? *result : Value::none();
}

} // namespace tessel::frontend
