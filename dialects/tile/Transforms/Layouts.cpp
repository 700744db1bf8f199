//===- Layouts.cpp - fragment layouts Tessel knows how to build -----------===//

#include "dialects/tile/Transforms/Layouts.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/AffineExpr.h"
#include "mlir/IR/AffineMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/TypeSwitch.h"
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace tessel::tile;

std::optional<WarpgroupGrid>
tessel::tile::splitMmaUnits(GemmWarpPolicy policy, int64_t warpgroups,
                            int64_t unitThreads, int64_t m, int64_t n) {
  int64_t slab = unitThreads / 2;
  auto fits = [&](WarpgroupGrid g) {
    return m % g.alongM == 0 && n % g.alongN == 0 && (m / g.alongM) % slab == 0 &&
           (n / g.alongN) % 8 == 0;
  };
  std::optional<WarpgroupGrid> best;
  for (int64_t gm = 1; gm <= warpgroups; ++gm) {
    if (warpgroups % gm)
      continue;
    WarpgroupGrid g{gm, warpgroups / gm, unitThreads};
    if (policy == GemmWarpPolicy::FullRow && g.alongN != 1)
      continue;
    if (policy == GemmWarpPolicy::FullCol && g.alongM != 1)
      continue;
    if (!fits(g))
      continue;
    // Square: the per-warpgroup tile whose sides are closest.
    auto skew = [&](WarpgroupGrid x) {
      int64_t a = m / x.alongM, b = n / x.alongN;
      return a > b ? a / b : b / a;
    };
    if (!best || skew(g) < skew(*best))
      best = g;
  }
  if (best || policy == GemmWarpPolicy::Square)
    return best;
  // A policy is a preference, as in TileLang: when no split along its
  // direction fits (a 64-row tile over two warpgroups with full_row), the
  // split that goes furthest along it among those that fit.
  for (int64_t gm = 1; gm <= warpgroups; ++gm) {
    if (warpgroups % gm)
      continue;
    WarpgroupGrid g{gm, warpgroups / gm, unitThreads};
    if (!fits(g))
      continue;
    bool further = !best || (policy == GemmWarpPolicy::FullRow ? g.alongM > best->alongM
                                                               : g.alongN > best->alongN);
    if (further)
      best = g;
  }
  return best;
}

namespace {
/// The pieces of the accumulator layout for element (i, j), as affine exprs.
struct AccumulatorExprs {
  AffineExpr thread, slot, rowInSlab16;
};

AccumulatorExprs accumulatorExprs(MLIRContext *ctx, WarpgroupGrid grid,
                                  int64_t m, int64_t n, AffineExpr i,
                                  AffineExpr j) {
  int64_t mw = m / grid.alongM, nw = n / grid.alongN;
  AffineExpr wgM = i.floorDiv(mw), wgN = j.floorDiv(nw);
  AffineExpr il = i % mw, jl = j % nw;
  AffineExpr slab = il.floorDiv(grid.slabRows()), r = il % grid.slabRows();
  // A warpgroup's four warps take 16 rows of each slab; a warp's slab is 16.
  AffineExpr warp = grid.unitThreads > 32 ? r.floorDiv(16)
                                          : getAffineConstantExpr(0, ctx);
  AffineExpr r16 = r % 16;
  AffineExpr lane = (r16 % 8) * 4 + (jl % 8).floorDiv(2);
  AccumulatorExprs e;
  e.thread = (wgM * grid.alongN + wgN) * grid.unitThreads + warp * 32 + lane;
  // Per thread: for each slab and 8-column group, two rows x two columns.
  e.slot = ((slab * (nw / 8) + jl.floorDiv(8)) * 2 + r16.floorDiv(8)) * 2 + jl % 2;
  e.rowInSlab16 = r16;
  return e;
}
} // namespace

FragmentLayoutAttr tessel::tile::accumulatorLayout(MLIRContext *ctx,
                                                   WarpgroupGrid grid, int64_t m,
                                                   int64_t n) {
  AffineExpr i = getAffineDimExpr(0, ctx), j = getAffineDimExpr(1, ctx);
  AccumulatorExprs e = accumulatorExprs(ctx, grid, m, n, i, j);
  auto map = AffineMap::get(2, 0, {e.thread, e.slot}, ctx);
  return FragmentLayoutAttr::get(ctx, map, grid.alongM * grid.alongN * grid.unitThreads, 1);
}

FragmentLayoutAttr tessel::tile::accumulatorRowLayout(MLIRContext *ctx,
                                                      WarpgroupGrid grid,
                                                      int64_t m, int64_t n) {
  // Row i is held by the threads holding (i, 0): the four lanes of a quad
  // share it, and so do the warpgroups along N.
  AffineExpr i = getAffineDimExpr(0, ctx);
  AffineExpr zero = getAffineConstantExpr(0, ctx);
  AccumulatorExprs e = accumulatorExprs(ctx, grid, m, n, i, zero);
  int64_t mw = m / grid.alongM;
  AffineExpr il = i % mw;
  AffineExpr slot = il.floorDiv(grid.slabRows()) * 2 + e.rowInSlab16.floorDiv(8);
  auto map = AffineMap::get(1, 0, {e.thread, slot}, ctx);
  return FragmentLayoutAttr::get(ctx, map, grid.alongM * grid.alongN * grid.unitThreads,
                                 4 * grid.alongN);
}

FragmentLayoutAttr tessel::tile::transposedLayout(FragmentLayoutAttr layout) {
  MLIRContext *ctx = layout.getContext();
  AffineMap swap = AffineMap::get(
      2, 0, {getAffineDimExpr(1, ctx), getAffineDimExpr(0, ctx)}, ctx);
  return FragmentLayoutAttr::get(ctx, layout.getMap().compose(swap), layout.getThreads(),
                                 layout.getReplicate());
}

/// The row-major linear index of a `shape` element, as an expression of
/// its coordinates.
static AffineExpr rowMajorIndex(MLIRContext *ctx, ArrayRef<int64_t> shape) {
  AffineExpr flat = getAffineConstantExpr(0, ctx);
  for (size_t d = 0; d < shape.size(); ++d)
    flat = flat * shape[d] + getAffineDimExpr(d, ctx);
  return flat;
}

FragmentLayoutAttr tessel::tile::blockedLayout(MLIRContext *ctx,
                                               ArrayRef<int64_t> shape,
                                               int64_t threads) {
  AffineExpr flat = rowMajorIndex(ctx, shape);
  auto map = AffineMap::get(shape.size(), 0, {flat % threads, flat.floorDiv(threads)}, ctx);
  return FragmentLayoutAttr::get(ctx, map, threads, 1);
}

FragmentLayoutAttr tessel::tile::replicatedLayout(MLIRContext *ctx,
                                                  ArrayRef<int64_t> shape,
                                                  int64_t threads) {
  AffineExpr flat = rowMajorIndex(ctx, shape);
  auto map = AffineMap::get(shape.size(), 0, {getAffineConstantExpr(0, ctx), flat}, ctx);
  return FragmentLayoutAttr::get(ctx, map, threads, threads);
}

int64_t tessel::tile::evaluateAffine(AffineExpr expr, ArrayRef<int64_t> dims) {
  switch (expr.getKind()) {
  case AffineExprKind::Constant:
    return cast<AffineConstantExpr>(expr).getValue();
  case AffineExprKind::DimId:
    return dims[cast<AffineDimExpr>(expr).getPosition()];
  case AffineExprKind::SymbolId:
    llvm_unreachable("layouts have no symbols");
  default:
    break;
  }
  auto bin = cast<AffineBinaryOpExpr>(expr);
  int64_t l = evaluateAffine(bin.getLHS(), dims);
  int64_t r = evaluateAffine(bin.getRHS(), dims);
  switch (expr.getKind()) {
  case AffineExprKind::Add:
    return l + r;
  case AffineExprKind::Mul:
    return l * r;
  case AffineExprKind::Mod:
    return r ? llvm::mod(l, r) : 0;
  case AffineExprKind::FloorDiv:
    return r ? llvm::divideFloorSigned(l, r) : 0;
  case AffineExprKind::CeilDiv:
    return r ? llvm::divideCeilSigned(l, r) : 0;
  default:
    llvm_unreachable("not a binary affine expression");
  }
}

tessel::tile::AffineEvaluator::AffineEvaluator(AffineMap map) {
  assert(map.getNumSymbols() == 0 && "layouts have no symbols");
  for (AffineExpr result : map.getResults()) {
    append(result);
    program.push_back({Code::End, 0});
    depth = 0;
  }
}

void tessel::tile::AffineEvaluator::append(AffineExpr expr) {
  if (auto c = dyn_cast<AffineConstantExpr>(expr)) {
    program.push_back({Code::Constant, c.getValue()});
  } else if (auto d = dyn_cast<AffineDimExpr>(expr)) {
    program.push_back({Code::Dim, d.getPosition()});
  } else {
    auto bin = cast<AffineBinaryOpExpr>(expr);
    append(bin.getLHS());
    append(bin.getRHS());
    Code code = expr.getKind() == AffineExprKind::Add      ? Code::Add
                : expr.getKind() == AffineExprKind::Mul    ? Code::Mul
                : expr.getKind() == AffineExprKind::Mod    ? Code::Mod
                : expr.getKind() == AffineExprKind::FloorDiv ? Code::FloorDiv
                                                             : Code::CeilDiv;
    program.push_back({code, 0});
    --depth;
    return;
  }
  maxDepth = std::max(maxDepth, ++depth);
}

void tessel::tile::AffineEvaluator::evaluate(ArrayRef<int64_t> dims,
                               MutableArrayRef<int64_t> results) const {
  SmallVector<int64_t, 16> stack(maxDepth);
  unsigned top = 0, out = 0;
  for (const Step &step : program) {
    switch (step.code) {
    case Code::Constant:
      stack[top++] = step.value;
      continue;
    case Code::Dim:
      stack[top++] = dims[step.value];
      continue;
    case Code::End:
      results[out++] = stack[--top];
      continue;
    default:
      break;
    }
    int64_t r = stack[--top], &l = stack[top - 1];
    switch (step.code) {
    case Code::Add:
      l += r;
      break;
    case Code::Mul:
      l *= r;
      break;
    case Code::Mod:
      l = r ? llvm::mod(l, r) : 0;
      break;
    case Code::FloorDiv:
      l = r ? llvm::divideFloorSigned(l, r) : 0;
      break;
    default:
      l = r ? llvm::divideCeilSigned(l, r) : 0;
      break;
    }
  }
}

bool tessel::tile::isValidLayout(FragmentLayoutAttr layout,
                                 ArrayRef<int64_t> shape) {
  AffineEvaluator eval(layout.getMap());
  int64_t count = 1;
  for (int64_t s : shape)
    count *= s;
  int64_t threads = layout.getThreads();
  // Pairs (thread, slot) in element order; then no pair twice.
  std::vector<int64_t> pairs(count);
  SmallVector<int64_t> index(shape.size(), 0);
  int64_t r[2];
  for (int64_t e = 0; e < count; ++e) {
    eval.evaluate(index, r);
    if (r[0] < 0 || r[0] >= threads || r[1] < 0)
      return false;
    pairs[e] = r[0] + threads * r[1];
    // Step the row-major index.
    for (int64_t d = shape.size() - 1; d >= 0; --d) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
  }
  llvm::sort(pairs);
  return std::adjacent_find(pairs.begin(), pairs.end()) == pairs.end();
}

std::optional<int64_t> tessel::tile::evalIndex(Value v, const DenseMap<Value, int64_t> &env,
                                              int depth) {
  if (auto it = env.find(v); it != env.end())
    return it->second;
  if (depth > 64)
    return std::nullopt;
  Operation *def = v.getDefiningOp();
  if (!def)
    return std::nullopt;
  if (auto c = dyn_cast<arith::ConstantOp>(def)) {
    if (auto i = dyn_cast<IntegerAttr>(c.getValue()))
      return i.getValue().getSExtValue();
    return std::nullopt;
  }
  if (isa<arith::IndexCastOp, arith::IndexCastUIOp>(def))
    return evalIndex(def->getOperand(0), env, depth + 1);
  if (def->getNumOperands() != 2)
    return std::nullopt;
  auto a = evalIndex(def->getOperand(0), env, depth + 1);
  if (!a)
    return std::nullopt;
  auto b = evalIndex(def->getOperand(1), env, depth + 1);
  if (!b)
    return std::nullopt;
  int64_t x = *a, y = *b;
  return llvm::TypeSwitch<Operation *, std::optional<int64_t>>(def)
      .Case([&](arith::AddIOp) { return x + y; })
      .Case([&](arith::SubIOp) { return x - y; })
      .Case([&](arith::MulIOp) { return x * y; })
      .Case([&](arith::DivSIOp) -> std::optional<int64_t> {
        return y ? std::optional<int64_t>(x / y) : std::nullopt;
      })
      .Case([&](arith::RemSIOp) -> std::optional<int64_t> {
        return y ? std::optional<int64_t>(x % y) : std::nullopt;
      })
      .Case([&](arith::FloorDivSIOp) -> std::optional<int64_t> {
        return y ? std::optional<int64_t>(llvm::divideFloorSigned(x, y))
                 : std::nullopt;
      })
      .Case([&](arith::CeilDivSIOp) -> std::optional<int64_t> {
        return y ? std::optional<int64_t>(llvm::divideCeilSigned(x, y))
                 : std::nullopt;
      })
      .Case([&](arith::MinSIOp) { return std::min(x, y); })
      .Case([&](arith::MaxSIOp) { return std::max(x, y); })
      .Default([](Operation *) { return std::nullopt; });
}

std::optional<ParallelAnchor> tessel::tile::findParallelAnchor(ParallelOp parallel) {
  Block &body = parallel.getBody().front();
  ArrayRef<int64_t> extents = parallel.getExtents();
  SmallVector<Value> inOrder(body.getArguments());
  SmallVector<Value> swapped(llvm::reverse(inOrder));
  SmallVector<int64_t> swappedExtents(llvm::reverse(extents));
  std::optional<ParallelAnchor> exact, other;
  parallel.walk([&](Operation *inner) {
    Value memref;
    SmallVector<Value> indices;
    if (auto l = dyn_cast<memref::LoadOp>(inner)) {
      memref = l.getMemref();
      indices.assign(l.getIndices().begin(), l.getIndices().end());
    } else if (auto s = dyn_cast<memref::StoreOp>(inner)) {
      memref = s.getMemref();
      indices.assign(s.getIndices().begin(), s.getIndices().end());
    }
    auto type = memref ? dyn_cast<MemRefType>(memref.getType()) : MemRefType();
    if (exact || !type || getMemoryScope(type) != MemoryScope::Fragment)
      return;
    if (type.getShape() == extents && indices == inOrder)
      exact = ParallelAnchor{memref, inOrder};
    else if (!other && extents.size() == 2 &&
             type.getShape() == ArrayRef<int64_t>(swappedExtents) && indices == swapped)
      other = ParallelAnchor{memref, swapped};
  });
  return exact ? exact : other;
}
