//===- Values.cpp - what evaluation keeps: values, linear forms, scopes ---===//
//
// Descriptions of values for messages, the linear forms integer IR values
// carry, and the lifetime of the scopes an evaluation makes.
//
//===----------------------------------------------------------------------===//

#include "lib/Frontend/Emitter.h"

namespace tessel::frontend {

std::string describe(const Value &v) {
  switch (v.kind) {
  case Value::Kind::None: return "None";
  case Value::Kind::Bool: return "a bool";
  case Value::Kind::Int: return "an int";
  case Value::Kind::Float: return "a float";
  case Value::Kind::String: return "a string";
  case Value::Kind::DType: return "a dtype";
  case Value::Kind::Tuple: return "a tuple";
  case Value::Kind::List: return "a list";
  case Value::Kind::Module: return "a module";
  case Value::Kind::Builtin: return "a function";
  case Value::Kind::Function: return "a function";
  case Value::Kind::Scalar: return "a device scalar";
  case Value::Kind::Buffer: return "a buffer";
  case Value::Kind::Region: return "a buffer region";
  case Value::Kind::Dynamic: return "a dynamic dimension";
  case Value::Kind::Spec: return "a kernel construct";
  case Value::Kind::Opaque: return "an unsupported value";
  case Value::Kind::View: return "a reshaped view";
  case Value::Kind::BigInt: return "an int too large for 64 bits (" + bigIntText(v) + ")";
  }
  return "a value";
}

/// Two's complement arithmetic, as the index IR computes it: wrapping, not
/// undefined behaviour, where a product or sum passes 64 bits.
static int64_t wrapMul(int64_t a, int64_t b) { return int64_t(uint64_t(a) * uint64_t(b)); }
static int64_t wrapAdd(int64_t a, int64_t b) { return int64_t(uint64_t(a) + uint64_t(b)); }

LinearForm LinearForm::scaled(int64_t k) const {
  LinearForm f;
  f.constant = wrapMul(constant, k);
  for (auto [v, c] : terms)
    if (wrapMul(c, k) != 0)
      f.terms.push_back({v, wrapMul(c, k)});
  return f;
}

LinearForm LinearForm::plus(const LinearForm &other, int64_t sign) const {
  LinearForm f = *this;
  f.constant = wrapAdd(f.constant, wrapMul(sign, other.constant));
  for (auto [v, c] : other.terms) {
    auto it = llvm::find_if(f.terms, [&](auto &t) { return t.first == v; });
    if (it != f.terms.end())
      it->second = wrapAdd(it->second, wrapMul(sign, c));
    else
      f.terms.push_back({v, wrapMul(sign, c)});
  }
  llvm::erase_if(f.terms, [](auto &t) { return t.second == 0; });
  return f;
}

Emitter::~Emitter() {
  // Break the cycles (closure -> scope -> def -> closure) by emptying the
  // scopes; values moved out first so their destructors run outside the map.
  for (const std::weak_ptr<Scope> &weak : scopes)
    if (std::shared_ptr<Scope> s = weak.lock()) {
      llvm::StringMap<Value> vars = std::move(s->vars);
      s->vars.clear();
      s->parent.reset();
    }
}

std::shared_ptr<Scope> Emitter::newScope() {
  auto s = std::make_shared<Scope>();
  trackScope(s);
  return s;
}

void Emitter::adoptScopes(Emitter &probe) {
  scopes.insert(scopes.end(), probe.scopes.begin(), probe.scopes.end());
  probe.scopes.clear();
}

void Emitter::trackScope(const std::shared_ptr<Scope> &s) {
  // Forget scopes already gone, so a long evaluation keeps the list short.
  if (scopes.size() >= 64 && scopes.size() % 64 == 0)
    llvm::erase_if(scopes, [](const std::weak_ptr<Scope> &w) { return w.expired(); });
  scopes.push_back(s);
}

} // namespace tessel::frontend
