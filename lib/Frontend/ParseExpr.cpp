//===- ParseExpr.cpp - expressions of the kernel language -----------------===//

#include "lib/Frontend/ParserImpl.h"

#include "llvm/ADT/StringSwitch.h"

using namespace tessel::frontend;
using namespace tessel::frontend::detail;

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

ExprPtr Parser::parseTestList() {
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
  return tuple;
}

ExprPtr Parser::parseTest() {
  NestingGuard guard(*this, cur().loc);
  if (!guard.ok)
    return nullptr;
  SourceLoc loc = cur().loc;
  if (consumeKw("lambda")) {
    // Parameters up to the ':' that ends them (defaults may nest brackets).
    for (int depth = 0; !(depth == 0 && isOp(":")); advance()) {
      if (cur().kind == Token::Kind::End || cur().kind == Token::Kind::Newline)
        return failExpr(cur().loc, "expected ':' in a lambda expression");
      if (isOp("(") || isOp("[") || isOp("{"))
        ++depth;
      else if (isOp(")") || isOp("]") || isOp("}"))
        --depth;
    }
    advance(); // :
    if (!parseTest())
      return nullptr;
    return hostOnly(loc, "lambda expressions are not supported in Tessel kernels; use a def");
  }
  if (isKw("yield") || isKw("await")) {
    std::string what = unsupportedKeyword(cur().text);
    advance();
    consumeKw("from");
    if (!atExpressionEnd() && !parseTestList())
      return nullptr;
    return hostOnly(loc, what + " not supported in Tessel kernels");
  }
  if (consumeOp("*") || consumeOp("**")) {
    if (!parseOrTest())
      return nullptr;
    return hostOnly(loc, "starred expressions are not supported in Tessel kernels");
  }
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
  ChainGuard chain(*this);
  while (lhs) {
    const char *matched = nullptr;
    for (const char *op : kLevels[level])
      if (isOp(op))
        matched = op;
    if (!matched)
      break;
    if (!chain.link(cur().loc))
      return nullptr;
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
  NestingGuard guard(*this, cur().loc); // x ** y ** z recurses on the right
  if (!guard.ok)
    return nullptr;
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
  ChainGuard chain(*this);
  while (e) {
    if ((isOp("(") || isOp("[") || isOp(".")) && !chain.link(cur().loc))
      return nullptr;
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
    if (isOp("*") || isOp("**")) {
      ExprPtr starred = parseTest(); // a host-only expression
      if (!starred)
        return nullptr;
      call->args.push_back(std::move(starred));
    } else if (cur().kind == Token::Kind::Name && next().isOp("=") &&
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
      if (isKw("for") || isKw("async")) {
        arg = parseComprehension(std::move(arg));
        if (!arg)
          return nullptr;
      }
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
    if (isKw("for") || isKw("async")) {
      e = parseComprehension(std::move(e));
      if (!e)
        return false;
      if (!isOp(close))
        return fail(cur().loc, "expected '" + close + "' after the comprehension");
    }
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
  case Token::Kind::Int:
  case Token::Kind::Float:
  case Token::Kind::String:
    if (!t.hostOnly.empty()) {
      std::string why = t.hostOnly;
      advance();
      while (cur().kind == Token::Kind::String) // "a" f"b" concatenates
        advance();
      return hostOnly(loc, why);
    }
    break;
  default:
    break;
  }
  switch (t.kind) {
  case Token::Kind::Int: {
    int64_t v = t.intValue;
    std::string big = t.bigInt;
    advance();
    return std::make_unique<IntExpr>(loc, v, std::move(big));
  }
  case Token::Kind::Float: {
    double v = t.floatValue;
    advance();
    return std::make_unique<FloatExpr>(loc, v);
  }
  case Token::Kind::String: {
    std::string v;
    while (cur().kind == Token::Kind::String) { // "a" "b" concatenates
      if (!cur().hostOnly.empty()) {
        std::string why = cur().hostOnly;
        while (cur().kind == Token::Kind::String)
          advance();
        return hostOnly(loc, why);
      }
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
  if (isOp("{")) {
    // Skipped to its closing brace; an error only if evaluated.
    int depth = 0;
    do {
      if (cur().kind == Token::Kind::End)
        return failExpr(loc, "'{' was never closed");
      if (isOp("{") || isOp("(") || isOp("["))
        ++depth;
      else if (isOp("}") || isOp(")") || isOp("]"))
        --depth;
      advance();
    } while (depth > 0);
    return std::make_unique<UnsupportedExpr>(
        loc, "dict and set literals are not supported in Tessel kernels");
  }
  if (consumeOp("..."))
    return hostOnly(loc, "'...' has no value in Tessel kernels");
  return failExpr(loc, "expected an expression, found " + describe(t));
}


ExprPtr Parser::hostOnly(SourceLoc loc, const std::string &message) {
  return std::make_unique<UnsupportedExpr>(loc, message);
}

bool Parser::atExpressionEnd() const {
  return cur().kind == Token::Kind::Newline || cur().kind == Token::Kind::End ||
         isOp(")") || isOp("]") || isOp("}") || isOp(",") || isOp("=") ||
         isOp(";") || isOp(":");
}

ExprPtr Parser::parseComprehension(ExprPtr elt) {
  auto c = std::make_unique<ComprehensionExpr>(elt->loc);
  c->elt = std::move(elt);
  // `for targets in iterable` clauses, each followed by any `if` filters.
  while (isKw("for") || isKw("async")) {
    if (isKw("async"))
      return failExpr(cur().loc, "'async' comprehensions are not supported in Tessel kernels");
    advance(); // for
    ComprehensionExpr::Clause clause;
    SourceLoc targetLoc = cur().loc;
    std::vector<ExprPtr> targets;
    do {
      if (isKw("in"))
        break;
      ExprPtr t = parseBinary(0);
      if (!t || !checkTarget(*t, true))
        return nullptr;
      targets.push_back(std::move(t));
    } while (consumeOp(","));
    if (targets.empty())
      return failExpr(cur().loc, "expected a name after 'for'");
    if (targets.size() == 1) {
      clause.target = std::move(targets[0]);
    } else {
      auto tuple = std::make_unique<TupleExpr>(targetLoc);
      tuple->elts = std::move(targets);
      clause.target = std::move(tuple);
    }
    if (!consumeKw("in"))
      return failExpr(cur().loc, "expected 'in' in a comprehension");
    if (!(clause.iter = parseOrTest()))
      return nullptr;
    while (consumeKw("if")) {
      ExprPtr cond = parseOrTest();
      if (!cond)
        return nullptr;
      clause.ifs.push_back(std::move(cond));
    }
    c->clauses.push_back(std::move(clause));
  }
  return c;
}

bool Parser::skipComprehension() {
  // `for targets in iterable` clauses, each followed by any `if` filters.
  while (isKw("for") || isKw("async") || isKw("if")) {
    if (consumeKw("if")) {
      if (!parseOrTest())
        return false;
      continue;
    }
    consumeKw("async");
    if (!consumeKw("for"))
      return fail(cur().loc, "expected 'for' in a comprehension");
    do {
      if (isKw("in"))
        break;
      if (!parseBinary(0))
        return false;
    } while (consumeOp(","));
    if (!consumeKw("in"))
      return fail(cur().loc, "expected 'in' in a comprehension");
    if (!parseOrTest())
      return false;
  }
  return true;
}
