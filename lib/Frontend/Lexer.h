//===- Lexer.h - tokens of the kernel language (Python syntax) ----*- C++ -*-===//

#ifndef TESSEL_LIB_FRONTEND_LEXER_H
#define TESSEL_LIB_FRONTEND_LEXER_H

#include "lib/Frontend/Diagnostics.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tessel::frontend {

struct Token {
  enum class Kind {
    Name,    ///< identifiers and keywords
    Int,
    Float,
    String,
    Op,      ///< operators and delimiters: "(", "**=", "->", ...
    Newline, ///< end of a logical line
    Indent,
    Dedent,
    End,
  };
  Kind kind = Kind::End;
  std::string text; ///< Name/Op spelling, String contents (escapes decoded)
  int64_t intValue = 0;
  /// An Int literal past int64: its value in decimal (intValue is 0).
  std::string bigInt;
  double floatValue = 0;
  SourceLoc loc;
  /// String and Float tokens Python reads but a kernel cannot hold (an
  /// f-string, a byte string, a complex number): why, for the parser's
  /// host-only expression.
  std::string hostOnly;

  bool is(Kind k, llvm::StringRef t) const { return kind == k && text == t; }
  bool isOp(llvm::StringRef t) const { return is(Kind::Op, t); }
  bool isKeyword(llvm::StringRef t) const { return is(Kind::Name, t); }
};

/// Splits the text into tokens, with Python's INDENT/DEDENT/NEWLINE rules.
/// A uniform indentation of the whole text (a nested function cut out of a
/// file) is accepted. Returns false after reporting the first error.
bool tokenize(const SourceFile &file, DiagnosticEngine &diags,
              std::vector<Token> &tokens);

/// True for Python's reserved words.
bool isPythonKeyword(llvm::StringRef name);

} // namespace tessel::frontend

#endif // TESSEL_LIB_FRONTEND_LEXER_H
