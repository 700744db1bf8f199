//===- Diagnostics.h - located errors of the kernel frontend -----*- C++ -*-===//

#ifndef TESSEL_LIB_FRONTEND_DIAGNOSTICS_H
#define TESSEL_LIB_FRONTEND_DIAGNOSTICS_H

#include "llvm/ADT/StringRef.h"
#include "llvm/ADT/Twine.h"

#include <string>
#include <vector>

namespace tessel::frontend {

/// A position in the text being parsed: 1-based line and column of the text
/// (not of the file; SourceFile maps between the two).
struct SourceLoc {
  unsigned line = 0, col = 0;
  /// Which text: the kernel's own (0), or a helper's handed over separately.
  unsigned file = 0;
  bool isValid() const { return line != 0; }
};

/// The text being compiled and where it came from: `text` may be a function
/// cut out of `path`, starting at line `firstLine` of that file.
struct SourceFile {
  std::string path;
  std::string text;
  int firstLine = 1;
  /// Index of this text among those a DiagnosticEngine knows.
  unsigned id = 0;

  /// The line of the text at `loc` (without its newline).
  llvm::StringRef lineText(unsigned line) const;
  unsigned fileLine(SourceLoc loc) const { return loc.line + firstLine - 1; }
};

/// Collects the frontend's errors. The frontend stops at the first one, so
/// a user sees one message per run, located and with the source line.
class DiagnosticEngine {
public:
  explicit DiagnosticEngine(const SourceFile &file) : files{&file} {}

  /// Registers another text (a helper function's source); sets its id.
  void addFile(SourceFile &other) {
    other.id = files.size();
    files.push_back(&other);
  }
  const SourceFile &fileOf(SourceLoc loc) const {
    return *files[loc.file < files.size() ? loc.file : 0];
  }

  /// Records an error at `loc`; later errors are dropped (they would be
  /// consequences of the first).
  void error(SourceLoc loc, const llvm::Twine &message);
  /// Adds a note to the error, pointing somewhere else in the text.
  void note(SourceLoc loc, const llvm::Twine &message);

  bool hadError() const { return !entries.empty(); }
  /// The first error's message, without its location ("" when none).
  std::string firstMessage() const {
    return entries.empty() ? std::string() : entries.front().message;
  }
  /// `path:line:col: error: message`, the source line, a caret; notes after.
  std::string render() const;

private:
  struct Entry {
    SourceLoc loc;
    std::string message;
    bool isNote;
  };
  std::vector<const SourceFile *> files;
  std::vector<Entry> entries;
};

} // namespace tessel::frontend

#endif // TESSEL_LIB_FRONTEND_DIAGNOSTICS_H
