//===- Arithmetic.cpp - Python's operators on compile-time and device values ===//
//
// `a + b`, `i // n`, `x % m` and the rest: computed exactly when both sides
// are known at compile time, emitted as arith (and math) IR when either is a
// device value, with Python's meanings (floor division, floor modulo, true
// division) in both cases.
//
//===----------------------------------------------------------------------===//

#include "lib/Frontend/Emitter.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "llvm/ADT/StringSwitch.h"

#include <cmath>

using namespace mlir;
using namespace tessel::frontend;
using llvm::cast;
using llvm::dyn_cast;
using llvm::isa;

namespace tessel::frontend {


/// The type two scalars meet in: float beats int, wider beats narrower,
/// index beats other ints.
Type unify(Type a, Type b) {
  if (a == b)
    return a;
  auto fa = dyn_cast<FloatType>(a), fb = dyn_cast<FloatType>(b);
  if (fa && fb)
    return fa.getWidth() >= fb.getWidth() ? a : b;
  if (fa)
    return a;
  if (fb)
    return b;
  if (a.isIndex() || b.isIndex())
    return a.isIndex() ? a : b;
  if (a.isInteger(1))
    return b;
  if (b.isInteger(1))
    return a;
  return a.getIntOrFloatBitWidth() >= b.getIntOrFloatBitWidth() ? a : b;
}

mlir::Value Emitter::floorMod(mlir::Value a, mlir::Value b, Location l) {
  // Python's (and TileLang's) %: the remainder takes the divisor's sign, so
  // (i - 1) % n is n - 1 at i = 0, not -1 as C's remainder gives.
  bool isFloat = isa<FloatType>(a.getType());
  mlir::Value rem = isFloat ? (mlir::Value)arith::RemFOp::create(builder, l, a, b)
                            : (mlir::Value)arith::RemSIOp::create(builder, l, a, b);
  mlir::Value zero = isFloat ? (mlir::Value)arith::ConstantOp::create(
                                   builder, l, builder.getFloatAttr(a.getType(), 0.0))
                             : (mlir::Value)arith::ConstantOp::create(
                                   builder, l, builder.getIntegerAttr(a.getType(), 0));
  mlir::Value remNeg, divNeg, nonZero;
  if (isFloat) {
    remNeg = arith::CmpFOp::create(builder, l, arith::CmpFPredicate::OLT, rem, zero);
    divNeg = arith::CmpFOp::create(builder, l, arith::CmpFPredicate::OLT, b, zero);
    nonZero = arith::CmpFOp::create(builder, l, arith::CmpFPredicate::ONE, rem, zero);
  } else {
    remNeg = arith::CmpIOp::create(builder, l, arith::CmpIPredicate::slt, rem, zero);
    divNeg = arith::CmpIOp::create(builder, l, arith::CmpIPredicate::slt, b, zero);
    nonZero = arith::CmpIOp::create(builder, l, arith::CmpIPredicate::ne, rem, zero);
  }
  mlir::Value signsDiffer = arith::XOrIOp::create(builder, l, remNeg, divNeg);
  mlir::Value adjust = arith::AndIOp::create(builder, l, signsDiffer, nonZero);
  mlir::Value shifted = isFloat ? (mlir::Value)arith::AddFOp::create(builder, l, rem, b)
                                : (mlir::Value)arith::AddIOp::create(builder, l, rem, b);
  return arith::SelectOp::create(builder, l, adjust, shifted, rem);
}

MaybeValue Emitter::integerOp(llvm::StringRef op, const Value &lhs, const Value &rhs,
                              SourceLoc l) {
  std::string why;
  if (std::optional<Value> r = exactIntegerOp(op, lhs, rhs, why))
    return *r;
  if (why.empty()) // a negative power: a float
    return Value::floating(std::pow(exactIntegerToDouble(lhs), exactIntegerToDouble(rhs)));
  return error(l, why);
}

MaybeValue Emitter::binaryOp(llvm::StringRef op, const Value &lhsIn,
                             const Value &rhsIn, SourceLoc l) {
  if (discovering() && (isConstPlaceholder(lhsIn) || isConstPlaceholder(rhsIn)))
    return constPlaceholder(""); // computed from a T.const not known yet
  if (std::optional<Value> symbolic = dynamicExpression(op, lhsIn, rhsIn)) {
    // A host loop can grow one without bound (each step copying the last):
    // past this size it is an error here, not minutes of copying.
    constexpr size_t kMaxDynamicText = 4096;
    if (symbolic->s.size() > kMaxDynamicText)
      return error(l, "this expression over T.dynamic dimensions is longer than " +
                          llvm::Twine(kMaxDynamicText) +
                          " characters; compute it in the kernel from the dimensions instead");
    return *symbolic;
  }
  MaybeValue lhsM = materialize(lhsIn, l);
  MaybeValue rhsM = materialize(rhsIn, l);
  if (!lhsM || !rhsM)
    return std::nullopt;
  const Value &lhs = *lhsM, &rhs = *rhsM;
  using K = Value::Kind;

  // Sequences and strings.
  if (op == "+" && lhs.isSequence() && rhs.kind == lhs.kind) {
    if (lhs.elems.size() + rhs.elems.size() > kMaxSequence)
      return error(l, "this tuple would have more than " + llvm::Twine(kMaxSequence) +
                          " elements");
    Value r = lhs;
    r.elems.insert(r.elems.end(), rhs.elems.begin(), rhs.elems.end());
    return r;
  }
  if (op == "*" && lhs.isSequence() && rhs.kind == K::Int) {
    // (Divided, not multiplied: [0, 0] * 2**63 wrapped past the check.)
    if (lhs.elems.empty() || rhs.i <= 0)
      return Value::tuple({}, lhs.kind); // () * 2**62 looped 2**62 times
    if (static_cast<uint64_t>(rhs.i) > kMaxSequence / lhs.elems.size())
      return error(l, "this tuple would have more than " + llvm::Twine(kMaxSequence) +
                          " elements");
    Value r = Value::tuple({}, lhs.kind);
    for (int64_t i = 0; i < rhs.i; ++i)
      r.elems.insert(r.elems.end(), lhs.elems.begin(), lhs.elems.end());
    return r;
  }
  if (op == "+" && lhs.kind == K::String && rhs.kind == K::String) {
    if (lhs.s.size() + rhs.s.size() > kMaxString)
      return error(l, "this string would be longer than " + llvm::Twine(kMaxString) +
                          " characters");
    return Value::string(lhs.s + rhs.s);
  }

  // Integers past 64 bits: exact integer arithmetic, or float arithmetic
  // with a float.
  if ((lhs.kind == K::BigInt || rhs.kind == K::BigInt) &&
      (lhs.isConstant() || lhs.kind == K::BigInt) && (rhs.isConstant() || rhs.kind == K::BigInt)) {
    if (lhs.kind != K::Float && rhs.kind != K::Float && op != "/")
      return integerOp(op, lhs, rhs, l);
    if (op == "/" && lhs.kind != K::Float && rhs.kind != K::Float) { // 10**400 / 10**399
      std::string why;
      std::optional<double> q = exactIntegerTrueDivide(lhs, rhs, why);
      return q ? MaybeValue(Value::floating(*q)) : error(l, why);
    }
    auto real = [](const Value &v) {
      return v.kind == K::Float ? v.f : exactIntegerToDouble(v);
    };
    return binaryOp(op, Value::floating(real(lhs)), Value::floating(real(rhs)), l);
  }

  bool lConst = lhs.isConstant(), rConst = rhs.isConstant();
  if (lConst && rConst) {
    bool isFloat = lhs.kind == K::Float || rhs.kind == K::Float;
    double a = lhs.kind == K::Float ? lhs.f : (double)(lhs.kind == K::Int ? lhs.i : lhs.b);
    double b = rhs.kind == K::Float ? rhs.f : (double)(rhs.kind == K::Int ? rhs.i : rhs.b);
    int64_t y = rhs.kind == K::Int ? rhs.i : rhs.b;
    if ((op == "/" || op == "//" || op == "%") && b == 0)
      return error(l, "division by zero");
    if (op == "/")
      return Value::floating(a / b);
    if (op == "**") {
      if (!isFloat && y >= 0)
        return integerOp(op, lhs, rhs, l);
      return Value::floating(std::pow(a, b));
    }
    if (isFloat) {
      if (op == "+") return Value::floating(a + b);
      if (op == "-") return Value::floating(a - b);
      if (op == "*") return Value::floating(a * b);
      if (op == "//") return Value::floating(std::floor(a / b));
      if (op == "%") return Value::floating(a - std::floor(a / b) * b);
      return error(l, "operator '" + op + "' does not apply to floats");
    }
    // Exact, as Python: no wrap past 64 bits (ExactInt.cpp).
    return integerOp(op, lhs, rhs, l);
  }

  auto isNumeric = [](const Value &v) {
    return v.isConstant() || v.kind == K::Scalar || v.kind == K::Dynamic;
  };
  if (!isNumeric(lhs) || !isNumeric(rhs))
    return error(l, "unsupported operand types for '" + op + "': " +
                        describe(lhs) + " and " + describe(rhs));
  if (!insidePrimFunc())
    return error(l, "device values can only be computed inside a prim_func");

  // Device arithmetic: constants take the other side's type.
  Type lt = naturalType(lhs), rt = naturalType(rhs);
  Type t = lConst ? rt : rConst ? lt : unify(lt, rt);
  if (lConst && lhs.kind == K::Float && !isa<FloatType>(t))
    t = builder.getF32Type();
  if (rConst && rhs.kind == K::Float && !isa<FloatType>(t))
    t = builder.getF32Type();
  if (op == "/" && !isa<FloatType>(t))
    t = builder.getF32Type(); // true division
  std::optional<mlir::Value> a = toIR(lhs, t, l), b = toIR(rhs, t, l);
  if (!a || !b)
    return std::nullopt;
  Location location = loc(l);
  bool isFloat = isa<FloatType>(t);
  // Unsigned integers (from uint tensors, T.cast to a uint dtype) divide,
  // take remainders and shift right as unsigned when every device operand
  // is unsigned (a constant takes its side's type).
  bool isUnsigned = !isFloat && (lhs.isUnsigned || rhs.isUnsigned) &&
                    (lhs.isUnsigned || lConst) && (rhs.isUnsigned || rConst);
  mlir::Value r;
  if (op == "+")
    r = isFloat ? (mlir::Value)arith::AddFOp::create(builder, location, *a, *b)
                : (mlir::Value)arith::AddIOp::create(builder, location, *a, *b);
  else if (op == "-")
    r = isFloat ? (mlir::Value)arith::SubFOp::create(builder, location, *a, *b)
                : (mlir::Value)arith::SubIOp::create(builder, location, *a, *b);
  else if (op == "*")
    r = isFloat ? (mlir::Value)arith::MulFOp::create(builder, location, *a, *b)
                : (mlir::Value)arith::MulIOp::create(builder, location, *a, *b);
  else if (op == "/")
    r = arith::DivFOp::create(builder, location, *a, *b);
  else if (op == "//")
    r = isFloat      ? (mlir::Value)math::FloorOp::create(
                      builder, location, arith::DivFOp::create(builder, location, *a, *b))
        : isUnsigned ? (mlir::Value)arith::DivUIOp::create(builder, location, *a, *b)
                     : (mlir::Value)arith::FloorDivSIOp::create(builder, location, *a, *b);
  else if (op == "%")
    r = isUnsigned ? (mlir::Value)arith::RemUIOp::create(builder, location, *a, *b)
                   : floorMod(*a, *b, location);
  else if (op == "**")
    r = isFloat ? (mlir::Value)math::PowFOp::create(builder, location, *a, *b)
                : mlir::Value();
  else if (!isFloat && op == "<<")
    r = arith::ShLIOp::create(builder, location, *a, *b);
  else if (!isFloat && op == ">>")
    r = isUnsigned ? (mlir::Value)arith::ShRUIOp::create(builder, location, *a, *b)
                   : (mlir::Value)arith::ShRSIOp::create(builder, location, *a, *b);
  else if (!isFloat && op == "&")
    r = arith::AndIOp::create(builder, location, *a, *b);
  else if (!isFloat && op == "|")
    r = arith::OrIOp::create(builder, location, *a, *b);
  else if (!isFloat && op == "^")
    r = arith::XOrIOp::create(builder, location, *a, *b);
  if (!r)
    return error(l, "operator '" + op + "' is not supported on " +
                        (isFloat ? "float" : "integer") + " device values");

  // Integer arithmetic keeps a linear form, so slice extents stay known
  // (two's complement: (s + n) - s is n even where s + n wraps).
  Value result = makeScalar(r);
  result.isUnsigned = isUnsigned;
  if (t.isIntOrIndex() && !t.isInteger(1) && (op == "+" || op == "-" || op == "*")) {
    auto linearOf = [&](const Value &v, mlir::Value ir) -> std::optional<LinearForm> {
      if (v.kind == K::Int)
        return LinearForm::ofConstant(v.i);
      if (v.kind == K::Scalar && v.linear)
        return *v.linear;
      return LinearForm::ofValue(ir);
    };
    LinearForm la = *linearOf(lhs, *a), lb = *linearOf(rhs, *b);
    std::optional<LinearForm> f;
    if (op == "+")
      f = la.plus(lb);
    else if (op == "-")
      f = la.plus(lb, -1);
    else if (auto c = lb.asConstant())
      f = la.scaled(*c);
    else if (auto c = la.asConstant())
      f = lb.scaled(*c);
    if (f)
      result.linear = std::make_shared<LinearForm>(*f);
  }
  return result;
}

/// Whether every T.dynamic name in `v` is bound to a kernel argument.
static bool boundDynamic(const Value &v,
                         const std::map<std::string, std::pair<mlir::Value, int64_t>> &dims) {
  if (v.kind != Value::Kind::Dynamic)
    return true;
  if (v.dynOp.empty())
    return dims.count(v.s) != 0;
  return llvm::all_of(v.elems, [&](const Value &e) { return boundDynamic(e, dims); });
}

std::optional<Value> Emitter::dynamicExpression(llvm::StringRef op, const Value &lhs,
                                                const Value &rhs) {
  auto operand = [](const Value &v) {
    return v.kind == Value::Kind::Int || (v.kind == Value::Kind::Dynamic && !v.b);
  };
  if ((lhs.kind != Value::Kind::Dynamic && rhs.kind != Value::Kind::Dynamic) ||
      !operand(lhs) || !operand(rhs) ||
      !llvm::is_contained({"+", "-", "*", "//", "%", "ceildiv", "max", "min"}, op))
    return std::nullopt;
  // Inside a kernel whose arguments give every name, compute it now.
  if (insidePrimFunc() && boundDynamic(lhs, dynamicDims) && boundDynamic(rhs, dynamicDims))
    return std::nullopt;
  auto text = [](const Value &v) {
    return v.kind == Value::Kind::Int ? std::to_string(v.i) : v.s;
  };
  // The text is in the grammar of the manifest's grid expressions
  // ("mul(seq,4)", "ceildiv(M,128)"), without spaces: it names the
  // dimension it gives a tensor, and launchers evaluate it.
  llvm::StringRef fn = llvm::StringSwitch<llvm::StringRef>(op)
                           .Case("+", "add").Case("-", "sub").Case("*", "mul")
                           .Case("//", "floordiv").Case("%", "rem").Default(op);
  Value e = Value::named(Value::Kind::Dynamic,
                         fn.str() + "(" + text(lhs) + "," + text(rhs) + ")");
  e.dynOp = op.str();
  e.elems = {lhs, rhs};
  return e;
}

} // namespace tessel::frontend
