//===- CPUPipeline.h - tile IR to the LLVM dialect and a JIT for the CPU -*- C++ -*-===//

#ifndef TESSEL_BACKENDS_CPU_CPUPIPELINE_H
#define TESSEL_BACKENDS_CPU_CPUPIPELINE_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

namespace tessel::cpu {

/// Adds the passes that take a verified tile module to the LLVM dialect:
/// loops, float emulation, bit-exact conversions, then the upstream lowerings.
void buildCPULoweringPipeline(mlir::OpPassManager &pm);

} // namespace tessel::cpu

#endif // TESSEL_BACKENDS_CPU_CPUPIPELINE_H
