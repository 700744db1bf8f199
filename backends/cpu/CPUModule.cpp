//===- CPUModule.cpp - JIT compilation and launch of tile modules on the CPU ===//

#include "tessel/Compiler.h"

#include "backends/cpu/CPUPipeline.h"
#include "lib/Compiler/Registration.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "backends/cpu/ObjectCache.h"
#include "backends/cpu/PrintRuntime.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"
#include "llvm/ExecutionEngine/Orc/ExecutionUtils.h"
#include "llvm/ExecutionEngine/Orc/LLJIT.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Support/raw_ostream.h"

#include <functional>
#include <map>
#include <mutex>

using namespace mlir;

struct tessel::CPUModule::Impl {
  /// Runs the compiled object, fresh or from the cache alike.
  std::unique_ptr<llvm::orc::LLJIT> jit;
  std::string llvmIR;
  /// Function name -> number of memref arguments.
  std::map<std::string, unsigned> arity;
  bool fromCache = false;
};

tessel::CPUModule::CPUModule() : impl(std::make_unique<Impl>()) {}
tessel::CPUModule::~CPUModule() = default;

const std::string &tessel::CPUModule::llvmIR() const { return impl->llvmIR; }
bool tessel::CPUModule::fromCache() const { return impl->fromCache; }

namespace {
/// The first grid extent outside CUDA's limits a kernel met while it ran
/// (LowerTileToLoops calls tessel_cpu_grid_error), for run() to report.
thread_local std::string gridError;

extern "C" void tessel_cpu_grid_error(int64_t axis, int64_t extent) {
  if (!gridError.empty())
    return;
  const char *name = axis == 0 ? "x" : axis == 1 ? "y" : "z";
  gridError = std::string("grid extent ") + name + " is " + std::to_string(extent) +
              " for these dimensions; CUDA launches " +
              (extent < 0 ? std::string("no negative extents")
                          : "at most " + std::to_string(axis == 0 ? 2147483647 : 65535) +
                                " blocks along " + name);
}

/// Tessel's own functions the kernels call (the grid check and what
/// vector.print lowers to), by address: the process's symbol table may not
/// hold libtessel's symbols when Python loaded it privately, and no library
/// of MLIR's is loaded for them. Given to the JIT that compiles a kernel and
/// to the one that loads it.
llvm::orc::SymbolMap hookSymbols(llvm::orc::MangleAndInterner &mangle) {
  llvm::orc::SymbolMap hooks;
  auto flags = llvm::JITSymbolFlags::Exported | llvm::JITSymbolFlags::Callable;
  hooks[mangle("tessel_cpu_grid_error")] = {
      llvm::orc::ExecutorAddr::fromPtr(&tessel_cpu_grid_error), flags};
  for (auto [name, address] : tessel::cpu::printRuntimeSymbols())
    hooks[mangle(name)] = {llvm::orc::ExecutorAddr::fromPtr(address), flags};
  return hooks;
}
} // namespace

/// Loads a compiled object into a fresh LLJIT that also sees the process's
/// symbols (libm) and Tessel's hooks.
static llvm::Expected<std::unique_ptr<llvm::orc::LLJIT>>
loadObject(llvm::StringRef object) {
  auto jit = llvm::orc::LLJITBuilder().create();
  if (!jit)
    return jit.takeError();
  auto generator = llvm::orc::DynamicLibrarySearchGenerator::GetForCurrentProcess(
      (*jit)->getDataLayout().getGlobalPrefix());
  if (!generator)
    return generator.takeError();
  (*jit)->getMainJITDylib().addGenerator(std::move(*generator));
  llvm::orc::MangleAndInterner mangle((*jit)->getExecutionSession(),
                                      (*jit)->getDataLayout());
  if (llvm::Error err =
          (*jit)->getMainJITDylib().define(llvm::orc::absoluteSymbols(hookSymbols(mangle))))
    return std::move(err);
  if (llvm::Error err = (*jit)->addObjectFile(
          llvm::MemoryBuffer::getMemBufferCopy(object, "tessel-kernel.o")))
    return std::move(err);
  return std::move(*jit);
}

/// Tile IR -> LLVM dialect -> an object file, through MLIR's ExecutionEngine.
static bool compileToObject(ModuleOp module, tessel::cpu::CachedObject &out,
                            std::string &diagnostics) {
  PassManager pm(module.getContext(), ModuleOp::getOperationName());
  tessel::applyDebugOptions(pm);
  tessel::cpu::buildCPULoweringPipeline(pm);
  if (failed(pm.run(module)))
    return false;

  ExecutionEngineOptions options;
  auto optimize = makeOptimizingTransformer(/*optLevel=*/2, /*sizeLevel=*/0,
                                            /*targetMachine=*/nullptr);
  std::string &llvmIR = out.llvmIR;
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
  options.enableObjectDump = true;
  auto engine = ExecutionEngine::create(module, options);
  if (!engine) {
    diagnostics += "error: the LLVM JIT failed: " +
                   llvm::toString(engine.takeError()) + "\n";
    return false;
  }
  (*engine)->registerSymbols(
      [](llvm::orc::MangleAndInterner mangle) { return hookSymbols(mangle); });
  // Materialize every kernel, then take the object the JIT produced.
  for (auto &[name, arity] : out.arity)
    if (auto fn = (*engine)->lookupPacked("_mlir_ciface_" + name); !fn) {
      diagnostics += "error: " + llvm::toString(fn.takeError()) + "\n";
      return false;
    }
  llvm::SmallString<128> path;
  if (std::error_code ec =
          llvm::sys::fs::createTemporaryFile("tessel-kernel", "o", path)) {
    diagnostics += "error: cannot create a temporary file: " + ec.message() + "\n";
    return false;
  }
  (*engine)->dumpToObjectFile(path);
  auto buffer = llvm::MemoryBuffer::getFile(path);
  llvm::sys::fs::remove(path);
  if (!buffer) {
    diagnostics += "error: cannot read the compiled object\n";
    return false;
  }
  out.object = (*buffer)->getBuffer().str();
  return true;
}

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

  // The cache key covers the IR, the compiler build and the machine; a hit
  // skips the lowering and LLVM's code generation.
  std::string key = tessel::cpu::cacheKey(tileIR, tessel::buildIdentity(),
                                  llvm::sys::getProcessTriple() + "/" +
                                      llvm::sys::getHostCPUName().str());
  // Someone asking for IR dumps or timings wants the passes to run.
  tessel::DebugOptions debug = tessel::getDebugOptions();
  std::optional<tessel::cpu::CachedObject> cached;
  if (!debug.dumpIRAfterAll && !debug.timing)
    cached = tessel::cpu::readCachedObject(key);
  bool fromCache = cached.has_value();
  auto compileFresh = [&]() -> bool {
    tessel::cpu::CachedObject fresh;
    // Every function gets a C interface: one pointer to a memref descriptor
    // per argument, which is what run() builds.
    for (auto func : module->getOps<func::FuncOp>()) {
      func->setAttr(LLVM::LLVMDialect::getEmitCWrapperAttrName(),
                    UnitAttr::get(&context));
      fresh.arity[func.getName().str()] = func.getNumArguments();
    }
    if (!compileToObject(*module, fresh, diagnostics))
      return false;
    tessel::cpu::writeCachedObject(key, fresh);
    cached = std::move(fresh);
    return true;
  };
  if (!cached && !compileFresh())
    return nullptr;

  auto jit = loadObject(cached->object);
  if (!jit && fromCache) {
    // A cached object the JIT cannot load (damaged past its checksum, or
    // written by an incompatible build) is a miss: compile it again.
    llvm::consumeError(jit.takeError());
    fromCache = false;
    if (!compileFresh())
      return nullptr;
    jit = loadObject(cached->object);
  }
  if (!jit) {
    diagnostics += "error: cannot load the compiled kernel: " +
                   llvm::toString(jit.takeError()) + "\n";
    return nullptr;
  }
  std::unique_ptr<CPUModule> result(new CPUModule());
  result->impl->jit = std::move(*jit);
  result->impl->llvmIR = std::move(cached->llvmIR);
  result->impl->arity = std::move(cached->arity);
  result->impl->fromCache = fromCache;
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
            " arguments, got " + std::to_string(args.size());
    return false;
  }
  // A strided memref descriptor: allocated and aligned pointers, offset,
  // then sizes and strides, all 64-bit.
  std::vector<std::vector<int64_t>> descriptors;
  descriptors.reserve(args.size());
  for (const BufferArg &arg : args) {
    if (arg.scalar) {
      descriptors.push_back({});
      continue;
    }
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
  // The packed C interface takes, per parameter, the address of what the
  // C interface function takes: a descriptor's address for a buffer, the
  // value itself for a scalar.
  std::vector<void *> descriptorPointers;
  for (auto &d : descriptors)
    descriptorPointers.push_back(d.data());
  std::vector<void *> packed;
  for (size_t i = 0; i < args.size(); ++i)
    packed.push_back(args[i].scalar ? const_cast<uint64_t *>(&args[i].scalarBits)
                                    : static_cast<void *>(&descriptorPointers[i]));
  auto symbol = impl->jit->lookup("_mlir__mlir_ciface_" + name);
  if (!symbol) {
    error = llvm::toString(symbol.takeError());
    return false;
  }
  gridError.clear();
  symbol->toPtr<void (*)(void **)>()(packed.data());
  if (!gridError.empty()) {
    error = "'" + name + "': " + gridError;
    gridError.clear();
    return false;
  }
  return true;
}
