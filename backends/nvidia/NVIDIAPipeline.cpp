//===- NVIDIAPipeline.cpp - tile IR to PTX ---------------------------------===//

#include "backends/nvidia/Passes.h"

#include <cstdlib>
#include "backends/nvidia/Target.h"

#include "dialects/tile/Transforms/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Arith/Transforms/Passes.h"
#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/NVVM/NVVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/IR/LegacyPassManager.h"

#include <cstdlib>
#include "llvm/IR/Module.h"
#include "llvm/IR/Verifier.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Passes/PassBuilder.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Triple.h"

#include <mutex>

using namespace mlir;

void tessel::nvidia::buildNVIDIALoweringPipeline(OpPassManager &pm, bool tma,
                                                 bool warpSpecialize, bool fastMath) {
  registerNVIDIATargets();
  pm.addPass(createNVIDIAScalarFragmentsPass());
  pm.addPass(createNVIDIAWidenReductionsPass());
  pm.addPass(tile::createTileInferLayoutsPass());
  pm.addPass(createNVIDIAGemmOperandCopiesPass());
  pm.addPass(tile::createTileConvertLayoutsPass());
  pm.addPass(tile::createTileCheckRegisterBudgetPass());
  NVIDIAPipelineBuffersPassOptions buffers;
  buffers.tma = tma;
  buffers.warpSpecialize = warpSpecialize;
  pm.addPass(createNVIDIAPipelineBuffersPass(buffers));
  pm.addPass(tile::createTilePlanMemoryPass());
  pm.addPass(createNVIDIAMmaAsyncPass());
  pm.addPass(createNVIDIAInsertBarriersPass());
  pm.addPass(createNVIDIAInsertProxyFencesPass());
  TileLowerToNVVMPassOptions lowering;
  lowering.tma = tma;
  lowering.warpSpecialize = warpSpecialize;
  // TESSEL_STRICT_SYNC=1: a barrier nvidia-insert-barriers missed is an
  // error instead of being added quietly (the test suites' check).
  if (const char *strict = std::getenv("TESSEL_STRICT_SYNC"))
    lowering.strictSync = std::string(strict) == "1";
  pm.addPass(createTileLowerToNVVMPass(lowering));
  if (fastMath)
    pm.addPass(createNVIDIAFastMathPass());
  // CSE only: the lowering makes each constant once, and folding what is
  // left is InstCombine's job in LLVM (a canonicalizer here and at the end
  // cost a quarter of the pass time and changed no kernel's PTX measurably).
  pm.addPass(createCSEPass());
  // fp8 has no arithmetic on the GPU: compute in f32 and convert with
  // integer code, as the CPU backend does (f16 and bf16 stay native).
  arith::ArithEmulateUnsupportedFloatsOptions emulate;
  emulate.sourceTypeStrs = {"f8E4M3FN", "f8E5M2"};
  emulate.targetTypeStr = "f32";
  pm.addPass(arith::createArithEmulateUnsupportedFloats(emulate));
  tile::ExpandFloatConversionsPassOptions expand;
  expand.onlyFp8 = true;
  pm.addPass(tile::createExpandFloatConversionsPass(expand));
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertFuncToLLVMPass());
  pm.addPass(createConvertNVVMToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  // Line tables: the PTX carries .file/.loc for the kernel's source lines,
  // so the emulator's checks, and a GPU's tools, name the user's line.
  LLVM::DIScopeForLLVMFuncOpPassOptions debug;
  debug.emissionKind = LLVM::DIEmissionKind::DebugDirectivesOnly;
  pm.addPass(LLVM::createDIScopeForLLVMFuncOpPass(debug));
}

bool tessel::nvidia::emitPTX(ModuleOp module, const TargetOptions &target,
                             std::string &ptx, std::string &error, std::string *llvmIR) {
  static std::once_flag initOnce;
  std::call_once(initOnce, [] {
    LLVMInitializeNVPTXTarget();
    LLVMInitializeNVPTXTargetInfo();
    LLVMInitializeNVPTXTargetMC();
    LLVMInitializeNVPTXAsmPrinter();
    // Shared-memory pointers in 32 bits (the shared window is far smaller
    // than 4 GiB): every shared address a kernel keeps live costs one
    // register instead of two. The attention kernels sit at 255 registers
    // with a 64x512 fp32 accumulator; with 64-bit shared pointers the
    // FP8-KV sparse decode spilled. (The option is read when the target
    // machine computes its data layout.)
    auto &options = llvm::cl::getRegisteredOptions();
    auto shortPointers = options.find("nvptx-short-ptr");
    if (shortPointers != options.end())
      static_cast<llvm::cl::opt<bool> *>(shortPointers->second)->setValue(true);
  });
  DialectRegistry registry;
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  registerNVVMDialectTranslation(registry);
  module->getContext()->appendDialectRegistry(registry);

  // Kernels: functions the lowering marked with their block size.
  module.walk([](LLVM::LLVMFuncOp func) {
    auto threads = func->getAttrOfType<IntegerAttr>("tessel.threads");
    if (!threads)
      return;
    Builder b(func);
    func->setAttr("nvvm.kernel", b.getUnitAttr());
    func->setAttr("nvvm.maxntid",
                  b.getDenseI32ArrayAttr({int32_t(threads.getInt()), 1, 1}));
    // A warp-specialized block rebalances registers with setmaxnreg, which
    // hands out only what the block was launched with: one block per SM
    // makes ptxas give every thread all it can (65536 over the block), the
    // count the lowering planned the producer's and consumers' shares from.
    if (func->hasAttr("tessel.warp_specialized"))
      func->setAttr("nvvm.minctasm", b.getI32IntegerAttr(1));
    // TMA descriptors are passed by value and read in place.
    for (unsigned i = 0; i < func.getNumArguments(); ++i)
      if (func.getArgAttr(i, "tessel.grid_constant")) {
        func.removeArgAttr(i, b.getStringAttr("tessel.grid_constant"));
        func.setArgAttr(i, "nvvm.grid_constant", b.getUnitAttr());
      }
  });

  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, "tessel");
  if (!llvmModule) {
    error = "internal error: translation to LLVM IR failed";
    return false;
  }
  llvm::Triple triple("nvptx64-nvidia-cuda");
  std::string lookupError;
  const llvm::Target *llvmTarget =
      llvm::TargetRegistry::lookupTarget(triple, lookupError);
  if (!llvmTarget) {
    error = "the NVPTX target is not available in this LLVM: " + lookupError;
    return false;
  }
  // A kernel whose instructions need a later PTX ISA than the default says
  // so (tessel.min_ptx, e.g. 84 for mma.sync on fp8): the module is
  // emitted for the latest such version.
  std::string features = target.features;
  int64_t minPtx = 0;
  module.walk([&](LLVM::LLVMFuncOp func) {
    if (auto v = func->getAttrOfType<IntegerAttr>("tessel.min_ptx"))
      minPtx = std::max<int64_t>(minPtx, v.getInt());
  });
  if (minPtx && features.rfind("+ptx", 0) == 0 &&
      std::stoll(features.substr(4)) < minPtx)
    features = "+ptx" + std::to_string(minPtx);
  std::unique_ptr<llvm::TargetMachine> machine(llvmTarget->createTargetMachine(
      triple, target.chip, features, llvm::TargetOptions(),
      std::nullopt, std::nullopt, llvm::CodeGenOptLevel::Aggressive));
  if (!machine) {
    error = "cannot create an NVPTX target machine for " + target.chip;
    return false;
  }
  llvmModule->setTargetTriple(triple);
  llvmModule->setDataLayout(machine->createDataLayout());

  // O1: the lowering already emits straight-line, explicitly vectorized
  // code, and ptxas optimizes again; on the corpus GEMM and attention
  // kernels O2 produced the same PTX (same registers, +-2 lines) while
  // taking twice as long (SLP vectorizer and DSE found nothing to do).
  {
    llvm::LoopAnalysisManager lam;
    llvm::FunctionAnalysisManager fam;
    llvm::CGSCCAnalysisManager cgam;
    llvm::ModuleAnalysisManager mam;
    llvm::PassBuilder pb(machine.get());
    pb.registerModuleAnalyses(mam);
    pb.registerCGSCCAnalyses(cgam);
    pb.registerFunctionAnalyses(fam);
    pb.registerLoopAnalyses(lam);
    pb.crossRegisterProxies(lam, fam, cgam, mam);
    llvm::ModulePassManager mpm =
        pb.buildPerModuleDefaultPipeline(llvm::OptimizationLevel::O1);
    mpm.run(*llvmModule, mam);
  }
  if (llvm::verifyModule(*llvmModule, &llvm::errs())) {
    error = "internal error: the optimized LLVM module does not verify";
    return false;
  }
  if (llvmIR) {
    llvm::raw_string_ostream os(*llvmIR);
    llvmModule->print(os, nullptr);
  }

  llvm::SmallString<0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager codegen;
  if (machine->addPassesToEmitFile(codegen, os, nullptr,
                                   llvm::CodeGenFileType::AssemblyFile)) {
    error = "the NVPTX backend cannot emit assembly";
    return false;
  }
  codegen.run(*llvmModule);
  ptx = buffer.str().str();
  return true;
}
