//===- GemmOperandCopies.cpp - one shared tile read by gemms both ways ----===//

#include "backends/nvidia/Passes.h"

#include "dialects/tile/IR/TileOps.h"

namespace tessel::nvidia {
#define GEN_PASS_DEF_NVIDIAGEMMOPERANDCOPIESPASS
#include "backends/nvidia/Passes.h.inc"
} // namespace tessel::nvidia

using namespace mlir;
using namespace tessel::tile;

namespace {

struct NVIDIAGemmOperandCopiesPass
    : public tessel::nvidia::impl::NVIDIAGemmOperandCopiesPassBase<NVIDIAGemmOperandCopiesPass> {
  void runOnOperation() override {
    getOperation()->walk([](KernelOp kernel) {
      // The way the first gemm (in program order) reads each shared tile:
      // K along its columns (stored as is) or along its rows (transposed).
      DenseMap<Value, bool> kFirstOf;
      // The tile's copy stored the other way, made on first need.
      DenseMap<Value, Value> otherWay;
      kernel.walk([&](GemmOp gemm) {
        for (int operand = 0; operand < 2; ++operand) {
          Value v = operand == 0 ? gemm.getA() : gemm.getB();
          auto alloc = v.getDefiningOp<AllocOp>();
          if (!alloc || getMemoryScope(alloc.getType()) != MemoryScope::Shared ||
              alloc.getType().getRank() != 2 || !alloc.getType().hasStaticShape())
            continue;
          bool kFirst = operand == 0 ? gemm.getTransposeA() : !gemm.getTransposeB();
          auto [it, inserted] = kFirstOf.try_emplace(v, kFirst);
          if (inserted || it->second == kFirst)
            continue;
          // Read the other way: from a copy made just before this gemm, in a
          // tile of its own that the lowering stores this gemm's way.
          Value &copy = otherWay[v];
          if (!copy) {
            OpBuilder b(alloc);
            b.setInsertionPointAfter(alloc);
            copy = AllocOp::create(b, alloc.getLoc(), alloc.getType(), nullptr);
          }
          OpBuilder b(gemm);
          Location loc = gemm.getLoc();
          SmallVector<Value> zeros(2, arith::ConstantIndexOp::create(b, loc, 0));
          DenseI64ArrayAttr sizes = b.getDenseI64ArrayAttr(alloc.getType().getShape());
          CopyOp::create(b, loc, v, zeros, sizes, copy, zeros, sizes);
          gemm->setOperand(operand, copy);
        }
      });
    });
  }
};

} // namespace
