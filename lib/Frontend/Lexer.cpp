//===- Lexer.cpp - tokens of the kernel language (Python syntax) ----------===//

#include "lib/Frontend/Lexer.h"

#include "llvm/ADT/APInt.h"
#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringSwitch.h"

#include <cerrno>
#include <cstdlib>

using namespace tessel::frontend;

bool tessel::frontend::isPythonKeyword(llvm::StringRef name) {
  return llvm::StringSwitch<bool>(name)
      .Cases({"False", "None", "True", "and", "as", "assert", "async", "await"},
             true)
      .Cases({"break", "class", "continue", "def", "del", "elif", "else",
              "except"},
             true)
      .Cases({"finally", "for", "from", "global", "if", "import", "in", "is"},
             true)
      .Cases({"lambda", "nonlocal", "not", "or", "pass", "raise", "return",
              "try"},
             true)
      .Cases({"while", "with", "yield"}, true)
      .Default(false);
}

namespace {

/// Operators, longest first so that "**=" wins over "**" and "*".
const char *const kOperators[] = {
    "**=", "//=", ">>=", "<<=", "...", "->", ":=", "**", "//", "<<", ">>",
    "<=",  ">=",  "==",  "!=",  "+=",  "-=", "*=", "/=", "%=", "&=", "|=",
    "^=",  "@=",  "+",   "-",   "*",   "/",  "%",  "@",  "&",  "|",  "^",
    "~",   "<",   ">",   "(",   ")",   "[",  "]",  "{",  "}",  ",",  ":",
    ".",   ";",   "=",
};

/// An integer literal's value: int64 when it fits, else exact in decimal
/// (Python's integers have no size; Tessel's compile-time ones stop at
/// 4096 bits, the evaluator's kMaxIntBits).
void setIntValue(Token &t, const std::string &digits, unsigned radix) {
  uint64_t value;
  if (!llvm::StringRef(digits).getAsInteger(radix, value) &&
      value <= static_cast<uint64_t>(INT64_MAX)) {
    t.intValue = static_cast<int64_t>(value);
    return;
  }
  unsigned bits = llvm::APInt::getSufficientBitsNeeded(digits, uint8_t(radix)) + 1;
  if (bits > 4096 + 1) {
    t.hostOnly = "integer literal is too large (more than 4096 bits)";
    return;
  }
  llvm::APInt big(bits, digits, uint8_t(radix));
  llvm::SmallString<64> text;
  big.toStringUnsigned(text, 10);
  t.bigInt = text.str().str();
}

class Lexer {
public:
  Lexer(const SourceFile &file, DiagnosticEngine &diags,
        std::vector<Token> &tokens)
      : text(file.text), fileId(file.id), diags(diags), tokens(tokens) {}

  bool run();

private:
  char peek(size_t ahead = 0) const {
    return pos + ahead < text.size() ? text[pos + ahead] : '\0';
  }
  bool atEnd() const { return pos >= text.size(); }
  SourceLoc here() const {
    return {line, static_cast<unsigned>(pos - lineStart + 1), fileId};
  }
  void newline() {
    ++line;
    lineStart = pos;
  }
  bool fail(SourceLoc loc, const llvm::Twine &message) {
    diags.error(loc, message);
    return false;
  }
  void push(Token::Kind kind, std::string text, SourceLoc loc) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    t.loc = loc;
    tokens.push_back(std::move(t));
  }

  bool lineStartIndentation(bool &skipLine);
  bool lexNumber();
  bool lexString(SourceLoc loc, llvm::StringRef prefix);
  bool lexToken();

  llvm::StringRef text;
  unsigned fileId;
  DiagnosticEngine &diags;
  std::vector<Token> &tokens;
  size_t pos = 0, lineStart = 0;
  unsigned line = 1;
  int depth = 0; ///< open brackets: newlines and indentation do not count
  std::vector<std::pair<SourceLoc, char>> openBrackets;
  std::vector<unsigned> indents;
};

/// Measures the indentation at the start of a line and emits INDENT/DEDENT.
/// Blank and comment-only lines are skipped entirely.
bool Lexer::lineStartIndentation(bool &skipLine) {
  unsigned width = 0;
  while (peek() == ' ' || peek() == '\t' || peek() == '\f') {
    width = peek() == '\t' ? (width / 8 + 1) * 8 : width + 1;
    ++pos;
  }
  char c = peek();
  if (c == '\n' || c == '\r' || c == '#' || atEnd() ||
      (c == '\\' && (peek(1) == '\n'))) {
    skipLine = true;
    return true;
  }
  skipLine = false;
  SourceLoc loc = here();
  if (indents.empty()) {
    // The first line's indentation is the base: a function cut out of a
    // file keeps the indentation it had there.
    indents.push_back(width);
    return true;
  }
  if (width > indents.back()) {
    indents.push_back(width);
    push(Token::Kind::Indent, "", loc);
    return true;
  }
  while (width < indents.back()) {
    indents.pop_back();
    if (indents.empty() || width > indents.back())
      return fail(loc, "unindent does not match any outer indentation level");
    push(Token::Kind::Dedent, "", loc);
  }
  return true;
}

bool Lexer::lexNumber() {
  SourceLoc loc = here();
  size_t start = pos;
  auto digits = [&](auto isDigit) {
    while (isDigit(peek()) || (peek() == '_' && isDigit(peek(1))))
      ++pos;
  };
  auto isDec = [](char c) { return c >= '0' && c <= '9'; };
  if (peek() == '0' && (peek(1) == 'x' || peek(1) == 'X' || peek(1) == 'o' ||
                        peek(1) == 'O' || peek(1) == 'b' || peek(1) == 'B')) {
    char base = static_cast<char>(llvm::toLower(peek(1)));
    pos += 2;
    size_t digitsStart = pos;
    if (base == 'x')
      digits([](char c) { return llvm::isHexDigit(c); });
    else if (base == 'o')
      digits([](char c) { return c >= '0' && c <= '7'; });
    else
      digits([](char c) { return c == '0' || c == '1'; });
    if (pos == digitsStart)
      return fail(loc, "invalid number literal");
    std::string body = text.slice(digitsStart, pos).str();
    llvm::erase(body, '_');
    push(Token::Kind::Int, text.slice(start, pos).str(), loc);
    setIntValue(tokens.back(), body, base == 'x' ? 16 : base == 'o' ? 8 : 2);
  } else {
    bool isFloat = false;
    digits(isDec);
    if (peek() == '.' && (isDec(peek(1)) || !llvm::isAlpha(peek(1)))) {
      isFloat = true;
      ++pos;
      digits(isDec);
    }
    if ((peek() == 'e' || peek() == 'E') &&
        (isDec(peek(1)) ||
         ((peek(1) == '+' || peek(1) == '-') && isDec(peek(2))))) {
      isFloat = true;
      pos += (peek(1) == '+' || peek(1) == '-') ? 2 : 1;
      digits(isDec);
    }
    std::string body = text.slice(start, pos).str();
    llvm::erase(body, '_');
    if (isFloat) {
      errno = 0;
      double value = std::strtod(body.c_str(), nullptr);
      push(Token::Kind::Float, text.slice(start, pos).str(), loc);
      tokens.back().floatValue = value;
    } else {
      push(Token::Kind::Int, text.slice(start, pos).str(), loc);
      setIntValue(tokens.back(), body, 10);
    }
  }
  if (peek() == 'j' || peek() == 'J') {
    ++pos;
    tokens.back().kind = Token::Kind::Float;
    tokens.back().hostOnly = "complex numbers are not supported in Tessel kernels";
    return true;
  }
  if (llvm::isAlnum(peek()) || peek() == '_')
    return fail(here(), "invalid character in number literal");
  return true;
}

bool Lexer::lexString(SourceLoc loc, llvm::StringRef prefix) {
  std::string lower = prefix.lower();
  std::string hostOnly;
  if (lower.find('f') != std::string::npos)
    hostOnly = "f-strings are not supported in Tessel kernels (host code may use them)";
  else if (lower.find('b') != std::string::npos)
    hostOnly = "byte strings are not supported in Tessel kernels";
  bool raw = lower.find('r') != std::string::npos;
  char quote = peek();
  bool triple = peek(1) == quote && peek(2) == quote;
  pos += triple ? 3 : 1;
  std::string value;
  while (true) {
    if (atEnd())
      return fail(loc, "unterminated string literal");
    char c = peek();
    if (c == quote && (!triple || (peek(1) == quote && peek(2) == quote))) {
      pos += triple ? 3 : 1;
      break;
    }
    if (c == '\n') {
      if (!triple)
        return fail(loc, "unterminated string literal");
      value += c;
      ++pos;
      newline();
      continue;
    }
    if (c == '\\' && !atEnd()) {
      char n = peek(1);
      if (n == '\n') { // line continuation inside a string
        pos += 2;
        newline();
        if (raw)
          value += "\\\n";
        continue;
      }
      if (raw) {
        value += c;
        value += n;
        pos += 2;
        continue;
      }
      pos += 2;
      switch (n) {
      case 'n': value += '\n'; break;
      case 't': value += '\t'; break;
      case 'r': value += '\r'; break;
      case '0': value += '\0'; break;
      case '\\': value += '\\'; break;
      case '\'': value += '\''; break;
      case '"': value += '"'; break;
      case 'x':
        if (llvm::isHexDigit(peek()) && llvm::isHexDigit(peek(1))) {
          value += static_cast<char>(llvm::hexFromNibbles(peek(), peek(1)));
          pos += 2;
          break;
        }
        return fail(loc, "invalid \\x escape in string literal");
      default:
        value += '\\';
        value += n;
      }
      continue;
    }
    value += c;
    ++pos;
  }
  push(Token::Kind::String, std::move(value), loc);
  tokens.back().hostOnly = std::move(hostOnly);
  return true;
}

bool Lexer::lexToken() {
  char c = peek();
  SourceLoc loc = here();
  if (llvm::isAlpha(c) || c == '_') {
    size_t start = pos;
    while (llvm::isAlnum(peek()) || peek() == '_')
      ++pos;
    llvm::StringRef word = text.slice(start, pos);
    if ((peek() == '\'' || peek() == '"') && word.size() <= 2 &&
        llvm::all_of(word.lower(), [](char ch) {
          return ch == 'r' || ch == 'b' || ch == 'f' || ch == 'u';
        }))
      return lexString(loc, word);
    push(Token::Kind::Name, word.str(), loc);
    return true;
  }
  if (llvm::isDigit(c) || (c == '.' && llvm::isDigit(peek(1))))
    return lexNumber();
  if (c == '\'' || c == '"')
    return lexString(loc, "");
  for (const char *op : kOperators) {
    if (!text.substr(pos).starts_with(op))
      continue;
    llvm::StringRef spelling(op);
    if (spelling == ":=")
      return fail(loc, "assignment expressions (:=) are not supported in Tessel kernels");
    pos += spelling.size();
    if (spelling == "(" || spelling == "[" || spelling == "{") {
      ++depth;
      openBrackets.push_back({loc, spelling[0]});
    } else if (spelling == ")" || spelling == "]" || spelling == "}") {
      static const char *const kOpener[] = {"(", "[", "{"};
      size_t which = spelling == ")" ? 0 : spelling == "]" ? 1 : 2;
      if (depth == 0)
        return fail(loc, "unmatched '" + spelling + "'");
      if (openBrackets.back().second != kOpener[which][0])
        return fail(loc, "closing '" + spelling + "' does not match '" +
                             std::string(1, openBrackets.back().second) + "'");
      --depth;
      openBrackets.pop_back();
    }
    push(Token::Kind::Op, spelling.str(), loc);
    return true;
  }
  if (static_cast<unsigned char>(c) >= 0x80)
    return fail(loc, "unexpected non-ASCII character outside a string");
  return fail(loc, llvm::Twine("unexpected character '") +
                       (llvm::isPrint(c) ? std::string(1, c)
                                         : "\\x" + llvm::utohexstr(
                                                       static_cast<unsigned char>(c))) +
                       "'");
}

bool Lexer::run() {
  bool lineBegins = true;
  while (true) {
    if (lineBegins && depth == 0) {
      bool skip = false;
      if (!lineStartIndentation(skip))
        return false;
      lineBegins = false;
      (void)skip;
    }
    if (atEnd())
      break;
    char c = peek();
    if (c == ' ' || c == '\t' || c == '\f') {
      ++pos;
      continue;
    }
    if (c == '#') {
      while (!atEnd() && peek() != '\n')
        ++pos;
      continue;
    }
    if (c == '\\') {
      size_t after = pos + 1;
      if (after < text.size() && text[after] == '\r')
        ++after;
      if (after < text.size() && text[after] == '\n') {
        pos = after + 1;
        newline();
        continue;
      }
      if (after >= text.size())
        return fail(here(), "unexpected end of file after line continuation");
      return fail(here(), "unexpected character after line continuation");
    }
    if (c == '\r') {
      ++pos;
      continue;
    }
    if (c == '\n') {
      ++pos;
      if (depth == 0 && !tokens.empty() &&
          tokens.back().kind != Token::Kind::Newline &&
          tokens.back().kind != Token::Kind::Indent &&
          tokens.back().kind != Token::Kind::Dedent)
        push(Token::Kind::Newline, "",
             SourceLoc{line, static_cast<unsigned>(pos - lineStart), fileId});
      newline();
      // Inside brackets a newline only joins lines.
      lineBegins = depth == 0;
      continue;
    }
    if (c == '\0')
      return fail(here(), "unexpected NUL character");
    if (!lexToken())
      return false;
  }
  if (depth > 0)
    return fail(openBrackets.back().first,
                "'" + std::string(1, openBrackets.back().second) +
                    "' was never closed");
  SourceLoc end = here();
  if (!tokens.empty() && tokens.back().kind != Token::Kind::Newline &&
      tokens.back().kind != Token::Kind::Dedent)
    push(Token::Kind::Newline, "", end);
  while (indents.size() > 1) {
    indents.pop_back();
    push(Token::Kind::Dedent, "", end);
  }
  push(Token::Kind::End, "", end);
  return true;
}

} // namespace

bool tessel::frontend::tokenize(const SourceFile &file, DiagnosticEngine &diags,
                                std::vector<Token> &tokens) {
  tokens.clear();
  return Lexer(file, diags, tokens).run();
}
