//===- HostBuiltins.cpp - compile-time Python: builtins, math, tessel.* ---===//
//
// A kernel factory computes its tile sizes and grids with ordinary Python:
// `min`, `len`, `math.log2`, `tessel.cdiv`, `next_power_of_2`. These run at
// compile time on compile-time values; the numeric ones also accept device
// scalars where a device meaning exists.
//
//===----------------------------------------------------------------------===//

#include "lib/Frontend/Emitter.h"

#include "lib/Frontend/Arguments.h"
#include "lib/Frontend/DTypes.h"

#include "llvm/ADT/StringSwitch.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>

using namespace mlir;
using namespace tessel::frontend;

namespace tessel::frontend {

/// The canonical spelling of a path under Tessel's or TileLang's package.
static std::string canonicalPath(llvm::StringRef path) {
  for (llvm::StringRef root : {"tessel", "tilelang"}) {
    if (path == root)
      return "tessel";
    if (!path.consume_front(root) || !path.consume_front("."))
      continue;
    if (path == "language" || path == "lang")
      return "tessel.language";
    if (path.consume_front("language.") || path.consume_front("lang."))
      return ("tessel.language." + path).str();
    // tilelang.math.cdiv, tilelang.autotuner.autotune, tessel.autotune.autotune
    if (path == "carver.arch.driver" || path == "carver.arch" || path == "carver")
      return ("tessel." + path).str();
    for (llvm::StringRef sub : {"math.", "autotuner.", "autotune.", "jit.", "config.",
                                "transform.", "utils."})
      if (path.starts_with(sub) && path.count('.') == 1)
        path = path.drop_front(sub.size());
    return ("tessel." + path).str();
  }
  return path.str();
}

Value importedValue(llvm::StringRef rawPath) {
  std::string path = canonicalPath(rawPath);
  llvm::StringRef p(path);
  if (p == "tessel.jit" || p == "tessel.autotune" || p == "tessel.cdiv" ||
      p == "tessel.next_power_of_2")
    return Value::named(Value::Kind::Builtin, path);
  if (p.consume_front("tessel.language.")) {
    if (p == "GemmWarpPolicy")
      return Value::named(Value::Kind::Module, "T.GemmWarpPolicy");
    if (std::optional<llvm::StringRef> d = canonicalDTypeName(p))
      return Value::dtype(d->str());
    return Value::named(Value::Kind::Builtin, ("T." + p).str());
  }
  if (p.consume_front("math.")) {
    if (std::optional<Value> v = hostModuleAttribute("math", p))
      return *v;
  }
  return Value::named(Value::Kind::Module, path);
}

std::optional<Value> hostModuleAttribute(llvm::StringRef module, llvm::StringRef attr) {
  if (module == "math") {
    if (attr == "pi") return Value::floating(M_PI);
    if (attr == "e") return Value::floating(M_E);
    if (attr == "tau") return Value::floating(2 * M_PI);
    if (attr == "inf") return Value::floating(std::numeric_limits<double>::infinity());
    if (attr == "nan") return Value::floating(std::numeric_limits<double>::quiet_NaN());
    return Value::named(Value::Kind::Builtin, ("math." + attr).str());
  }
  if (module == "tessel.carver.arch.driver" && attr == "get_num_sms")
    return Value::named(Value::Kind::Builtin, "tessel.get_num_sms");
  if (module == "tessel.carver.arch" && attr == "driver")
    return Value::named(Value::Kind::Module, "tessel.carver.arch.driver");
  if (module == "tessel" || module == "tessel.math") {
    if (attr == "cdiv" || attr == "next_power_of_2" || attr == "jit" || attr == "autotune")
      return Value::named(Value::Kind::Builtin, ("tessel." + attr).str());
    if (attr == "language")
      return Value::named(Value::Kind::Module, "tessel.language");
    if (attr == "math")
      return Value::named(Value::Kind::Module, "tessel.math");
    return std::nullopt;
  }
  return std::nullopt;
}

static double asDouble(const Value &v) {
  return v.kind == Value::Kind::Float ? v.f
         : v.kind == Value::Kind::Int ? static_cast<double>(v.i)
                                      : static_cast<double>(v.b);
}

std::optional<std::vector<Value>> Emitter::compileTimeElements(const Value &iter,
                                                              SourceLoc l) {
  if (iter.isSequence())
    return iter.elems;
  if (iter.kind == Value::Kind::Spec && iter.spec == SpecKind::Range) {
    std::vector<int64_t> bounds;
    for (const Value &v : iter.elems) {
      std::optional<int64_t> b = requireInt(v, l, "a compile-time range bound");
      if (!b)
        return std::nullopt;
      bounds.push_back(*b);
    }
    int64_t lo = bounds.size() > 1 ? bounds[0] : 0;
    int64_t hi = bounds.size() > 1 ? bounds[1] : bounds[0];
    int64_t step = bounds.size() > 2 ? bounds[2] : 1;
    if (step == 0) {
      error(l, "range() step must not be zero");
      return std::nullopt;
    }
    std::vector<Value> out;
    for (int64_t i = lo; step > 0 ? i < hi : i > hi; i += step) {
      if (out.size() >= kMaxSequence) {
        error(l, "this compile-time range has more than " + llvm::Twine(kMaxSequence) +
                     " elements");
        return std::nullopt;
      }
      out.push_back(Value::integer(i));
    }
    return out;
  }
  error(l, "cannot iterate over " + describe(iter) +
               " at compile time (tuples, lists and range() can be)");
  return std::nullopt;
}

MaybeValue Emitter::evalComprehension(const ComprehensionExpr &e) {
  // Python 3 gives a comprehension its own scope.
  auto inner = newScope();
  inner->parent = scope;
  std::shared_ptr<Scope> saved = scope;
  scope = inner;
  std::vector<Value> out;
  std::function<bool(size_t)> run = [&](size_t c) -> bool {
    if (c == e.clauses.size()) {
      MaybeValue v = evalScalar(*e.elt);
      if (!v)
        return false;
      if (out.size() >= kMaxSequence) {
        error(e.loc, "this comprehension has more than " + llvm::Twine(kMaxSequence) +
                         " elements");
        return false;
      }
      out.push_back(std::move(*v));
      return true;
    }
    const ComprehensionExpr::Clause &clause = e.clauses[c];
    MaybeValue iter = eval(*clause.iter);
    if (!iter)
      return false;
    std::optional<std::vector<Value>> elems = compileTimeElements(*iter, clause.iter->loc);
    if (!elems)
      return false;
    for (const Value &v : *elems) {
      if (!assignTo(*clause.target, v, clause.iter->loc))
        return false;
      bool keep = true;
      for (const ExprPtr &cond : clause.ifs) {
        MaybeValue t = evalScalar(*cond);
        if (!t)
          return false;
        std::optional<bool> truth = truthValue(*t);
        if (!truth) {
          error(cond->loc, "a comprehension's condition must be known at compile time");
          return false;
        }
        keep = keep && *truth;
      }
      if (keep && !run(c + 1))
        return false;
    }
    return true;
  };
  bool ok = run(0);
  scope = saved;
  if (!ok)
    return std::nullopt;
  return Value::tuple(std::move(out), Value::Kind::List);
}

MaybeValue Emitter::callHostBuiltin(const std::string &name, std::vector<Value> &args,
                                    std::vector<std::pair<std::string, Value>> &kwargs,
                                    std::vector<SourceLoc> &argLocs, SourceLoc l) {
  for (size_t i = 0; i < args.size(); ++i) {
    MaybeValue v = materialize(args[i], argLocs[i]);
    if (!v)
      return std::nullopt;
    args[i] = *v;
  }
  auto bind = [&](Signature sig) {
    return bindArgs(sig, args, kwargs, argLocs, l, diags);
  };

  //===-- tessel.cdiv, tessel.next_power_of_2 ------------------------------===//
  if (name == "tessel.cdiv") {
    std::vector<Value> ceilArgs = args;
    return callBuiltin("T.ceildiv", ceilArgs, kwargs, argLocs, l);
  }
  if (name == "tessel.next_power_of_2") {
    auto a = bind({name, {"x"}, 1});
    if (!a)
      return std::nullopt;
    std::optional<int64_t> x = requireInt(*a->get(0), a->locs[0], "next_power_of_2's argument");
    if (!x)
      return std::nullopt;
    if (*x > (int64_t(1) << 62))
      return error(a->locs[0], "next_power_of_2(" + llvm::Twine(*x) + ") does not fit in 64 bits");
    int64_t p = 1;
    while (p < *x)
      p <<= 1;
    return Value::integer(p);
  }

  if (name == "tessel.get_num_sms") {
    // tessel.jit hands over the device's count; tesselc has no device.
    if (const Value *n = scope->lookup("__tessel_num_sms__"))
      return *n;
    return error(l, "driver.get_num_sms() needs the device, which tesselc does not open: "
                    "make the SM count a parameter and pass it with -D");
  }
  if (name == "int.bit_length") {
    int64_t x = args[0].i < 0 ? -args[0].i : args[0].i;
    int64_t bits = 0;
    for (; x; x >>= 1)
      ++bits;
    return Value::integer(bits);
  }

  //===-- math --------------------------------------------------------------===//
  if (llvm::StringRef(name).starts_with("math.")) {
    llvm::StringRef fn = llvm::StringRef(name).drop_front(5);
    if (!kwargs.empty())
      return error(l, name + "() takes no keyword arguments");
    for (size_t i = 0; i < args.size(); ++i)
      if (!args[i].isConstant())
        return error(argLocs[i], name + "() computes at compile time, but this is " +
                                     describe(args[i]) +
                                     (args[i].kind == Value::Kind::Scalar
                                          ? "; in device code use T." + fn.str()
                                          : std::string()));
    auto arity = [&](size_t n) -> bool {
      if (args.size() == n)
        return true;
      error(l, name + "() takes " + llvm::Twine(n) + " argument" + (n == 1 ? "" : "s") +
                   ", got " + llvm::Twine(args.size()));
      return false;
    };
    if (fn == "floor" || fn == "ceil" || fn == "trunc") {
      if (!arity(1))
        return std::nullopt;
      if (args[0].kind == Value::Kind::Int)
        return args[0];
      double v = asDouble(args[0]);
      double r = fn == "floor" ? std::floor(v) : fn == "ceil" ? std::ceil(v) : std::trunc(v);
      if (!std::isfinite(r) || std::fabs(r) > 9.2e18)
        return error(argLocs[0], name + "() of " + std::to_string(v) + " is not a 64-bit integer");
      return Value::integer(static_cast<int64_t>(r));
    }
    if (fn == "gcd" || fn == "lcm") {
      if (!arity(2))
        return std::nullopt;
      std::optional<int64_t> a = requireInt(args[0], argLocs[0], name + "'s argument");
      std::optional<int64_t> b = a ? requireInt(args[1], argLocs[1], name + "'s argument")
                                   : std::nullopt;
      if (!b)
        return std::nullopt;
      int64_t x = std::llabs(*a), y = std::llabs(*b);
      while (y) {
        int64_t t = x % y;
        x = y;
        y = t;
      }
      if (fn == "gcd")
        return Value::integer(x);
      return Value::integer(x == 0 ? 0 : std::llabs(*a) / x * std::llabs(*b));
    }
    if (fn == "isqrt") {
      if (!arity(1))
        return std::nullopt;
      std::optional<int64_t> a = requireInt(args[0], argLocs[0], "isqrt's argument");
      if (!a)
        return std::nullopt;
      if (*a < 0)
        return error(argLocs[0], "isqrt() of a negative number");
      int64_t r = static_cast<int64_t>(std::sqrt(static_cast<double>(*a)));
      while (r * r > *a)
        --r;
      while ((r + 1) * (r + 1) <= *a)
        ++r;
      return Value::integer(r);
    }
    if (fn == "pow" || fn == "atan2" || fn == "fmod" || fn == "copysign" ||
        fn == "hypot") {
      if (!arity(2))
        return std::nullopt;
      double a = asDouble(args[0]), b = asDouble(args[1]);
      double r = fn == "pow"     ? std::pow(a, b)
                 : fn == "atan2" ? std::atan2(a, b)
                 : fn == "fmod"  ? std::fmod(a, b)
                 : fn == "hypot" ? std::hypot(a, b)
                                 : std::copysign(a, b);
      return Value::floating(r);
    }
    if (fn == "log" && args.size() == 2)
      return Value::floating(std::log(asDouble(args[0])) / std::log(asDouble(args[1])));
    using Fn = double (*)(double);
    Fn f = llvm::StringSwitch<Fn>(fn)
               .Case("sqrt", [](double x) { return std::sqrt(x); })
               .Case("exp", [](double x) { return std::exp(x); })
               .Case("exp2", [](double x) { return std::exp2(x); })
               .Case("log", [](double x) { return std::log(x); })
               .Case("log2", [](double x) { return std::log2(x); })
               .Case("log10", [](double x) { return std::log10(x); })
               .Case("fabs", [](double x) { return std::fabs(x); })
               .Case("sin", [](double x) { return std::sin(x); })
               .Case("cos", [](double x) { return std::cos(x); })
               .Case("tan", [](double x) { return std::tan(x); })
               .Case("tanh", [](double x) { return std::tanh(x); })
               .Case("atan", [](double x) { return std::atan(x); })
               .Default(nullptr);
    if (f) {
      if (!arity(1))
        return std::nullopt;
      double x = asDouble(args[0]);
      if ((fn == "sqrt" && x < 0) || ((fn == "log" || fn == "log2" || fn == "log10") && x <= 0))
        return error(argLocs[0], name + "(" + std::to_string(x) + "): math domain error");
      return Value::floating(f(x));
    }
    if (fn == "isclose" || fn == "isfinite" || fn == "isinf" || fn == "isnan") {
      double x = args.empty() ? 0 : asDouble(args[0]);
      if (fn == "isfinite") return Value::boolean(std::isfinite(x));
      if (fn == "isinf") return Value::boolean(std::isinf(x));
      if (fn == "isnan") return Value::boolean(std::isnan(x));
      if (!arity(2))
        return std::nullopt;
      double y = asDouble(args[1]);
      return Value::boolean(std::fabs(x - y) <= 1e-9 * std::max(std::fabs(x), std::fabs(y)));
    }
    return error(l, "'" + name + "' is not supported at compile time in Tessel "
                               "(math's sqrt, exp, exp2, log, log2, log10, pow, floor, "
                               "ceil, trunc, gcd, lcm, isqrt, fabs, trigonometric functions "
                               "and constants are)");
  }

  //===-- Python builtins ---------------------------------------------------===//
  if (name == "len") {
    if (args.size() != 1 || !args[0].isSequence())
      return error(l, "len() takes a tuple or list");
    return Value::integer(args[0].elems.size());
  }
  if (name == "int" || name == "float" || name == "bool") {
    if (args.size() != 1)
      return error(l, name + "() takes one value");
    const Value &x = args[0];
    if (x.isConstant()) {
      double d = asDouble(x);
      if (name == "int" && x.kind == Value::Kind::Float) {
        std::optional<Value> truncated = exactIntegerFromDouble(d); // int(1e300) is exact
        if (!truncated)
          return error(l, "cannot convert " + llvm::Twine(std::isnan(d) ? "NaN" : "infinity") +
                              " to an integer");
        return *truncated;
      }
      if (name == "int")
        return Value::integer(x.kind == Value::Kind::Int ? x.i : (int64_t)d);
      if (name == "float")
        return Value::floating(d);
      return Value::boolean(d != 0);
    }
    if (x.kind == Value::Kind::String && name == "int") {
      int64_t v;
      if (llvm::StringRef(x.s).trim().getAsInteger(10, v))
        return error(argLocs[0], "int() cannot parse '" + x.s + "'");
      return Value::integer(v);
    }
    Type t = name == "int" ? builder.getI32Type() : name == "float" ? (Type)builder.getF32Type()
                                                                    : (Type)builder.getI1Type();
    std::optional<mlir::Value> v = toIR(x, t, argLocs[0]);
    return v ? MaybeValue(makeScalar(*v)) : std::nullopt;
  }
  if (name == "tuple" || name == "list") {
    if (args.size() != 1 || !args[0].isSequence())
      return error(l, name + "() takes a tuple or list");
    Value v = args[0];
    v.kind = name == "tuple" ? Value::Kind::Tuple : Value::Kind::List;
    return v;
  }
  if (name == "str") {
    if (args.size() != 1)
      return error(l, "str() takes one value");
    const Value &x = args[0];
    if (x.kind == Value::Kind::String || x.kind == Value::Kind::DType)
      return Value::string(x.s);
    if (x.kind == Value::Kind::Int)
      return Value::string(std::to_string(x.i));
    return error(l, "str() of " + describe(x) + " is not supported");
  }
  if (name == "round") {
    if (args.empty() || args.size() > 2 || !args[0].isConstant())
      return error(l, "round() takes a compile-time number");
    if (args.size() == 1)
      return Value::integer(static_cast<int64_t>(std::nearbyint(asDouble(args[0]))));
    std::optional<int64_t> digits = requireInt(args[1], argLocs[1], "round's ndigits");
    if (!digits)
      return std::nullopt;
    double scale = std::pow(10.0, static_cast<double>(*digits));
    return Value::floating(std::nearbyint(asDouble(args[0]) * scale) / scale);
  }
  if (name == "sum" || name == "any" || name == "all") {
    if (args.size() != 1 || !args[0].isSequence())
      return error(l, name + "() takes a tuple or list");
    if (name == "sum") {
      Value acc = Value::integer(0);
      for (const Value &x : args[0].elems) {
        MaybeValue next = binaryOp("+", acc, x, argLocs[0]);
        if (!next)
          return std::nullopt;
        acc = *next;
      }
      return acc;
    }
    bool result = name == "all";
    for (const Value &x : args[0].elems) {
      std::optional<bool> t = truthValue(x);
      if (!t)
        return error(argLocs[0], name + "() needs compile-time values");
      if (name == "any" && *t)
        result = true;
      if (name == "all" && !*t)
        result = false;
    }
    return Value::boolean(result);
  }
  if (name == "divmod") {
    if (args.size() != 2)
      return error(l, "divmod() takes two values");
    MaybeValue q = binaryOp("//", args[0], args[1], l);
    MaybeValue r = q ? binaryOp("%", args[0], args[1], l) : std::nullopt;
    if (!r)
      return std::nullopt;
    return Value::tuple({*q, *r});
  }
  if (name == "enumerate" || name == "zip" || name == "reversed" || name == "sorted") {
    std::vector<std::vector<Value>> seqs;
    for (size_t i = 0; i < args.size(); ++i) {
      std::optional<std::vector<Value>> elems = compileTimeElements(args[i], argLocs[i]);
      if (!elems)
        return std::nullopt;
      seqs.push_back(std::move(*elems));
    }
    if (seqs.empty() || (name != "zip" && seqs.size() != 1))
      return error(l, name + "() takes " + (name == "zip" ? "sequences" : "one sequence"));
    std::vector<Value> out;
    if (name == "enumerate") {
      int64_t start = 0;
      for (auto &[k, v] : kwargs)
        if (k == "start" && v.kind == Value::Kind::Int)
          start = v.i;
      for (size_t i = 0; i < seqs[0].size(); ++i)
        out.push_back(Value::tuple({Value::integer(start + int64_t(i)), seqs[0][i]}));
    } else if (name == "zip") {
      size_t n = seqs[0].size();
      for (const auto &s : seqs)
        n = std::min(n, s.size());
      for (size_t i = 0; i < n; ++i) {
        std::vector<Value> row;
        for (const auto &s : seqs)
          row.push_back(s[i]);
        out.push_back(Value::tuple(std::move(row)));
      }
    } else if (name == "reversed") {
      out.assign(seqs[0].rbegin(), seqs[0].rend());
    } else {
      out = seqs[0];
      for (const Value &v : out)
        if (v.kind != Value::Kind::Int && v.kind != Value::Kind::Float)
          return error(argLocs[0], "sorted() takes compile-time numbers");
      std::stable_sort(out.begin(), out.end(), [](const Value &a, const Value &b) {
        return asDouble(a) < asDouble(b);
      });
    }
    return Value::tuple(std::move(out), Value::Kind::List);
  }
  if (name == "print")
    return Value::none(); // compile-time prints are host conveniences
  if (name == "isinstance")
    return error(l, "isinstance() is not supported in Tessel kernels");
  return error(l, "'" + name + "' is not a Tessel primitive");
}

} // namespace tessel::frontend
