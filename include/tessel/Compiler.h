/*===- Compiler.h - Tessel's C++ compiler facade ----------------*- C++ -*-===*/
/* The only compiler interface the Python extension and embedders see: no MLIR
 * or LLVM header is reachable from here, so a binding compiles in seconds. */

#ifndef TESSEL_COMPILER_H
#define TESSEL_COMPILER_H

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tessel {

/// Tessel's version, "MAJOR.MINOR.PATCH".
const char *version();

/// What identifies this build of the compiler for caches: the version,
/// LLVM's version, and the path, size and modification time of the binary
/// holding the compiler, so that a rebuild never meets an older build's
/// cached objects.
const std::string &buildIdentity();

/// Process-wide debugging switches for every pass pipeline Tessel runs, the
/// way mlir-opt's flags work. Also read from the environment at first use:
/// TESSEL_DUMP_IR=1 (IR after every pass, to stderr), TESSEL_TIMING=1.
struct DebugOptions {
  bool dumpIRAfterAll = false;
  bool timing = false;
};
void setDebugOptions(const DebugOptions &options);
DebugOptions getDebugOptions();

/// What a compiler call produced: the output text on success, the rendered
/// diagnostics (file:line:col: error: ...) on failure.
struct CompileResult {
  bool ok = false;
  std::string output;
  std::string diagnostics;
  /// For compileKernelToTile: the IR again with source locations, for the
  /// backends, so that their errors point at the kernel's lines.
  std::string located;
};

/// One parameter of a compiled kernel, as a caller must pass it.
struct KernelParam {
  std::string name;
  std::string dtype;            ///< "float16", "float8_e4m3", ...
  std::vector<int64_t> shape;   ///< -1 for a dynamic dimension; empty for scalars
  std::vector<std::string> dynamicNames; ///< per dim: T.dynamic name or ""
  bool isBuffer = true;
  /// The kernel may write this buffer (a copy, store or atomic into it).
  bool isWritten = false;
  /// Scratch memory the kernel's T.alloc_global asked for: not an input or
  /// an output; tessel.jit allocates it (zeroed), a C launcher's caller
  /// passes it.
  bool isWorkspace = false;
  /// Declared `T.Tensor(..., in_place=True)`: the kernel is written to work
  /// with this buffer sharing memory with other arguments, so the launch's
  /// aliasing check lets it through.
  bool inPlace = false;
};

/// A kernel's entry and parameters, next to its IR.
struct KernelSignature {
  std::string entry;
  std::vector<KernelParam> params;
  /// Parameters the kernel returns (the eager style's T.empty tensors), in
  /// the order it returns them.
  std::vector<int> outputs;
};

/// Parses and verifies tile-dialect IR, runs `pipeline` (mlir-opt syntax,
/// e.g. "builtin.module(canonicalize,tile-check-bounds)"; empty for none) and
/// returns the printed IR. `bufferName` names the text in diagnostics.
CompileResult runTileIR(std::string_view source, std::string_view pipeline,
                        std::string_view bufferName = "<input>");

/// A value the kernel text refers to by a free name, handed over from Python
/// (closure cells and globals) as text the frontend can read back.
struct KernelBinding {
  enum class Kind {
    Literal,     ///< `text` is a Python literal or a dtype name ("3", "(1, 2)", "float16")
    Module,      ///< `text` is a module path: "tessel", "tessel.language"
    Function,    ///< `text` is a function's source (a T.macro or T.prim_func)
    Unsupported, ///< `text` is the Python type name; using the name is an error
  };
  std::string name;
  Kind kind = Kind::Literal;
  std::string text;
  std::string file; ///< For Function: where its source comes from.
  int firstLine = 1;
};

/// One kernel to compile: source text, the factory (or prim_func) to call and
/// its arguments, and what the text's free names are bound to.
struct KernelRequest {
  std::string source;
  std::string file = "<kernel>";
  /// Line of `source`'s first line in `file` (source may be cut out of it).
  int firstLine = 1;
  std::string entry;
  /// Factory arguments by name, as Python literals (the `-D NAME=VALUE` form).
  std::vector<std::pair<std::string, std::string>> args;
  std::vector<KernelBinding> bindings;
  /// The eager style (a function that defines no prim_func is the kernel):
  /// its parameters that are tensors, and the values of its T.const names
  /// (Python literals), which the caller read off the tensors' shapes.
  bool eager = false;
  std::vector<std::string> tensorParams;
  std::vector<std::pair<std::string, std::string>> consts;
  /// The shapes of the tensors an eager kernel is called with: T.const
  /// names are read off them where the annotations use them.
  std::vector<std::pair<std::string, std::vector<int64_t>>> tensorShapes;
};

/// An argument handed to a CPU kernel: a buffer (element pointer, shape,
/// and strides in elements, row-major contiguous for numpy's C order), or a
/// scalar parameter's value (`scalar`: its bits in the low bytes of
/// `scalarBits`, as the parameter's type stores it).
struct BufferArg {
  void *data = nullptr;
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
  bool scalar = false;
  uint64_t scalarBits = 0;
};

/// A tile module compiled for the CPU backend by the LLVM JIT; run its
/// kernels as often as needed. Kernels run their blocks one after another.
class CPUModule {
public:
  /// Compiles verified tile IR; on failure returns null and fills
  /// `diagnostics`.
  static std::unique_ptr<CPUModule> compile(std::string_view tileIR,
                                            std::string &diagnostics);
  ~CPUModule();

  /// Runs function `entry` with one argument (buffer or scalar) per
  /// parameter. Returns false and fills `error` when the function does not
  /// exist or the arity differs.
  bool run(std::string_view entry, const std::vector<BufferArg> &args,
           std::string &error);

  /// The LLVM IR the JIT compiled.
  const std::string &llvmIR() const;

  /// True when the object came from the on-disk cache ($TESSEL_CACHE_DIR,
  /// else ~/.cache/tessel; "off" disables it).
  bool fromCache() const;

private:
  CPUModule();
  struct Impl;
  std::unique_ptr<Impl> impl;
};

/// Parses and evaluates the kernel and returns its tile-dialect IR as text.
/// On failure `diagnostics` holds one located error with the source line and
/// a caret.
CompileResult compileKernelToTile(const KernelRequest &request,
                                  KernelSignature *signature = nullptr);

/// What to build for an NVIDIA GPU.
struct CUDAOptions {
  std::string arch = "sm_90a";  ///< the chip PTX is generated for
  bool cubin = false;           ///< also assemble with ptxas
  bool tma = true;              ///< TMA loads in pipelined loops
  /// Approximate division and math functions (TileLang's
  /// TL_ENABLE_FAST_MATH; off by default, as there).
  bool fastMath = false;
  bool warpSpecialize = true;   ///< with tma: a producer warpgroup feeds
                                ///< pipelined loops (setmaxnreg, mbarriers)
  bool fatbin = false;          ///< also package cubin + PTX with fatbinary
                                ///< (implies cubin)
  std::string ptxas;            ///< ptxas to use; empty: $TESSEL_PTXAS, the
                                ///< CUDA toolkit, then PATH; fatbinary is
                                ///< looked for beside it
  bool llvmIR = false;          ///< also keep the LLVM IR the PTX comes from
  /// A prim_func with several T.Kernels (a split-KV decoder and its
  /// combine) is compiled one kernel at a time: this one (0-based, in
  /// program order; its entry is the function's name + "_" + the index).
  /// -1: the function must hold exactly one.
  int kernelIndex = -1;
};

/// A kernel compiled for an NVIDIA GPU, and what launching it needs.
struct CUDAKernel {
  bool ok = false;
  std::string diagnostics;
  std::string name;             ///< the PTX entry point
  /// The T.Kernels of the compiled function (set once the tile IR parsed,
  /// even when compilation fails later).
  int kernelCount = 0;
  std::string ptx;
  std::string llvmIR;           ///< the optimized NVPTX LLVM IR, when asked
  std::string cubin;            ///< empty unless requested
  std::string fatbin;           ///< empty unless requested
  std::string ptxasLog;         ///< ptxas -v output
  int registers = -1;           ///< from ptxas -v; -1 when not assembled
  int spillBytes = -1;          ///< spill stores + loads, from ptxas -v
  int grid[3] = {1, 1, 1};       ///< 0 where `gridExprs` gives the extent
  /// Per grid dimension, "" or the expression the launcher evaluates over
  /// the dynamic dimensions: integers, names, and add/sub/mul/floordiv/
  /// ceildiv/rem/min/max(x, y).
  std::vector<std::string> gridExprs;
  /// The T.dynamic dimensions the kernel takes as i64 after its declared
  /// parameters (and before the TMA descriptors), in order.
  std::vector<std::string> dynamicParams;
  int threads = 0;               ///< to launch with (producer included)
  /// Warp-specialized: registers per thread at launch, the producer's and
  /// the consumers' after setmaxnreg; empty otherwise.
  std::vector<int> registerSplit;
  int64_t sharedBytes = 0;      ///< dynamic shared memory per block
  std::vector<std::string> argNames;
  /// TMA descriptors the kernel takes after its tensors (with `tma`).
  struct TensorMap {
    int param = 0, tensor = 0;    ///< kernel parameter; tensor argument
    std::vector<int64_t> box;     ///< elements per dimension, row-major
    int64_t swizzle = 0;          ///< bytes: 32, 64 or 128
  };
  std::vector<TensorMap> tensorMaps;
  /// Wall time of each stage in milliseconds, in order: passes, LLVM
  /// (optimization and PTX), ptxas.
  std::vector<std::pair<std::string, double>> timings;
};

/// Compiles verified tile IR (one kernel) to PTX, and to a cubin when asked
/// and ptxas is found (if it is not, `cubin` stays empty and `ptxasLog`
/// says why).
CUDAKernel compileTileToCUDA(std::string_view tileIR, const CUDAOptions &options);

/// The ptxas Tessel would use, or "" when there is none.
std::string findPtxas(const std::string &preferred = "");

/// The fatbinary beside `ptxas` (or, failing that, on PATH), or "".
std::string findFatbinary(const std::string &ptxas);

/// NAME.json: the kernel's signature (names, dtypes, shapes, which tensors
/// it writes), grid, threads, shared memory, registers and spills (from
/// ptxas; -1 without), arch, compiler version, TMA descriptors, the
/// warp-specialized register split, and `sourceHash` when given.
std::string manifestJSON(const CUDAKernel &kernel, const KernelSignature &signature,
                         const std::string &arch, const std::string &sourceHash = "");

/// The SHA-256 of `text`, in hex.
std::string sha256Hex(std::string_view text);

/// What links a compiled kernel into a C or C++ program without Python.
struct LauncherArtifacts {
  bool ok = false;
  std::string diagnostics;
  std::string header;     ///< NAME.h: tessel_NAME_load/launch/unload
  std::string object;     ///< NAME.o for this machine: image + launcher
  std::string descriptor; ///< the kernel as the runtime reads it
};

/// NAME.h and NAME.o for `kernel` (compiled for `arch`); the object embeds
/// the fatbin when there is one, else the cubin, else the PTX, and calls
/// libtessel_runtime (tessel_aot_load/launch/unload).
LauncherArtifacts buildLauncher(const CUDAKernel &kernel,
                                const KernelSignature &signature,
                                const std::string &arch);

/// One compiled variant of an entry for buildDispatchLauncher: its kernel,
/// the name its entry points carry (tessel_SYMBOL_load...), and the value of
/// the dispatch key it was compiled for.
struct LauncherVariant {
  const CUDAKernel *kernel = nullptr;
  const KernelSignature *signature = nullptr;
  std::string symbol;
  int64_t key = 0;
};

/// One header and one object for several variants of `entry`: each
/// variant's own entry points, and tessel_ENTRY_dispatch_load/launch/unload,
/// whose launch takes the key's value first and runs the variant compiled
/// for it. With `ranges`, `keyName` is a dynamic dimension every variant
/// takes and each variant's key the largest value it serves (the last:
/// INT64_MAX); the dispatch launch takes the variants' own arguments and
/// chooses by the dimension's value among them.
LauncherArtifacts buildDispatchLauncher(const std::string &entry,
                                        const std::vector<LauncherVariant> &variants,
                                        const std::string &keyName, const std::string &arch,
                                        bool ranges = false);

/// An ar archive (libNAME.a) holding `object` as `memberName`; "" and
/// `error` set on failure.
std::string archiveOf(const std::string &memberName, const std::string &object,
                      std::string &error);

} // namespace tessel

#endif // TESSEL_COMPILER_H
