//===- WidenReductions.cpp - f16/bf16 reductions computed in f32 ----------===//

#include "backends/nvidia/Passes.h"

#include "dialects/tile/IR/TileOps.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace tessel::nvidia {
#define GEN_PASS_DEF_NVIDIAWIDENREDUCTIONSPASS
#include "backends/nvidia/Passes.h.inc"
} // namespace tessel::nvidia

using namespace mlir;
using namespace tessel::tile;

namespace {

/// dst[i...] = src[i...] converted, for every index: a tile.parallel over
/// the shape, so that both fragments take the same layout.
void convertWhole(OpBuilder &b, Location loc, Value src, Value dst) {
  auto type = cast<MemRefType>(src.getType());
  Type to = cast<MemRefType>(dst.getType()).getElementType();
  auto parallel = ParallelOp::create(b, loc, b.getDenseI64ArrayAttr(type.getShape()));
  Block *body = new Block();
  parallel.getBody().push_back(body);
  SmallVector<Value> ivs;
  for (int64_t i = 0; i < type.getRank(); ++i)
    ivs.push_back(body->addArgument(b.getIndexType(), loc));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(body);
  Value x = memref::LoadOp::create(b, loc, src, ivs);
  Value y = to.getIntOrFloatBitWidth() > x.getType().getIntOrFloatBitWidth()
                ? (Value)arith::ExtFOp::create(b, loc, to, x)
                : (Value)arith::TruncFOp::create(b, loc, to, x);
  memref::StoreOp::create(b, loc, y, dst, ivs);
  YieldOp::create(b, loc);
}

/// A fragment like `type` holding f32.
MemRefType wide(MemRefType type) {
  return MemRefType::get(type.getShape(), Float32Type::get(type.getContext()),
                         MemRefLayoutAttrInterface(), type.getMemorySpace());
}

struct NVIDIAWidenReductionsPass
    : public tessel::nvidia::impl::NVIDIAWidenReductionsPassBase<NVIDIAWidenReductionsPass> {
  void runOnOperation() override {
    SmallVector<ReduceOp> narrow;
    getOperation()->walk([&](ReduceOp op) {
      auto src = op.getSrc().getType(), dst = op.getDst().getType();
      Type elt = src.getElementType();
      if (isa<FloatType>(elt) && elt.getIntOrFloatBitWidth() < 32 &&
          getMemoryScope(src) == MemoryScope::Fragment &&
          getMemoryScope(dst) == MemoryScope::Fragment && dst.getRank() > 0)
        narrow.push_back(op);
    });
    for (ReduceOp op : narrow) {
      OpBuilder b(op);
      Location loc = op.getLoc();
      auto srcType = cast<MemRefType>(op.getSrc().getType());
      auto dstType = cast<MemRefType>(op.getDst().getType());
      Value src = AllocOp::create(b, loc, wide(srcType), nullptr);
      convertWhole(b, loc, op.getSrc(), src);
      Value dst = op.getDst();
      bool narrowDst = !dstType.getElementType().isF32();
      if (narrowDst) {
        dst = AllocOp::create(b, loc, wide(dstType), nullptr);
        if (!op.getClear())
          convertWhole(b, loc, op.getDst(), dst);
      }
      ReduceOp::create(b, loc, op.getKind(), src, dst, op.getDim(), op.getClear());
      if (narrowDst)
        convertWhole(b, loc, dst, op.getDst());
      op.erase();
    }
  }
};

} // namespace
