//===- Diagnostics.cpp - located errors of the kernel frontend ------------===//

#include "lib/Frontend/Diagnostics.h"

#include <algorithm>

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
    // A very long line (generated code, a fuzzer's input) is shown as a
    // window around the column, marked with "..." where it was cut.
    constexpr size_t kWindow = 160;
    size_t column = e.loc.col ? e.loc.col - 1 : 0;
    size_t begin = 0, end = line.size();
    if (line.size() > kWindow) {
      begin = column > kWindow / 2 ? std::min(column - kWindow / 2, line.size()) : 0;
      end = std::min(line.size(), begin + kWindow);
    }
    llvm::StringRef prefix = begin ? "..." : "", suffix = end < line.size() ? "..." : "";
    os << prefix << line.slice(begin, end) << suffix << "\n";
    // Keep tabs so that the caret lines up under them.
    os.indent(prefix.size());
    for (size_t i = begin; i < column && i < end; ++i)
      os << (line[i] == '\t' ? '\t' : ' ');
    os << "^\n";
  }
  return out;
}
