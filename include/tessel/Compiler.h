/*===- Compiler.h - Tessel's C++ compiler facade ----------------*- C++ -*-===*/
/* The only compiler interface the Python extension and embedders see: no MLIR
 * or LLVM header is reachable from here, so a binding compiles in seconds. */

#ifndef TESSEL_COMPILER_H
#define TESSEL_COMPILER_H

#include <string>
#include <string_view>

namespace tessel {

/// Tessel's version, "MAJOR.MINOR.PATCH".
const char *version();

/// What a compiler call produced: the output text on success, the rendered
/// diagnostics (file:line:col: error: ...) on failure.
struct CompileResult {
  bool ok = false;
  std::string output;
  std::string diagnostics;
};

/// Parses and verifies tile-dialect IR, runs `pipeline` (mlir-opt syntax,
/// e.g. "builtin.module(canonicalize,tile-check-bounds)"; empty for none) and
/// returns the printed IR. `bufferName` names the text in diagnostics.
CompileResult runTileIR(std::string_view source, std::string_view pipeline,
                        std::string_view bufferName = "<input>");

} // namespace tessel

#endif // TESSEL_COMPILER_H
