//===- ASTPrinter.cpp - S-expression dumps of the syntax tree, for tests --===//

#include "lib/Frontend/AST.h"

#include "llvm/Support/raw_ostream.h"

using namespace tessel::frontend;
using llvm::cast;

namespace {

/// The printer recurses once per level of the tree. Trees from the parser
/// are at most kMaxNesting deep; a deeper one (built some other way) prints
/// a marker with the location where the printer stopped, instead of
/// overflowing the stack.
constexpr unsigned kMaxPrintDepth = 1000;
unsigned printDepth = 0;
struct PrintDepth {
  PrintDepth() { ++printDepth; }
  ~PrintDepth() { --printDepth; }
  bool tooDeep(llvm::raw_ostream &os, SourceLoc loc) const {
    if (printDepth <= kMaxPrintDepth)
      return false;
    os << "(nested-too-deeply " << loc.line << ":" << loc.col << ")";
    return true;
  }
};

void printExpr(llvm::raw_ostream &os, const Expr *e);

void printList(llvm::raw_ostream &os, const std::vector<ExprPtr> &elts) {
  for (const ExprPtr &x : elts) {
    os << " ";
    printExpr(os, x.get());
  }
}

void printExpr(llvm::raw_ostream &os, const Expr *e) {
  if (!e) {
    os << "_";
    return;
  }
  PrintDepth depth;
  if (depth.tooDeep(os, e->loc))
    return;
  switch (e->getKind()) {
  case Expr::Kind::Name:
    os << "(name " << cast<NameExpr>(e)->id << ")";
    return;
  case Expr::Kind::Int:
    if (!cast<IntExpr>(e)->big.empty())
      os << "(int " << cast<IntExpr>(e)->big << ")";
    else
      os << "(int " << cast<IntExpr>(e)->value << ")";
    return;
  case Expr::Kind::Float:
    os << "(float " << cast<FloatExpr>(e)->value << ")";
    return;
  case Expr::Kind::String:
    os << "(str \"" << cast<StringExpr>(e)->value << "\")";
    return;
  case Expr::Kind::Bool:
    os << (cast<BoolExpr>(e)->value ? "(bool True)" : "(bool False)");
    return;
  case Expr::Kind::None:
    os << "(none)";
    return;
  case Expr::Kind::Tuple:
    os << "(tuple";
    printList(os, cast<TupleExpr>(e)->elts);
    os << ")";
    return;
  case Expr::Kind::List:
    os << "(list";
    printList(os, cast<ListExpr>(e)->elts);
    os << ")";
    return;
  case Expr::Kind::Attribute: {
    auto *a = cast<AttributeExpr>(e);
    os << "(attr ";
    printExpr(os, a->value.get());
    os << " " << a->attr << ")";
    return;
  }
  case Expr::Kind::Call: {
    auto *c = cast<CallExpr>(e);
    os << "(call ";
    printExpr(os, c->func.get());
    printList(os, c->args);
    for (const Keyword &k : c->keywords) {
      os << " (kw " << k.name << " ";
      printExpr(os, k.value.get());
      os << ")";
    }
    os << ")";
    return;
  }
  case Expr::Kind::Subscript: {
    auto *s = cast<SubscriptExpr>(e);
    os << "(subscript ";
    printExpr(os, s->value.get());
    printList(os, s->indices);
    os << ")";
    return;
  }
  case Expr::Kind::Slice: {
    auto *s = cast<SliceExpr>(e);
    os << "(slice ";
    printExpr(os, s->lower.get());
    os << " ";
    printExpr(os, s->upper.get());
    os << " ";
    printExpr(os, s->step.get());
    os << ")";
    return;
  }
  case Expr::Kind::Unary: {
    auto *u = cast<UnaryExpr>(e);
    os << "(unary " << u->op << " ";
    printExpr(os, u->operand.get());
    os << ")";
    return;
  }
  case Expr::Kind::Binary: {
    auto *b = cast<BinaryExpr>(e);
    os << "(binop " << b->op << " ";
    printExpr(os, b->lhs.get());
    os << " ";
    printExpr(os, b->rhs.get());
    os << ")";
    return;
  }
  case Expr::Kind::BoolOp: {
    auto *b = cast<BoolOpExpr>(e);
    os << "(" << (b->isAnd ? "and" : "or");
    printList(os, b->values);
    os << ")";
    return;
  }
  case Expr::Kind::Compare: {
    auto *c = cast<CompareExpr>(e);
    os << "(compare ";
    printExpr(os, c->left.get());
    for (size_t i = 0; i < c->ops.size(); ++i) {
      os << " " << c->ops[i] << " ";
      printExpr(os, c->comparators[i].get());
    }
    os << ")";
    return;
  }
  case Expr::Kind::Unsupported:
    os << "(unsupported)";
    return;
  case Expr::Kind::Comprehension: {
    auto *c = cast<ComprehensionExpr>(e);
    os << "(comprehension ";
    printExpr(os, c->elt.get());
    for (const ComprehensionExpr::Clause &clause : c->clauses) {
      os << " (for ";
      printExpr(os, clause.target.get());
      os << " in ";
      printExpr(os, clause.iter.get());
      for (const ExprPtr &cond : clause.ifs) {
        os << " if ";
        printExpr(os, cond.get());
      }
      os << ")";
    }
    os << ")";
    return;
  }
  case Expr::Kind::IfExp: {
    auto *i = cast<IfExpr>(e);
    os << "(ifexp ";
    printExpr(os, i->test.get());
    os << " ";
    printExpr(os, i->body.get());
    os << " ";
    printExpr(os, i->orelse.get());
    os << ")";
    return;
  }
  }
}

void printBlock(llvm::raw_ostream &os, const Block &block, unsigned indent);

void printStmt(llvm::raw_ostream &os, const Stmt *s, unsigned indent) {
  os.indent(indent);
  PrintDepth depth;
  if (depth.tooDeep(os, s->loc)) {
    os << "\n";
    return;
  }
  switch (s->getKind()) {
  case Stmt::Kind::FunctionDef: {
    auto *f = cast<FunctionDef>(s);
    os << "(def " << f->name;
    for (const ExprPtr &d : f->decorators) {
      os << " @";
      printExpr(os, d.get());
    }
    os << " (params";
    if (!f->starParam.empty())
      os << " " << f->starParam;
    for (const Param &p : f->params) {
      os << " " << p.name;
      if (p.annotation) {
        os << ":";
        printExpr(os, p.annotation.get());
      }
      if (p.defaultValue) {
        os << "=";
        printExpr(os, p.defaultValue.get());
      }
    }
    os << ")\n";
    printBlock(os, f->body, indent + 2);
    os.indent(indent) << ")\n";
    return;
  }
  case Stmt::Kind::With: {
    auto *w = cast<WithStmt>(s);
    os << "(with";
    for (const WithItem &item : w->items) {
      os << " ";
      printExpr(os, item.context.get());
      os << " as ";
      printExpr(os, item.target.get());
    }
    os << "\n";
    printBlock(os, w->body, indent + 2);
    os.indent(indent) << ")\n";
    return;
  }
  case Stmt::Kind::For: {
    auto *f = cast<ForStmt>(s);
    os << "(for ";
    printExpr(os, f->target.get());
    os << " in ";
    printExpr(os, f->iter.get());
    os << "\n";
    printBlock(os, f->body, indent + 2);
    os.indent(indent) << ")\n";
    return;
  }
  case Stmt::Kind::If: {
    auto *i = cast<IfStmt>(s);
    os << "(if ";
    printExpr(os, i->test.get());
    os << "\n";
    printBlock(os, i->body, indent + 2);
    if (!i->orelse.empty()) {
      os.indent(indent) << " else\n";
      printBlock(os, i->orelse, indent + 2);
    }
    os.indent(indent) << ")\n";
    return;
  }
  case Stmt::Kind::While: {
    auto *w = cast<WhileStmt>(s);
    os << "(while ";
    printExpr(os, w->test.get());
    os << "\n";
    printBlock(os, w->body, indent + 2);
    os.indent(indent) << ")\n";
    return;
  }
  case Stmt::Kind::Assign: {
    auto *a = cast<AssignStmt>(s);
    os << "(assign";
    printList(os, a->targets);
    os << " = ";
    printExpr(os, a->value.get());
    os << ")\n";
    return;
  }
  case Stmt::Kind::AnnAssign: {
    auto *a = cast<AnnAssignStmt>(s);
    os << "(annassign ";
    printExpr(os, a->target.get());
    os << " : ";
    printExpr(os, a->annotation.get());
    os << " = ";
    printExpr(os, a->value.get());
    os << ")\n";
    return;
  }
  case Stmt::Kind::AugAssign: {
    auto *a = cast<AugAssignStmt>(s);
    os << "(augassign " << a->op << " ";
    printExpr(os, a->target.get());
    os << " ";
    printExpr(os, a->value.get());
    os << ")\n";
    return;
  }
  case Stmt::Kind::Return:
    os << "(return ";
    printExpr(os, cast<ReturnStmt>(s)->value.get());
    os << ")\n";
    return;
  case Stmt::Kind::Pass:
    os << "(pass)\n";
    return;
  case Stmt::Kind::Break:
    os << "(break)\n";
    return;
  case Stmt::Kind::Continue:
    os << "(continue)\n";
    return;
  case Stmt::Kind::Expr:
    os << "(expr ";
    printExpr(os, cast<ExprStmt>(s)->value.get());
    os << ")\n";
    return;
  case Stmt::Kind::Import:
    os << "(import";
    for (const auto &a : cast<ImportStmt>(s)->names)
      os << " " << a.path << " as " << a.alias;
    os << ")\n";
    return;
  case Stmt::Kind::Raise:
    os << "(raise ";
    printExpr(os, cast<RaiseStmt>(s)->exc.get());
    os << ")\n";
    return;
  case Stmt::Kind::Try: {
    auto *t = cast<TryStmt>(s);
    os << "(try\n";
    printBlock(os, t->body, indent + 2);
    for (const TryStmt::Handler &h : t->handlers) {
      os.indent(indent) << "(except ";
      printExpr(os, h.type.get());
      os << (h.name.empty() ? "" : " as " + h.name) << "\n";
      printBlock(os, h.body, indent + 2);
      os.indent(indent) << ")\n";
    }
    os.indent(indent) << ")\n";
    return;
  }
  case Stmt::Kind::Unsupported: {
    auto *u = cast<UnsupportedStmt>(s);
    os << "(host-only";
    for (const std::string &n : u->binds)
      os << " " << n;
    os << " \"" << u->message << "\")\n";
    return;
  }
  case Stmt::Kind::Assert: {
    auto *a = cast<AssertStmt>(s);
    os << "(assert ";
    printExpr(os, a->test.get());
    os << " ";
    printExpr(os, a->msg.get());
    os << ")\n";
    return;
  }
  }
}

void printBlock(llvm::raw_ostream &os, const Block &block, unsigned indent) {
  for (const StmtPtr &s : block)
    printStmt(os, s.get(), indent);
}

} // namespace

std::string tessel::frontend::dumpAST(const Module &module) {
  std::string out;
  llvm::raw_string_ostream os(out);
  printBlock(os, module.body, 0);
  return out;
}

std::string tessel::frontend::dumpExpr(const Expr &expr) {
  std::string out;
  llvm::raw_string_ostream os(out);
  printExpr(os, &expr);
  return out;
}
