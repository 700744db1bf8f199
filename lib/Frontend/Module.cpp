//===- Module.cpp - a kernel file's top level and its host-only code ------===//
//
// A kernel file is also a Python program: imports of torch, argument
// parsing, classes, a `__main__` block. Tessel runs the top level as Python
// would import it, but only what kernels can use takes effect: imports,
// defs and assignments. A statement that cannot be evaluated (host code)
// leaves the names it binds unusable, each saying why, so that the file
// compiles unless a kernel reaches that code.
//
//===----------------------------------------------------------------------===//

#include "lib/Frontend/Emitter.h"

using namespace mlir;
using namespace tessel::frontend;
using llvm::cast;
using llvm::dyn_cast;

namespace {

/// The names an assignment target binds: `a`, `a, b`, `(a, b)`.
void targetNames(const Expr &target, std::vector<std::string> &out) {
  if (auto *name = dyn_cast<NameExpr>(&target)) {
    out.push_back(name->id);
    return;
  }
  if (auto *tuple = dyn_cast<TupleExpr>(&target))
    for (const ExprPtr &e : tuple->elts)
      targetNames(*e, out);
  if (auto *list = dyn_cast<ListExpr>(&target))
    for (const ExprPtr &e : list->elts)
      targetNames(*e, out);
}

} // namespace

bool Emitter::runModule(const Module &m, const std::shared_ptr<Scope> &globals) {
  trackScope(globals);
  for (const StmtPtr &s : m.body)
    if (!runTopLevel(*s, globals))
      return false;
  return true;
}

bool Emitter::runTopLevel(const Stmt &s, const std::shared_ptr<Scope> &globals) {
  scope = globals;
  auto leaveUnusable = [&](const std::vector<std::string> &names,
                           const std::string &reason, const Stmt *def) {
    for (const std::string &n : names) {
      Value opaque = Value::named(Value::Kind::Opaque, reason);
      // A def that failed is evaluated again where a kernel uses it, so
      // that its error points at the cause.
      opaque.function = llvm::dyn_cast_or_null<FunctionDef>(def);
      opaque.closure = globals;
      globals->vars[n] = opaque;
    }
  };
  switch (s.getKind()) {
  case Stmt::Kind::Import:
    return execStmt(s) == Flow::Normal;
  case Stmt::Kind::FunctionDef:
  case Stmt::Kind::Assign:
  case Stmt::Kind::AnnAssign: {
    // Evaluated on a probe first: a failure is host code, not an error.
    SourceFile scratchFile = file;
    DiagnosticEngine scratch(scratchFile);
    Emitter probe(ctx, file, scratch);
    probe.scope = globals;
    probe.module = module;
    bool ok = probe.execStmt(s) == Flow::Normal;
    adoptScopes(probe);
    if (ok)
      return true;
    std::string line = std::to_string(diags.fileOf(s.loc).fileLine(s.loc));
    std::vector<std::string> names;
    if (auto *def = dyn_cast<FunctionDef>(&s)) {
      leaveUnusable({def->name}, "is defined at line " + line +
                                     " by a def Tessel cannot evaluate",
                    def);
      return true;
    }
    if (auto *a = dyn_cast<AssignStmt>(&s))
      for (const ExprPtr &t : a->targets)
        targetNames(*t, names);
    else
      targetNames(*cast<AnnAssignStmt>(&s)->target, names);
    std::string why = scratch.firstMessage();
    leaveUnusable(names, "is defined at line " + line +
                             " by host code Tessel cannot evaluate" +
                             (why.empty() ? "" : " (" + why + ")"),
                  nullptr);
    return true;
  }
  case Stmt::Kind::Try: {
    // `try: import x / except ImportError: ...`: the body runs as the top
    // level does; the handlers are host code.
    const auto &t = cast<TryStmt>(s);
    for (const StmtPtr &inner : t.body)
      if (!runTopLevel(*inner, globals))
        return false;
    for (const StmtPtr &inner : t.orelse)
      if (!runTopLevel(*inner, globals))
        return false;
    return true;
  }
  case Stmt::Kind::Unsupported: {
    const auto &u = cast<UnsupportedStmt>(s);
    std::string line = std::to_string(diags.fileOf(s.loc).fileLine(s.loc));
    leaveUnusable(u.binds, "is defined at line " + line + " by host code: " + u.message,
                  nullptr);
    return true;
  }
  default:
    return true; // host statements: prints, `if __name__ == "__main__":`, ...
  }
}

Emitter::Flow Emitter::execRaise(const RaiseStmt &s) {
  // `raise ValueError("block_M must divide M")` in a factory is a compile
  // error carrying the message.
  std::string text = "raise";
  if (s.exc) {
    const Expr *e = s.exc.get();
    std::string type;
    if (auto *call = dyn_cast<CallExpr>(e)) {
      if (auto *n = dyn_cast<NameExpr>(call->func.get()))
        type = n->id;
      if (!call->args.empty()) {
        SourceFile scratchFile = file;
        DiagnosticEngine scratch(scratchFile);
        Emitter probe(ctx, file, scratch);
        probe.scope = scope;
        probe.module = module;
        MaybeValue msg = probe.eval(*call->args[0]);
        adoptScopes(probe);
        if (msg && msg->kind == Value::Kind::String)
          text = (type.empty() ? "" : type + ": ") + msg->s;
        else
          text = type.empty() ? "raise" : type;
      } else {
        text = type.empty() ? "raise" : type;
      }
    } else if (auto *n = dyn_cast<NameExpr>(e)) {
      text = n->id;
    }
  }
  error(s.loc, "the kernel's code raised " + text);
  return Flow::Error;
}
