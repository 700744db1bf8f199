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
#include <limits>
#include <optional>

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
                  "the frontend), cpu-llvm (the LLVM IR the CPU backend runs), "
                  "llvm (the NVPTX LLVM IR the PTX comes from), ptx, cubin (needs ptxas), fatbin (cubin + PTX, needs "
                  "fatbinary), manifest (NAME.json: signature, "
                  "grid, threads, shared memory, registers), header and "
                  "object (NAME.h and NAME.o: a C launcher, "
                  "tessel_NAME_load/launch/unload, embedding the fatbin, or "
                  "the cubin, or the PTX, whichever the toolkit allows; link "
                  "with libtessel_runtime), static-lib (libNAME.a holding "
                  "NAME.o)"),
         cl::value_desc("KINDS"), cl::init("tile"), cl::cat(tesselcCategory));

static cl::opt<std::string>
    target("target",
           cl::desc("GPU architecture for ptx/cubin/manifest (default sm_90a)"),
           cl::value_desc("ARCH"), cl::init("sm_90a"), cl::cat(tesselcCategory));

static cl::opt<bool>
    tmaFlag("tma",
            cl::desc("Load pipelined K-major tiles with TMA (cp.async.bulk.tensor "
                     "+ mbarriers); the kernel then takes TMA descriptors, listed "
                     "under tensor_maps in the manifest (default on; --tma=false "
                     "uses cp.async)"),
            cl::init(true), cl::cat(tesselcCategory));

static cl::opt<bool> warpSpecializeFlag(
    "warp-specialize",
    cl::desc("With TMA, feed pipelined loops from a producer warpgroup added "
             "after the kernel's threads, the kernel's threads consuming "
             "(mbarriers, setmaxnreg); default on, --warp-specialize=false "
             "keeps one role"),
    cl::init(true), cl::cat(tesselcCategory));

static cl::opt<bool> fastMathFlag(
    "fast-math",
    cl::desc("Approximate division and math functions on the GPU (div.approx; "
             "TileLang's TL_ENABLE_FAST_MATH); default off"),
    cl::init(false), cl::cat(tesselcCategory));

static cl::list<std::string> variantSets(
    "variant",
    cl::desc("Also compile the entry with these -D values (comma-separated, on "
             "top of the -D values every variant shares); repeat for each "
             "variant. With header/object/static-lib one header and one object "
             "hold every variant, each callable as tessel_ENTRY_SUFFIX_load/"
             "launch/unload (SUFFIX from the values, e.g. M1024); manifests "
             "are ENTRY_SUFFIX.json"),
    cl::value_desc("NAME=VALUE,..."), cl::cat(tesselcCategory));

static cl::opt<std::string> dispatchKey(
    "dispatch",
    cl::desc("With --variant: also tessel_ENTRY_dispatch_load/launch/unload, "
             "whose launch takes NAME's value first and runs the variant "
             "compiled for it (every --variant sets NAME to an integer)"),
    cl::value_desc("NAME"), cl::init(""), cl::cat(tesselcCategory));

static cl::list<int64_t> dispatchBounds(
    "dispatch-bounds",
    cl::desc("With --dispatch NAME naming a T.dynamic dimension: the variants "
             "serve ranges of it, the first NAME <= B1, the next NAME <= B2, "
             "..., the last the rest (one bound fewer than variants, "
             "increasing); the dispatcher's launch takes the variants' own "
             "arguments"),
    cl::value_desc("B1,B2,..."), cl::CommaSeparated, cl::cat(tesselcCategory));

static cl::opt<std::string>
    ptxasPath("ptxas",
              cl::desc("ptxas to assemble cubins with (default: $TESSEL_PTXAS, "
                       "the CUDA toolkit, then PATH)"),
              cl::value_desc("PATH"), cl::init(""), cl::cat(tesselcCategory));

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

static const char *const kEmitKinds[] = {"tile",   "cpu-llvm", "llvm",       "ptx",
                                         "cubin",  "fatbin",   "manifest",   "header",
                                         "object", "static-lib"};
static const char *const kTargets[] = {"sm_90a", "sm_90"};

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

/// Writes each artifact to its file under -o (or stdout without -o).
static int writeArtifacts(const std::vector<std::pair<std::string, std::string>> &artifacts) {
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

/// NAME.h, NAME.o or libNAME.a (`kind` header, object or static-lib).
static bool addLauncherArtifact(StringRef kind, const tessel::LauncherArtifacts &launcher,
                                std::vector<std::pair<std::string, std::string>> &artifacts) {
  if (kind == "header") {
    artifacts.emplace_back(launcher.header, entry + ".h");
    return true;
  }
  if (kind == "object") {
    artifacts.emplace_back(launcher.object, entry + ".o");
    return true;
  }
  std::string error;
  std::string archive = tessel::archiveOf(entry + ".o", launcher.object, error);
  if (archive.empty()) {
    WithColor::error(errs(), "tesselc") << "cannot write lib" << entry << ".a: " << error << "\n";
    return false;
  }
  artifacts.emplace_back(archive, "lib" + entry + ".a");
  return true;
}

/// A variant's name suffix: its values, letters and digits kept ("M1024").
static std::string variantSuffix(
    const std::vector<std::pair<std::string, std::string>> &defines) {
  std::string suffix;
  for (auto &[name, value] : defines) {
    if (!suffix.empty())
      suffix += "_";
    for (char c : name + value)
      if (isAlnum(c))
        suffix += c;
  }
  return suffix;
}

/// --variant: every variant compiled, then one header and one object (and
/// a manifest per variant).
static int compileVariants(const tessel::KernelRequest &base, ArrayRef<StringRef> kinds,
                           std::vector<std::pair<std::string, std::string>> &artifacts) {
  for (StringRef kind : kinds)
    if (!is_contained({"header", "object", "static-lib", "manifest"}, kind)) {
      WithColor::error(errs(), "tesselc")
          << "--variant works with --emit header, object, static-lib and manifest, "
             "not '" << kind << "'\n";
      return 1;
    }
  struct Compiled {
    tessel::KernelSignature signature;
    tessel::CUDAKernel kernel;
    std::string suffix;
    int64_t key = 0;
  };
  std::vector<std::unique_ptr<Compiled>> compiled;
  std::string ptxas = tessel::findPtxas(ptxasPath);
  for (const std::string &set : variantSets) {
    tessel::KernelRequest request = base;
    std::vector<std::pair<std::string, std::string>> own;
    SmallVector<StringRef> defines;
    StringRef(set).split(defines, ',', -1, /*KeepEmpty=*/false);
    for (StringRef define : defines)
      if (!parseDefine(define.trim(), own))
        return 1;
    for (auto &[name, value] : own) {
      for (auto &[shared, _] : request.args)
        if (shared == name) {
          WithColor::error(errs(), "tesselc")
              << "--variant '" << set << "' sets " << name << ", which -D already sets\n";
          return 1;
        }
      request.args.emplace_back(name, value);
    }
    auto c = std::make_unique<Compiled>();
    c->suffix = variantSuffix(own);
    if (!dispatchBounds.empty()) {
      // Ranges of a dynamic dimension: the i-th variant's key is its bound.
      size_t i = compiled.size();
      c->key = i < dispatchBounds.size() ? dispatchBounds[i]
                                         : std::numeric_limits<int64_t>::max();
    } else if (!dispatchKey.empty()) {
      auto it = llvm::find_if(own, [](auto &d) { return d.first == dispatchKey; });
      if (it == own.end() || StringRef(it->second).getAsInteger(0, c->key)) {
        WithColor::error(errs(), "tesselc")
            << "--dispatch " << dispatchKey << ": --variant '" << set
            << "' does not set it to an integer\n";
        return 1;
      }
      for (auto &other : compiled)
        if (other->key == c->key) {
          WithColor::error(errs(), "tesselc") << "--dispatch " << dispatchKey << ": two variants "
                                              << "are compiled for " << c->key << "\n";
          return 1;
        }
    }
    tessel::CompileResult result = tessel::compileKernelToTile(request, &c->signature);
    if (!result.ok) {
      errs() << result.diagnostics;
      return 1;
    }
    tessel::CUDAOptions options;
    options.arch = target;
    options.cubin = !ptxas.empty();
    options.fatbin = !ptxas.empty() && !tessel::findFatbinary(ptxas).empty() &&
                     !is_contained(kinds, "manifest");
    options.tma = tmaFlag;
    options.warpSpecialize = warpSpecializeFlag;
    options.fastMath = fastMathFlag;
    options.ptxas = ptxasPath;
    c->kernel = tessel::compileTileToCUDA(result.located, options);
    if (!c->kernel.ok) {
      errs() << c->kernel.diagnostics;
      return 1;
    }
    if (is_contained(kinds, "manifest"))
      artifacts.emplace_back(tessel::manifestJSON(c->kernel, c->signature, target,
                                                  tessel::sha256Hex(request.source)),
                             entry + "_" + c->suffix + ".json");
    compiled.push_back(std::move(c));
  }
  if (!is_contained(kinds, "header") && !is_contained(kinds, "object") &&
      !is_contained(kinds, "static-lib"))
    return 0;
  std::vector<tessel::LauncherVariant> variants;
  for (auto &c : compiled)
    variants.push_back({&c->kernel, &c->signature, entry + "_" + c->suffix, c->key});
  tessel::LauncherArtifacts launcher = tessel::buildDispatchLauncher(
      entry, variants, dispatchKey, target, /*ranges=*/!dispatchBounds.empty());
  if (!launcher.ok) {
    errs() << launcher.diagnostics;
    return 1;
  }
  for (StringRef kind : {"header", "object", "static-lib"})
    if (is_contained(kinds, kind) && !addLauncherArtifact(kind, launcher, artifacts))
      return 1;
  return 0;
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
          << "unknown --emit kind '" << kind
          << "' (known: tile, cpu-llvm, llvm, ptx, cubin, fatbin, manifest, header, "
             "object, static-lib)\n";
      return 1;
    }
  }
  for (StringRef binary : {"cubin", "fatbin", "object", "static-lib"})
    if (is_contained(kinds, binary) && outputDir.empty()) {
      WithColor::error(errs(), "tesselc")
          << "--emit " << binary << " writes a binary file: give -o DIR\n";
      return 1;
    }
  if (!is_contained(kTargets, StringRef(target))) {
    WithColor::error(errs(), "tesselc")
        << "unknown --target '" << target << "' (known: sm_90a, sm_90)\n";
    return 1;
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

  if (!dispatchKey.empty() && variantSets.empty()) {
    WithColor::error(errs(), "tesselc") << "--dispatch needs --variant sets to choose from\n";
    return 1;
  }
  if (!dispatchBounds.empty()) {
    if (dispatchKey.empty()) {
      WithColor::error(errs(), "tesselc")
          << "--dispatch-bounds needs --dispatch NAME (a T.dynamic dimension)\n";
      return 1;
    }
    if (dispatchBounds.size() + 1 != variantSets.size()) {
      WithColor::error(errs(), "tesselc")
          << "--dispatch-bounds gives " << dispatchBounds.size() << " bound(s) for "
          << variantSets.size() << " variant(s); it takes one fewer (the last variant "
          << "serves the rest)\n";
      return 1;
    }
    for (size_t i = 1; i < dispatchBounds.size(); ++i)
      if (dispatchBounds[i] <= dispatchBounds[i - 1]) {
        WithColor::error(errs(), "tesselc") << "--dispatch-bounds must increase: "
                                            << dispatchBounds[i - 1] << " then "
                                            << dispatchBounds[i] << "\n";
        return 1;
      }
  }
  std::vector<std::pair<std::string, std::string>> artifacts;
  if (!variantSets.empty()) {
    if (int rc = compileVariants(request, kinds, artifacts))
      return rc;
    return writeArtifacts(artifacts);
  }

  auto start = std::chrono::steady_clock::now();
  tessel::KernelSignature signature;
  tessel::CompileResult result = tessel::compileKernelToTile(request, &signature);
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
  std::optional<tessel::CUDAKernel> cuda;
  std::optional<tessel::LauncherArtifacts> launcher;
  bool wantsLauncher = is_contained(kinds, "header") || is_contained(kinds, "object") ||
                       is_contained(kinds, "static-lib");
  for (StringRef kind : kinds) {
    if (kind == "tile") {
      artifacts.emplace_back(result.output, entry + ".tile.mlir");
      continue;
    }
    if (kind != "cpu-llvm") {
      if (!cuda) {
        tessel::CUDAOptions options;
        options.arch = target;
        options.cubin = is_contained(kinds, "cubin") || is_contained(kinds, "manifest");
        options.fatbin = is_contained(kinds, "fatbin");
        options.llvmIR = is_contained(kinds, "llvm");
        if (wantsLauncher) {
          // The launcher embeds the best image the toolkit here can make.
          std::string ptxas = tessel::findPtxas(ptxasPath);
          options.cubin |= !ptxas.empty();
          options.fatbin |= !ptxas.empty() && !tessel::findFatbinary(ptxas).empty();
          if (ptxas.empty())
            WithColor::note(errs(), "tesselc")
                << "no ptxas found: the launcher embeds PTX, which the driver "
                   "compiles when the kernel is loaded\n";
        }
        options.tma = tmaFlag;
        options.warpSpecialize = warpSpecializeFlag;
        options.fastMath = fastMathFlag;
    options.fastMath = fastMathFlag;
        options.ptxas = ptxasPath;
        if (is_contained(kinds, "manifest") && !is_contained(kinds, "cubin") &&
            tessel::findPtxas(ptxasPath).empty())
          options.cubin = false; // registers stay unknown without ptxas
        cuda = tessel::compileTileToCUDA(result.located, options);
        if (!cuda->ok) {
          errs() << cuda->diagnostics;
          return 1;
        }
        if (debug.timing)
          for (auto &[stage, ms] : cuda->timings)
            errs() << "tesselc: " << stage << " " << format("%.2f", ms) << " ms\n";
      }
      if (kind == "ptx")
        artifacts.emplace_back(cuda->ptx, entry + ".ptx");
      else if (kind == "llvm")
        artifacts.emplace_back(cuda->llvmIR, entry + ".nvptx.ll");
      else if (kind == "cubin")
        artifacts.emplace_back(cuda->cubin, entry + ".cubin");
      else if (kind == "fatbin")
        artifacts.emplace_back(cuda->fatbin, entry + ".fatbin");
      else if (kind == "manifest")
        artifacts.emplace_back(
            tessel::manifestJSON(*cuda, signature, target, tessel::sha256Hex(request.source)),
            entry + ".json");
      else {
        if (!launcher) {
          launcher = tessel::buildLauncher(*cuda, signature, target);
          if (!launcher->ok) {
            errs() << launcher->diagnostics;
            return 1;
          }
        }
        if (!addLauncherArtifact(kind, *launcher, artifacts))
          return 1;
      }
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

  return writeArtifacts(artifacts);
}
