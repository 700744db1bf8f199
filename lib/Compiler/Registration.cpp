//===- Registration.cpp - the one registry of Tessel's dialects and passes ===//

#include "lib/Compiler/Registration.h"

#include "dialects/tile/IR/TileDialect.h"
#include "dialects/tile/Transforms/Passes.h"
#include "backends/cpu/Passes.h"
#include "backends/nvidia/Passes.h"
#include "backends/nvidia/Target.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/ControlFlow/IR/ControlFlow.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Transforms/Passes.h"
#include "tessel/Compiler.h"

#include <cstdlib>
#include <mutex>

void tessel::registerAllTesselDialects(mlir::DialectRegistry &registry) {
  registry.insert<tile::TileDialect, mlir::affine::AffineDialect,
                  mlir::arith::ArithDialect, mlir::func::FuncDialect,
                  mlir::math::MathDialect, mlir::memref::MemRefDialect,
                  mlir::scf::SCFDialect, mlir::vector::VectorDialect,
                  mlir::cf::ControlFlowDialect, mlir::index::IndexDialect,
                  mlir::LLVM::LLVMDialect, mlir::NVVM::NVVMDialect>();
}

void tessel::registerAllTesselPasses() {
  tile::registerTilePasses();
  cpu::registerTesselCPUPasses();
  nvidia::registerTesselNVIDIAPasses();
  nvidia::registerNVIDIATargets();
  mlir::registerCanonicalizerPass();
  mlir::registerCSEPass();
  mlir::registerInlinerPass();
  mlir::registerSymbolDCEPass();
  // The upstream passes the backends' pipelines are made of, and no others:
  // registering a pass links it in, and the self-contained libtessel (issue
  // 18) carries only what Tessel runs.
  mlir::registerSCFToControlFlowPass();
  mlir::registerConvertVectorToLLVMPass();
  mlir::registerFinalizeMemRefToLLVMConversionPass();
  mlir::registerConvertMathToLLVMPass();
  mlir::registerArithToLLVMConversionPass();
  mlir::registerConvertIndexToLLVMPass();
  mlir::registerConvertControlFlowToLLVMPass();
  mlir::registerConvertFuncToLLVMPass();
  mlir::registerConvertNVVMToLLVMPass();
  mlir::registerReconcileUnrealizedCastsPass();
  mlir::arith::registerArithEmulateUnsupportedFloats();
  mlir::math::registerMathExtendToSupportedTypes();
  mlir::memref::registerExpandStridedMetadataPass();
  mlir::LLVM::registerDIScopeForLLVMFuncOpPass();
}

namespace {
std::mutex debugMutex;
std::optional<tessel::DebugOptions> debugOptions;

bool envFlag(const char *name) {
  const char *v = std::getenv(name);
  return v && *v && std::string(v) != "0";
}
} // namespace

void tessel::setDebugOptions(const DebugOptions &options) {
  std::lock_guard<std::mutex> lock(debugMutex);
  debugOptions = options;
}

tessel::DebugOptions tessel::getDebugOptions() {
  std::lock_guard<std::mutex> lock(debugMutex);
  if (!debugOptions)
    debugOptions = DebugOptions{envFlag("TESSEL_DUMP_IR"), envFlag("TESSEL_TIMING")};
  return *debugOptions;
}

void tessel::applyDebugOptions(mlir::PassManager &pm) {
  DebugOptions options = getDebugOptions();
  if (options.dumpIRAfterAll) {
    // Module-wide dumps: one context per compile, so no threading to fight.
    pm.getContext()->disableMultithreading();
    pm.enableIRPrinting(
        /*shouldPrintBeforePass=*/[](mlir::Pass *, mlir::Operation *) { return false; },
        /*shouldPrintAfterPass=*/[](mlir::Pass *, mlir::Operation *) { return true; },
        /*printModuleScope=*/true, /*printAfterOnlyOnChange=*/false);
  }
  if (options.timing)
    pm.enableTiming();
}
