//===- Value.h - values of the frontend's compile-time evaluator -*- C++ -*-===//

#ifndef TESSEL_LIB_FRONTEND_VALUE_H
#define TESSEL_LIB_FRONTEND_VALUE_H

#include "mlir/IR/Value.h"
#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringMap.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tessel::frontend {

class FunctionDef;
struct Scope;

/// An integer-valued IR expression kept as `constant + sum(coeff * value)`,
/// so that `(i + 1) * n - i * n` is known to be `n` when a slice's extent is
/// needed at compile time.
struct LinearForm {
  llvm::SmallVector<std::pair<mlir::Value, int64_t>, 2> terms;
  int64_t constant = 0;

  static LinearForm ofValue(mlir::Value v) {
    LinearForm f;
    f.terms.push_back({v, 1});
    return f;
  }
  static LinearForm ofConstant(int64_t c) {
    LinearForm f;
    f.constant = c;
    return f;
  }
  LinearForm scaled(int64_t k) const;
  LinearForm plus(const LinearForm &other, int64_t sign = 1) const;
  std::optional<int64_t> asConstant() const {
    if (terms.empty())
      return constant;
    return std::nullopt;
  }
};

/// Which language construct a call produced, when it is not itself IR:
/// `T.Tensor(...)`, `T.Kernel(...)`, the loop iterables, decorators.
enum class SpecKind {
  Tensor,
  Kernel,
  Pipelined,
  Parallel,
  Serial,
  Unroll,
  Range,
  Persistent,
  ThreadBinding,
  JitDecorator,
};

/// The kinds of callables: user functions and the three decorated forms.
enum class FunctionKind { Plain, PrimFunc, Macro };

/// Everything a name can be bound to while a kernel is evaluated.
struct Value {
  enum class Kind {
    None,
    Bool,
    Int,
    Float,
    String,
    DType,
    Tuple,
    List,
    Module,   ///< `tessel`, `tessel.language`
    Builtin,  ///< a primitive: "T.copy", "min", "tessel.jit", ...
    Function, ///< a def (plain, prim_func or macro) with its closure
    Scalar,   ///< a run-time scalar: an MLIR value of int, index or float type
    Buffer,   ///< a memref: kernel argument or allocation
    Region,   ///< part of a buffer: `A[i, j:j+64]`
    Dynamic,  ///< a symbolic dimension from T.dynamic
    Spec,     ///< see SpecKind
    Opaque,   ///< a name the kernel cannot use; `s` says why
    View,     ///< T.reshape: buffer `ir` seen with shape `viewShape`
    BigInt,   ///< a compile-time integer past 64 bits, in `big`
  };

  Kind kind = Kind::None;
  bool b = false;
  int64_t i = 0;
  double f = 0;
  /// String contents, module path, builtin name, dtype name, dynamic dim name.
  std::string s;
  /// Tuple and list elements; a Spec's positional arguments.
  std::vector<Value> elems;
  /// A Spec's keyword arguments.
  std::vector<std::pair<std::string, Value>> kwargs;
  SpecKind spec = SpecKind::Tensor;

  /// Scalar and Buffer: the IR value. Region: the buffer.
  mlir::Value ir;
  std::shared_ptr<const LinearForm> linear;
  /// BigInt: the value, signed (bigIntText gives its decimal text).
  std::shared_ptr<const llvm::APInt> big;
  /// Region: one entry per buffer dimension.
  struct RegionDim {
    std::shared_ptr<Value> offset; ///< Int or Scalar
    int64_t size = 1;              ///< -1 when the other side decides it
    bool point = true;             ///< an index, not a slice
  };
  std::vector<RegionDim> dims;

  /// View: the shape the buffer is seen with (row-major, same elements).
  std::vector<int64_t> viewShape;
  /// Buffer: a T.alloc_var variable, read and assigned by its name.
  bool isVar = false;
  /// Buffer: one copy per thread in a kernel that uses thread indices
  /// (T.get_thread_binding): a T.alloc_local or T.alloc_var of shape S held
  /// as a fragment of (threads, *S), or (threads,) when S is (1,); indexed
  /// by the thread running the statement (ThreadBinding.cpp).
  bool perThread = false;
  /// Buffer: a per-thread variable a name got by assignment (not a
  /// T.alloc_var): assigning a value of another type rebinds it.
  bool implicitVar = false;
  /// Opaque: the thread index along this dimension (0, 1, 2: x, y, z) that
  /// T.get_thread_binding gave; -1 for anything else.
  int threadDim = -1;
  /// Scalar: an unsigned integer. Buffer and Region: of unsigned elements.
  bool isUnsigned = false;
  /// Dynamic: "" for a T.dynamic name (in `s`); else an expression over
  /// them (`seq * heads`, `ceildiv(M, 128)`) of its two `elems` with this
  /// operator ("+", "-", "*", "//", "%", "ceildiv", "max", "min"), `s`
  /// holding its text, which names the dimension it gives a tensor.
  std::string dynOp;

  /// Function: its definition, the scope it closes over, its kind.
  const FunctionDef *function = nullptr;
  std::shared_ptr<Scope> closure;
  FunctionKind functionKind = FunctionKind::Plain;
  /// Function: parameter defaults, evaluated where the def ran.
  std::shared_ptr<std::vector<std::optional<Value>>> defaults;

  static Value none() { return Value(); }
  static Value boolean(bool v) {
    Value r;
    r.kind = Kind::Bool;
    r.b = v;
    return r;
  }
  static Value integer(int64_t v) {
    Value r;
    r.kind = Kind::Int;
    r.i = v;
    return r;
  }
  static Value floating(double v) {
    Value r;
    r.kind = Kind::Float;
    r.f = v;
    return r;
  }
  static Value string(std::string v) {
    Value r;
    r.kind = Kind::String;
    r.s = std::move(v);
    return r;
  }
  static Value dtype(std::string name) {
    Value r;
    r.kind = Kind::DType;
    r.s = std::move(name);
    return r;
  }
  static Value named(Kind kind, std::string name) {
    Value r;
    r.kind = kind;
    r.s = std::move(name);
    return r;
  }
  static Value tuple(std::vector<Value> elems, Kind kind = Kind::Tuple) {
    Value r;
    r.kind = kind;
    r.elems = std::move(elems);
    return r;
  }
  static Value scalar(mlir::Value v,
                      std::shared_ptr<const LinearForm> linear = nullptr) {
    Value r;
    r.kind = Kind::Scalar;
    r.ir = v;
    r.linear = std::move(linear);
    return r;
  }
  static Value buffer(mlir::Value v, std::string name) {
    Value r;
    r.kind = Kind::Buffer;
    r.ir = v;
    r.s = std::move(name);
    return r;
  }

  bool isConstant() const {
    return kind == Kind::Bool || kind == Kind::Int || kind == Kind::Float;
  }
  bool isSequence() const { return kind == Kind::Tuple || kind == Kind::List; }
};

/// What a value is called in messages: "an int", "a buffer", "a tuple".
std::string describe(const Value &value);

/// Python truthiness of a compile-time value; std::nullopt for device values,
/// whose truth is only known when the kernel runs.
std::optional<bool> truthValue(const Value &value);

//===-- exact compile-time integers (ExactInt.cpp) -----------------------===//

/// The largest compile-time integer, in bits: past it arithmetic stops with
/// an error rather than building numbers no kernel can use.
inline constexpr unsigned kMaxIntBits = 4096;
/// A BigInt's decimal text (for messages; quadratic in its length).
std::string bigIntText(const Value &v);
/// An integer written in decimal: an Int or a BigInt.
Value exactIntegerFromText(llvm::StringRef decimal);
/// An Int when `x` fits in 64 bits, else a BigInt.
Value exactInteger(const llvm::APInt &x);
/// `a op b` for Python's integer operators, exactly; std::nullopt with
/// `error` set when it has no integer result (division by zero, a negative
/// shift, past kMaxIntBits), or with `error` empty for a negative power
/// (a float).
std::optional<Value> exactIntegerOp(llvm::StringRef op, const Value &a, const Value &b,
                                    std::string &error);
/// -1, 0 or 1 as a is less than, equal to or greater than b.
int compareExactIntegers(const Value &a, const Value &b);
double exactIntegerToDouble(const Value &v);
/// -1, 0 or 1 as the integer is less than, equal to or greater than `d`,
/// exactly; std::nullopt when `d` is NaN.
std::optional<int> compareExactIntegerWithDouble(const Value &a, double d);
/// a / b as Python divides ints: std::nullopt with `error` set for a zero
/// divisor or a quotient past the float range.
std::optional<double> exactIntegerTrueDivide(const Value &a, const Value &b, std::string &error);
/// The integer part of `d`, exactly (std::nullopt for an infinity or NaN).
std::optional<Value> exactIntegerFromDouble(double d);
/// An Int, Bool or BigInt.
bool isExactInteger(const Value &v);
/// The value as `width` bits when it fits as a signed or an unsigned
/// integer of that width (-2^(w-1) .. 2^w - 1).
std::optional<llvm::APInt> integerForWidth(const Value &v, unsigned width);

/// A Python scope: a function's locals, chained to the scope it closes over.
struct Scope {
  llvm::StringMap<Value> vars;
  std::shared_ptr<Scope> parent;
  /// The body of a device loop, if or kernel: its names end with it.
  bool isRegion = false;

  const Value *lookup(llvm::StringRef name) const {
    for (const Scope *s = this; s; s = s->parent.get()) {
      auto it = s->vars.find(name);
      if (it != s->vars.end())
        return &it->second;
    }
    return nullptr;
  }
};

} // namespace tessel::frontend

#endif // TESSEL_LIB_FRONTEND_VALUE_H
