//===- Parser.cpp - parser of the kernel language (a Python subset) -------===//

#include "lib/Frontend/Parser.h"
#include "lib/Frontend/ParserImpl.h"

#include "llvm/ADT/StringSwitch.h"

using namespace tessel::frontend;
using namespace tessel::frontend::detail;

const char *tessel::frontend::detail::unsupportedKeyword(llvm::StringRef word) {
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
