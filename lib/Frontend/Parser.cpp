//===- Parser.cpp - parser of the kernel language (a Python subset) -------===//

#include "lib/Frontend/Parser.h"
#include "lib/Frontend/Lexer.h"

#include "llvm/ADT/StringSwitch.h"

using namespace tessel::frontend;

namespace {

/// Python constructs that parse but have no meaning in a kernel, by keyword.
const char *unsupportedKeyword(llvm::StringRef word) {
  return llvm::StringSwitch<const char *>(word)
      .Case("class", "'class' definitions are")
      .Case("lambda", "lambda expressions are")
      .Case("try", "'try' statements are")
      .Case("raise", "'raise' statements are")
      .Case("global", "'global' declarations are")
      .Case("nonlocal", "'nonlocal' declarations are")
      .Case("yield", "'yield' is")
      .Case("async", "'async' is")
      .Case("await", "'await' is")
      .Case("del", "'del' statements are")
      .Case("except", "'except' outside 'try' is")
      .Case("finally", "'finally' outside 'try' is")
      .Default(nullptr);
}

constexpr unsigned kMaxNesting = 200;

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
        p.fail(loc, "expression nested too deeply");
    }
    ~NestingGuard() { --p.nesting; }
  };

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
  ExprPtr parseTestList(bool allowTrailingTuple = true);
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

  const std::vector<Token> &toks;
  DiagnosticEngine &diags;
  size_t pos = 0;
  unsigned nesting = 0;
  bool failed = false;
};

std::string Parser::describe(const Token &t) const {
  switch (t.kind) {
  case Token::Kind::Name:
    return "'" + t.text + "'";
  case Token::Kind::Int:
  case Token::Kind::Float:
    return "number '" + t.text + "'";
  case Token::Kind::String:
    return "a string";
  case Token::Kind::Op:
    return "'" + t.text + "'";
  case Token::Kind::Newline:
    return "end of line";
  case Token::Kind::Indent:
    return "an indent";
  case Token::Kind::Dedent:
    return "a dedent";
  case Token::Kind::End:
    return "end of file";
  }
  return "token";
}

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

std::unique_ptr<Module> Parser::parseModule() {
  auto module = std::make_unique<Module>();
  while (cur().kind != Token::Kind::End) {
    if (cur().kind == Token::Kind::Newline) {
      advance();
      continue;
    }
    if (cur().kind == Token::Kind::Indent) {
      fail(cur().loc, "unexpected indent");
      return nullptr;
    }
    if (cur().kind == Token::Kind::Dedent) {
      advance();
      continue;
    }
    if (!parseStatement(module->body))
      return nullptr;
  }
  return failed ? nullptr : std::move(module);
}

ExprPtr Parser::parseSingleExpression() {
  ExprPtr e = parseTestList();
  if (!e)
    return nullptr;
  while (cur().kind == Token::Kind::Newline)
    advance();
  if (cur().kind != Token::Kind::End)
    return failExpr(cur().loc, "unexpected " + describe(cur()) +
                                   " after the expression");
  return e;
}

bool Parser::parseStatement(Block &out) {
  NestingGuard guard(*this, cur().loc);
  if (!guard.ok)
    return false;
  const Token &t = cur();
  if (t.kind == Token::Kind::Indent)
    return fail(t.loc, "unexpected indent");
  if (t.kind == Token::Kind::Name) {
    if (const char *what = unsupportedKeyword(t.text))
      return fail(t.loc, llvm::Twine(what) + " not supported in Tessel kernels");
    if (t.text == "def") {
      StmtPtr s = parseFunctionDef({}, t.loc);
      return s ? (out.push_back(std::move(s)), true) : false;
    }
    StmtPtr s;
    if (t.text == "if")
      s = parseIf();
    else if (t.text == "for")
      s = parseFor();
    else if (t.text == "while")
      s = parseWhile();
    else if (t.text == "with")
      s = parseWith();
    else
      return parseSimpleStatements(out);
    if (!s)
      return false;
    out.push_back(std::move(s));
    return true;
  }
  if (t.isOp("@")) {
    SourceLoc loc = t.loc;
    std::vector<ExprPtr> decorators;
    while (consumeOp("@")) {
      ExprPtr d = parseTest();
      if (!d)
        return false;
      decorators.push_back(std::move(d));
      if (cur().kind != Token::Kind::Newline)
        return fail(cur().loc, "expected end of line after a decorator");
      advance();
    }
    if (!isKw("def"))
      return fail(cur().loc, "decorators are only supported on functions in "
                             "Tessel kernels");
    StmtPtr s = parseFunctionDef(std::move(decorators), loc);
    return s ? (out.push_back(std::move(s)), true) : false;
  }
  return parseSimpleStatements(out);
}

bool Parser::parseSimpleStatements(Block &out) {
  while (true) {
    StmtPtr s = parseSimpleStatement();
    if (!s)
      return false;
    out.push_back(std::move(s));
    if (consumeOp(";")) {
      if (cur().kind == Token::Kind::Newline)
        break;
      continue;
    }
    break;
  }
  if (cur().kind != Token::Kind::Newline && cur().kind != Token::Kind::End)
    return fail(cur().loc, "unexpected " + describe(cur()) +
                               " at the end of a statement");
  if (cur().kind == Token::Kind::Newline)
    advance();
  return true;
}

StmtPtr Parser::parseSimpleStatement() {
  const Token &t = cur();
  SourceLoc loc = t.loc;
  if (t.kind == Token::Kind::Name) {
    if (const char *what = unsupportedKeyword(t.text)) {
      fail(loc, llvm::Twine(what) + " not supported in Tessel kernels");
      return nullptr;
    }
    if (consumeKw("pass"))
      return std::make_unique<PassStmt>(loc);
    if (consumeKw("break"))
      return std::make_unique<BreakStmt>(loc);
    if (consumeKw("continue"))
      return std::make_unique<ContinueStmt>(loc);
    if (consumeKw("return")) {
      auto r = std::make_unique<ReturnStmt>(loc);
      if (cur().kind != Token::Kind::Newline && !isOp(";") &&
          cur().kind != Token::Kind::End) {
        r->value = parseTestList();
        if (!r->value)
          return nullptr;
      }
      return r;
    }
    if (t.text == "import" || t.text == "from")
      return parseImport();
    if (consumeKw("assert")) {
      auto a = std::make_unique<AssertStmt>(loc);
      if (!(a->test = parseTest()))
        return nullptr;
      if (consumeOp(",") && !(a->msg = parseTest()))
        return nullptr;
      return a;
    }
    if (t.text == "def" || t.text == "if" || t.text == "for" ||
        t.text == "while" || t.text == "with" || t.text == "elif" ||
        t.text == "else") {
      fail(loc, "'" + t.text + "' cannot appear here");
      return nullptr;
    }
  }
  return parseExprStatement();
}

bool Parser::checkTarget(const Expr &target, bool allowTuple) {
  switch (target.getKind()) {
  case Expr::Kind::Name:
  case Expr::Kind::Subscript:
  case Expr::Kind::Attribute:
    return true;
  case Expr::Kind::Tuple:
  case Expr::Kind::List: {
    if (!allowTuple)
      return fail(target.loc, "cannot assign to a tuple with an augmented "
                              "assignment");
    const auto &elts = target.getKind() == Expr::Kind::Tuple
                           ? llvm::cast<TupleExpr>(target).elts
                           : llvm::cast<ListExpr>(target).elts;
    for (const ExprPtr &e : elts)
      if (!checkTarget(*e, true))
        return false;
    return true;
  }
  case Expr::Kind::Call:
    return fail(target.loc, "cannot assign to a function call");
  default:
    return fail(target.loc, "cannot assign to this expression");
  }
}

StmtPtr Parser::parseExprStatement() {
  SourceLoc loc = cur().loc;
  ExprPtr first = parseTestList();
  if (!first)
    return nullptr;
  // Annotated assignment: `x: T = v`.
  if (consumeOp(":")) {
    if (!checkTarget(*first, false))
      return nullptr;
    auto s = std::make_unique<AnnAssignStmt>(loc);
    s->target = std::move(first);
    if (!(s->annotation = parseTest()))
      return nullptr;
    if (consumeOp("=") && !(s->value = parseTestList()))
      return nullptr;
    return s;
  }
  static const char *const kAugOps[] = {"+=", "-=", "*=", "/=", "//=", "%=",
                                        "**=", "@=", "&=", "|=", "^=", "<<=",
                                        ">>="};
  for (const char *op : kAugOps) {
    if (!isOp(op))
      continue;
    advance();
    if (!checkTarget(*first, false))
      return nullptr;
    auto s = std::make_unique<AugAssignStmt>(loc);
    s->target = std::move(first);
    llvm::StringRef spelling(op);
    s->op = spelling.drop_back().str();
    if (!(s->value = parseTestList()))
      return nullptr;
    return s;
  }
  if (!isOp("=")) {
    auto s = std::make_unique<ExprStmt>(loc);
    s->value = std::move(first);
    return s;
  }
  auto s = std::make_unique<AssignStmt>(loc);
  std::vector<ExprPtr> chain;
  chain.push_back(std::move(first));
  while (consumeOp("=")) {
    ExprPtr e = parseTestList();
    if (!e)
      return nullptr;
    chain.push_back(std::move(e));
  }
  s->value = std::move(chain.back());
  chain.pop_back();
  for (ExprPtr &t : chain) {
    if (!checkTarget(*t, true))
      return nullptr;
    s->targets.push_back(std::move(t));
  }
  return s;
}

StmtPtr Parser::parseImport() {
  auto s = std::make_unique<ImportStmt>(cur().loc);
  auto dotted = [&](std::string &path) {
    if (cur().kind != Token::Kind::Name || isPythonKeyword(cur().text))
      return fail(cur().loc, "expected a module name");
    path = cur().text;
    advance();
    while (consumeOp(".")) {
      if (cur().kind != Token::Kind::Name)
        return fail(cur().loc, "expected a name after '.'");
      path += "." + cur().text;
      advance();
    }
    return true;
  };
  if (consumeKw("import")) {
    do {
      ImportStmt::Alias a;
      a.loc = cur().loc;
      if (!dotted(a.path))
        return nullptr;
      // `import a.b` binds `a`; `import a.b as c` binds `c` to a.b.
      a.alias = llvm::StringRef(a.path).split('.').first.str();
      if (consumeKw("as")) {
        if (cur().kind != Token::Kind::Name)
          return failExpr(cur().loc, "expected a name after 'as'"), nullptr;
        a.alias = cur().text;
        advance();
      } else {
        a.path = a.alias;
      }
      s->names.push_back(std::move(a));
    } while (consumeOp(","));
    return s;
  }
  advance(); // from
  if (isOp("."))
    return failExpr(cur().loc, "relative imports are not supported in Tessel "
                               "kernels"),
           nullptr;
  std::string module;
  if (!dotted(module))
    return nullptr;
  if (!consumeKw("import"))
    return failExpr(cur().loc, "expected 'import' after the module name"),
           nullptr;
  if (isOp("*"))
    return failExpr(cur().loc, "'from ... import *' is not supported in "
                               "Tessel kernels"),
           nullptr;
  bool paren = consumeOp("(");
  do {
    if (paren && isOp(")"))
      break;
    ImportStmt::Alias a;
    a.loc = cur().loc;
    if (cur().kind != Token::Kind::Name)
      return failExpr(cur().loc, "expected a name to import"), nullptr;
    a.alias = cur().text;
    a.path = module + "." + cur().text;
    advance();
    if (consumeKw("as")) {
      if (cur().kind != Token::Kind::Name)
        return failExpr(cur().loc, "expected a name after 'as'"), nullptr;
      a.alias = cur().text;
      advance();
    }
    s->names.push_back(std::move(a));
  } while (consumeOp(","));
  if (paren && !expectOp(")", "to close the import list"))
    return nullptr;
  return s;
}

bool Parser::parseBlock(Block &out, llvm::StringRef after) {
  if (!expectOp(":", "after " + after))
    return false;
  if (cur().kind != Token::Kind::Newline)
    return parseSimpleStatements(out);
  advance();
  if (cur().kind != Token::Kind::Indent)
    return fail(cur().loc, "expected an indented block after " + after);
  advance();
  while (cur().kind != Token::Kind::Dedent && cur().kind != Token::Kind::End) {
    if (!parseStatement(out))
      return false;
  }
  if (cur().kind == Token::Kind::Dedent)
    advance();
  return true;
}

StmtPtr Parser::parseFunctionDef(std::vector<ExprPtr> decorators,
                                 SourceLoc loc) {
  advance(); // def
  auto f = std::make_unique<FunctionDef>(loc);
  f->decorators = std::move(decorators);
  if (cur().kind != Token::Kind::Name || isPythonKeyword(cur().text))
    return failExpr(cur().loc, "expected a function name after 'def'"),
           nullptr;
  f->name = cur().text;
  advance();
  if (!expectOp("(", "after the function name"))
    return nullptr;
  bool sawDefault = false;
  while (!isOp(")")) {
    if (isOp("*") || isOp("**") || isOp("/"))
      return failExpr(cur().loc, "'" + cur().text +
                                     "' parameters are not supported in "
                                     "Tessel kernels"),
             nullptr;
    if (cur().kind != Token::Kind::Name || isPythonKeyword(cur().text))
      return failExpr(cur().loc, "expected a parameter name"), nullptr;
    Param p;
    p.name = cur().text;
    p.loc = cur().loc;
    for (const Param &other : f->params)
      if (other.name == p.name)
        return failExpr(p.loc, "duplicate parameter '" + p.name + "'"),
               nullptr;
    advance();
    if (consumeOp(":") && !(p.annotation = parseTest()))
      return nullptr;
    if (consumeOp("=")) {
      if (!(p.defaultValue = parseTest()))
        return nullptr;
      sawDefault = true;
    } else if (sawDefault) {
      return failExpr(p.loc, "parameter without a default follows one "
                             "with a default"),
             nullptr;
    }
    f->params.push_back(std::move(p));
    if (!consumeOp(","))
      break;
  }
  if (!expectOp(")", "to close the parameter list"))
    return nullptr;
  if (consumeOp("->") && !(f->returns = parseTest()))
    return nullptr;
  if (!parseBlock(f->body, "the function signature"))
    return nullptr;
  return f;
}

StmtPtr Parser::parseIf() {
  auto s = std::make_unique<IfStmt>(cur().loc);
  advance(); // if / elif
  if (!(s->test = parseTest()))
    return nullptr;
  if (!parseBlock(s->body, "the 'if' condition"))
    return nullptr;
  if (isKw("elif")) {
    StmtPtr nested = parseIf();
    if (!nested)
      return nullptr;
    s->orelse.push_back(std::move(nested));
  } else if (consumeKw("else")) {
    if (!parseBlock(s->orelse, "'else'"))
      return nullptr;
  }
  return s;
}

StmtPtr Parser::parseFor() {
  auto s = std::make_unique<ForStmt>(cur().loc);
  advance();
  // The target is a name or a tuple of names, with or without parentheses.
  std::vector<ExprPtr> targets;
  SourceLoc targetLoc = cur().loc;
  do {
    if (isKw("in"))
      break;
    ExprPtr t = parseBinary(0);
    if (!t)
      return nullptr;
    if (!checkTarget(*t, true))
      return nullptr;
    targets.push_back(std::move(t));
  } while (consumeOp(","));
  if (targets.empty())
    return failExpr(cur().loc, "expected a loop variable after 'for'"),
           nullptr;
  if (targets.size() == 1) {
    s->target = std::move(targets[0]);
  } else {
    auto tuple = std::make_unique<TupleExpr>(targetLoc);
    tuple->elts = std::move(targets);
    s->target = std::move(tuple);
  }
  if (!consumeKw("in"))
    return failExpr(cur().loc, "expected 'in' after the loop variable"),
           nullptr;
  if (!(s->iter = parseTestList()))
    return nullptr;
  if (!parseBlock(s->body, "the 'for' header"))
    return nullptr;
  if (isKw("else"))
    return failExpr(cur().loc, "'for ... else' is not supported in Tessel "
                               "kernels"),
           nullptr;
  return s;
}

StmtPtr Parser::parseWhile() {
  auto s = std::make_unique<WhileStmt>(cur().loc);
  advance();
  if (!(s->test = parseTest()))
    return nullptr;
  if (!parseBlock(s->body, "the 'while' condition"))
    return nullptr;
  if (isKw("else"))
    return failExpr(cur().loc, "'while ... else' is not supported in Tessel "
                               "kernels"),
           nullptr;
  return s;
}

StmtPtr Parser::parseWith() {
  auto s = std::make_unique<WithStmt>(cur().loc);
  advance();
  do {
    WithItem item;
    if (!(item.context = parseTest()))
      return nullptr;
    if (consumeKw("as")) {
      if (!(item.target = parseAtom()))
        return nullptr;
      // `as (a, b)` or `as a`; a bare `as a, b` would be two items.
      if (!checkTarget(*item.target, true))
        return nullptr;
      if (auto *p = item.target.get(); p->getKind() == Expr::Kind::Call ||
                                       p->getKind() == Expr::Kind::Subscript)
        return failExpr(p->loc, "expected a name or a tuple of names after "
                                "'as'"),
               nullptr;
    }
    s->items.push_back(std::move(item));
  } while (consumeOp(","));
  if (!parseBlock(s->body, "the 'with' header"))
    return nullptr;
  return s;
}

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

ExprPtr Parser::parseTestList(bool allowTrailingTuple) {
  SourceLoc loc = cur().loc;
  ExprPtr first = parseTest();
  if (!first || !isOp(","))
    return first;
  auto tuple = std::make_unique<TupleExpr>(loc);
  tuple->elts.push_back(std::move(first));
  while (consumeOp(",")) {
    // A trailing comma ends the tuple.
    if (cur().kind == Token::Kind::Newline || isOp("=") || isOp(")") ||
        isOp(":") || isOp(";") || cur().kind == Token::Kind::End)
      break;
    ExprPtr e = parseTest();
    if (!e)
      return nullptr;
    tuple->elts.push_back(std::move(e));
  }
  (void)allowTrailingTuple;
  return tuple;
}

ExprPtr Parser::parseTest() {
  NestingGuard guard(*this, cur().loc);
  if (!guard.ok)
    return nullptr;
  if (isKw("lambda") || isKw("yield") || isKw("await"))
    return failExpr(cur().loc, llvm::Twine(unsupportedKeyword(cur().text)) +
                                   " not supported in Tessel kernels");
  if (isOp("*") || isOp("**"))
    return failExpr(cur().loc,
                    "starred expressions are not supported in Tessel kernels");
  SourceLoc loc = cur().loc;
  ExprPtr body = parseOrTest();
  if (!body || !isKw("if"))
    return body;
  advance();
  auto e = std::make_unique<IfExpr>(loc);
  e->body = std::move(body);
  if (!(e->test = parseOrTest()))
    return nullptr;
  if (!consumeKw("else"))
    return failExpr(cur().loc, "expected 'else' in a conditional expression");
  if (!(e->orelse = parseTest()))
    return nullptr;
  return e;
}

ExprPtr Parser::parseOrTest() {
  SourceLoc loc = cur().loc;
  ExprPtr first = parseAndTest();
  if (!first || !isKw("or"))
    return first;
  auto e = std::make_unique<BoolOpExpr>(loc);
  e->isAnd = false;
  e->values.push_back(std::move(first));
  while (consumeKw("or")) {
    ExprPtr v = parseAndTest();
    if (!v)
      return nullptr;
    e->values.push_back(std::move(v));
  }
  return e;
}

ExprPtr Parser::parseAndTest() {
  SourceLoc loc = cur().loc;
  ExprPtr first = parseNotTest();
  if (!first || !isKw("and"))
    return first;
  auto e = std::make_unique<BoolOpExpr>(loc);
  e->values.push_back(std::move(first));
  while (consumeKw("and")) {
    ExprPtr v = parseNotTest();
    if (!v)
      return nullptr;
    e->values.push_back(std::move(v));
  }
  return e;
}

ExprPtr Parser::parseNotTest() {
  if (!isKw("not"))
    return parseComparison();
  NestingGuard guard(*this, cur().loc);
  if (!guard.ok)
    return nullptr;
  auto e = std::make_unique<UnaryExpr>(cur().loc);
  advance();
  e->op = "not";
  if (!(e->operand = parseNotTest()))
    return nullptr;
  return e;
}

ExprPtr Parser::parseComparison() {
  SourceLoc loc = cur().loc;
  ExprPtr left = parseBinary(0);
  if (!left)
    return nullptr;
  auto compareOp = [&]() -> std::string {
    static const char *const kOps[] = {"<", ">", "==", ">=", "<=", "!="};
    for (const char *op : kOps)
      if (isOp(op))
        return op;
    if (isKw("in"))
      return "in";
    if (isKw("is"))
      return next().isKeyword("not") ? "is not" : "is";
    if (isKw("not") && next().isKeyword("in"))
      return "not in";
    return "";
  };
  std::string op = compareOp();
  if (op.empty())
    return left;
  auto e = std::make_unique<CompareExpr>(loc);
  e->left = std::move(left);
  while (!op.empty()) {
    e->ops.push_back(op);
    e->opLocs.push_back(cur().loc);
    advance();
    if (op == "is not" || op == "not in")
      advance();
    ExprPtr right = parseBinary(0);
    if (!right)
      return nullptr;
    e->comparators.push_back(std::move(right));
    op = compareOp();
  }
  return e;
}

/// Binary operator levels, loosest first: | ^ & (<< >>) (+ -) (* / // % @).
ExprPtr Parser::parseBinary(int level) {
  static const std::vector<std::vector<const char *>> kLevels = {
      {"|"}, {"^"}, {"&"}, {"<<", ">>"}, {"+", "-"}, {"*", "/", "//", "%", "@"}};
  if (level == static_cast<int>(kLevels.size()))
    return parseFactor();
  SourceLoc loc = cur().loc;
  ExprPtr lhs = parseBinary(level + 1);
  while (lhs) {
    const char *matched = nullptr;
    for (const char *op : kLevels[level])
      if (isOp(op))
        matched = op;
    if (!matched)
      break;
    auto e = std::make_unique<BinaryExpr>(loc);
    e->op = matched;
    e->opLoc = cur().loc;
    advance();
    e->lhs = std::move(lhs);
    if (!(e->rhs = parseBinary(level + 1)))
      return nullptr;
    lhs = std::move(e);
  }
  return lhs;
}

ExprPtr Parser::parseFactor() {
  if (isOp("-") || isOp("+") || isOp("~")) {
    NestingGuard guard(*this, cur().loc);
    if (!guard.ok)
      return nullptr;
    auto e = std::make_unique<UnaryExpr>(cur().loc);
    e->op = cur().text;
    advance();
    if (!(e->operand = parseFactor()))
      return nullptr;
    return e;
  }
  return parsePower();
}

ExprPtr Parser::parsePower() {
  SourceLoc loc = cur().loc;
  ExprPtr base = parsePrimary();
  if (!base || !isOp("**"))
    return base;
  auto e = std::make_unique<BinaryExpr>(loc);
  e->op = "**";
  e->opLoc = cur().loc;
  advance();
  e->lhs = std::move(base);
  // Right-associative, and binds tighter than a unary minus on its left
  // but not on its right: -x ** -y == -(x ** (-y)).
  if (!(e->rhs = parseFactor()))
    return nullptr;
  return e;
}

ExprPtr Parser::parsePrimary() {
  ExprPtr e = parseAtom();
  while (e) {
    if (isOp("(")) {
      e = parseCall(std::move(e));
    } else if (isOp("[")) {
      e = parseSubscript(std::move(e));
    } else if (isOp(".")) {
      advance();
      if (cur().kind != Token::Kind::Name)
        return failExpr(cur().loc, "expected an attribute name after '.'");
      SourceLoc loc = e->loc;
      e = std::make_unique<AttributeExpr>(loc, std::move(e), cur().text,
                                          cur().loc);
      advance();
    } else {
      break;
    }
  }
  return e;
}

ExprPtr Parser::parseCall(ExprPtr func) {
  NestingGuard guard(*this, cur().loc);
  if (!guard.ok)
    return nullptr;
  auto call = std::make_unique<CallExpr>(func->loc);
  call->func = std::move(func);
  advance(); // (
  while (!isOp(")")) {
    if (isOp("*") || isOp("**"))
      return failExpr(cur().loc, "'" + cur().text +
                                     "' arguments are not supported in "
                                     "Tessel kernels");
    if (cur().kind == Token::Kind::Name && next().isOp("=") &&
        !isPythonKeyword(cur().text)) {
      Keyword kw;
      kw.name = cur().text;
      kw.loc = cur().loc;
      for (const Keyword &other : call->keywords)
        if (other.name == kw.name)
          return failExpr(kw.loc, "keyword argument '" + kw.name +
                                      "' is repeated");
      advance();
      advance();
      if (!(kw.value = parseTest()))
        return nullptr;
      call->keywords.push_back(std::move(kw));
    } else {
      if (!call->keywords.empty())
        return failExpr(cur().loc, "positional argument follows keyword "
                                   "argument");
      ExprPtr arg = parseTest();
      if (!arg)
        return nullptr;
      if (isKw("for"))
        return failExpr(cur().loc, "generator expressions are not supported "
                                   "in Tessel kernels");
      call->args.push_back(std::move(arg));
    }
    if (!consumeOp(","))
      break;
  }
  if (!expectOp(")", "to close the call"))
    return nullptr;
  return call;
}

ExprPtr Parser::parseSliceItem() {
  SourceLoc loc = cur().loc;
  ExprPtr lower;
  if (!isOp(":")) {
    lower = parseTest();
    if (!lower)
      return nullptr;
    if (!isOp(":"))
      return lower;
  }
  auto slice = std::make_unique<SliceExpr>(loc);
  slice->lower = std::move(lower);
  advance(); // :
  auto endOfPart = [&] { return isOp(":") || isOp(",") || isOp("]"); };
  if (!endOfPart() && !(slice->upper = parseTest()))
    return nullptr;
  if (consumeOp(":") && !endOfPart() && !(slice->step = parseTest()))
    return nullptr;
  return slice;
}

ExprPtr Parser::parseSubscript(ExprPtr value) {
  NestingGuard guard(*this, cur().loc);
  if (!guard.ok)
    return nullptr;
  auto sub = std::make_unique<SubscriptExpr>(value->loc);
  sub->value = std::move(value);
  advance(); // [
  if (isOp("]"))
    return failExpr(cur().loc, "expected an index inside '[]'");
  while (!isOp("]")) {
    ExprPtr item = parseSliceItem();
    if (!item)
      return nullptr;
    sub->indices.push_back(std::move(item));
    if (!consumeOp(","))
      break;
  }
  if (!expectOp("]", "to close the subscript"))
    return nullptr;
  return sub;
}

bool Parser::parseDisplayElements(std::vector<ExprPtr> &elts,
                                  llvm::StringRef close, bool &sawComma) {
  sawComma = false;
  while (!isOp(close)) {
    ExprPtr e = parseTest();
    if (!e)
      return false;
    if (isKw("for"))
      return fail(cur().loc, "comprehensions are not supported in Tessel "
                             "kernels");
    elts.push_back(std::move(e));
    if (!consumeOp(","))
      break;
    sawComma = true;
  }
  return expectOp(close, "to close the " +
                             std::string(close == ")" ? "parenthesis"
                                                      : "list"));
}

ExprPtr Parser::parseAtom() {
  const Token &t = cur();
  SourceLoc loc = t.loc;
  switch (t.kind) {
  case Token::Kind::Name: {
    if (t.text == "True" || t.text == "False") {
      advance();
      return std::make_unique<BoolExpr>(loc, t.text == "True");
    }
    if (t.text == "None") {
      advance();
      return std::make_unique<NoneExpr>(loc);
    }
    if (const char *what = unsupportedKeyword(t.text))
      return failExpr(loc, llvm::Twine(what) + " not supported in Tessel kernels");
    if (isPythonKeyword(t.text))
      return failExpr(loc, "unexpected keyword '" + t.text + "'");
    std::string id = t.text;
    advance();
    return std::make_unique<NameExpr>(loc, std::move(id));
  }
  case Token::Kind::Int: {
    int64_t v = t.intValue;
    advance();
    return std::make_unique<IntExpr>(loc, v);
  }
  case Token::Kind::Float: {
    double v = t.floatValue;
    advance();
    return std::make_unique<FloatExpr>(loc, v);
  }
  case Token::Kind::String: {
    std::string v;
    while (cur().kind == Token::Kind::String) { // "a" "b" concatenates
      v += cur().text;
      advance();
    }
    return std::make_unique<StringExpr>(loc, std::move(v));
  }
  case Token::Kind::Op:
    break;
  default:
    return failExpr(loc, "expected an expression, found " + describe(t));
  }
  if (consumeOp("(")) {
    NestingGuard guard(*this, loc);
    if (!guard.ok)
      return nullptr;
    if (consumeOp(")"))
      return std::make_unique<TupleExpr>(loc);
    std::vector<ExprPtr> elts;
    bool sawComma;
    if (!parseDisplayElements(elts, ")", sawComma))
      return nullptr;
    if (elts.size() == 1 && !sawComma)
      return std::move(elts[0]);
    auto tuple = std::make_unique<TupleExpr>(loc);
    tuple->elts = std::move(elts);
    return tuple;
  }
  if (consumeOp("[")) {
    NestingGuard guard(*this, loc);
    if (!guard.ok)
      return nullptr;
    auto list = std::make_unique<ListExpr>(loc);
    bool sawComma;
    if (!parseDisplayElements(list->elts, "]", sawComma))
      return nullptr;
    return list;
  }
  if (isOp("{"))
    return failExpr(loc, "dict and set literals are not supported in Tessel "
                         "kernels");
  if (isOp("..."))
    return failExpr(loc, "'...' is not supported in Tessel kernels");
  return failExpr(loc, "expected an expression, found " + describe(t));
}

} // namespace

std::unique_ptr<Module> tessel::frontend::parseModule(const SourceFile &file,
                                                      DiagnosticEngine &diags) {
  std::vector<Token> tokens;
  if (!tokenize(file, diags, tokens))
    return nullptr;
  return Parser(tokens, diags).parseModule();
}

ExprPtr tessel::frontend::parseExpression(const SourceFile &file,
                                          DiagnosticEngine &diags) {
  std::vector<Token> tokens;
  if (!tokenize(file, diags, tokens))
    return nullptr;
  return Parser(tokens, diags).parseSingleExpression();
}
