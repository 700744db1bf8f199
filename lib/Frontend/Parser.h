//===- Parser.h - parser of the kernel language (a Python subset) -*- C++ -*-===//

#ifndef TESSEL_LIB_FRONTEND_PARSER_H
#define TESSEL_LIB_FRONTEND_PARSER_H

#include "lib/Frontend/AST.h"
#include "lib/Frontend/Diagnostics.h"

#include <memory>

namespace tessel::frontend {

/// Parses a whole text. Returns null after reporting the first error: a
/// syntax error, or a Python construct kernels cannot use (named).
std::unique_ptr<Module> parseModule(const SourceFile &file,
                                    DiagnosticEngine &diags);

/// Parses a single expression (a -D value); the whole text must be consumed.
ExprPtr parseExpression(const SourceFile &file, DiagnosticEngine &diags);

} // namespace tessel::frontend

#endif // TESSEL_LIB_FRONTEND_PARSER_H
