//===- Views.cpp - T.reshape: a buffer seen with another shape ------------===//
//
// `v = T.reshape(buf, (a, b, c))` names the same elements in row-major
// order under another shape. Indexing the view indexes the buffer at the
// same linear position; T.fill and T.clear fill the buffer; primitives that
// read a whole buffer (T.copy's source, a reduction's) read a copy of the
// view made element by element. Writing a whole view (as a T.copy
// destination) is not supported yet.
//
//===----------------------------------------------------------------------===//

#include "lib/Frontend/Emitter.h"

#include "dialects/tile/IR/TileOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

using namespace mlir;
using namespace tessel::frontend;
using llvm::cast;
using llvm::dyn_cast;

namespace tessel::frontend {

MaybeValue Emitter::reshape(const Value &buffer, const Value &shapeV, SourceLoc bufLoc,
                            SourceLoc shapeLoc) {
  if (buffer.kind != Value::Kind::Buffer)
    return error(bufLoc, "T.reshape takes a whole buffer, got " + describe(buffer));
  auto type = cast<MemRefType>(buffer.ir.getType());
  if (!type.hasStaticShape())
    return error(bufLoc, "T.reshape of a buffer with a dynamic shape is not supported yet");
  std::vector<Value> dims = shapeV.isSequence() ? shapeV.elems : std::vector<Value>{shapeV};
  std::vector<int64_t> shape;
  int64_t count = 1;
  for (const Value &d : dims) {
    std::optional<int64_t> n = requireInt(d, shapeLoc, "a view dimension");
    if (!n)
      return std::nullopt;
    if (*n <= 0)
      return error(shapeLoc, "view dimensions must be positive, got " + llvm::Twine(*n));
    shape.push_back(*n);
    count *= *n;
  }
  if (count != type.getNumElements())
    return error(shapeLoc, "cannot view " + llvm::Twine(type.getNumElements()) +
                               " elements with a shape of " + llvm::Twine(count));
  Value view = buffer;
  view.kind = Value::Kind::View;
  view.viewShape = std::move(shape);
  return view;
}

MaybeValue Emitter::viewElement(const Value &view, const SubscriptExpr &e) {
  if (e.indices.size() != view.viewShape.size())
    return error(e.loc, "a reshaped view is indexed with one index per dimension (" +
                            llvm::Twine(view.viewShape.size()) + "); slices of views are not "
                            "supported yet");
  // The row-major position in the view, then the buffer's indices there.
  Value linear = Value::integer(0);
  for (size_t d = 0; d < e.indices.size(); ++d) {
    if (isa<SliceExpr>(*e.indices[d]))
      return error(e.indices[d]->loc, "slices of reshaped views are not supported yet");
    MaybeValue index = evalScalar(*e.indices[d]);
    if (!index)
      return std::nullopt;
    MaybeValue scaled = binaryOp("*", linear, Value::integer(view.viewShape[d]),
                                 e.indices[d]->loc);
    MaybeValue sum = scaled ? binaryOp("+", *scaled, *index, e.indices[d]->loc) : std::nullopt;
    if (!sum)
      return std::nullopt;
    linear = *sum;
  }
  auto type = cast<MemRefType>(view.ir.getType());
  Value region = view;
  region.kind = Value::Kind::Region;
  region.viewShape.clear();
  region.dims.assign(type.getRank(), Value::RegionDim());
  for (int64_t d = type.getRank() - 1; d >= 0; --d) {
    int64_t extent = type.getDimSize(d);
    Value index = linear;
    if (d > 0) {
      if (linear.kind == Value::Kind::Int) {
        index = Value::integer(linear.i % extent);
        linear = Value::integer(linear.i / extent);
      } else {
        // Indices are not negative: unsigned division is Python's.
        std::optional<mlir::Value> l = toIndex(linear, e.loc);
        if (!l)
          return std::nullopt;
        mlir::Value c = arith::ConstantIndexOp::create(builder, loc(e.loc), extent);
        index = makeScalar(arith::RemUIOp::create(builder, loc(e.loc), *l, c));
        linear = makeScalar(arith::DivUIOp::create(builder, loc(e.loc), *l, c));
      }
    }
    region.dims[d].offset = std::make_shared<Value>(index);
  }
  return region;
}

Operation *Emitter::openParallel(ArrayRef<int64_t> extents, Location at,
                                 SmallVectorImpl<mlir::Value> &ivs) {
  auto parallel = tile::ParallelOp::create(builder, at, builder.getDenseI64ArrayAttr(extents));
  mlir::Block *body = new mlir::Block();
  parallel.getBody().push_back(body);
  for (size_t i = 0; i < extents.size(); ++i)
    ivs.push_back(body->addArgument(builder.getIndexType(), at));
  builder.setInsertionPointToStart(body);
  tile::YieldOp::create(builder, at);
  builder.setInsertionPointToStart(body);
  return parallel;
}

MaybeValue Emitter::viewAsBuffer(const Value &view, SourceLoc l) {
  if (!insideDevice())
    return error(l, "a reshaped view can only be read inside a T.Kernel");
  auto type = cast<MemRefType>(view.ir.getType());
  Location at = loc(l);
  auto copyType = MemRefType::get(view.viewShape, type.getElementType(),
                                  MemRefLayoutAttrInterface(), type.getMemorySpace());
  mlir::Value copy = tile::AllocOp::create(builder, at, copyType, nullptr);
  OpBuilder::InsertionGuard guard(builder);
  SmallVector<mlir::Value> ivs;
  openParallel(view.viewShape, at, ivs);
  // The buffer's indices of each view element, as viewElement computes them.
  mlir::Value linear;
  for (size_t d = 0; d < ivs.size(); ++d) {
    mlir::Value c = arith::ConstantIndexOp::create(builder, at, view.viewShape[d]);
    linear = linear ? (mlir::Value)arith::AddIOp::create(
                          builder, at, arith::MulIOp::create(builder, at, linear, c), ivs[d])
                    : ivs[d];
  }
  SmallVector<mlir::Value> indices(type.getRank());
  for (int64_t d = type.getRank() - 1; d >= 0; --d) {
    if (d == 0) {
      indices[d] = linear;
      break;
    }
    mlir::Value c = arith::ConstantIndexOp::create(builder, at, type.getDimSize(d));
    indices[d] = arith::RemUIOp::create(builder, at, linear, c);
    linear = arith::DivUIOp::create(builder, at, linear, c);
  }
  mlir::Value x = memref::LoadOp::create(builder, at, view.ir, indices);
  memref::StoreOp::create(builder, at, x, copy, ivs);
  Value result = Value::buffer(copy, view.s);
  result.isUnsigned = view.isUnsigned;
  return result;
}

MaybeValue Emitter::regionAsTile(const Value &region, SourceLoc l) {
  auto type = cast<MemRefType>(region.ir.getType());
  std::optional<tile::MemoryScope> scope = tile::getMemoryScope(type);
  if (scope != tile::MemoryScope::Shared && scope != tile::MemoryScope::Fragment)
    return error(l, "a region used as a whole tile here must be part of a shared or fragment "
                    "buffer; copy it into one with T.copy first");
  SmallVector<int64_t> shape;
  for (const Value::RegionDim &d : region.dims) {
    if (d.point)
      continue;
    if (d.size < 0)
      return error(l, "the extent of this region must be known at compile time");
    shape.push_back(d.size);
  }
  auto tileType = MemRefType::get(shape, type.getElementType(), MemRefLayoutAttrInterface(),
                                  type.getMemorySpace());
  Value own = Value::buffer(tile::AllocOp::create(builder, loc(l), tileType, nullptr), region.s);
  own.isUnsigned = region.isUnsigned;
  std::vector<Value> args = {region, own};
  std::vector<SourceLoc> locs = {l, l};
  std::vector<std::pair<std::string, Value>> none;
  if (!callBuiltin("T.copy", args, none, locs, l))
    return std::nullopt;
  return own;
}

MaybeValue Emitter::fillRegion(const Value &region, SourceLoc rl, const Value &value,
                               SourceLoc vl) {
  // T.fill(buf[i], v) or T.fill(buf[a:b, j], v): a store, or a T.Parallel of
  // stores over the region's sliced dimensions.
  auto type = cast<MemRefType>(region.ir.getType());
  std::optional<mlir::Value> v = toIR(value, type.getElementType(), vl);
  if (!v)
    return std::nullopt;
  Location at = loc(rl);
  SmallVector<mlir::Value> base;
  SmallVector<int64_t> extents;
  for (const Value::RegionDim &d : region.dims) {
    std::optional<mlir::Value> off = toIndex(*d.offset, rl);
    if (!off)
      return std::nullopt;
    base.push_back(*off);
    if (!d.point && d.size < 0)
      return error(rl, "the extent of the region to fill must be known at compile time");
    if (!d.point)
      extents.push_back(d.size);
  }
  if (extents.empty()) {
    memref::StoreOp::create(builder, at, *v, region.ir, base);
    return Value::none();
  }
  OpBuilder::InsertionGuard guard(builder);
  SmallVector<mlir::Value> ivs;
  openParallel(extents, at, ivs);
  SmallVector<mlir::Value> index;
  size_t next = 0;
  for (auto [d, dim] : llvm::enumerate(region.dims))
    index.push_back(dim.point ? base[d]
                              : (mlir::Value)arith::AddIOp::create(builder, at, base[d],
                                                                   ivs[next++]));
  memref::StoreOp::create(builder, at, *v, region.ir, index);
  return Value::none();
}

} // namespace tessel::frontend
