//===- Emitter.h - evaluates kernel text and emits the tile dialect -*- C++ -*-===//

#ifndef TESSEL_LIB_FRONTEND_EMITTER_H
#define TESSEL_LIB_FRONTEND_EMITTER_H

#include "lib/Frontend/AST.h"
#include "lib/Frontend/Diagnostics.h"
#include "lib/Frontend/Value.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/OwningOpRef.h"

#include <map>
#include <optional>

namespace tessel::frontend {

/// What to compile: the entry (a factory or a prim_func) and the values of
/// the factory's parameters.
struct EntryRequest {
  std::string entry;
  std::vector<std::pair<std::string, Value>> args;
  std::vector<SourceLoc> argLocs; ///< where each arg was written, if anywhere
};

using MaybeValue = std::optional<Value>;

/// Compile-time work a kernel may ask for: the longest tuple and the most
/// iterations of a compile-time loop, so that a typo cannot hang the compiler.
inline constexpr uint64_t kMaxSequence = 1 << 20;
inline constexpr int64_t kMaxCompileTimeIterations = 1 << 20;

/// A device scalar; index values carry their linear form.
Value makeScalar(mlir::Value ir);

/// Evaluates what is known at compile time and emits IR for the rest. One
/// instance compiles one kernel; the first error stops it.
class Emitter {
public:
  Emitter(mlir::MLIRContext *ctx, const SourceFile &file,
          DiagnosticEngine &diags);

  /// Runs a module's top level in `globals`: imports, defs, assignments.
  /// Statements that only make sense on the host (prints, `if __name__`)
  /// are skipped; an assignment that cannot be evaluated binds its names to
  /// an Opaque value that reports why if the kernel uses it.
  bool runModule(const Module &module, const std::shared_ptr<Scope> &globals);

  /// Calls the entry and emits the prim_func it yields as a func.func.
  mlir::OwningOpRef<mlir::ModuleOp>
  emitEntry(const EntryRequest &request, const std::shared_ptr<Scope> &globals,
            SourceLoc entryLoc);

  /// Evaluates an expression with constant meaning (a -D value).
  MaybeValue evalConstant(const Expr &expr, const std::shared_ptr<Scope> &scope);

private:

  //===-- errors and locations -------------------------------------------===//
  std::nullopt_t error(SourceLoc loc, const llvm::Twine &message);
  mlir::Location loc(SourceLoc l) const;

  //===-- statements (Evaluator.cpp) -------------------------------------===//
  enum class Flow { Normal, Return, Break, Continue, Error };
  Flow execBlock(const Block &block);
  Flow execStmt(const Stmt &stmt);
  Flow execFunctionDef(const FunctionDef &def);
  Flow execAssign(const AssignStmt &stmt);
  Flow execAugAssign(const AugAssignStmt &stmt);
  Flow execFor(const ForStmt &stmt);
  Flow execIf(const IfStmt &stmt);
  Flow execWhile(const WhileStmt &stmt);
  Flow execWith(const WithStmt &stmt);
  Flow execImport(const ImportStmt &stmt);
  Flow execAssert(const AssertStmt &stmt);
  Flow execRaise(const RaiseStmt &stmt);
  /// One statement of a module's top level (Module.cpp); `globals` is the
  /// scope it binds in.
  bool runTopLevel(const Stmt &stmt, const std::shared_ptr<Scope> &globals);
  bool assignTo(const Expr &target, const Value &value, SourceLoc valueLoc);
  bool bindName(const std::string &name, const Value &value, SourceLoc loc);
  /// Runs `body` as the region of a device op (loop, if, kernel): names it
  /// binds are local to it.
  Flow execRegionBody(const Block &body,
                      llvm::ArrayRef<std::pair<std::string, Value>> bindings);

  //===-- expressions (Evaluator.cpp) ------------------------------------===//
  MaybeValue eval(const Expr &expr);
  /// eval, then a point region becomes the element's value (a load).
  MaybeValue evalScalar(const Expr &expr);
  MaybeValue evalName(const NameExpr &expr);
  MaybeValue evalAttribute(const AttributeExpr &expr);
  MaybeValue evalSubscript(const SubscriptExpr &expr);
  MaybeValue evalCall(const CallExpr &expr);
  MaybeValue evalUnary(const UnaryExpr &expr);
  MaybeValue evalBinary(const BinaryExpr &expr);
  MaybeValue evalBoolOp(const BoolOpExpr &expr);
  MaybeValue evalCompare(const CompareExpr &expr);
  MaybeValue evalIfExp(const IfExpr &expr);
  MaybeValue callFunction(const Value &fn, std::vector<Value> args,
                          std::vector<std::pair<std::string, Value>> kwargs,
                          SourceLoc loc);

  //===-- values and IR (Evaluator.cpp) ----------------------------------===//
public:
  /// A point region (every index given) as the element's value: a load.
  MaybeValue materialize(const Value &value, SourceLoc loc);
  /// `value` as IR of type `type` (constants become arith.constant).
  std::optional<mlir::Value> toIR(const Value &value, mlir::Type type,
                                  SourceLoc loc);
  /// `value` as an index (loop bounds, offsets, grid extents).
  std::optional<mlir::Value> toIndex(const Value &value, SourceLoc loc);
  /// The natural IR type of a scalar value (index, i32, f32, i1, ...).
  mlir::Type naturalType(const Value &value);
  /// A compile-time int, or an error saying `what` must be one.
  std::optional<int64_t> requireInt(const Value &value, SourceLoc loc,
                                    llvm::StringRef what);
  /// A dtype from a DType or a dtype-name string.
  mlir::Type requireDType(const Value &value, SourceLoc loc);
  mlir::Value castTo(mlir::Value value, mlir::Type type, SourceLoc loc);
  MaybeValue binaryOp(llvm::StringRef op, const Value &lhs, const Value &rhs,
                      SourceLoc loc);
  bool insideDevice() const { return kernelDepth > 0; }
  bool insidePrimFunc() const { return primFuncDepth > 0; }

private:
  /// Primitives: T.copy, T.gemm, ... (Primitives.cpp).
  MaybeValue callBuiltin(const std::string &name, std::vector<Value> &args,
                         std::vector<std::pair<std::string, Value>> &kwargs,
                         std::vector<SourceLoc> &argLocs, SourceLoc loc);
  mlir::func::FuncOp emitPrimFunc(const Value &fn, const std::string &name,
                                  SourceLoc loc);

  mlir::MLIRContext *ctx;
  const SourceFile &file;
  DiagnosticEngine &diags;
  mlir::OpBuilder builder;
  mlir::ModuleOp module;
  std::shared_ptr<Scope> scope;
  MaybeValue returnValue;
  unsigned kernelDepth = 0, primFuncDepth = 0, callDepth = 0;
  /// How many device regions (the kernel body, device loops, branches on
  /// device values) enclose the statement being executed; and, for a
  /// function called from device code, that count at the call: its body
  /// may `return` a value only at that depth (an inlined helper's result is
  /// a value computed in straight-line code), -1 when no such call is open.
  int regionDepth = 0, deviceCallRegionDepth = -1;
  /// T.dynamic names of the prim_func being emitted -> (argument, dim).
  std::map<std::string, std::pair<mlir::Value, int64_t>> dynamicDims;
  mlir::Block *funcEntry = nullptr;
  friend class PrimitiveEmitter;
};

} // namespace tessel::frontend

#endif // TESSEL_LIB_FRONTEND_EMITTER_H
