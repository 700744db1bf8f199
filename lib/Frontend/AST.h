//===- AST.h - syntax tree of the kernel language (a Python subset) -*- C++ -*-===//

#ifndef TESSEL_LIB_FRONTEND_AST_H
#define TESSEL_LIB_FRONTEND_AST_H

#include "lib/Frontend/Diagnostics.h"

#include "llvm/Support/Casting.h"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace tessel::frontend {

//===----------------------------------------------------------------------===//
// Expressions
//===----------------------------------------------------------------------===//

class Expr {
public:
  enum class Kind {
    Name, Int, Float, String, Bool, None, Tuple, List, Attribute, Call,
    Subscript, Slice, Unary, Binary, BoolOp, Compare, IfExp, Comprehension,
    Unsupported,
  };
  Expr(Kind kind, SourceLoc loc) : kind(kind), loc(loc) {}
  virtual ~Expr() = default;
  Kind getKind() const { return kind; }
  const Kind kind;
  SourceLoc loc;
};
using ExprPtr = std::unique_ptr<Expr>;

template <Expr::Kind K>
struct ExprBase : Expr {
  explicit ExprBase(SourceLoc loc) : Expr(K, loc) {}
  static bool classof(const Expr *e) { return e->getKind() == K; }
};

struct NameExpr : ExprBase<Expr::Kind::Name> {
  NameExpr(SourceLoc loc, std::string id) : ExprBase(loc), id(std::move(id)) {}
  std::string id;
};
struct IntExpr : ExprBase<Expr::Kind::Int> {
  IntExpr(SourceLoc loc, int64_t v, std::string big = "")
      : ExprBase(loc), value(v), big(std::move(big)) {}
  int64_t value;
  std::string big; ///< past int64: the value in decimal (value is 0)
};
struct FloatExpr : ExprBase<Expr::Kind::Float> {
  FloatExpr(SourceLoc loc, double v) : ExprBase(loc), value(v) {}
  double value;
};
struct StringExpr : ExprBase<Expr::Kind::String> {
  StringExpr(SourceLoc loc, std::string v) : ExprBase(loc), value(std::move(v)) {}
  std::string value;
};
struct BoolExpr : ExprBase<Expr::Kind::Bool> {
  BoolExpr(SourceLoc loc, bool v) : ExprBase(loc), value(v) {}
  bool value;
};
struct NoneExpr : ExprBase<Expr::Kind::None> {
  using ExprBase::ExprBase;
};
/// Tuple and list displays share a shape.
struct TupleExpr : ExprBase<Expr::Kind::Tuple> {
  using ExprBase::ExprBase;
  std::vector<ExprPtr> elts;
};
struct ListExpr : ExprBase<Expr::Kind::List> {
  using ExprBase::ExprBase;
  std::vector<ExprPtr> elts;
};
struct AttributeExpr : ExprBase<Expr::Kind::Attribute> {
  AttributeExpr(SourceLoc loc, ExprPtr value, std::string attr, SourceLoc attrLoc)
      : ExprBase(loc), value(std::move(value)), attr(std::move(attr)),
        attrLoc(attrLoc) {}
  ExprPtr value;
  std::string attr;
  SourceLoc attrLoc;
};
struct Keyword {
  std::string name;
  SourceLoc loc;
  ExprPtr value;
};
struct CallExpr : ExprBase<Expr::Kind::Call> {
  using ExprBase::ExprBase;
  ExprPtr func;
  std::vector<ExprPtr> args;
  std::vector<Keyword> keywords;
};
struct SubscriptExpr : ExprBase<Expr::Kind::Subscript> {
  using ExprBase::ExprBase;
  ExprPtr value;
  /// One entry per comma-separated index; slices are SliceExpr.
  std::vector<ExprPtr> indices;
};
struct SliceExpr : ExprBase<Expr::Kind::Slice> {
  using ExprBase::ExprBase;
  ExprPtr lower, upper, step; ///< each may be null
};
struct UnaryExpr : ExprBase<Expr::Kind::Unary> {
  using ExprBase::ExprBase;
  std::string op; ///< "-", "+", "~", "not"
  ExprPtr operand;
};
struct BinaryExpr : ExprBase<Expr::Kind::Binary> {
  using ExprBase::ExprBase;
  std::string op; ///< "+", "-", "*", "/", "//", "%", "**", "@", "<<", ">>", "&", "|", "^"
  SourceLoc opLoc;
  ExprPtr lhs, rhs;
};
struct BoolOpExpr : ExprBase<Expr::Kind::BoolOp> {
  using ExprBase::ExprBase;
  bool isAnd = true;
  std::vector<ExprPtr> values;
};
struct CompareExpr : ExprBase<Expr::Kind::Compare> {
  using ExprBase::ExprBase;
  ExprPtr left;
  std::vector<std::string> ops; ///< "<", "<=", "==", "!=", ">", ">=", "in", "not in", "is", "is not"
  std::vector<SourceLoc> opLocs;
  std::vector<ExprPtr> comparators;
};
struct IfExpr : ExprBase<Expr::Kind::IfExp> {
  using ExprBase::ExprBase;
  ExprPtr test, body, orelse;
};
/// `[elt for x in xs if c]` and `(elt for x in xs)`: evaluated at compile
/// time into a list.
struct ComprehensionExpr : ExprBase<Expr::Kind::Comprehension> {
  using ExprBase::ExprBase;
  ExprPtr elt;
  struct Clause {
    ExprPtr target, iter;
    std::vector<ExprPtr> ifs;
  };
  std::vector<Clause> clauses;
};
/// Python a kernel cannot hold (a dict or set display), parsed so that
/// host-side code around kernels (a module's config table, an autotune
/// decorator's arguments) reads; evaluating it is the error `message`.
struct UnsupportedExpr : ExprBase<Expr::Kind::Unsupported> {
  UnsupportedExpr(SourceLoc loc, std::string message)
      : ExprBase(loc), message(std::move(message)) {}
  std::string message;
};

//===----------------------------------------------------------------------===//
// Statements
//===----------------------------------------------------------------------===//

class Stmt {
public:
  enum class Kind {
    FunctionDef, With, For, If, While, Assign, AnnAssign, AugAssign, Return,
    Pass, Break, Continue, Expr, Import, Assert, Raise, Try, Unsupported,
  };
  Stmt(Kind kind, SourceLoc loc) : kind(kind), loc(loc) {}
  virtual ~Stmt() = default;
  Kind getKind() const { return kind; }
  const Kind kind;
  SourceLoc loc;
};
using StmtPtr = std::unique_ptr<Stmt>;
using Block = std::vector<StmtPtr>;

template <Stmt::Kind K>
struct StmtBase : Stmt {
  explicit StmtBase(SourceLoc loc) : Stmt(K, loc) {}
  static bool classof(const Stmt *s) { return s->getKind() == K; }
};

struct Param {
  std::string name;
  SourceLoc loc;
  ExprPtr annotation; ///< may be null
  ExprPtr defaultValue; ///< may be null
};

class FunctionDef : public StmtBase<Stmt::Kind::FunctionDef> {
public:
  using StmtBase::StmtBase;
  std::string name;
  std::vector<ExprPtr> decorators;
  std::vector<Param> params;
  ExprPtr returns; ///< may be null
  Block body;
  /// Set when the signature has `*args` or `**kwargs`: host code Tessel
  /// parses but cannot call.
  std::string starParam;
};
struct WithItem {
  ExprPtr context;
  ExprPtr target; ///< may be null
};
struct WithStmt : StmtBase<Stmt::Kind::With> {
  using StmtBase::StmtBase;
  std::vector<WithItem> items;
  Block body;
};
struct ForStmt : StmtBase<Stmt::Kind::For> {
  using StmtBase::StmtBase;
  ExprPtr target, iter;
  Block body;
  Block orelse; ///< `for ... else`: parsed, refused when executed
  SourceLoc elseLoc;
};
struct IfStmt : StmtBase<Stmt::Kind::If> {
  using StmtBase::StmtBase;
  ExprPtr test;
  Block body, orelse;
};
struct WhileStmt : StmtBase<Stmt::Kind::While> {
  using StmtBase::StmtBase;
  ExprPtr test;
  Block body;
  Block orelse; ///< `while ... else`: parsed, refused when executed
  SourceLoc elseLoc;
};
struct AssignStmt : StmtBase<Stmt::Kind::Assign> {
  using StmtBase::StmtBase;
  std::vector<ExprPtr> targets; ///< `a = b = v` has two
  ExprPtr value;
};
struct AnnAssignStmt : StmtBase<Stmt::Kind::AnnAssign> {
  using StmtBase::StmtBase;
  ExprPtr target, annotation, value; ///< value may be null
};
struct AugAssignStmt : StmtBase<Stmt::Kind::AugAssign> {
  using StmtBase::StmtBase;
  ExprPtr target;
  std::string op; ///< the binary operator: "+", "//", ...
  ExprPtr value;
};
struct ReturnStmt : StmtBase<Stmt::Kind::Return> {
  using StmtBase::StmtBase;
  ExprPtr value; ///< may be null
};
struct PassStmt : StmtBase<Stmt::Kind::Pass> {
  using StmtBase::StmtBase;
};
struct BreakStmt : StmtBase<Stmt::Kind::Break> {
  using StmtBase::StmtBase;
};
struct ContinueStmt : StmtBase<Stmt::Kind::Continue> {
  using StmtBase::StmtBase;
};
struct ExprStmt : StmtBase<Stmt::Kind::Expr> {
  using StmtBase::StmtBase;
  ExprPtr value;
};
/// `import a.b as c` and `from a.b import c as d`: each binds `alias` to
/// the dotted module path (`from` imports join module and name).
struct ImportStmt : StmtBase<Stmt::Kind::Import> {
  using StmtBase::StmtBase;
  struct Alias {
    std::string path, alias;
    SourceLoc loc;
  };
  std::vector<Alias> names;
};
struct AssertStmt : StmtBase<Stmt::Kind::Assert> {
  using StmtBase::StmtBase;
  ExprPtr test, msg;
};

/// `raise X(...)`: at compile time, an error carrying the exception's text.
struct RaiseStmt : StmtBase<Stmt::Kind::Raise> {
  using StmtBase::StmtBase;
  ExprPtr exc; ///< may be null (a bare `raise`)
};
/// `try:` with its handlers. At a module's top level its body runs as the
/// module's statements do (imports, defs, assignments); in a kernel it is
/// refused.
struct TryStmt : StmtBase<Stmt::Kind::Try> {
  using StmtBase::StmtBase;
  Block body, orelse, finalbody;
  struct Handler {
    ExprPtr type; ///< may be null
    std::string name;
    Block body;
  };
  std::vector<Handler> handlers;
};
/// Python that host code around kernels uses and a kernel cannot (a class,
/// `global`, `del`, `async def`): parsed so that the file reads, refused with
/// `message` where a kernel executes it; at a module's top level the names
/// it binds are left unusable, saying why.
struct UnsupportedStmt : StmtBase<Stmt::Kind::Unsupported> {
  UnsupportedStmt(SourceLoc loc, std::string message)
      : StmtBase(loc), message(std::move(message)) {}
  std::string message;
  std::vector<std::string> binds;
};

struct Module {
  Block body;
};

/// A deterministic S-expression rendering, for tests.
std::string dumpAST(const Module &module);
std::string dumpExpr(const Expr &expr);

} // namespace tessel::frontend

#endif // TESSEL_LIB_FRONTEND_AST_H
