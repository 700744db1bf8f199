//===- KernelCompiler.cpp - kernel text to tile IR through the frontend ---===//

#include "tessel/Compiler.h"

#include "lib/Compiler/Registration.h"
#include "lib/Frontend/Emitter.h"
#include "lib/Frontend/DTypes.h"
#include "lib/Frontend/Parser.h"

#include "dialects/tile/IR/TileOps.h"
#include "dialects/tile/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/Pass/PassManager.h"
#include "llvm/Support/raw_ostream.h"

#include <deque>

using namespace mlir;
using namespace tessel::frontend;
using FValue = tessel::frontend::Value;

namespace {

/// Module bindings that name one of Tessel's own functions become the
/// matching builtin: `from tessel import jit` binds jit to tessel.jit.
FValue moduleBinding(llvm::StringRef path) {
  return tessel::frontend::importedValue(path);
}

/// Turns verifier diagnostics (FileLineColLoc) into the frontend's located
/// errors, with the source line and a caret.
SourceLoc toSourceLoc(Location loc, const std::deque<SourceFile> &files) {
  auto fileLoc = dyn_cast<FileLineColLoc>(loc);
  if (!fileLoc)
    return SourceLoc();
  for (const SourceFile &f : files) {
    if (f.path != fileLoc.getFilename().getValue())
      continue;
    int line = static_cast<int>(fileLoc.getLine()) - f.firstLine + 1;
    if (line >= 1)
      return SourceLoc{static_cast<unsigned>(line), fileLoc.getColumn(), f.id};
  }
  return SourceLoc();
}

std::string dtypeName(Type t) {
  for (llvm::StringRef n : {"float16", "bfloat16", "float32", "float64",
                            "float8_e4m3", "float8_e5m2", "int8", "int16",
                            "int32", "int64", "bool"})
    if (dtypeToType(n, t.getContext()) == t)
      return n.str();
  return "unknown";
}

/// The parameters of the emitted function: names from tessel.arg_names,
/// dtypes and shapes from the types, dynamic names from tessel.dynamic_dims.
void describeSignature(ModuleOp module, const std::string &entry,
                       tessel::KernelSignature &sig) {
  sig.entry = entry;
  sig.params.clear();
  auto func = module.lookupSymbol<func::FuncOp>(entry);
  if (!func)
    return;
  auto names = func->getAttrOfType<ArrayAttr>("tessel.arg_names");
  auto dynamics = func->getAttrOfType<ArrayAttr>("tessel.dynamic_dims");
  auto unsignedArgs = func->getAttrOfType<DenseI64ArrayAttr>("tessel.unsigned");
  auto workspaces = func->getAttrOfType<DenseI64ArrayAttr>("tessel.workspaces");
  auto inPlace = func->getAttrOfType<DenseI64ArrayAttr>("tessel.in_place");
  sig.outputs.clear();
  if (auto outputs = func->getAttrOfType<DenseI64ArrayAttr>("tessel.outputs"))
    for (int64_t i : outputs.asArrayRef())
      sig.outputs.push_back(static_cast<int>(i));
  for (auto [i, type] : llvm::enumerate(func.getArgumentTypes())) {
    tessel::KernelParam p;
    if (names && i < names.size())
      p.name = cast<StringAttr>(names[i]).str();
    if (auto memref = dyn_cast<MemRefType>(type)) {
      mlir::Value arg = func.getArgument(i);
      p.isWritten = llvm::any_of(arg.getUsers(), [&](Operation *user) {
        if (auto copy = dyn_cast<tessel::tile::CopyOp>(user))
          return copy.getDst() == arg;
        if (auto store = dyn_cast<memref::StoreOp>(user))
          return store.getMemRef() == arg;
        return isa<tessel::tile::AtomicAddOp>(user);
      });
      p.dtype = dtypeName(memref.getElementType());
      for (int64_t d : memref.getShape())
        p.shape.push_back(ShapedType::isDynamic(d) ? -1 : d);
      p.dynamicNames.assign(p.shape.size(), "");
      if (dynamics && i < dynamics.size())
        for (auto [d, n] : llvm::enumerate(cast<ArrayAttr>(dynamics[i])))
          if (d < p.dynamicNames.size())
            p.dynamicNames[d] = cast<StringAttr>(n).str();
    } else {
      p.dtype = dtypeName(type);
      p.isBuffer = false;
    }
    p.isWorkspace = workspaces && llvm::is_contained(workspaces.asArrayRef(), int64_t(i));
    p.inPlace = inPlace && llvm::is_contained(inPlace.asArrayRef(), int64_t(i));
    if (unsignedArgs && llvm::is_contained(unsignedArgs.asArrayRef(), int64_t(i)))
      p.dtype = "u" + p.dtype; // int8 -> uint8: the IR's integers are signless
    sig.params.push_back(std::move(p));
  }
}

} // namespace

tessel::CompileResult tessel::compileKernelToTile(const KernelRequest &request,
                                                 KernelSignature *signature) {
  CompileResult result;
  // Every text the diagnostics may point into; a deque keeps addresses.
  std::deque<SourceFile> files;
  files.push_back({request.file, request.source, request.firstLine, 0});
  tessel::frontend::DiagnosticEngine diags(files.front());
  auto fail = [&] {
    result.diagnostics = diags.render();
    return result;
  };

  DialectRegistry registry;
  registerAllTesselDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  Emitter emitter(&context, files.front(), diags);
  auto globals = std::make_shared<Scope>();

  // The values of the kernel's free names, handed over by tessel.jit.
  std::vector<std::unique_ptr<Module>> helperModules;
  for (const KernelBinding &binding : request.bindings) {
    switch (binding.kind) {
    case KernelBinding::Kind::Module:
      globals->vars[binding.name] = moduleBinding(binding.text);
      break;
    case KernelBinding::Kind::Unsupported:
      globals->vars[binding.name] = FValue::named(
          FValue::Kind::Opaque, "is bound to a Python " + binding.text +
                                    ", which Tessel kernels cannot use");
      break;
    case KernelBinding::Kind::Literal: {
      files.push_back({"<value of " + binding.name + ">", binding.text, 1, 0});
      diags.addFile(files.back());
      ExprPtr expr = parseExpression(files.back(), diags);
      if (!expr)
        return fail();
      MaybeValue v = emitter.evalConstant(*expr, globals);
      if (!v)
        return fail();
      globals->vars[binding.name] = *v;
      break;
    }
    case KernelBinding::Kind::Function:
      break; // after the literals and modules they may refer to
    }
  }
  for (const KernelBinding &binding : request.bindings) {
    if (binding.kind != KernelBinding::Kind::Function)
      continue;
    files.push_back({binding.file, binding.text, binding.firstLine, 0});
    diags.addFile(files.back());
    std::unique_ptr<Module> helper = parseModule(files.back(), diags);
    if (!helper || !emitter.runModule(*helper, globals))
      return fail();
    // The def may be known by another name where the kernel uses it.
    for (const StmtPtr &s : helper->body)
      if (auto *def = llvm::dyn_cast<FunctionDef>(s.get()))
        if (const FValue *fn = globals->lookup(def->name))
          globals->vars[binding.name] = *fn;
    helperModules.push_back(std::move(helper));
  }

  std::unique_ptr<Module> ast = parseModule(files.front(), diags);
  if (!ast)
    return fail();
  if (!emitter.runModule(*ast, globals))
    return fail();

  // -D values are Python literals (or dtype names), read by the same parser.
  EntryRequest entry;
  entry.entry = request.entry;
  entry.eager = request.eager;
  entry.tensorParams = request.tensorParams;
  for (const auto &[name, shape] : request.tensorShapes)
    entry.tensorShapes[name] = shape;
  for (const auto &[name, text] : request.consts) {
    files.push_back({"<T.const " + name + ">", text, 1, 0});
    diags.addFile(files.back());
    ExprPtr expr = parseExpression(files.back(), diags);
    if (!expr)
      return fail();
    MaybeValue v = emitter.evalConstant(*expr, globals);
    if (!v)
      return fail();
    entry.consts.emplace_back(name, *v);
  }
  for (const auto &[name, text] : request.args) {
    files.push_back({"<-D " + name + ">", text, 1, 0});
    diags.addFile(files.back());
    ExprPtr expr = parseExpression(files.back(), diags);
    if (!expr)
      return fail();
    MaybeValue v = emitter.evalConstant(*expr, globals);
    if (!v)
      return fail();
    entry.args.emplace_back(name, *v);
  }

  SourceLoc entryLoc{1, 1, 0};
  for (const StmtPtr &s : ast->body)
    if (auto *def = llvm::dyn_cast<FunctionDef>(s.get()); def && def->name == request.entry)
      entryLoc = def->loc;

  OwningOpRef<ModuleOp> module = emitter.emitEntry(entry, globals, entryLoc);
  if (!module)
    return fail();

  // Structural rules the frontend does not check itself (dtypes of a gemm,
  // say) come from the verifier, pointed at the user's line.
  {
    ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
      if (d.getSeverity() == DiagnosticSeverity::Error)
        diags.error(toSourceLoc(d.getLocation(), files), d.str());
      return success();
    });
    if (failed(verify(*module)))
      return fail();
    // Constant indices outside an on-chip tile are caught before any code
    // runs, at the user's line.
    PassManager pm(&context, ModuleOp::getOperationName());
    tessel::applyDebugOptions(pm);
    pm.addPass(tessel::tile::createTileCheckBoundsPass());
    if (failed(pm.run(*module)))
      return fail();
  }
  if (signature)
    describeSignature(*module, request.entry, *signature);
  llvm::raw_string_ostream os(result.output);
  OpPrintingFlags flags;
  module->print(os, flags);
  llvm::raw_string_ostream locatedOs(result.located);
  module->print(locatedOs, OpPrintingFlags().enableDebugInfo(true, false));
  result.ok = true;
  return result;
}
