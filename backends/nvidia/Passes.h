//===- Passes.h - passes of the NVIDIA backend --------------------*- C++ -*-===//

#ifndef TESSEL_BACKENDS_NVIDIA_PASSES_H
#define TESSEL_BACKENDS_NVIDIA_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "mlir/Pass/PassManager.h"

#include <string>

namespace tessel::nvidia {

#define GEN_PASS_DECL
#define GEN_PASS_REGISTRATION
#include "backends/nvidia/Passes.h.inc"

/// Tile IR (frontend output) to the LLVM dialect with NVVM ops: layouts,
/// memory planning, thread mapping, then the standard conversions.
/// `tma`: load pipelined K-major tiles with TMA (experimental; the kernel
/// then takes TMA descriptors, listed in its tessel.tensor_maps attribute).
/// `fastMath`: approximate division and math functions (nvidia-fast-math).
void buildNVIDIALoweringPipeline(mlir::OpPassManager &pm, bool tma = false,
                                 bool warpSpecialize = false, bool fastMath = false);

/// What PTX generation needs to know about the target.
struct TargetOptions {
  std::string chip = "sm_90a";
  std::string features = "+ptx80";
};

/// Translates an LLVM-dialect module to LLVM IR, optimizes it and emits
/// PTX; with `llvmIR`, also the optimized LLVM IR the PTX comes from. On
/// failure returns false with a message in `error`.
bool emitPTX(mlir::ModuleOp module, const TargetOptions &target,
             std::string &ptx, std::string &error, std::string *llvmIR = nullptr);

} // namespace tessel::nvidia

#endif // TESSEL_BACKENDS_NVIDIA_PASSES_H
