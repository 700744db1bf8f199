//===- PTXParser.cpp - PTX text to statements ------------------------------===//

#include "lib/Emulator/PTXParser.h"

#include "lib/Emulator/Errors.h"

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <map>

namespace tessel::emu {

DType parseType(const std::string &n) {
  static const std::map<std::string, DType> types = {
      {"pred", DType::Pred}, {"b8", DType::B8},       {"b16", DType::B16},
      {"b32", DType::B32},   {"b64", DType::B64},     {"b128", DType::B128},
      {"u8", DType::U8},     {"u16", DType::U16},     {"u32", DType::U32},
      {"u64", DType::U64},   {"s8", DType::S8},       {"s16", DType::S16},
      {"s32", DType::S32},   {"s64", DType::S64},     {"f16", DType::F16},
      {"f16x2", DType::F16x2}, {"bf16", DType::BF16}, {"bf16x2", DType::BF16x2},
      {"tf32", DType::TF32}, {"f32", DType::F32},     {"f64", DType::F64},
      {"e4m3", DType::E4M3}, {"e5m2", DType::E5M2},   {"e4m3x2", DType::E4M3x2},
      {"e5m2x2", DType::E5M2x2},
  };
  auto it = types.find(n);
  return it == types.end() ? DType::None : it->second;
}

unsigned byteWidth(DType t) {
  switch (t) {
  case DType::None: return 0;
  case DType::Pred: case DType::B8: case DType::U8: case DType::S8:
  case DType::E4M3: case DType::E5M2: return 1;
  case DType::B16: case DType::U16: case DType::S16: case DType::F16:
  case DType::BF16: case DType::E4M3x2: case DType::E5M2x2: return 2;
  case DType::B32: case DType::U32: case DType::S32: case DType::F32:
  case DType::F16x2: case DType::BF16x2: case DType::TF32: return 4;
  case DType::B64: case DType::U64: case DType::S64: case DType::F64: return 8;
  case DType::B128: return 16;
  }
  return 0;
}

bool isFloat(DType t) {
  switch (t) {
  case DType::F16: case DType::F16x2: case DType::BF16: case DType::BF16x2:
  case DType::TF32: case DType::F32: case DType::F64: case DType::E4M3:
  case DType::E5M2: case DType::E4M3x2: case DType::E5M2x2: return true;
  default: return false;
  }
}

bool isSigned(DType t) {
  return t == DType::S8 || t == DType::S16 || t == DType::S32 || t == DType::S64;
}

const char *typeName(DType t) {
  static const char *names[] = {"none", "pred", "b8", "b16", "b32", "b64", "b128",
                                "u8", "u16", "u32", "u64", "s8", "s16", "s32", "s64",
                                "f16", "f16x2", "bf16", "bf16x2", "tf32", "f32", "f64",
                                "e4m3", "e5m2", "e4m3x2", "e5m2x2"};
  return names[unsigned(t)];
}

namespace {

struct Token {
  enum Kind : uint8_t { Ident, Number, String, Punct, End } kind = End;
  std::string text;
  uint32_t line = 0;
};

bool identStart(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '%' ||
         c == '.';
}
bool identChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '$' || c == '%' ||
         c == '.' || c == ':';
}

std::vector<Token> lex(const std::string &s) {
  std::vector<Token> out;
  uint32_t line = 1;
  size_t i = 0, n = s.size();
  while (i < n) {
    char c = s[i];
    if (c == '\n') {
      ++line;
      ++i;
      continue;
    }
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '/') {
      while (i < n && s[i] != '\n')
        ++i;
      continue;
    }
    if (c == '/' && i + 1 < n && s[i + 1] == '*') {
      i += 2;
      while (i + 1 < n && !(s[i] == '*' && s[i + 1] == '/')) {
        if (s[i] == '\n')
          ++line;
        ++i;
      }
      i += 2;
      continue;
    }
    Token t;
    t.line = line;
    if (c == '"') {
      size_t j = i + 1;
      while (j < n && s[j] != '"') {
        if (s[j] == '\\' && j + 1 < n)
          ++j;
        ++j;
      }
      t.kind = Token::String;
      t.text = s.substr(i + 1, j - i - 1);
      i = j + 1;
    } else if (std::isdigit(static_cast<unsigned char>(c))) {
      size_t j = i;
      while (j < n && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '.' ||
                       ((s[j] == '-' || s[j] == '+') && (s[j - 1] == 'e' || s[j - 1] == 'E') &&
                        !(s[i] == '0' && i + 1 < n && std::strchr("xXfFdD", s[i + 1])))))
        ++j;
      t.kind = Token::Number;
      t.text = s.substr(i, j - i);
      i = j;
    } else if (identStart(c)) {
      size_t j = i + 1;
      while (j < n && identChar(s[j])) {
        if (s[j] == ':') { // "shared::cta" continues a name; "label:" ends one
          if (j + 1 < n && s[j + 1] == ':')
            ++j;
          else
            break;
        }
        ++j;
      }
      t.kind = Token::Ident;
      t.text = s.substr(i, j - i);
      i = j;
    } else {
      t.kind = Token::Punct;
      t.text = std::string(1, c);
      ++i;
    }
    out.push_back(std::move(t));
  }
  Token end;
  end.line = line;
  out.push_back(end);
  return out;
}

class Parser {
public:
  Parser(const std::string &text) : toks(lex(text)) {
    size_t start = 0;
    for (size_t i = 0; i <= text.size(); ++i)
      if (i == text.size() || text[i] == '\n') {
        module.lines.push_back(text.substr(start, i - start));
        start = i + 1;
      }
    module.locs.push_back(SourceLoc{});
  }

  ParsedModule run() {
    while (peek().kind != Token::End)
      topLevel();
    return std::move(module);
  }

private:
  std::vector<Token> toks;
  size_t pos = 0;
  ParsedModule module;
  uint32_t currentLoc = 0;
  std::map<std::tuple<uint32_t, uint32_t, uint32_t>, uint32_t> locIndex;

  const Token &peek(size_t ahead = 0) const {
    size_t i = std::min(pos + ahead, toks.size() - 1);
    return toks[i];
  }
  Token next() { return toks[std::min(pos++, toks.size() - 1)]; }
  bool is(const char *text, size_t ahead = 0) const { return peek(ahead).text == text; }
  bool accept(const char *text) {
    if (is(text) && peek().kind != Token::String) {
      ++pos;
      return true;
    }
    return false;
  }
  [[noreturn]] void fail(const std::string &why, uint32_t line = 0) const {
    if (!line)
      line = peek().line;
    std::string text = line <= module.lines.size() ? module.lines[line - 1] : "";
    size_t b = text.find_first_not_of(" \t");
    throw EmuError(ErrInvalidPTX, "PTX line " + std::to_string(line) + ": " + why +
                                      (b == std::string::npos ? "" : "\n  " + text.substr(b)));
  }
  void expect(const char *text) {
    if (!accept(text))
      fail(std::string("expected '") + text + "', found '" + peek().text + "'");
  }
  std::string ident() {
    if (peek().kind != Token::Ident)
      fail("expected a name, found '" + peek().text + "'");
    return next().text;
  }
  uint64_t integer() {
    bool neg = accept("-");
    if (peek().kind != Token::Number)
      fail("expected a number, found '" + peek().text + "'");
    uint64_t v = parseInt(next().text);
    return neg ? uint64_t(-int64_t(v)) : v;
  }
  uint64_t parseInt(std::string t) const {
    if (!t.empty() && (t.back() == 'U' || t.back() == 'u'))
      t.pop_back();
    int base = 10;
    size_t skip = 0;
    if (t.size() > 2 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X'))
      base = 16, skip = 2;
    else if (t.size() > 2 && t[0] == '0' && (t[1] == 'b' || t[1] == 'B'))
      base = 2, skip = 2;
    else if (t.size() > 1 && t[0] == '0')
      base = 8, skip = 1;
    char *end = nullptr;
    uint64_t v = std::strtoull(t.c_str() + skip, &end, base);
    if (*end)
      fail("malformed number '" + t + "'");
    return v;
  }
  /// Skips the rest of a line-oriented directive (.loc, .file, .version).
  void skipLine(uint32_t line) {
    while (peek().kind != Token::End && peek().line == line)
      ++pos;
  }

  void topLevel() {
    const Token &t = peek();
    uint32_t line = t.line;
    if (t.text == ".version" || t.text == ".target" || t.text == ".address_size") {
      skipLine(line);
      return;
    }
    if (t.text == ".file") {
      ++pos;
      uint32_t index = uint32_t(integer());
      if (peek().kind != Token::String)
        fail("expected a file name");
      module.files.push_back({index, next().text});
      skipLine(line);
      return;
    }
    if (t.text == ".loc") {
      locDirective();
      return;
    }
    if (t.text == ".section") {
      ++pos;
      while (peek().kind != Token::End && !is("{"))
        ++pos;
      skipBraces();
      return;
    }
    if (t.text == ".pragma") {
      while (!accept(";"))
        next();
      return;
    }
    bool external = false;
    while (is(".visible") || is(".extern") || is(".weak") || is(".common")) {
      external |= is(".extern");
      ++pos;
    }
    if (is(".entry") || is(".func")) {
      function(external);
      return;
    }
    if (is(".global") || is(".const") || is(".shared")) {
      Decl d = variable(external);
      expect(";");
      module.globals.push_back(std::move(d));
      return;
    }
    fail("unexpected '" + t.text + "' at module scope");
  }

  void skipBraces() {
    int depth = 0;
    do {
      if (is("{"))
        ++depth;
      else if (is("}"))
        --depth;
      if (peek().kind == Token::End)
        fail("unterminated block");
      ++pos;
    } while (depth > 0);
  }

  void locDirective() {
    uint32_t line = next().line;
    uint32_t file = uint32_t(integer()), src = uint32_t(integer()), col = 0;
    if (peek().kind == Token::Number && peek().line == line)
      col = uint32_t(integer());
    skipLine(line);
    auto key = std::make_tuple(file, src, col);
    auto it = locIndex.find(key);
    if (it == locIndex.end()) {
      it = locIndex.emplace(key, uint32_t(module.locs.size())).first;
      module.locs.push_back(SourceLoc{file, src, col});
    }
    currentLoc = src ? it->second : 0;
  }

  /// `.param/.reg/.shared/... [.align N] [.vN] .type [.ptr .space .align N] name[N] [= init]`
  Decl variable(bool external) {
    Decl d;
    d.external = external;
    std::string space = ident();
    if (space == ".reg") d.kind = Decl::Reg;
    else if (space == ".shared") d.kind = Decl::Shared;
    else if (space == ".local") d.kind = Decl::Local;
    else if (space == ".param") d.kind = Decl::Param;
    else if (space == ".global") d.kind = Decl::Global;
    else if (space == ".const") d.kind = Decl::Const;
    else fail("unknown state space '" + space + "'");
    while (peek().kind == Token::Ident && peek().text[0] == '.') {
      std::string m = next().text;
      if (m == ".align") {
        d.align = uint32_t(integer());
      } else if (m == ".v2" || m == ".v4" || m == ".v8") {
        d.vec = uint32_t(std::atoi(m.c_str() + 2));
      } else if (m == ".ptr" || m == ".global" || m == ".shared" || m == ".const" ||
                 m == ".local") {
        // .param .u64 .ptr .global .align 16 p: an attribute for the compiler.
      } else if (DType t = parseType(m.substr(1)); t != DType::None) {
        d.type = t;
      } else {
        fail("unknown qualifier '" + m + "' in a declaration");
      }
    }
    if (d.type == DType::None)
      fail("a declaration without a type");
    d.name = ident();
    if (accept("<")) {
      // %r<316>: registers %r0 .. %r315.
      d.count = uint32_t(integer());
      expect(">");
      d.kind = Decl::Reg; // only registers take ranges
      d.align = 0xffffffffu; // marks a range
    } else if (accept("[")) {
      if (accept("]")) {
        d.count = 0; // unsized: extern shared, or sized by its initializer
      } else {
        d.count = uint32_t(integer());
        expect("]");
      }
      while (accept("[")) { // multi-dimensional arrays
        d.count *= uint32_t(integer());
        expect("]");
      }
    }
    if (accept("=")) {
      unsigned w = byteWidth(d.type) * d.vec;
      auto push = [&](uint64_t v) {
        for (unsigned b = 0; b < w; ++b)
          d.init.push_back(uint8_t(v >> (8 * b)));
      };
      if (accept("{")) {
        while (!accept("}")) {
          if (peek().kind == Token::Number || is("-"))
            push(integer());
          else
            fail("only numeric initializers are supported");
          accept(",");
        }
      } else {
        push(integer());
      }
      if (d.count == 0)
        d.count = uint32_t(d.init.size() / std::max(w, 1u));
    }
    return d;
  }

  void paramList(std::vector<Decl> &out) {
    expect("(");
    while (!accept(")")) {
      out.push_back(variable(false));
      accept(",");
    }
  }

  void function(bool external) {
    ParsedFunction f;
    f.line = peek().line;
    f.isEntry = next().text == ".entry";
    f.isExtern = external;
    std::vector<Decl> returns;
    if (!f.isEntry && is("("))
      paramList(returns);
    f.name = ident();
    if (is("("))
      paramList(f.params);
    while (true) {
      if (accept(".maxntid") || (is(".reqntid") && (++pos, true))) {
        bool req = toks[pos - 1].text == ".reqntid";
        uint32_t *dims = req ? f.reqntid : f.maxntid;
        for (int i = 0; i < 3; ++i) {
          dims[i] = uint32_t(integer());
          if (!accept(","))
            break;
        }
      } else if (accept(".minnctapersm")) {
        f.minnctapersm = uint32_t(integer());
      } else if (accept(".maxnreg")) {
        f.maxnreg = uint32_t(integer());
      } else if (accept(".maxclusterrank") || accept(".reqnctapercluster")) {
        integer();
        while (accept(","))
          integer();
      } else if (accept(".explicitcluster") || accept(".noreturn")) {
      } else if (is(".pragma")) {
        while (!accept(";"))
          next();
      } else {
        break;
      }
    }
    if (accept(";")) {
      module.functions.push_back(std::move(f));
      return;
    }
    // Return values of a .func are declared like registers of its body.
    f.scopes.push_back(Scope{});
    for (Decl &r : returns) {
      r.kind = Decl::Reg;
      f.scopes[0].decls.push_back(r);
    }
    expect("{");
    body(f, 0);
    module.functions.push_back(std::move(f));
  }

  void body(ParsedFunction &f, uint32_t scope) {
    while (true) {
      const Token &t = peek();
      if (t.kind == Token::End)
        fail("the function '" + f.name + "' is not closed");
      if (accept("}"))
        return;
      if (accept("{")) {
        Scope s;
        s.parent = scope;
        f.scopes.push_back(s);
        body(f, uint32_t(f.scopes.size() - 1));
        continue;
      }
      if (t.text == ".loc") {
        locDirective();
        continue;
      }
      if (t.text == ".pragma") {
        while (!accept(";"))
          next();
        continue;
      }
      if (t.text == ".reg" || t.text == ".local" || t.text == ".shared" ||
          t.text == ".param" || t.text == ".const" || t.text == ".global") {
        // `.reg .b32 %a, %b;` declares several names of one type.
        Decl d = variable(false);
        f.scopes[scope].decls.push_back(d);
        while (accept(",")) {
          Decl more = d;
          more.name = ident();
          more.align = d.align == 0xffffffffu ? 0 : d.align;
          more.count = 1;
          if (accept("<")) {
            more.count = uint32_t(integer());
            more.align = 0xffffffffu;
            expect(">");
          }
          f.scopes[scope].decls.push_back(more);
        }
        expect(";");
        continue;
      }
      if (t.kind == Token::Ident && is(":", 1)) {
        f.labels.push_back({t.text, uint32_t(f.body.size())});
        pos += 2;
        continue;
      }
      f.body.push_back(instruction(scope));
    }
  }

  RawInstr instruction(uint32_t scope) {
    RawInstr in;
    in.line = peek().line;
    in.loc = currentLoc;
    in.scope = scope;
    if (accept("@")) {
      in.guardNeg = accept("!");
      in.guard = ident();
    }
    if (peek().kind != Token::Ident)
      fail("expected an instruction, found '" + peek().text + "'");
    in.opcode = next().text;
    if (!accept(";")) {
      do
        in.operands.push_back(operand());
      while (accept(","));
      expect(";");
    }
    return in;
  }

  RawOperand number(bool negative) {
    RawOperand o;
    std::string t = next().text;
    if (t.size() > 2 && t[0] == '0' && (t[1] == 'f' || t[1] == 'F' || t[1] == 'd' || t[1] == 'D')) {
      o.kind = RawOperand::Float;
      o.isDouble = t[1] == 'd' || t[1] == 'D';
      char *end = nullptr;
      o.bits = std::strtoull(t.c_str() + 2, &end, 16);
      if (*end)
        fail("malformed float literal '" + t + "'");
      if (negative)
        o.bits ^= o.isDouble ? (uint64_t(1) << 63) : (uint64_t(1) << 31);
      return o;
    }
    if (t.find_first_of(".eE") != std::string::npos &&
        !(t.size() > 1 && (t[1] == 'x' || t[1] == 'X'))) {
      o.kind = RawOperand::Float;
      o.isDouble = true;
      o.value = std::strtod(t.c_str(), nullptr) * (negative ? -1 : 1);
      o.bits = 0;
      std::memcpy(&o.bits, &o.value, 8);
      return o;
    }
    o.kind = RawOperand::Int;
    uint64_t v = parseInt(t);
    o.bits = negative ? uint64_t(-int64_t(v)) : v;
    return o;
  }

  RawOperand operand() {
    RawOperand o;
    if (accept("[")) {
      o.kind = RawOperand::Mem;
      if (peek().kind == Token::Number || is("-")) {
        o.offset = int64_t(integer());
      } else {
        o.name = ident();
        if (accept(",")) {
          // [tensorMap, {c0, c1, ...}]
          o.kind = RawOperand::Tensor;
          expect("{");
          while (!accept("}")) {
            o.elems.push_back(operand());
            accept(",");
          }
        } else {
          while (is("+") || is("-")) {
            bool minus = next().text == "-";
            int64_t v = int64_t(integer());
            o.offset += minus ? -v : v;
          }
        }
      }
      expect("]");
      return o;
    }
    if (accept("{")) {
      o.kind = RawOperand::Vec;
      while (!accept("}")) {
        o.elems.push_back(operand());
        accept(",");
      }
      return o;
    }
    if (accept("(")) {
      o.kind = RawOperand::Call;
      while (!accept(")")) {
        o.elems.push_back(operand());
        accept(",");
      }
      return o;
    }
    if (accept("!")) {
      o = operand();
      o.neg = true;
      return o;
    }
    if (accept("-")) {
      if (peek().kind == Token::Number)
        return number(true);
      o = operand();
      o.neg = !o.neg;
      return o;
    }
    if (peek().kind == Token::Number)
      return number(false);
    std::string name = ident();
    if (name == "_") {
      o.kind = RawOperand::Sink;
      return o;
    }
    o.kind = RawOperand::Name;
    o.name = name;
    if (accept("|")) {
      RawOperand pair;
      pair.kind = RawOperand::Pair;
      pair.elems.push_back(o);
      pair.elems.push_back(operand());
      return pair;
    }
    if (is("+") && peek(1).kind == Token::Number) {
      ++pos; // sym+8 outside brackets: the symbol's address plus 8
      o.offset = int64_t(integer());
    }
    return o;
  }
};

} // namespace

ParsedModule parsePTX(const std::string &text) { return Parser(text).run(); }

} // namespace tessel::emu
