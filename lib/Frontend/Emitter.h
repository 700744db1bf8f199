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
#include <memory>
#include <optional>

namespace tessel::frontend {

/// What to compile: the entry (a factory or a prim_func) and the values of
/// the factory's parameters.
struct EntryRequest {
  std::string entry;
  std::vector<std::pair<std::string, Value>> args;
  std::vector<SourceLoc> argLocs; ///< where each arg was written, if anywhere
  /// The eager style: the entry is the kernel; these parameters are tensors
  /// (annotated in its body) and these are its T.const values.
  bool eager = false;
  std::vector<std::string> tensorParams;
  std::vector<std::pair<std::string, Value>> consts;
  std::map<std::string, std::vector<int64_t>> tensorShapes;
};

using MaybeValue = std::optional<Value>;

/// What an imported name is bound to: `from tessel import jit`,
/// `import tilelang.language as T`, `from math import sqrt` (HostBuiltins.cpp).
Value importedValue(llvm::StringRef path);

/// A module's attribute that is a compile-time value or a builtin
/// (`math.pi`, `math.sqrt`, `tessel.cdiv`), or std::nullopt when the module
/// has no such name Tessel knows (HostBuiltins.cpp).
std::optional<Value> hostModuleAttribute(llvm::StringRef module, llvm::StringRef attr);

/// Compile-time work a kernel may ask for: the longest tuple and the most
/// iterations of a compile-time loop, so that a typo cannot hang the compiler.
inline constexpr uint64_t kMaxSequence = 1 << 16;
inline constexpr uint64_t kMaxString = 1 << 20;
inline constexpr int64_t kMaxCompileTimeIterations = 1 << 20;

/// Whether a function is written in the eager style: it annotates one of its
/// parameters as a tensor in its body (`A: T.Tensor((M, K), dtype)`).
bool isEagerStyle(const FunctionDef &def);

/// The type two device operands meet in (the wider float, the wider int;
/// null when they do not meet) (Arithmetic.cpp).
mlir::Type unify(mlir::Type a, mlir::Type b);

/// Binds a loop target (a name or a tuple of names) to induction variables.
bool bindTargets(const Expr &target, llvm::ArrayRef<Value> ivs,
                 std::vector<std::pair<std::string, Value>> &out, DiagnosticEngine &diags);

/// A device scalar; index values carry their linear form.
Value makeScalar(mlir::Value ir);

/// Evaluates what is known at compile time and emits IR for the rest. One
/// instance compiles one kernel; the first error stops it.
struct BoundArgs;

class Emitter {
public:
  Emitter(mlir::MLIRContext *ctx, const SourceFile &file,
          DiagnosticEngine &diags);
  /// Empties every scope the evaluation made or was given: a def's value
  /// holds its closure, which holds the def (a reference cycle that would
  /// outlive the compile, a leak per kernel in a long-running engine).
  ~Emitter();
  Emitter(const Emitter &) = delete;
  Emitter &operator=(const Emitter &) = delete;

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
  /// A scope for a call frame or a region, emptied with the Emitter.
  std::shared_ptr<Scope> newScope();
  void trackScope(const std::shared_ptr<Scope> &s);
  /// Takes over the scopes a probe made: what it evaluated may live on in
  /// this Emitter's globals (a closure `make(3)` returned), so they are
  /// emptied when this Emitter ends, not the probe.
  void adoptScopes(Emitter &probe);
  std::vector<std::weak_ptr<Scope>> scopes;
  /// How deep the evaluation is (expressions and statements, through calls):
  /// past kMaxEvalDepth it stops with a located error instead of running out
  /// of stack. The parser bounds one tree; calls and macros stack trees.
  static constexpr int kMaxEvalDepth = 2000;
  int evalDepth = 0;
  struct DepthScope {
    int &depth;
    explicit DepthScope(int &depth) : depth(++depth) {}
    ~DepthScope() { --depth; }
    bool tooDeep() const { return depth > kMaxEvalDepth; }
  };

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
  Flow execDeviceWhile(const WhileStmt &stmt);
  /// `for bx, by in T.Persistent(domain, wave_size, index)` (TileLangNames.cpp).
  Flow execPersistent(const ForStmt &stmt, const Value &spec);
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

  //===-- per-thread statements (ThreadBinding.cpp) ----------------------===//
  /// True when a kernel body calls T.get_thread_binding or loops over
  /// T.thread_binding anywhere.
  static bool usesThreadIndices(const Block &body);
  /// A statement of a kernel that uses thread indices which reads one (or a
  /// per-thread buffer): it runs once per thread, as a T.Parallel over the
  /// block's threads.
  bool runsPerThread(const Stmt &stmt);
  bool perThreadExpr(const Expr &expr);
  Flow execPerThread(const Stmt &stmt);
  /// Inside a per-thread statement, refuses a primitive that works on whole
  /// buffers (T.copy, T.fill, T.Parallel, allocations, ...) with a located
  /// error; true when it did.
  bool refusedPerThread(const std::string &name, const std::vector<Value> &args, SourceLoc loc);
  /// The thread index a T.thread_binding spec names.
  MaybeValue threadBindingIndex(const Value &spec, SourceLoc loc);
  /// `for tx in T.thread_binding(extent, thread="threadIdx.x")`.
  Flow execThreadBindingLoop(const ForStmt &stmt, const Value &spec);
  /// The running thread's index along `dim` (inside a per-thread statement).
  MaybeValue threadIndex(int64_t dim, SourceLoc loc);
  /// T.get_thread_binding(dim).
  MaybeValue getThreadBinding(const Value *dim, SourceLoc dimLoc, SourceLoc loc);
  /// T.alloc_local / T.alloc_var in a kernel that uses thread indices: one
  /// copy per thread.
  Value perThreadBuffer(mlir::MemRefType type, SourceLoc loc);
  /// The element of a per-thread buffer the running thread owns at `index`
  /// (its own indices, (0,) for a variable).
  MaybeValue perThreadElement(const Value &buffer, const SubscriptExpr *subscript, SourceLoc loc);

  //===-- expressions (Evaluator.cpp) ------------------------------------===//
  MaybeValue eval(const Expr &expr);
  /// eval, then a point region becomes the element's value (a load).
  MaybeValue evalScalar(const Expr &expr);
  MaybeValue evalName(const NameExpr &expr);
  MaybeValue evalAttribute(const AttributeExpr &expr);
  MaybeValue evalSubscript(const SubscriptExpr &expr);
  /// `view[i, j, k]` of a T.reshape view: the element of its buffer at the
  /// same row-major position (Views.cpp).
  MaybeValue viewElement(const Value &view, const SubscriptExpr &expr);
public:
  /// A view's elements copied into a fresh buffer of its shape, for the
  /// primitives that read a whole buffer (T.copy's source, T.reduce_*'s).
  MaybeValue viewAsBuffer(const Value &view, SourceLoc loc);
  /// Creates a tile.parallel over `extents` at the insertion point and moves
  /// the insertion point into its body, before its yield; `ivs` receives its
  /// indices. Callers keep an InsertionGuard to come back out (Views.cpp).
  mlir::Operation *openParallel(llvm::ArrayRef<int64_t> extents, mlir::Location at,
                                llvm::SmallVectorImpl<mlir::Value> &ivs);
  /// T.cumsum(src, dst=None, dim=0, reverse=False) (Scan.cpp).
  MaybeValue cumsum(BoundArgs &args, SourceLoc loc);
  /// A region of a shared or fragment tile copied into a tile of the
  /// region's shape (unit dimensions indexed by a point dropped), for
  /// primitives that take whole tiles (Views.cpp).
  MaybeValue regionAsTile(const Value &region, SourceLoc loc);
  /// T.fill of a buffer region (Views.cpp).
  MaybeValue fillRegion(const Value &region, SourceLoc regionLoc, const Value &value,
                        SourceLoc valueLoc);
  /// T.reshape(buffer, shape).
  MaybeValue reshape(const Value &buffer, const Value &shape, SourceLoc bufLoc,
                     SourceLoc shapeLoc);
private:
  MaybeValue evalCall(const CallExpr &expr);
  MaybeValue evalUnary(const UnaryExpr &expr);
  MaybeValue evalBinary(const BinaryExpr &expr);
  MaybeValue evalBoolOp(const BoolOpExpr &expr);
  MaybeValue evalCompare(const CompareExpr &expr);
  MaybeValue evalIfExp(const IfExpr &expr);
  /// A list or generator comprehension, at compile time (HostBuiltins.cpp).
  MaybeValue evalComprehension(const ComprehensionExpr &expr);
  /// The elements a compile-time loop visits: a tuple's or list's, or a
  /// range() of ints.
  std::optional<std::vector<Value>> compileTimeElements(const Value &iter, SourceLoc loc);
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
  /// castTo, knowing whether the integer on either side is unsigned.
  mlir::Value convert(mlir::Value value, mlir::Type type, bool fromUnsigned, bool toUnsigned,
                      SourceLoc loc);
  /// Whether a dtype value names an unsigned integer type.
  static bool dtypeIsUnsigned(const Value &dtype);
  /// Arithmetic on dynamic dimensions before the kernel binds them (in a
  /// factory, in a tensor annotation): an expression computed where a
  /// kernel uses it, or null when `op` on these operands is not one
  /// (Arithmetic.cpp).
  std::optional<Value> dynamicExpression(llvm::StringRef op, const Value &lhs,
                                         const Value &rhs);
  /// The most blocks CUDA launches along x, and along y and z.
  static constexpr int64_t kMaxGridX = 2147483647, kMaxGridYZ = 65535;
  /// Refuses static grid extents outside [1, limit] (LaunchLimits.cpp).
  bool checkGridExtents(llvm::ArrayRef<Value> extents, SourceLoc l);
  /// Refuses a tensor whose static dimensions hold more than 2^63 - 1
  /// bytes (their product wrapped before).
  bool checkTensorBytes(llvm::ArrayRef<int64_t> shape, mlir::Type element, SourceLoc l);
  /// Python's integer operators on compile-time integers, exactly.
  MaybeValue integerOp(llvm::StringRef op, const Value &lhs, const Value &rhs, SourceLoc l);
  MaybeValue binaryOp(llvm::StringRef op, const Value &lhs, const Value &rhs,
                      SourceLoc loc);
  /// Python's `%` on device values: the remainder has the divisor's sign.
  mlir::Value floorMod(mlir::Value a, mlir::Value b, mlir::Location loc);
  bool insideDevice() const { return kernelDepth > 0; }
  bool insidePrimFunc() const { return primFuncDepth > 0; }

private:
  /// Primitives: T.copy, T.gemm, ... (Primitives.cpp).
  MaybeValue callBuiltin(const std::string &name, std::vector<Value> &args,
                         std::vector<std::pair<std::string, Value>> &kwargs,
                         std::vector<SourceLoc> &argLocs, SourceLoc loc);
  /// TileLang names beyond the core primitives (TileLangNames.cpp).
  MaybeValue callTileLangName(const std::string &name, std::vector<Value> &args,
                              std::vector<std::pair<std::string, Value>> &kwargs,
                              std::vector<SourceLoc> &argLocs, SourceLoc loc);
  /// Python's builtins, `math` and Tessel's compile-time helpers
  /// (HostBuiltins.cpp).
  MaybeValue callHostBuiltin(const std::string &name, std::vector<Value> &args,
                             std::vector<std::pair<std::string, Value>> &kwargs,
                             std::vector<SourceLoc> &argLocs, SourceLoc loc);
  mlir::func::FuncOp emitPrimFunc(const Value &fn, const std::string &name,
                                  SourceLoc loc);
  void addWorkspaces(mlir::func::FuncOp func, const std::shared_ptr<Scope> &frame);

  //===-- the eager style (Eager.cpp) ------------------------------------===//
  /// Emits the entry function itself as the kernel: its annotated tensor
  /// parameters and its T.empty tensors become the func's arguments.
  mlir::func::FuncOp emitEager(const Value &fn, const EntryRequest &request);
  /// One discovery run of an eager kernel (see EagerState::discovery).
  std::map<std::string, int64_t> discoverConsts(const Value &fn, const EntryRequest &request);
  mlir::func::FuncOp emitEagerOnce(const Value &fn, const EntryRequest &request,
                                   bool discovery);
  /// A discovery run's placeholder for an unknown T.const (or a value
  /// computed from one).
  static Value constPlaceholder(std::string name);
  static bool isConstPlaceholder(const Value &v) {
    return v.kind == Value::Kind::Dynamic && v.b;
  }
  bool discovering() const { return eager && eager->discovery; }
  std::map<std::string, int64_t> discoveredConsts;
  /// `A: T.Tensor(shape, dtype)` for a tensor parameter of an eager kernel.
  Flow execEagerAnnotation(const AnnAssignStmt &stmt);
  /// T.empty(shape, dtype) and T.const("M, N") of an eager kernel.
  MaybeValue eagerEmpty(BoundArgs &args, SourceLoc loc);
  MaybeValue eagerConst(BoundArgs &args, SourceLoc loc);
  /// The memref type of a tensor annotation, and its dynamic dimensions.
  mlir::MemRefType tensorType(const Value &spec, SourceLoc loc,
                              std::vector<std::pair<int64_t, std::string>> &dynamics);
  struct EagerArg {
    std::string name;
    mlir::Value arg;
    bool output = false;
    std::vector<std::pair<int64_t, std::string>> dynamics;
    SourceLoc loc;
    bool isUnsigned = false;
  };
  struct EagerState {
    std::vector<std::string> tensorParams;
    std::map<std::string, Value> consts;
    /// A discovery run: unknown T.const names are placeholders, arithmetic
    /// on them gives placeholders, and annotations bind them to the shapes
    /// of `tensorShapes` into `discovered`; it stops after the last
    /// annotation.
    bool discovery = false;
    std::map<std::string, std::vector<int64_t>> tensorShapes;
    std::map<std::string, int64_t> discovered;
    std::vector<EagerArg> args;
    mlir::Block *entry = nullptr;
  };
  std::unique_ptr<EagerState> eager;

  mlir::MLIRContext *ctx;
  const SourceFile &file;
  DiagnosticEngine &diags;
  mlir::OpBuilder builder;
  mlir::ModuleOp module;
  std::shared_ptr<Scope> scope;
  MaybeValue returnValue;
  unsigned kernelDepth = 0, primFuncDepth = 0, callDepth = 0;
  /// The block's thread extents (x, y, z) while emitting a kernel that uses
  /// thread indices; empty otherwise.
  llvm::SmallVector<int64_t, 3> threadExtents;
  /// Inside a per-thread statement: the running thread's linear index.
  mlir::Value threadIv;
  /// How many device regions (the kernel body, device loops, branches on
  /// device values) enclose the statement being executed; and, for a
  /// function called from device code, that count at the call: its body
  /// may `return` a value only at that depth (an inlined helper's result is
  /// a value computed in straight-line code), -1 when no such call is open.
  int regionDepth = 0, deviceCallRegionDepth = -1;
  /// T.dynamic names of the prim_func being emitted -> (argument, dim).
  std::map<std::string, std::pair<mlir::Value, int64_t>> dynamicDims;
  mlir::Block *funcEntry = nullptr;
  /// T.alloc_global's arguments, added to the function being emitted.
  llvm::SmallVector<mlir::Value> workspaceArgs;
  std::vector<std::string> workspaceNames; ///< the names they were bound to

  friend class PrimitiveEmitter;
};

} // namespace tessel::frontend

#endif // TESSEL_LIB_FRONTEND_EMITTER_H
