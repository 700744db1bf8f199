//===- tesselc.cpp - the Tessel compiler driver ---------------------------===//
//
// Reads a kernel file written in Python syntax, calls the entry factory with
// the -D values, and emits the requested artifacts. No Python interpreter is
// involved.
//
//===----------------------------------------------------------------------===//

#include "tessel/Compiler.h"

#include "llvm/ADT/SmallVector.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/WithColor.h"
#include "llvm/Support/raw_ostream.h"

#include <chrono>

using namespace llvm;

static cl::OptionCategory tesselcCategory("tesselc options");

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("KERNEL.py"),
                                      cl::Required, cl::cat(tesselcCategory));

static cl::opt<std::string>
    entry("entry", cl::desc("Factory (or prim_func) to compile"),
          cl::value_desc("NAME"), cl::Required, cl::cat(tesselcCategory));

static cl::list<std::string>
    defines("D", cl::Prefix,
            cl::desc("Factory argument NAME=VALUE, VALUE a Python literal "
                     "(42, 1.5, 'x', (1, 2), True) or a dtype name (float16)"),
            cl::value_desc("NAME=VALUE"), cl::cat(tesselcCategory));

static cl::opt<std::string>
    emit("emit",
         cl::desc("Comma-separated artifacts to produce: tile (the IR after "
                  "the frontend), cpu-llvm (the LLVM IR the CPU backend runs)"),
         cl::value_desc("KINDS"), cl::init("tile"), cl::cat(tesselcCategory));

static cl::opt<bool> dumpIRAfterAll(
    "dump-ir-after-all",
    cl::desc("Print the IR after every pass, to stderr (also TESSEL_DUMP_IR=1)"),
    cl::init(false), cl::cat(tesselcCategory));

static cl::opt<bool>
    timing("timing",
           cl::desc("Report the time of the frontend and of every pass "
                    "(also TESSEL_TIMING=1)"),
           cl::init(false), cl::cat(tesselcCategory));

static cl::opt<std::string>
    outputDir("o",
              cl::desc("Directory for the artifacts (default: print to stdout)"),
              cl::value_desc("DIR"), cl::init(""), cl::cat(tesselcCategory));

static const char *const kEmitKinds[] = {"tile", "cpu-llvm"};

/// Splits "NAME=VALUE"; reports a malformed define.
static bool parseDefine(StringRef define,
                        std::vector<std::pair<std::string, std::string>> &args) {
  auto [name, value] = define.split('=');
  bool validName = !name.empty() && (isAlpha(name[0]) || name[0] == '_') &&
                   all_of(name, [](char c) { return isAlnum(c) || c == '_'; });
  if (!define.contains('=') || !validName || value.trim().empty()) {
    WithColor::error(errs(), "tesselc")
        << "bad -D '" << define << "': expected NAME=VALUE\n";
    return false;
  }
  for (auto &[existing, _] : args) {
    if (existing == name) {
      WithColor::error(errs(), "tesselc")
          << "-D " << name << " is given twice\n";
      return false;
    }
  }
  args.emplace_back(name.str(), value.trim().str());
  return true;
}

int main(int argc, char **argv) {
  InitLLVM y(argc, argv);
  cl::HideUnrelatedOptions(tesselcCategory);
  cl::SetVersionPrinter([](raw_ostream &os) {
    os << "tesselc (Tessel) " << tessel::version() << "\n";
  });
  cl::ParseCommandLineOptions(
      argc, argv,
      "Tessel kernel compiler\n\n"
      "  tesselc KERNEL.py --entry matmul -D M=1024 -D N=1024 -D K=1024 --emit tile\n");

  SmallVector<StringRef> kinds;
  StringRef(emit).split(kinds, ',', -1, /*KeepEmpty=*/false);
  for (StringRef kind : kinds) {
    if (!is_contained(kEmitKinds, kind)) {
      WithColor::error(errs(), "tesselc")
          << "unknown --emit kind '" << kind << "' (known: tile, cpu-llvm)\n";
      return 1;
    }
  }

  tessel::KernelRequest request;
  for (const std::string &define : defines)
    if (!parseDefine(define, request.args))
      return 1;

  ErrorOr<std::unique_ptr<MemoryBuffer>> file =
      MemoryBuffer::getFile(inputFile, /*IsText=*/true);
  if (!file) {
    WithColor::error(errs(), "tesselc") << "cannot read '" << inputFile
                                        << "': " << file.getError().message()
                                        << "\n";
    return 1;
  }
  request.source = (*file)->getBuffer().str();
  request.file = inputFile;
  request.entry = entry;

  tessel::DebugOptions debug = tessel::getDebugOptions();
  debug.dumpIRAfterAll |= dumpIRAfterAll;
  debug.timing |= timing;
  tessel::setDebugOptions(debug);

  auto start = std::chrono::steady_clock::now();
  tessel::CompileResult result = tessel::compileKernelToTile(request);
  if (debug.timing)
    errs() << "tesselc: frontend " << format("%.2f", std::chrono::duration<double, std::milli>(
                                                       std::chrono::steady_clock::now() - start)
                                                       .count())
           << " ms\n";
  if (!result.ok) {
    errs() << result.diagnostics;
    return 1;
  }

  // Each artifact: its text and the file it goes to under -o.
  std::vector<std::pair<std::string, std::string>> artifacts;
  for (StringRef kind : kinds) {
    if (kind == "tile") {
      artifacts.emplace_back(result.output, entry + ".tile.mlir");
      continue;
    }
    std::string diagnostics;
    std::unique_ptr<tessel::CPUModule> module =
        tessel::CPUModule::compile(result.output, diagnostics);
    if (!module) {
      errs() << diagnostics;
      return 1;
    }
    artifacts.emplace_back(module->llvmIR(), entry + ".cpu.ll");
  }

  if (outputDir.empty()) {
    for (auto &[text, name] : artifacts)
      outs() << text;
    return 0;
  }
  if (std::error_code ec = sys::fs::create_directories(outputDir)) {
    WithColor::error(errs(), "tesselc")
        << "cannot create '" << outputDir << "': " << ec.message() << "\n";
    return 1;
  }
  for (auto &[text, name] : artifacts) {
    SmallString<256> path(outputDir);
    sys::path::append(path, name);
    std::error_code ec;
    raw_fd_ostream out(path, ec);
    if (ec) {
      WithColor::error(errs(), "tesselc")
          << "cannot write '" << path << "': " << ec.message() << "\n";
      return 1;
    }
    out << text;
  }
  return 0;
}
