//===- FrontendEvalFuzzer.cpp - libFuzzer target past the parser ----------===//
//
// Each input is a kernel file: it is parsed, its AST printed, its top-level
// statements run (the host code: defs, constants, loops), and every
// top-level def is then emitted as an entry with its defaults, the IR
// verified and printed. No input may crash, hang or leak; a located error is
// a fine outcome.
//
//===----------------------------------------------------------------------===//

#include "dialects/tile/IR/TileDialect.h"
#include "lib/Frontend/Emitter.h"
#include "lib/Frontend/Parser.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Index/IR/IndexDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "llvm/Support/raw_ostream.h"

#include <cstddef>
#include <cstdint>

using namespace tessel::frontend;

namespace {
/// One context for the run: creating one per input would dominate the time.
mlir::MLIRContext &context() {
  static mlir::MLIRContext *ctx = [] {
    mlir::DialectRegistry registry;
    registry.insert<tessel::tile::TileDialect, mlir::affine::AffineDialect,
                    mlir::arith::ArithDialect, mlir::func::FuncDialect,
                    mlir::math::MathDialect, mlir::memref::MemRefDialect,
                    mlir::scf::SCFDialect, mlir::vector::VectorDialect,
                    mlir::index::IndexDialect>();
    auto *c = new mlir::MLIRContext(registry, mlir::MLIRContext::Threading::DISABLED);
    c->loadAllAvailableDialects();
    return c;
  }();
  return *ctx;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  SourceFile file{"fuzz.py", std::string(reinterpret_cast<const char *>(data), size), 1, 0};
  DiagnosticEngine diags(file);
  std::unique_ptr<Module> module = parseModule(file, diags);
  if (!module) {
    (void)diags.render();
    return 0;
  }
  (void)dumpAST(*module);
  mlir::MLIRContext &ctx = context();
  // Verifier messages are expected for some inputs; keep them off stderr.
  mlir::ScopedDiagnosticHandler quiet(&ctx, [](mlir::Diagnostic &) {
    return mlir::success();
  });
  Emitter emitter(&ctx, file, diags);
  auto globals = std::make_shared<Scope>();
  if (!emitter.runModule(*module, globals)) {
    (void)diags.render();
    return 0;
  }
  int entries = 0;
  for (const StmtPtr &s : module->body) {
    auto *def = llvm::dyn_cast<FunctionDef>(s.get());
    if (!def || ++entries > 3)
      continue;
    // A factory's parameters without defaults get 64 (a size that tiles).
    EntryRequest request;
    request.entry = def->name;
    for (const Param &p : def->params)
      if (!p.defaultValue && !p.annotation)
        request.args.emplace_back(p.name, Value::integer(64));
    mlir::OwningOpRef<mlir::ModuleOp> ir = emitter.emitEntry(request, globals, def->loc);
    if (!ir)
      continue;
    if (mlir::succeeded(mlir::verify(*ir))) {
      std::string text;
      llvm::raw_string_ostream os(text);
      ir->print(os);
    }
  }
  (void)diags.render();
  return 0;
}
