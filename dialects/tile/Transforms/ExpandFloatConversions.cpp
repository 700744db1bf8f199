//===- ExpandFloatConversions.cpp - bit-exact f32 <-> small-float code ----===//

#include "dialects/tile/Transforms/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace tessel::tile {
#define GEN_PASS_DEF_EXPANDFLOATCONVERSIONSPASS
#include "dialects/tile/Transforms/Passes.h.inc"
} // namespace tessel::tile

#define DEBUG_TYPE "tessel-expand-float-conversions"

using namespace mlir;

namespace {

/// The encoding of a small float: exponent and mantissa widths, the bias,
/// and whether the all-ones exponent means infinity/NaN (IEEE) or whether
/// only the all-ones pattern is NaN (f8E4M3FN).
struct SmallFloatFormat {
  unsigned exponentBits, mantissaBits;
  int bias;
  bool ieee;

  static std::optional<SmallFloatFormat> of(Type t) {
    auto f = dyn_cast<FloatType>(t);
    if (!f || f.getWidth() >= 32)
      return std::nullopt;
    const llvm::fltSemantics &sem = f.getFloatSemantics();
    unsigned mantissa = llvm::APFloat::semanticsPrecision(sem) - 1;
    unsigned width = f.getWidth();
    if (width != 16 && width != 8)
      return std::nullopt;
    bool fn = isa<Float8E4M3FNType>(t);
    if (!fn && !isa<Float16Type, BFloat16Type, Float8E5M2Type>(t))
      return std::nullopt;
    return SmallFloatFormat{width - 1 - mantissa, mantissa,
                            1 - llvm::APFloat::semanticsMinExponent(sem), !fn};
  }
  unsigned width() const { return 1 + exponentBits + mantissaBits; }
};

/// Emits i32 arithmetic with less noise.
struct I32Builder {
  OpBuilder &b;
  Location loc;
  Value c(int64_t v) {
    return arith::ConstantOp::create(b, loc, b.getI32IntegerAttr(v));
  }
  Value shl(Value x, Value s) { return arith::ShLIOp::create(b, loc, x, s); }
  Value shr(Value x, Value s) { return arith::ShRUIOp::create(b, loc, x, s); }
  Value band(Value x, Value y) { return arith::AndIOp::create(b, loc, x, y); }
  Value bor(Value x, Value y) { return arith::OrIOp::create(b, loc, x, y); }
  Value add(Value x, Value y) { return arith::AddIOp::create(b, loc, x, y); }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, loc, x, y); }
  Value cmp(arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, loc, p, x, y);
  }
  Value select(Value c, Value x, Value y) {
    return arith::SelectOp::create(b, loc, c, x, y);
  }
  Value zext(Value i1) { return arith::ExtUIOp::create(b, loc, b.getI32Type(), i1); }

  /// `keep + 1` when the dropped bits `rem` (of which `half` is the
  /// midpoint) round `keep` up to nearest even.
  Value roundNearestEven(Value keep, Value rem, Value half) {
    Value above = cmp(arith::CmpIPredicate::ugt, rem, half);
    Value tie = cmp(arith::CmpIPredicate::eq, rem, half);
    Value odd = cmp(arith::CmpIPredicate::ne, band(keep, c(1)), c(0));
    Value up = arith::OrIOp::create(b, loc, above,
                                    arith::AndIOp::create(b, loc, tie, odd));
    return add(keep, zext(up));
  }
};

/// f32 -> small float, rounding to nearest even.
Value truncateF32(OpBuilder &b, Location loc, Value in, Type to,
                  const SmallFloatFormat &fmt) {
  I32Builder i{b, loc};
  Value x = arith::BitcastOp::create(b, loc, b.getI32Type(), in);
  Value sign = i.shr(x, i.c(31));
  Value abs = i.band(x, i.c(0x7FFFFFFF));
  Value isNaN = i.cmp(arith::CmpIPredicate::ugt, abs, i.c(0x7F800000));
  const int E = fmt.exponentBits, M = fmt.mantissaBits;
  Value value;
  if (E == 8) {
    // bf16 keeps f32's exponent: round the top 16 bits to nearest even.
    Value lsb = i.band(i.shr(x, i.c(16)), i.c(1));
    value = i.shr(i.add(abs, i.add(i.c(0x7FFF), lsb)), i.c(16));
  } else {
    Value e32 = i.shr(abs, i.c(23));
    Value m32 = i.band(abs, i.c(0x7FFFFF));
    Value te = i.add(e32, i.c(fmt.bias - 127));
    // Normal in the target: drop 23 - M mantissa bits.
    int shiftN = 23 - M;
    Value keepN = i.shr(m32, i.c(shiftN));
    Value remN = i.band(m32, i.c((1 << shiftN) - 1));
    Value normal = i.add(i.shl(te, i.c(M)),
                         i.roundNearestEven(keepN, remN, i.c(1 << (shiftN - 1))));
    // Subnormal in the target: the implicit bit joins the mantissa, shifted
    // further right by how far the exponent is below the target's minimum.
    Value mf = i.bor(m32, i.c(0x800000));
    Value shiftS = i.sub(i.c(shiftN + 1), te);
    shiftS = arith::MinUIOp::create(b, loc, shiftS, i.c(31));
    Value keepS = i.shr(mf, shiftS);
    Value remS = i.band(mf, i.sub(i.shl(i.c(1), shiftS), i.c(1)));
    Value halfS = i.shl(i.c(1), i.sub(shiftS, i.c(1)));
    Value subnormal = i.roundNearestEven(keepS, remS, halfS);
    value = i.select(i.cmp(arith::CmpIPredicate::sgt, te, i.c(0)), normal,
                     subnormal);
    // Overflow: infinity in IEEE formats; NaN where there is no infinity.
    int limit = fmt.ieee ? ((1 << E) - 1) << M : (1 << (E + M)) - 1;
    value = i.select(i.cmp(arith::CmpIPredicate::uge, value, i.c(limit)),
                     i.c(limit), value);
  }
  int nan = fmt.ieee ? ((((1 << E) - 1) << M) | (1 << (M - 1)))
                     : (1 << (E + M)) - 1;
  value = i.select(isNaN, i.c(nan), value);
  value = i.bor(value, i.shl(sign, i.c(E + M)));
  Value narrow = arith::TruncIOp::create(
      b, loc, b.getIntegerType(fmt.width()), value);
  return arith::BitcastOp::create(b, loc, to, narrow);
}

/// small float -> f32, exactly.
Value extendToF32(OpBuilder &b, Location loc, Value in,
                  const SmallFloatFormat &fmt) {
  I32Builder i{b, loc};
  Value bits = arith::BitcastOp::create(b, loc, b.getIntegerType(fmt.width()), in);
  Value x = arith::ExtUIOp::create(b, loc, b.getI32Type(), bits);
  const int E = fmt.exponentBits, M = fmt.mantissaBits;
  Type f32 = b.getF32Type();
  if (E == 8) // bf16 is the top half of an f32
    return arith::BitcastOp::create(b, loc, f32, i.shl(x, i.c(16)));
  Value sign = i.shl(i.shr(x, i.c(E + M)), i.c(31));
  Value e = i.band(i.shr(x, i.c(M)), i.c((1 << E) - 1));
  Value m = i.band(x, i.c((1 << M) - 1));
  Value normal = i.bor(sign, i.bor(i.shl(i.add(e, i.c(127 - fmt.bias)), i.c(23)),
                                   i.shl(m, i.c(23 - M))));
  // Subnormal: m * 2^(1 - bias - M), exact in f32.
  Value mf = arith::UIToFPOp::create(b, loc, f32, m);
  Value scale = arith::ConstantOp::create(
      b, loc, b.getF32FloatAttr(std::ldexp(1.0f, 1 - fmt.bias - M)));
  Value sub = arith::BitcastOp::create(
      b, loc, b.getI32Type(), arith::MulFOp::create(b, loc, mf, scale));
  sub = i.bor(sub, sign);
  Value isZeroExp = i.cmp(arith::CmpIPredicate::eq, e, i.c(0));
  Value special, specialBits;
  if (fmt.ieee) {
    special = i.cmp(arith::CmpIPredicate::eq, e, i.c((1 << E) - 1));
    Value inf = i.bor(sign, i.c(0x7F800000));
    Value nan = i.bor(sign, i.c(0x7FC00000));
    specialBits = i.select(i.cmp(arith::CmpIPredicate::eq, m, i.c(0)), inf, nan);
  } else {
    special = i.cmp(arith::CmpIPredicate::eq, i.band(x, i.c((1 << (E + M)) - 1)),
                    i.c((1 << (E + M)) - 1));
    specialBits = i.bor(sign, i.c(0x7FC00000));
  }
  Value result = i.select(isZeroExp, sub, i.select(special, specialBits, normal));
  return arith::BitcastOp::create(b, loc, f32, result);
}

struct ExpandTruncF : OpRewritePattern<arith::TruncFOp> {
  ExpandTruncF(MLIRContext *ctx, bool onlyFp8)
      : OpRewritePattern(ctx), onlyFp8(onlyFp8) {}
  bool onlyFp8;
  LogicalResult matchAndRewrite(arith::TruncFOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<SmallFloatFormat> fmt = SmallFloatFormat::of(op.getType());
    if (!fmt || (onlyFp8 && fmt->width() != 8) || !op.getIn().getType().isF32())
      return failure();
    rewriter.replaceOp(op, truncateF32(rewriter, op.getLoc(), op.getIn(),
                                       op.getType(), *fmt));
    return success();
  }
};

struct ExpandExtF : OpRewritePattern<arith::ExtFOp> {
  ExpandExtF(MLIRContext *ctx, bool onlyFp8)
      : OpRewritePattern(ctx), onlyFp8(onlyFp8) {}
  bool onlyFp8;
  LogicalResult matchAndRewrite(arith::ExtFOp op,
                                PatternRewriter &rewriter) const override {
    std::optional<SmallFloatFormat> fmt =
        SmallFloatFormat::of(op.getIn().getType());
    if (!fmt || (onlyFp8 && fmt->width() != 8) || !op.getType().isF32())
      return failure();
    rewriter.replaceOp(op, extendToF32(rewriter, op.getLoc(), op.getIn(), *fmt));
    return success();
  }
};

struct ExpandFloatConversionsPass
    : public tessel::tile::impl::ExpandFloatConversionsPassBase<
          ExpandFloatConversionsPass> {
  using Base::Base;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<ExpandTruncF, ExpandExtF>(&getContext(), onlyFp8);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
