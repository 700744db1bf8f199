//===- Arguments.h - binding a call's arguments to a primitive's parameters -*- C++ -*-===//

#ifndef TESSEL_LIB_FRONTEND_ARGUMENTS_H
#define TESSEL_LIB_FRONTEND_ARGUMENTS_H

#include "lib/Frontend/Diagnostics.h"
#include "lib/Frontend/Value.h"

#include <optional>
#include <string>
#include <vector>

namespace tessel::frontend {

struct Signature {
  std::string name;
  std::vector<std::string> params;
  size_t required;
  bool variadic = false; ///< extra positional arguments are allowed
  /// How many parameters may be given by position; the rest are
  /// keyword-only (TileLang's hints after `*`).
  size_t positional = ~size_t(0);
};

struct BoundArgs {
  std::vector<std::optional<Value>> values;
  std::vector<SourceLoc> locs;
  std::vector<Value> rest; ///< variadic positionals
  std::vector<SourceLoc> restLocs;
  std::vector<std::pair<std::string, Value>> extraKwargs;

  const Value *get(size_t i) const { return values[i] ? &*values[i] : nullptr; }
};

/// Matches a call's arguments against a primitive's parameters, Python
/// style; a mismatch is reported at its argument (Primitives.cpp).
std::optional<BoundArgs>
bindArgs(const Signature &sig, std::vector<Value> &args,
         std::vector<std::pair<std::string, Value>> &kwargs,
         std::vector<SourceLoc> &argLocs, SourceLoc loc, DiagnosticEngine &diags,
         bool allowUnknownKwargs = false);

} // namespace tessel::frontend

#endif // TESSEL_LIB_FRONTEND_ARGUMENTS_H
