//===- ScalarBuilders.cpp - scalar code both backends build -------------===//

#include "dialects/tile/Transforms/ScalarBuilders.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

#include "mlir/IR/Builders.h"

using namespace mlir;

/// f16, bf16 and fp8: the floats CPUs cannot convert without library calls.
static bool isSmallFloat(Type t) {
  auto f = dyn_cast<FloatType>(t);
  return f && f.getWidth() < 32;
}

/// Any float to f32 (exact from the small floats; rounding from f64).
static Value toF32(OpBuilder &b, Location loc, Value v) {
  auto from = cast<FloatType>(v.getType());
  Type f32 = b.getF32Type();
  if (from == f32)
    return v;
  if (from.getWidth() > 32)
    return arith::TruncFOp::create(b, loc, f32, v);
  return arith::ExtFOp::create(b, loc, f32, v);
}

Value tessel::tile::convertScalar(OpBuilder &b, Location loc, Value value,
                                 Type to) {
  Type from = value.getType();
  if (from == to)
    return value;
  if (from.isIndex()) {
    value = arith::IndexCastOp::create(b, loc, b.getI64Type(), value);
    from = value.getType();
    if (from == to)
      return value;
  }
  if (to.isIndex()) {
    Value asInt = convertScalar(b, loc, value, b.getI64Type());
    return arith::IndexCastOp::create(b, loc, to, asInt);
  }

  auto fromInt = dyn_cast<IntegerType>(from);
  auto toInt = dyn_cast<IntegerType>(to);
  if (fromInt && toInt) {
    if (toInt.getWidth() == 1)
      return arith::CmpIOp::create(
          b, loc, arith::CmpIPredicate::ne, value,
          arith::ConstantOp::create(b, loc, b.getIntegerAttr(from, 0)));
    if (toInt.getWidth() < fromInt.getWidth())
      return arith::TruncIOp::create(b, loc, to, value);
    if (fromInt.getWidth() == 1)
      return arith::ExtUIOp::create(b, loc, to, value);
    return arith::ExtSIOp::create(b, loc, to, value);
  }
  if (fromInt) {
    auto toFloat = cast<FloatType>(to);
    Type wide = isSmallFloat(toFloat) ? b.getF32Type() : to;
    Value f = fromInt.getWidth() == 1
                  ? (Value)arith::UIToFPOp::create(b, loc, wide, value)
                  : (Value)arith::SIToFPOp::create(b, loc, wide, value);
    return wide == to ? f : (Value)arith::TruncFOp::create(b, loc, to, f);
  }
  if (toInt) {
    Value f = isSmallFloat(from) ? toF32(b, loc, value) : value;
    if (toInt.getWidth() == 1) {
      Value zero = arith::ConstantOp::create(
          b, loc, b.getFloatAttr(f.getType(), 0.0));
      return arith::CmpFOp::create(b, loc, arith::CmpFPredicate::UNE, f, zero);
    }
    return arith::FPToSIOp::create(b, loc, to, f);
  }

  auto fromFloat = cast<FloatType>(from);
  auto toFloat = cast<FloatType>(to);
  if (!isSmallFloat(fromFloat) && !isSmallFloat(toFloat)) {
    if (toFloat.getWidth() > fromFloat.getWidth())
      return arith::ExtFOp::create(b, loc, to, value);
    return arith::TruncFOp::create(b, loc, to, value);
  }
  // One side is small: meet in f32, so that only f32 <-> small remains for
  // the expansion pass.
  Value mid = toF32(b, loc, value);
  if (to == mid.getType())
    return mid;
  if (toFloat.getWidth() > 32)
    return arith::ExtFOp::create(b, loc, to, mid);
  return arith::TruncFOp::create(b, loc, to, mid);
}

Value tessel::tile::reductionIdentity(OpBuilder &b, Location loc,
                                     tile::ReduceKind kind, Type t) {
  using tile::ReduceKind;
  if (kind == ReduceKind::Max || kind == ReduceKind::Min) {
    bool max = kind == ReduceKind::Max;
    if (auto f = dyn_cast<FloatType>(t))
      return arith::ConstantOp::create(
          b, loc, b.getFloatAttr(t, APFloat::getInf(f.getFloatSemantics(), max)));
    unsigned w = t.getIntOrFloatBitWidth();
    return arith::ConstantOp::create(
        b, loc, b.getIntegerAttr(t, max ? APInt::getSignedMinValue(w)
                                        : APInt::getSignedMaxValue(w)));
  }
  return arith::ConstantOp::create(b, loc, b.getZeroAttr(t));
}

Value tessel::tile::reductionCombine(OpBuilder &b, Location loc,
                                    tile::ReduceKind kind, Value acc, Value x) {
  using tile::ReduceKind;
  bool isFloat = isa<FloatType>(x.getType());
  switch (kind) {
  case ReduceKind::Sum:
  case ReduceKind::AbsSum:
    return isFloat ? (Value)arith::AddFOp::create(b, loc, acc, x)
                   : (Value)arith::AddIOp::create(b, loc, acc, x);
  case ReduceKind::Max:
  case ReduceKind::AbsMax:
    return isFloat ? (Value)arith::MaximumFOp::create(b, loc, acc, x)
                   : (Value)arith::MaxSIOp::create(b, loc, acc, x);
  case ReduceKind::Min:
    return isFloat ? (Value)arith::MinimumFOp::create(b, loc, acc, x)
                   : (Value)arith::MinSIOp::create(b, loc, acc, x);
  }
  llvm_unreachable("unknown reduction");
}

SmallVector<Value> tessel::tile::regionIndices(OpBuilder &b, Location loc,
                                               ValueRange offsets,
                                               ArrayRef<int64_t> sizes,
                                               ValueRange ivs) {
  SmallVector<Value> indices;
  size_t next = 0;
  for (auto [offset, size] : llvm::zip(offsets, sizes)) {
    if (size == 1) {
      indices.push_back(offset);
      continue;
    }
    indices.push_back(arith::AddIOp::create(b, loc, offset, ivs[next++]));
  }
  return indices;
}
