//===- GemmOperandCopies.cpp - one shared tile read by gemms both ways ----===//

#include "backends/nvidia/Passes.h"
#include "backends/nvidia/Target.h"

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
      // How the first gemm (in program order) needs each shared tile
      // stored: as is, or transposed (an MN-major operand the MMA cannot
      // read in place).
      DenseMap<Value, bool> transposedFor;
      // The tile's copy stored the other way, made on first need.
      DenseMap<Value, Value> otherWay;
      kernel.walk([&](GemmOp gemm) {
        for (int operand = 0; operand < 2; ++operand) {
          Value v = operand == 0 ? gemm.getA() : gemm.getB();
          auto alloc = v.getDefiningOp<AllocOp>();
          if (!alloc || getMemoryScope(alloc.getType()) != MemoryScope::Shared ||
              alloc.getType().getRank() != 2 || !alloc.getType().hasStaticShape())
            continue;
          bool transposed = tessel::nvidia::gemmOperandStoredTransposed(gemm, operand);
          auto [it, inserted] = transposedFor.try_emplace(v, transposed);
          if (inserted || it->second == transposed)
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
