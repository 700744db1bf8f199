//===- ParserImpl.h - the recursive-descent parser's internals ---*- C++ -*-===//
//
// Shared by Parser.cpp (entry points), ParseStmt.cpp and ParseExpr.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_LIB_FRONTEND_PARSERIMPL_H
#define TESSEL_LIB_FRONTEND_PARSERIMPL_H

#include "lib/Frontend/AST.h"
#include "lib/Frontend/Diagnostics.h"
#include "lib/Frontend/Lexer.h"

#include "llvm/ADT/StringRef.h"

#include <vector>

namespace tessel::frontend::detail {

/// The message prefix for a Python keyword kernels do not support, or null.
const char *unsupportedKeyword(llvm::StringRef word);

/// Python constructs that parse but have no meaning in a kernel, by keyword.
inline constexpr unsigned kMaxNesting = 200;

class Parser {
public:
  Parser(const std::vector<Token> &tokens, DiagnosticEngine &diags)
      : toks(tokens), diags(diags) {}

  std::unique_ptr<Module> parseModule();
  ExprPtr parseSingleExpression();

private:
  //===-- token helpers ---------------------------------------------------===//
  const Token &cur() const { return toks[pos]; }
  const Token &next() const {
    return toks[std::min(pos + 1, toks.size() - 1)];
  }
  void advance() {
    if (pos + 1 < toks.size())
      ++pos;
  }
  bool isOp(llvm::StringRef op) const { return cur().isOp(op); }
  bool isKw(llvm::StringRef kw) const { return cur().isKeyword(kw); }
  bool consumeOp(llvm::StringRef op) {
    if (!isOp(op))
      return false;
    advance();
    return true;
  }
  bool consumeKw(llvm::StringRef kw) {
    if (!isKw(kw))
      return false;
    advance();
    return true;
  }
  bool fail(SourceLoc loc, const llvm::Twine &msg) {
    diags.error(loc, msg);
    failed = true;
    return false;
  }
  std::nullptr_t failExpr(SourceLoc loc, const llvm::Twine &msg) {
    fail(loc, msg);
    return nullptr;
  }
  bool expectOp(llvm::StringRef op, const llvm::Twine &context) {
    if (consumeOp(op))
      return true;
    return fail(cur().loc, "expected '" + op + "' " + context);
  }
  std::string describe(const Token &t) const;

  /// Guards recursion: every nested expression or block goes through it.
  struct NestingGuard {
    Parser &p;
    bool ok;
    NestingGuard(Parser &p, SourceLoc loc) : p(p) {
      ok = ++p.nesting <= kMaxNesting;
      if (!ok)
        p.tooDeep(loc);
    }
    ~NestingGuard() { --p.nesting; }
  };
  /// A left-associative chain (`a + b + c`, `f(x)[i].y`, `elif`s) nests one
  /// level per link in the tree it builds without recursing in the parser:
  /// each link counts as a level until the chain ends, so no tree the
  /// parser returns is deeper than kMaxNesting for the stages after it.
  struct ChainGuard {
    Parser &p;
    unsigned links = 0;
    explicit ChainGuard(Parser &p) : p(p) {}
    bool link(SourceLoc loc) {
      ++links;
      if (++p.nesting <= kMaxNesting)
        return true;
      p.tooDeep(loc);
      return false;
    }
    ~ChainGuard() { p.nesting -= links; }
  };
  bool tooDeep(SourceLoc loc) {
    return fail(loc, "expression nested too deeply (more than " +
                         llvm::Twine(kMaxNesting) + " levels); split it into named parts");
  }

  //===-- statements ------------------------------------------------------===//
  bool parseStatement(Block &out);
  bool parseSimpleStatements(Block &out);
  StmtPtr parseSimpleStatement();
  StmtPtr parseExprStatement();
  StmtPtr parseImport();
  StmtPtr parseFunctionDef(std::vector<ExprPtr> decorators, SourceLoc loc);
  StmtPtr parseIf();
  StmtPtr parseFor();
  StmtPtr parseWhile();
  StmtPtr parseWith();
  bool parseBlock(Block &out, llvm::StringRef after);
  bool checkTarget(const Expr &target, bool allowTuple);

  //===-- expressions -----------------------------------------------------===//
  ExprPtr parseTestList();
  ExprPtr parseTest();
  ExprPtr parseOrTest();
  ExprPtr parseAndTest();
  ExprPtr parseNotTest();
  ExprPtr parseComparison();
  ExprPtr parseBinary(int level);
  ExprPtr parseFactor();
  ExprPtr parsePower();
  ExprPtr parsePrimary();
  ExprPtr parseAtom();
  ExprPtr parseCall(ExprPtr func);
  ExprPtr parseSubscript(ExprPtr value);
  ExprPtr parseSliceItem();
  bool parseDisplayElements(std::vector<ExprPtr> &elts, llvm::StringRef close,
                            bool &sawComma);
  /// Python a kernel cannot evaluate (a lambda, a comprehension, an
  /// f-string): parsed, and an error only where it is evaluated.
  ExprPtr hostOnly(SourceLoc loc, const std::string &message);
  bool atExpressionEnd() const;
  /// The `for ... in ... if ...` clauses of a comprehension, discarded.
  bool skipComprehension();
  /// The clauses after a comprehension's element.
  ExprPtr parseComprehension(ExprPtr elt);
  StmtPtr parseClass(SourceLoc loc);
  StmtPtr parseTry();
  StmtPtr parseHostSimpleStatement();

  const std::vector<Token> &toks;
  DiagnosticEngine &diags;
  size_t pos = 0;
  unsigned nesting = 0;
  bool failed = false;
};

} // namespace tessel::frontend::detail

#endif // TESSEL_LIB_FRONTEND_PARSERIMPL_H
