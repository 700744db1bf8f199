//===- CUDACompiler.cpp - tile IR to PTX and cubin -------------------------===//

#include "tessel/Compiler.h"

#include "backends/nvidia/Passes.h"
#include "dialects/tile/IR/TileOps.h"
#include "lib/Compiler/Registration.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/Regex.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>
#include <cstdlib>

using namespace mlir;

namespace {
double millisecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(
             std::chrono::steady_clock::now() - start)
      .count();
}

/// Sums every "N bytes spill stores/loads" ptxas -v reports.
int spillBytes(llvm::StringRef log) {
  int total = 0;
  llvm::Regex spill("([0-9]+) bytes spill (stores|loads)");
  llvm::StringRef rest = log;
  llvm::SmallVector<llvm::StringRef> groups;
  while (spill.match(rest, &groups)) {
    total += std::atoi(groups[1].str().c_str());
    rest = rest.substr(rest.find(groups[0]) + groups[0].size());
  }
  return total;
}

/// Runs ptxas on `ptx`; fills the cubin and the -v log.
bool assemble(const std::string &ptxas, const std::string &arch,
              const std::string &ptx, tessel::CUDAKernel &kernel) {
  llvm::SmallString<128> ptxPath, cubinPath, logPath;
  if (llvm::sys::fs::createTemporaryFile("tessel", "ptx", ptxPath) ||
      llvm::sys::fs::createTemporaryFile("tessel", "cubin", cubinPath) ||
      llvm::sys::fs::createTemporaryFile("tessel", "log", logPath)) {
    kernel.diagnostics += "error: cannot create temporary files for ptxas\n";
    return false;
  }
  auto cleanup = llvm::make_scope_exit([&] {
    llvm::sys::fs::remove(ptxPath);
    llvm::sys::fs::remove(cubinPath);
    llvm::sys::fs::remove(logPath);
  });
  {
    std::error_code ec;
    llvm::raw_fd_ostream out(ptxPath, ec);
    out << ptx;
  }
  std::string archFlag = "-arch=" + arch;
  llvm::SmallVector<llvm::StringRef> args = {ptxas, archFlag, "-v", "-O3",
                                             "-o", cubinPath, ptxPath};
  std::optional<llvm::StringRef> redirects[] = {std::nullopt, logPath.str(),
                                                logPath.str()};
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(ptxas, args, std::nullopt, redirects, 0,
                                     0, &error);
  if (auto log = llvm::MemoryBuffer::getFile(logPath))
    kernel.ptxasLog = (*log)->getBuffer().str();
  if (rc != 0) {
    kernel.diagnostics += "error: ptxas rejected the generated PTX (exit " +
                          std::to_string(rc) + ")" +
                          (error.empty() ? "" : ": " + error) + "\n" +
                          kernel.ptxasLog;
    return false;
  }
  auto cubin = llvm::MemoryBuffer::getFile(cubinPath, /*IsText=*/false);
  if (!cubin) {
    kernel.diagnostics += "error: ptxas produced no cubin\n";
    return false;
  }
  kernel.cubin = (*cubin)->getBuffer().str();
  llvm::Regex regs("Used ([0-9]+) registers");
  llvm::SmallVector<llvm::StringRef> groups;
  if (regs.match(kernel.ptxasLog, &groups))
    kernel.registers = std::atoi(groups[1].str().c_str());
  kernel.spillBytes = spillBytes(kernel.ptxasLog);
  return true;
}
/// Packages the cubin and the PTX into a fatbin (the form cuModuleLoadData
/// and CUDA's own loaders take with a fallback to JIT from the PTX; the
/// emulator runs its PTX).
bool package(const std::string &fatbinary, const std::string &arch,
             tessel::CUDAKernel &kernel) {
  llvm::SmallString<128> ptxPath, cubinPath, fatbinPath;
  if (llvm::sys::fs::createTemporaryFile("tessel", "ptx", ptxPath) ||
      llvm::sys::fs::createTemporaryFile("tessel", "cubin", cubinPath) ||
      llvm::sys::fs::createTemporaryFile("tessel", "fatbin", fatbinPath)) {
    kernel.diagnostics += "error: cannot create temporary files for fatbinary\n";
    return false;
  }
  auto cleanup = llvm::make_scope_exit([&] {
    llvm::sys::fs::remove(ptxPath);
    llvm::sys::fs::remove(cubinPath);
    llvm::sys::fs::remove(fatbinPath);
  });
  {
    std::error_code ec;
    llvm::raw_fd_ostream ptx(ptxPath, ec);
    ptx << kernel.ptx;
    llvm::raw_fd_ostream cubin(cubinPath, ec, llvm::sys::fs::OF_None);
    cubin << kernel.cubin;
  }
  // "sm_90a" -> "90a" for the image specs.
  std::string sm = llvm::StringRef(arch).drop_front(3).str();
  std::string create = "--create=" + fatbinPath.str().str();
  std::string elf = "--image3=kind=elf,sm=" + sm + ",file=" + cubinPath.str().str();
  std::string ptx = "--image3=kind=ptx,sm=" + sm + ",file=" + ptxPath.str().str();
  // The PTX stays uncompressed: drivers read it either way, and Tessel's
  // emulator, which runs PTX only, reads it from the fatbin as it is.
  llvm::SmallVector<llvm::StringRef> args = {fatbinary, "-64", "--compress=false", create, elf,
                                             ptx};
  std::string error;
  int rc = llvm::sys::ExecuteAndWait(fatbinary, args, std::nullopt, {}, 0, 0,
                                     &error);
  if (rc != 0) {
    kernel.diagnostics += "error: fatbinary failed (exit " + std::to_string(rc) +
                          ")" + (error.empty() ? "" : ": " + error) + "\n";
    return false;
  }
  auto fatbin = llvm::MemoryBuffer::getFile(fatbinPath, /*IsText=*/false);
  if (!fatbin) {
    kernel.diagnostics += "error: fatbinary produced no file\n";
    return false;
  }
  kernel.fatbin = (*fatbin)->getBuffer().str();
  return true;
}
} // namespace

std::string tessel::findFatbinary(const std::string &ptxas) {
  if (!ptxas.empty()) {
    llvm::SmallString<128> path(llvm::sys::path::parent_path(ptxas));
    llvm::sys::path::append(path, "fatbinary");
    if (llvm::sys::fs::can_execute(path))
      return path.str().str();
  }
  if (auto found = llvm::sys::findProgramByName("fatbinary"))
    return *found;
  return "";
}

std::string tessel::findPtxas(const std::string &preferred) {
  if (!preferred.empty())
    return llvm::sys::fs::can_execute(preferred) ? preferred : "";
  if (const char *env = std::getenv("TESSEL_PTXAS"); env && *env)
    return llvm::sys::fs::can_execute(env) ? env : "";
  const char *roots[] = {std::getenv("CUDA_HOME"), std::getenv("CUDA_PATH"),
                         "/usr/local/cuda"};
  for (const char *root : roots) {
    if (!root || !*root)
      continue;
    llvm::SmallString<128> path(root);
    llvm::sys::path::append(path, "bin", "ptxas");
    if (llvm::sys::fs::can_execute(path))
      return path.str().str();
  }
  if (auto found = llvm::sys::findProgramByName("ptxas"))
    return *found;
  return "";
}

tessel::CUDAKernel tessel::compileTileToCUDA(std::string_view tileIR,
                                             const CUDAOptions &options) {
  static std::once_flag registered;
  std::call_once(registered, registerAllTesselPasses);
  CUDAKernel kernel;
  DialectRegistry registry;
  registerAllTesselDialects(registry);
  MLIRContext context(registry);
  context.printOpOnDiagnostic(false);
  llvm::raw_string_ostream diagStream(kernel.diagnostics);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(tileIR.data(), tileIR.size()), "<tile>"),
      llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(sourceMgr, &context, diagStream);
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return kernel;
  // Several T.Kernels: each is compiled on its own (the others erased; they
  // share nothing but the function's parameters and constants).
  SmallVector<tile::KernelOp> kernelOps;
  module->walk([&](tile::KernelOp k) { kernelOps.push_back(k); });
  kernel.kernelCount = kernelOps.size();
  if (options.kernelIndex >= 0) {
    if (options.kernelIndex >= int(kernelOps.size())) {
      kernel.diagnostics += "error: kernel " + std::to_string(options.kernelIndex) +
                            " asked for, but the module has " +
                            std::to_string(kernelOps.size()) + "\n";
      return kernel;
    }
    auto func = kernelOps[options.kernelIndex]->getParentOfType<func::FuncOp>();
    for (auto [i, k] : llvm::enumerate(kernelOps))
      if (int(i) != options.kernelIndex)
        k->erase();
    if (func && kernelOps.size() > 1)
      func.setSymName((func.getSymName() + "_" + Twine(options.kernelIndex)).str());
  }

  auto start = std::chrono::steady_clock::now();
  PassManager pm(&context, ModuleOp::getOperationName());
  applyDebugOptions(pm);
  // The input was verified by the frontend and each pass checks what it
  // relies on; verifying after every pass would double the time. IR dumps
  // (a debugging session) turn verification back on.
  pm.enableVerifier(getDebugOptions().dumpIRAfterAll);
  nvidia::buildNVIDIALoweringPipeline(pm, options.tma, options.warpSpecialize,
                                      options.fastMath);
  if (failed(pm.run(*module)))
    return kernel;
  kernel.timings.emplace_back("passes", millisecondsSince(start));

  int kernels = 0;
  module->walk([&](LLVM::LLVMFuncOp func) {
    auto threads = func->getAttrOfType<IntegerAttr>("tessel.threads");
    if (!threads)
      return;
    ++kernels;
    kernel.name = func.getName().str();
    kernel.threads = threads.getInt();
    if (auto grid = func->getAttrOfType<DenseI32ArrayAttr>("tessel.grid"))
      for (size_t i = 0; i < 3 && i < grid.size(); ++i)
        kernel.grid[i] = grid[i];
    if (auto exprs = func->getAttrOfType<ArrayAttr>("tessel.grid_exprs"))
      for (Attribute e : exprs)
        kernel.gridExprs.push_back(cast<StringAttr>(e).str());
    if (auto names = func->getAttrOfType<ArrayAttr>("tessel.dynamic_params"))
      for (Attribute n : names)
        kernel.dynamicParams.push_back(cast<StringAttr>(n).str());
    if (auto split = func->getAttrOfType<DenseI64ArrayAttr>("tessel.warp_specialized"))
      kernel.registerSplit.assign(split.asArrayRef().begin(), split.asArrayRef().end());
    if (auto shared = func->getAttrOfType<IntegerAttr>("tessel.shared_bytes"))
      kernel.sharedBytes = shared.getInt();
    if (auto maps = func->getAttrOfType<ArrayAttr>("tessel.tensor_maps"))
      for (Attribute a : maps) {
        auto dict = cast<DictionaryAttr>(a);
        CUDAKernel::TensorMap m;
        m.param = cast<IntegerAttr>(dict.get("param")).getInt();
        m.tensor = cast<IntegerAttr>(dict.get("tensor")).getInt();
        auto box = cast<DenseI64ArrayAttr>(dict.get("box")).asArrayRef();
        m.box.assign(box.begin(), box.end());
        m.swizzle = cast<IntegerAttr>(dict.get("swizzle")).getInt();
        kernel.tensorMaps.push_back(std::move(m));
      }
    if (auto names = func->getAttrOfType<ArrayAttr>("tessel.arg_names"))
      for (Attribute n : names)
        kernel.argNames.push_back(cast<StringAttr>(n).str());
  });
  if (kernels != 1) {
    kernel.diagnostics += "error: expected one kernel in the module, found " +
                          std::to_string(kernels) + "\n";
    return kernel;
  }

  start = std::chrono::steady_clock::now();
  nvidia::TargetOptions target;
  target.chip = options.arch;
  std::string error;
  if (!nvidia::emitPTX(*module, target, kernel.ptx, error,
                       options.llvmIR ? &kernel.llvmIR : nullptr)) {
    kernel.diagnostics += "error: " + error + "\n";
    return kernel;
  }
  kernel.timings.emplace_back("llvm", millisecondsSince(start));

  if (options.cubin || options.fatbin) {
    std::string ptxas = findPtxas(options.ptxas);
    if (ptxas.empty()) {
      kernel.diagnostics += "error: no ptxas found (set TESSEL_PTXAS or install "
                            "the CUDA toolkit); PTX alone can be loaded "
                            "through the driver's JIT\n";
      return kernel;
    }
    start = std::chrono::steady_clock::now();
    if (!assemble(ptxas, options.arch, kernel.ptx, kernel))
      return kernel;
    kernel.timings.emplace_back("ptxas", millisecondsSince(start));
    // setmaxnreg.inc waits until the block's pool has the registers: the
    // split was planned for a launch count ptxas must have used, or the
    // consumers could wait forever.
    if (kernel.registerSplit.size() == 3 && kernel.registers >= 0 &&
        kernel.registers != kernel.registerSplit[0]) {
      kernel.diagnostics +=
          "error: internal error: ptxas gave the warp-specialized kernel " +
          std::to_string(kernel.registers) +
          " registers per thread at launch, but its producer/consumer "
          "register split (setmaxnreg) was planned for " +
          std::to_string(kernel.registerSplit[0]) +
          "; compile with --warp-specialize=false\n";
      return kernel;
    }
    if (options.fatbin) {
      std::string fatbinary = findFatbinary(ptxas);
      if (fatbinary.empty()) {
        kernel.diagnostics += "error: no fatbinary found beside " + ptxas +
                              " or on PATH; emit cubin and ptx instead\n";
        return kernel;
      }
      start = std::chrono::steady_clock::now();
      if (!package(fatbinary, options.arch, kernel))
        return kernel;
      kernel.timings.emplace_back("fatbinary", millisecondsSince(start));
    }
  }
  kernel.ok = true;
  return kernel;
}
