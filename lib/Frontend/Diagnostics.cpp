//===- Diagnostics.cpp - located errors of the kernel frontend ------------===//

#include "lib/Frontend/Diagnostics.h"

#include "llvm/Support/raw_ostream.h"

using namespace tessel::frontend;

llvm::StringRef SourceFile::lineText(unsigned line) const {
  llvm::StringRef rest(text);
  for (unsigned i = 1; i < line && !rest.empty(); ++i)
    rest = rest.split('\n').second;
  return rest.split('\n').first.rtrim('\r');
}

void DiagnosticEngine::error(SourceLoc loc, const llvm::Twine &message) {
  if (hadError())
    return;
  entries.push_back({loc, message.str(), false});
}

void DiagnosticEngine::note(SourceLoc loc, const llvm::Twine &message) {
  if (hadError())
    entries.push_back({loc, message.str(), true});
}

std::string DiagnosticEngine::render() const {
  std::string out;
  llvm::raw_string_ostream os(out);
  for (const Entry &e : entries) {
    const SourceFile &file = fileOf(e.loc);
    os << file.path << ":" << file.fileLine(e.loc) << ":" << e.loc.col << ": "
       << (e.isNote ? "note: " : "error: ") << e.message << "\n";
    if (!e.loc.isValid())
      continue;
    llvm::StringRef line = file.lineText(e.loc.line);
    os << line << "\n";
    // Keep tabs so that the caret lines up under them.
    for (unsigned i = 1; i < e.loc.col && i <= line.size(); ++i)
      os << (line[i - 1] == '\t' ? '\t' : ' ');
    os << "^\n";
  }
  return out;
}
