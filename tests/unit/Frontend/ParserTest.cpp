//===- ParserTest.cpp - the kernel language's lexer and parser ------------===//

#include "lib/Frontend/Lexer.h"
#include "lib/Frontend/Parser.h"

#include <gtest/gtest.h>

using namespace tessel::frontend;

namespace {

struct Parsed {
  std::unique_ptr<Module> module;
  std::string dump;
  std::string error;
};

Parsed parse(const std::string &text) {
  SourceFile file{"t.py", text, 1, 0};
  DiagnosticEngine diags(file);
  Parsed p;
  p.module = parseModule(file, diags);
  if (p.module)
    p.dump = dumpAST(*p.module);
  p.error = diags.render();
  return p;
}

std::string expr(const std::string &text) {
  SourceFile file{"t.py", text, 1, 0};
  DiagnosticEngine diags(file);
  ExprPtr e = parseExpression(file, diags);
  return e ? dumpExpr(*e) : "error: " + diags.render();
}

TEST(Lexer, TokenKindsAndValues) {
  SourceFile file{"t.py", "x = 0x1F + 1_000 * 2.5e-1 // 'a\\n' ** y\n", 1, 0};
  DiagnosticEngine diags(file);
  std::vector<Token> tokens;
  ASSERT_TRUE(tokenize(file, diags, tokens)) << diags.render();
  ASSERT_GE(tokens.size(), 11u);
  EXPECT_EQ(tokens[0].kind, Token::Kind::Name);
  EXPECT_EQ(tokens[2].intValue, 31);
  EXPECT_EQ(tokens[4].intValue, 1000);
  EXPECT_DOUBLE_EQ(tokens[6].floatValue, 0.25);
  EXPECT_TRUE(tokens[7].isOp("//"));
  EXPECT_EQ(tokens[8].text, "a\n");
  EXPECT_TRUE(tokens[9].isOp("**"));
  EXPECT_EQ(tokens.back().kind, Token::Kind::End);
}

TEST(Lexer, IndentationAndLocations) {
  SourceFile file{"t.py", "if a:\n    b\n\n  # odd comment\n    c\nd\n", 1, 0};
  DiagnosticEngine diags(file);
  std::vector<Token> tokens;
  ASSERT_TRUE(tokenize(file, diags, tokens)) << diags.render();
  std::string kinds;
  for (const Token &t : tokens)
    kinds += t.kind == Token::Kind::Indent ? "I" : t.kind == Token::Kind::Dedent ? "D"
             : t.kind == Token::Kind::Newline ? "N" : t.kind == Token::Kind::End ? "E" : "t";
  EXPECT_EQ(kinds, "tttNItNtNDtNE");
  EXPECT_EQ(tokens[5].loc.line, 2u);
  EXPECT_EQ(tokens[5].loc.col, 5u);
}

TEST(Parser, Precedence) {
  EXPECT_EQ(expr("a + b * c"), "(binop + (name a) (binop * (name b) (name c)))");
  EXPECT_EQ(expr("-x ** 2"), "(unary - (binop ** (name x) (int 2)))");
  EXPECT_EQ(expr("2 ** -1"), "(binop ** (int 2) (unary - (int 1)))");
  EXPECT_EQ(expr("a ** b ** c"), "(binop ** (name a) (binop ** (name b) (name c)))");
  EXPECT_EQ(expr("a - b - c"), "(binop - (binop - (name a) (name b)) (name c))");
  EXPECT_EQ(expr("a | b ^ c & d << 1"),
            "(binop | (name a) (binop ^ (name b) (binop & (name c) (binop << (name d) (int 1)))))");
  EXPECT_EQ(expr("not a and b or c"), "(or (and (unary not (name a)) (name b)) (name c))");
  EXPECT_EQ(expr("a < b <= c"), "(compare (name a) < (name b) <= (name c))");
  EXPECT_EQ(expr("x if c else y"), "(ifexp (name c) (name x) (name y))");
  EXPECT_EQ(expr("a is not None"), "(compare (name a) is not (none))");
}

TEST(Parser, Postfix) {
  EXPECT_EQ(expr("T.copy(A[i, 0:64], B, transpose_B=True)"),
            "(call (attr (name T) copy) (subscript (name A) (name i) (slice (int 0) (int 64) _)) "
            "(name B) (kw transpose_B (bool True)))");
  EXPECT_EQ(expr("K[b, :, h, ::]"),
            "(subscript (name K) (name b) (slice _ _ _) (name h) (slice _ _ _))");
  EXPECT_EQ(expr("(1,)"), "(tuple (int 1))");
  EXPECT_EQ(expr("()"), "(tuple)");
  EXPECT_EQ(expr("[1, 2]"), "(list (int 1) (int 2))");
  EXPECT_EQ(expr("'a' \"b\""), "(str \"ab\")");
}

TEST(Parser, Statements) {
  Parsed p = parse("import tessel.language as T\n"
                   "from tessel import jit as J\n"
                   "@T.prim_func\n"
                   "def f(a: int, b=2) -> None:\n"
                   "    x, y = a, b\n"
                   "    x += 1; y //= 2\n"
                   "    with T.Kernel(1) as (bx, by):\n"
                   "        for i, j in T.Parallel(4, 4):\n"
                   "            pass\n"
                   "    while x:\n"
                   "        break\n"
                   "    if a:\n"
                   "        return\n"
                   "    elif b:\n"
                   "        continue\n"
                   "    else:\n"
                   "        assert a, 'msg'\n");
  ASSERT_TRUE(p.module) << p.error;
  EXPECT_NE(p.dump.find("(import tessel.language as T)"), std::string::npos) << p.dump;
  EXPECT_NE(p.dump.find("(import tessel.jit as J)"), std::string::npos);
  EXPECT_NE(p.dump.find("(def f @(attr (name T) prim_func) (params a:(name int) b=(int 2))"),
            std::string::npos);
  EXPECT_NE(p.dump.find("(assign (tuple (name x) (name y)) = (tuple (name a) (name b)))"),
            std::string::npos);
  EXPECT_NE(p.dump.find("(augassign // (name y) (int 2))"), std::string::npos);
  EXPECT_NE(p.dump.find("(with (call (attr (name T) Kernel) (int 1)) as (tuple (name bx) (name by))"),
            std::string::npos);
  EXPECT_NE(p.dump.find("(for (tuple (name i) (name j)) in"), std::string::npos);
  EXPECT_NE(p.dump.find("(assert (name a) (str \"msg\"))"), std::string::npos);
}

TEST(Parser, UniformIndentationIsAccepted) {
  // A nested function cut out of a file keeps its indentation.
  Parsed p = parse("    @dec\n    def f():\n        return 1\n");
  ASSERT_TRUE(p.module) << p.error;
  EXPECT_NE(p.dump.find("(def f"), std::string::npos);
}

TEST(Parser, HostCodeParses) {
  // What the host code of a kernel file uses parses into nodes that are
  // errors only when a kernel evaluates them.
  Parsed p = parse("class C(Base, metaclass=M):\n    x: int = 1\n    def m(self, *a, **k): ...\n"
                   "try:\n    import torch\nexcept ImportError as e:\n    torch = None\n"
                   "finally:\n    pass\n"
                   "async def g():\n    await h()\n"
                   "def f(a, /, b, *, c=2):\n    global G\n    del a\n"
                   "    raise ValueError('no') from None\n"
                   "s = [x * 2 for x in range(4) if x]\nt = {k: v for k, v in d}\n"
                   "u = f'{s!r:>10}' + b'raw'\nv = lambda q, r=1: q + r\nw = sum(y for y in s)\n"
                   "z = (1j, 0xFFFFFFFFFFFFFFFFFF, ...)\n"
                   "for i in s:\n    pass\nelse:\n    pass\n");
  ASSERT_TRUE(p.module) << p.error;
  EXPECT_NE(p.dump.find("(host-only C \"'class' definitions are not supported in Tessel kernels\")"),
            std::string::npos) << p.dump;
  EXPECT_NE(p.dump.find("(try"), std::string::npos);
  EXPECT_NE(p.dump.find("(except (name ImportError) as e"), std::string::npos);
  EXPECT_NE(p.dump.find("(host-only g \"'async' is not supported"), std::string::npos);
  EXPECT_NE(p.dump.find("(raise (call (name ValueError) (str \"no\")))"), std::string::npos);
  EXPECT_NE(p.dump.find("(comprehension (binop * (name x) (int 2)) (for (name x) in "
                        "(call (name range) (int 4)) if (name x)))"),
            std::string::npos) << p.dump;
  EXPECT_NE(p.dump.find("(assign (name v) = (unsupported))"), std::string::npos) << p.dump;
}

TEST(Parser, ErrorsAreLocated) {
  Parsed p = parse("def f():\n    x = (1 +\n");
  EXPECT_FALSE(p.module);
  EXPECT_EQ(p.error.substr(0, 31), "t.py:2:9: error: '(' was never ");
  p = parse("def f():\n    except:\n        pass\n");
  EXPECT_EQ(p.error.substr(0, 74),
            "t.py:2:5: error: 'except' outside 'try' is not supported in Tessel kernels");
  p = parse("x = a b\n");
  EXPECT_EQ(p.error.substr(0, 57), "t.py:1:7: error: unexpected 'b' at the end of a statement");
}

TEST(Parser, DeepNestingIsAnErrorNotACrash) {
  std::string deep(5000, '(');
  Parsed p = parse("x = " + deep + "1" + std::string(5000, ')') + "\n");
  EXPECT_FALSE(p.module);
  EXPECT_NE(p.error.find("nested too deeply"), std::string::npos) << p.error;
  std::string minus(5000, '-');
  p = parse("x = " + minus + "1\n");
  EXPECT_NE(p.error.find("nested too deeply"), std::string::npos);
}

TEST(Parser, ArbitraryBytesNeverCrash) {
  const char *inputs[] = {"\x00", "\xff\xfe", "def", "def f(:", "@\n", "x[", "'''",
                          "if x:\n\tpass\n  pass\n", "a = \\", "(\n]", "\t\t\tx", "1e", "0x"};
  for (const char *in : inputs) {
    Parsed p = parse(in);
    EXPECT_TRUE(p.module || !p.error.empty()) << in;
  }
}

} // namespace
