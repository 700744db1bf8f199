//===- ParseStmt.cpp - statements of the kernel language ------------------===//

#include "lib/Frontend/ParserImpl.h"

#include "llvm/ADT/StringSwitch.h"

using namespace tessel::frontend;
using namespace tessel::frontend::detail;

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
    if (t.text == "class" || t.text == "try" || t.text == "async") {
      StmtPtr s = t.text == "class" ? parseClass(t.loc)
                  : t.text == "try" ? parseTry()
                                    : nullptr;
      if (t.text == "async") {
        // `async def/for/with`: parsed as the statement it prefixes.
        SourceLoc loc = t.loc;
        advance();
        Block inner;
        if (!parseStatement(inner))
          return false;
        auto u = std::make_unique<UnsupportedStmt>(loc, "'async' is not supported in "
                                                        "Tessel kernels");
        for (StmtPtr &st : inner)
          if (auto *def = llvm::dyn_cast<FunctionDef>(st.get()))
            u->binds.push_back(def->name);
        s = std::move(u);
      }
      return s ? (out.push_back(std::move(s)), true) : false;
    }
    if (const char *what = unsupportedKeyword(t.text);
        what && t.text != "global" && t.text != "nonlocal" && t.text != "del" &&
        t.text != "raise" && t.text != "yield" && t.text != "await" && t.text != "lambda")
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
    if (isKw("class")) {
      StmtPtr s = parseClass(loc);
      return s ? (out.push_back(std::move(s)), true) : false;
    }
    if (!isKw("def"))
      return fail(cur().loc, "decorators are only supported on functions and "
                             "classes");
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
    if (t.text == "global" || t.text == "nonlocal" || t.text == "del" || t.text == "raise")
      return parseHostSimpleStatement();
    if (const char *what = unsupportedKeyword(t.text);
        what && t.text != "yield" && t.text != "await" && t.text != "lambda") {
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
    if (consumeOp("/")) { // the end of positional-only parameters
      if (!consumeOp(","))
        break;
      continue;
    }
    if (isOp("*") || isOp("**")) {
      std::string star = cur().text;
      advance();
      if (cur().kind == Token::Kind::Name && !isPythonKeyword(cur().text)) {
        // `*args` / `**kwargs`: the function parses; calling it is refused.
        f->starParam = star + cur().text;
        advance();
        if (consumeOp(":") && !parseTest())
          return nullptr;
      }
      // A bare `*` only makes the parameters after it keyword-only.
      sawDefault = false;
      if (!consumeOp(","))
        break;
      continue;
    }
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
    NestingGuard guard(*this, cur().loc); // each elif nests in the else
    if (!guard.ok)
      return nullptr;
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
  s->elseLoc = cur().loc;
  if (consumeKw("else") && !parseBlock(s->orelse, "'else'"))
    return nullptr;
  return s;
}

StmtPtr Parser::parseWhile() {
  auto s = std::make_unique<WhileStmt>(cur().loc);
  advance();
  if (!(s->test = parseTest()))
    return nullptr;
  if (!parseBlock(s->body, "the 'while' condition"))
    return nullptr;
  s->elseLoc = cur().loc;
  if (consumeKw("else") && !parseBlock(s->orelse, "'else'"))
    return nullptr;
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


StmtPtr Parser::parseClass(SourceLoc loc) {
  advance(); // class
  if (cur().kind != Token::Kind::Name || isPythonKeyword(cur().text))
    return failExpr(cur().loc, "expected a class name after 'class'"), nullptr;
  auto s = std::make_unique<UnsupportedStmt>(
      loc, "'class' definitions are not supported in Tessel kernels");
  s->binds.push_back(cur().text);
  advance();
  if (isOp("(") && !parseCall(std::make_unique<NoneExpr>(loc)))
    return nullptr;
  Block body; // read for its syntax; a class is host code
  if (!parseBlock(body, "the class header"))
    return nullptr;
  return s;
}

StmtPtr Parser::parseTry() {
  auto s = std::make_unique<TryStmt>(cur().loc);
  advance(); // try
  if (!parseBlock(s->body, "'try'"))
    return nullptr;
  while (isKw("except")) {
    advance();
    TryStmt::Handler h;
    consumeOp("*"); // except* (exception groups)
    if (!isOp(":")) {
      if (!(h.type = parseTest()))
        return nullptr;
      if (consumeKw("as")) {
        if (cur().kind != Token::Kind::Name)
          return failExpr(cur().loc, "expected a name after 'as'"), nullptr;
        h.name = cur().text;
        advance();
      }
    }
    if (!parseBlock(h.body, "'except'"))
      return nullptr;
    s->handlers.push_back(std::move(h));
  }
  if (consumeKw("else") && !parseBlock(s->orelse, "'else'"))
    return nullptr;
  if (consumeKw("finally") && !parseBlock(s->finalbody, "'finally'"))
    return nullptr;
  if (s->handlers.empty() && s->finalbody.empty())
    return failExpr(cur().loc, "expected 'except' or 'finally' after the 'try' block"),
           nullptr;
  return s;
}

StmtPtr Parser::parseHostSimpleStatement() {
  SourceLoc loc = cur().loc;
  std::string word = cur().text;
  advance();
  if (word == "raise") {
    auto r = std::make_unique<RaiseStmt>(loc);
    if (!atExpressionEnd()) {
      if (!(r->exc = parseTest()))
        return nullptr;
      if (consumeKw("from") && !parseTest())
        return nullptr;
    }
    return r;
  }
  auto u = std::make_unique<UnsupportedStmt>(
      loc, "'" + word + "' " + (word == "del" ? "statements are" : "declarations are") +
               " not supported in Tessel kernels");
  if (word == "del") {
    if (!parseTestList())
      return nullptr;
    return u;
  }
  do { // global / nonlocal names
    if (cur().kind != Token::Kind::Name)
      return failExpr(cur().loc, "expected a name after '" + word + "'"), nullptr;
    advance();
  } while (consumeOp(","));
  return u;
}
