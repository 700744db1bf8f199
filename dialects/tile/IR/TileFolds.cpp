//===- TileFolds.cpp - folds and canonicalizations of tile ops ------------===//

#include "dialects/tile/IR/TileOps.h"

#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/APFloat.h"
#include "llvm/ADT/APSInt.h"

using namespace mlir;
using namespace tessel::tile;

//===----------------------------------------------------------------------===//
// CastOp
//===----------------------------------------------------------------------===//

/// True when every value of `from` survives a trip through `through` and back.
static bool isLosslessThrough(Type from, Type through) {
  auto fromFloat = dyn_cast<FloatType>(from);
  auto throughFloat = dyn_cast<FloatType>(through);
  if (fromFloat && throughFloat)
    return llvm::APFloatBase::isRepresentableBy(fromFloat.getFloatSemantics(),
                                                throughFloat.getFloatSemantics());
  if (from.isSignlessInteger() && through.isSignlessInteger())
    return from.getIntOrFloatBitWidth() <= through.getIntOrFloatBitWidth();
  return false;
}

/// Folds a cast of a constant. Conversions to 8-bit floats are left to the
/// backends, whose saturation rules are the reference.
static Attribute foldConstantCast(Attribute input, Type to) {
  if (!input)
    return {};
  if (auto toFloat = dyn_cast<FloatType>(to)) {
    if (toFloat.getWidth() <= 8)
      return {};
    if (auto f = dyn_cast<FloatAttr>(input)) {
      APFloat value = f.getValue();
      bool losesInfo = false;
      value.convert(toFloat.getFloatSemantics(), APFloat::rmNearestTiesToEven,
                    &losesInfo);
      return FloatAttr::get(to, value);
    }
    if (auto i = dyn_cast<IntegerAttr>(input)) {
      APFloat value(toFloat.getFloatSemantics());
      bool isUnsigned = i.getType().isInteger(1);
      value.convertFromAPInt(i.getValue(), /*IsSigned=*/!isUnsigned,
                             APFloat::rmNearestTiesToEven);
      return FloatAttr::get(to, value);
    }
    return {};
  }
  if (!to.isIntOrIndex())
    return {};
  unsigned width = to.isIndex() ? IndexType::kInternalStorageBitWidth
                                : to.getIntOrFloatBitWidth();
  if (auto i = dyn_cast<IntegerAttr>(input)) {
    bool isUnsigned = i.getType().isInteger(1);
    APInt value = isUnsigned ? i.getValue().zextOrTrunc(width)
                             : i.getValue().sextOrTrunc(width);
    return IntegerAttr::get(to, value);
  }
  if (auto f = dyn_cast<FloatAttr>(input)) {
    APSInt value(width, /*isUnsigned=*/false);
    bool isExact = false;
    APFloat::opStatus status = f.getValue().convertToInteger(
        value, APFloat::rmTowardZero, &isExact);
    if (status & APFloat::opInvalidOp)
      return {};
    return IntegerAttr::get(to, value);
  }
  return {};
}

OpFoldResult CastOp::fold(FoldAdaptor adaptor) {
  Type to = getType();
  if (getInput().getType() == to)
    return getInput();
  if (Attribute folded = foldConstantCast(adaptor.getInput(), to))
    return folded;
  // cast(cast(x : T -> U) : U -> T) is x when U holds every value of T.
  if (auto inner = getInput().getDefiningOp<CastOp>()) {
    Value x = inner.getInput();
    if (x.getType() == to && isLosslessThrough(to, inner.getType()))
      return x;
  }
  return {};
}

//===----------------------------------------------------------------------===//
// ParallelOp and PipelinedOp: loops that never run
//===----------------------------------------------------------------------===//

namespace {
/// A parallel loop with a zero extent runs no iteration.
struct EraseEmptyParallel : OpRewritePattern<ParallelOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(ParallelOp op,
                                PatternRewriter &rewriter) const override {
    if (!llvm::is_contained(op.getExtents(), 0))
      return failure();
    rewriter.eraseOp(op);
    return success();
  }
};

/// A pipelined loop whose constant bounds give no iteration.
struct EraseEmptyPipelined : OpRewritePattern<PipelinedOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PipelinedOp op,
                                PatternRewriter &rewriter) const override {
    APInt lower, upper;
    if (!matchPattern(op.getLower(), m_ConstantInt(&lower)) ||
        !matchPattern(op.getUpper(), m_ConstantInt(&upper)) ||
        lower.slt(upper))
      return failure();
    rewriter.eraseOp(op);
    return success();
  }
};
} // namespace

void ParallelOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                             MLIRContext *context) {
  results.add<EraseEmptyParallel>(context);
}

void PipelinedOp::getCanonicalizationPatterns(RewritePatternSet &results,
                                              MLIRContext *context) {
  results.add<EraseEmptyPipelined>(context);
}
