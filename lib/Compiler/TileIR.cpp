//===- TileIR.cpp - the facade's entry points over tile-dialect text ------===//

#include "tessel/Compiler.h"

#include "lib/Compiler/Registration.h"

#include "mlir/IR/AsmState.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "llvm/Config/llvm-config.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/SourceMgr.h"
#include "llvm/Support/raw_ostream.h"

#include <dlfcn.h>
#include <mutex>

using namespace mlir;

const char *tessel::version() { return TESSEL_VERSION_STRING; }

const std::string &tessel::buildIdentity() {
  // The version alone would let a rebuilt compiler (same version, new code)
  // meet objects an older build cached: the binary holding this function
  // (tesselc, the Python extension, an embedder's library) is named by its
  // path, size and modification time, and LLVM's version joins them.
  static const std::string identity = [] {
    std::string id = std::string(TESSEL_VERSION_STRING) + "/llvm-" LLVM_VERSION_STRING;
    Dl_info info;
    if (dladdr(reinterpret_cast<void *>(&tessel::buildIdentity), &info) &&
        info.dli_fname) {
      llvm::sys::fs::file_status status;
      if (!llvm::sys::fs::status(info.dli_fname, status)) {
        id += "/";
        id += info.dli_fname;
        id += "/" + std::to_string(status.getSize()) + "/" +
              std::to_string(status.getLastModificationTime()
                                 .time_since_epoch()
                                 .count());
      }
    }
    return id;
  }();
  return identity;
}

tessel::CompileResult tessel::runTileIR(std::string_view source,
                                        std::string_view pipeline,
                                        std::string_view bufferName) {
  static std::once_flag registered;
  std::call_once(registered, registerAllTesselPasses);

  DialectRegistry registry;
  registerAllTesselDialects(registry);
  MLIRContext context(registry);
  context.allowUnregisteredDialects(false);
  // Users read these; the op in generic form is noise next to the caret.
  context.printOpOnDiagnostic(false);

  CompileResult result;
  llvm::raw_string_ostream diagStream(result.diagnostics);
  llvm::SourceMgr sourceMgr;
  sourceMgr.AddNewSourceBuffer(
      llvm::MemoryBuffer::getMemBufferCopy(
          llvm::StringRef(source.data(), source.size()),
          llvm::StringRef(bufferName.data(), bufferName.size())),
      llvm::SMLoc());
  SourceMgrDiagnosticHandler handler(sourceMgr, &context, diagStream);

  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module)
    return result;

  if (!pipeline.empty()) {
    // Accept "builtin.module(a,b)" as mlir-opt prints it, or a bare "a,b".
    std::string text(pipeline);
    if (llvm::StringRef(text).trim().starts_with("builtin.module(") == false)
      text = "builtin.module(" + text + ")";
    std::string pipelineError;
    llvm::raw_string_ostream pipelineErrorStream(pipelineError);
    FailureOr<OpPassManager> parsed =
        parsePassPipeline(text, pipelineErrorStream);
    if (failed(parsed)) {
      result.diagnostics = "invalid pass pipeline: " + pipelineError;
      return result;
    }
    PassManager pm(&context, ModuleOp::getOperationName());
    tessel::applyDebugOptions(pm);
    static_cast<OpPassManager &>(pm) = std::move(*parsed);
    if (failed(pm.run(*module)))
      return result;
  }

  llvm::raw_string_ostream out(result.output);
  module->print(out);
  result.ok = true;
  return result;
}
