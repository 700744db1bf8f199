//===- FastMath.cpp - approximate division and math on the GPU ------------===//

#include "backends/nvidia/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"

namespace tessel::nvidia {
#define GEN_PASS_DEF_NVIDIAFASTMATHPASS
#include "backends/nvidia/Passes.h.inc"
} // namespace tessel::nvidia

using namespace mlir;

namespace {

struct NVIDIAFastMathPass
    : public tessel::nvidia::impl::NVIDIAFastMathPassBase<NVIDIAFastMathPass> {
  void runOnOperation() override {
    getOperation()->walk([](Operation *op) {
      if (!isa<arith::DivFOp>(op) && !isa<math::MathDialect>(op->getDialect()))
        return;
      auto fm = dyn_cast<arith::ArithFastMathInterface>(op);
      if (!fm)
        return;
      arith::FastMathFlags flags = fm.getFastMathFlagsAttr()
                                       ? fm.getFastMathFlagsAttr().getValue()
                                       : arith::FastMathFlags::none;
      op->setAttr(fm.getFastMathAttrName(),
                  arith::FastMathFlagsAttr::get(op->getContext(),
                                                flags | arith::FastMathFlags::afn));
    });
  }
};

} // namespace
