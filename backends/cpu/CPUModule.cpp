//===- CPUModule.cpp - JIT compilation and launch of tile modules on the CPU ===//

#include "tessel/Compiler.h"

#include "backends/cpu/CPUPipeline.h"
#include "lib/Compiler/Registration.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <mutex>

using namespace mlir;

namespace {
/// Where the JIT finds vector.print's runtime (printF32, printNewline, ...).
constexpr const char *kRunnerUtils = TESSEL_LLVM_LIBRARY_DIR "/libmlir_c_runner_utils.so";
} // namespace

struct tessel::CPUModule::Impl {
  std::unique_ptr<ExecutionEngine> engine;
  std::string llvmIR;
  /// Function name -> number of memref arguments.
  llvm::StringMap<unsigned> arity;
};

tessel::CPUModule::CPUModule() : impl(std::make_unique<Impl>()) {}
tessel::CPUModule::~CPUModule() = default;

const std::string &tessel::CPUModule::llvmIR() const { return impl->llvmIR; }

std::unique_ptr<tessel::CPUModule>
tessel::CPUModule::compile(std::string_view tileIR, std::string &diagnostics) {
  static std::once_flag initialized;
  std::call_once(initialized, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });

  DialectRegistry registry;
  registerAllTesselDialects(registry);
  registerBuiltinDialectTranslation(registry);
  registerLLVMDialectTranslation(registry);
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false);

  llvm::raw_string_ostream diagStream(diagnostics);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(tileIR.data(), tileIR.size()), "<tile>"),
      llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(sourceMgr, &context, diagStream);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return nullptr;

  std::unique_ptr<CPUModule> result(new CPUModule());
  // Every function gets a C interface: one pointer to a memref descriptor
  // per argument, which is what run() builds.
  for (auto func : module->getOps<func::FuncOp>()) {
    func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                  UnitAttr::get(&context));
    result->impl->arity[func.getName()] = func.getNumArguments();
  }

  PassManager pm(&context, ModuleOp::getOperationName());
  cpu::buildCPULoweringPipeline(pm);
  if (failed(pm.run(*module)))
    return nullptr;

  ExecutionEngineOptions options;
  auto optimize = makeOptimizingTransformer(/*optLevel=*/2, /*sizeLevel=*/0,
                                            /*targetMachine=*/nullptr);
  std::string &llvmIR = result->impl->llvmIR;
  // options.transformer is a function_ref: the callable must outlive create().
  std::function<llvm::Error(llvm::Module *)> transformer =
      [optimize, &llvmIR](llvm::Module *m) -> llvm::Error {
    if (llvm::Error err = optimize(m))
      return err;
    llvm::raw_string_ostream os(llvmIR);
    m->print(os, nullptr);
    return llvm::Error::success();
  };
  options.transformer = transformer;
  SmallVector<StringRef> libs = {kRunnerUtils};
  options.sharedLibPaths = libs;
  auto engine = ExecutionEngine::create(*module, options);
  if (!engine) {
    diagnostics += "error: the LLVM JIT failed: " +
                   llvm::toString(engine.takeError()) + "\n";
    return nullptr;
  }
  result->impl->engine = std::move(*engine);
  return result;
}

bool tessel::CPUModule::run(std::string_view entry,
                            const std::vector<BufferArg> &args,
                            std::string &error) {
  std::string name(entry);
  auto it = impl->arity.find(name);
  if (it == impl->arity.end()) {
    error = "no function '" + name + "' in this module";
    return false;
  }
  if (it->second != args.size()) {
    error = "'" + name + "' takes " + std::to_string(it->second) +
            " buffers, got " + std::to_string(args.size());
    return false;
  }
  // A strided memref descriptor: allocated and aligned pointers, offset,
  // then sizes and strides, all 64-bit.
  std::vector<std::vector<int64_t>> descriptors;
  descriptors.reserve(args.size());
  for (const BufferArg &arg : args) {
    if (arg.shape.size() != arg.strides.size()) {
      error = "a buffer's shape and strides differ in rank";
      return false;
    }
    std::vector<int64_t> d;
    d.push_back(reinterpret_cast<int64_t>(arg.data));
    d.push_back(reinterpret_cast<int64_t>(arg.data));
    d.push_back(0);
    d.insert(d.end(), arg.shape.begin(), arg.shape.end());
    d.insert(d.end(), arg.strides.begin(), arg.strides.end());
    descriptors.push_back(std::move(d));
  }
  std::vector<void *> descriptorPointers;
  for (auto &d : descriptors)
    descriptorPointers.push_back(d.data());
  std::vector<void *> packed;
  for (void *&p : descriptorPointers)
    packed.push_back(&p);
  if (llvm::Error err =
          impl->engine->invokePacked("_mlir_ciface_" + name, packed)) {
    error = llvm::toString(std::move(err));
    return false;
  }
  return true;
}
