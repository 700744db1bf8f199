//===- Scan.cpp - T.cumsum: prefix sums along one dimension of a tile ------===//
//
// T.cumsum(src, dst=None, dim=0, reverse=False) is built from primitives the
// backends already run: the scan works in place on a shared tile, a
// T.Parallel over the other dimensions whose iterations each walk their line
// in order (x[k] += x[k - 1], or x[k] += x[k + 1] in reverse). A fragment is
// scanned through a shared copy (a fragment's line is spread over threads);
// a separate destination receives the result by T.copy.
//
//===----------------------------------------------------------------------===//

#include "lib/Frontend/Emitter.h"

#include "dialects/tile/IR/TileOps.h"
#include "lib/Frontend/Arguments.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

using namespace mlir;
using namespace tessel::frontend;
namespace tile = tessel::tile;

namespace tessel::frontend {

MaybeValue Emitter::cumsum(BoundArgs &a, SourceLoc l) {
  const Value &src = *a.get(0);
  const Value *dstArg = a.get(1);
  if (dstArg && dstArg->kind == Value::Kind::None)
    dstArg = nullptr;
  auto tileType = [&](const Value &v, SourceLoc vl, const char *what) -> MemRefType {
    if (v.kind != Value::Kind::Buffer) {
      error(vl, std::string("T.cumsum's ") + what + " must be a whole shared or fragment buffer, "
                "got " + describe(v));
      return nullptr;
    }
    auto t = cast<MemRefType>(v.ir.getType());
    std::optional<tile::MemoryScope> s = tile::getMemoryScope(t);
    if (s != tile::MemoryScope::Shared && s != tile::MemoryScope::Fragment) {
      error(vl, std::string("T.cumsum's ") + what + " must be a shared or fragment buffer");
      return nullptr;
    }
    return t;
  };
  MemRefType srcType = tileType(src, a.locs[0], "source");
  if (!srcType)
    return std::nullopt;
  MemRefType dstType = srcType;
  if (dstArg) {
    dstType = tileType(*dstArg, a.locs[1], "destination");
    if (!dstType)
      return std::nullopt;
    if (dstType.getShape() != srcType.getShape() ||
        dstType.getElementType() != srcType.getElementType())
      return error(a.locs[1], "T.cumsum's destination must have the source's shape and dtype");
  }
  int64_t rank = srcType.getRank();
  int64_t dim = 0;
  if (const Value *d = a.get(2)) {
    std::optional<int64_t> v = requireInt(*d, a.locs[2], "T.cumsum's dim");
    if (!v)
      return std::nullopt;
    dim = *v < 0 ? *v + rank : *v;
    if (dim < 0 || dim >= rank)
      return error(a.locs[2], "T.cumsum's dim is " + llvm::Twine(*v) + " but the buffer has rank " +
                                  llvm::Twine(rank));
  }
  bool reverse = false;
  if (const Value *r = a.get(3)) {
    std::optional<bool> b = r->kind == Value::Kind::None ? std::optional<bool>(false)
                                                         : truthValue(*r);
    if (!b || r->kind == Value::Kind::Scalar)
      return error(a.locs[3], "T.cumsum's reverse must be known at compile time");
    reverse = *b;
  }
  Type elt = srcType.getElementType();
  if (!isa<FloatType>(elt) && !elt.isSignlessInteger())
    return error(a.locs[0], "T.cumsum sums numbers, not " + describe(src));

  // The shared tile the scan runs in, and the copies around it.
  auto copy = [&](const Value &from, const Value &to) {
    std::vector<Value> args = {from, to};
    std::vector<SourceLoc> locs = {l, l};
    std::vector<std::pair<std::string, Value>> none;
    return callBuiltin("T.copy", args, none, locs, l).has_value();
  };
  Location at = loc(l);
  const Value &dst = dstArg ? *dstArg : src;
  Value work = src;
  bool srcShared = tile::getMemoryScope(srcType) == tile::MemoryScope::Shared;
  bool dstShared = tile::getMemoryScope(dstType) == tile::MemoryScope::Shared;
  if (dstShared && dst.ir != src.ir) {
    work = dst;
    if (!copy(src, work))
      return std::nullopt;
  } else if (!srcShared) {
    auto shared = MemRefType::get(
        srcType.getShape(), elt, MemRefLayoutAttrInterface(),
        tile::MemoryScopeAttr::get(builder.getContext(), tile::MemoryScope::Shared));
    work = Value::buffer(tile::AllocOp::create(builder, at, shared, nullptr), "");
    if (!copy(src, work))
      return std::nullopt;
  }

  // A T.Parallel over the other dimensions (one iteration for a 1-D tile),
  // each walking its line.
  SmallVector<int64_t> others;
  for (int64_t d = 0; d < rank; ++d)
    if (d != dim)
      others.push_back(srcType.getDimSize(d));
  if (others.empty())
    others.push_back(1);
  {
    OpBuilder::InsertionGuard guard(builder);
    SmallVector<mlir::Value> ivs;
    openParallel(others, at, ivs);
    int64_t n = srcType.getDimSize(dim);
    auto cst = [&](int64_t c) { return arith::ConstantIndexOp::create(builder, at, c); };
    auto loop = scf::ForOp::create(builder, at, cst(1), cst(std::max<int64_t>(n, 1)), cst(1));
    builder.setInsertionPointToStart(loop.getBody());
    mlir::Value k = loop.getInductionVar();
    mlir::Value here = reverse ? (mlir::Value)arith::SubIOp::create(builder, at, cst(n - 1), k) : k;
    mlir::Value before = reverse ? (mlir::Value)arith::AddIOp::create(builder, at, here, cst(1))
                                 : (mlir::Value)arith::SubIOp::create(builder, at, here, cst(1));
    auto indices = [&](mlir::Value along) {
      SmallVector<mlir::Value> idx;
      size_t o = 0;
      for (int64_t d = 0; d < rank; ++d)
        idx.push_back(d == dim ? along : ivs[o++]);
      return idx;
    };
    mlir::Value x = memref::LoadOp::create(builder, at, work.ir, indices(here));
    mlir::Value prev = memref::LoadOp::create(builder, at, work.ir, indices(before));
    mlir::Value sum = isa<FloatType>(elt) ? (mlir::Value)arith::AddFOp::create(builder, at, x, prev)
                                          : (mlir::Value)arith::AddIOp::create(builder, at, x, prev);
    memref::StoreOp::create(builder, at, sum, work.ir, indices(here));
  }
  if (work.ir != dst.ir && !copy(work, dst))
    return std::nullopt;
  return Value::none();
}

} // namespace tessel::frontend
