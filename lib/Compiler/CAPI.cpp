//===- CAPI.cpp - include/tessel/tessel.h over the C++ facade --------------===//
//
// The C API compiles with the same calls tesselc makes (frontend, CUDA
// lowering, ptxas when present) and loads and launches through the runtime's
// ahead-of-time entry points, with the descriptor a generated launcher
// would embed.
//
//===----------------------------------------------------------------------===//

#include "tessel/tessel.h"
#include "tessel/Compiler.h"
#include "tessel/runtime.h"
#include "lib/Runtime/HandleRegistry.h"

#include <memory>

#include <string>

namespace {
#ifdef TESSEL_NO_CUDA_RUNTIME
// Built without lib/Runtime (TESSEL_ENABLE_CUDA_RUNTIME=OFF): compiling
// works, loading says there is no driver.
thread_local std::string lastError;
void setLastError(const std::string &message) { lastError = message; }
tessel_rt_status aotLoad(const char *, const void *, size_t, void *, void **) {
  setLastError("this libtessel was built without the CUDA runtime");
  return TESSEL_RT_NO_DRIVER;
}
tessel_rt_status aotLaunch(void *, void *, void *const *, int) {
  setLastError("this libtessel was built without the CUDA runtime");
  return TESSEL_RT_INVALID_ARGUMENT;
}
void aotUnload(void *) {}
bool driverRunsPTXOnly() { return false; }
#else
void setLastError(const std::string &message) { tessel_rt_set_last_error(message.c_str()); }
tessel_rt_status aotLoad(const char *descriptor, const void *image, size_t size,
                         void *ctx, void **out) {
  return tessel_aot_load(descriptor, image, size, ctx, out);
}
tessel_rt_status aotLaunch(void *handle, void *stream, void *const *args, int count) {
  return tessel_aot_launch(handle, stream, args, count);
}
void aotUnload(void *handle) { tessel_aot_unload(handle); }
/// Tessel's emulator (TESSEL_CUDA_DRIVER=emu) runs PTX, not cubins.
bool driverRunsPTXOnly() { return tessel_rt_driver_is_emulator() != 0; }
#endif

/// A failure the caller reads in tessel_last_error().
tessel_status failWith(tessel_status status, const std::string &message) {
  setLastError(message);
  return status;
}
} // namespace

struct tessel_program {
  std::string log, ptx, cubin, manifest, descriptor, kernelName;
  int numArgs = 0;
  bool ok = false;
};

struct tessel_kernel {
  void *handle = nullptr;
};

namespace {
/// The programs and kernels given out and not yet destroyed or unloaded:
/// every entry point checks its handle here before reading it.
tessel::rt::HandleRegistry<tessel_program> &livePrograms() {
  static auto *registry = new tessel::rt::HandleRegistry<tessel_program>;
  return *registry;
}
tessel::rt::HandleRegistry<tessel_kernel> &liveKernels() {
  static auto *registry = new tessel::rt::HandleRegistry<tessel_kernel>;
  return *registry;
}
const tessel_program *liveProgram(const tessel_program *program, const char *entry) {
  if (!program) {
    setLastError(std::string(entry) + ": the program is NULL");
    return nullptr;
  }
  if (!livePrograms().contains(program)) {
    setLastError(std::string(entry) + ": not a live program from tessel_compile "
                                      "(destroyed already, or never compiled)");
    return nullptr;
  }
  return program;
}

tessel_status compile(const char *source, const tessel_compile_options *options,
                      tessel_program **out) {
  if (!out)
    return failWith(TESSEL_INVALID_ARGUMENT, "tessel_compile: out is NULL");
  *out = nullptr;
  if (!source)
    return failWith(TESSEL_INVALID_ARGUMENT, "tessel_compile: source is NULL");
  if (!options)
    return failWith(TESSEL_INVALID_ARGUMENT, "tessel_compile: options is NULL");
  if (!options->entry || !*options->entry)
    return failWith(TESSEL_INVALID_ARGUMENT,
                    "tessel_compile: options->entry must name the kernel to compile");
  if (options->num_defines < 0 || (options->num_defines > 0 && !options->defines))
    return failWith(TESSEL_INVALID_ARGUMENT,
                    "tessel_compile: options->defines must hold num_defines strings");
  auto program = std::make_unique<tessel_program>();
  auto compileError = [&](std::string log) {
    program->log = std::move(log);
    setLastError(program->log);
    livePrograms().add(program.get());
    *out = program.release();
    return TESSEL_COMPILE_ERROR;
  };
  tessel::KernelRequest request;
  request.source = source;
  request.file = options->filename && *options->filename ? options->filename : "<source>";
  request.entry = options->entry;
  for (int i = 0; i < options->num_defines; ++i) {
    std::string define = options->defines[i] ? options->defines[i] : "";
    size_t eq = define.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == define.size())
      return compileError("error: bad define '" + define + "': expected NAME=VALUE\n");
    request.args.emplace_back(define.substr(0, eq), define.substr(eq + 1));
  }
  std::string arch = options->target && *options->target ? options->target : "sm_90a";
  if (arch != "sm_90a" && arch != "sm_90")
    return compileError("error: unknown target '" + arch + "' (known: sm_90a, sm_90)\n");
  tessel::KernelSignature signature;
  tessel::CompileResult tile = tessel::compileKernelToTile(request, &signature);
  if (!tile.ok)
    return compileError(tile.diagnostics);
  tessel::CUDAOptions cuda;
  cuda.arch = arch;
  cuda.cubin = !tessel::findPtxas().empty();
  tessel::CUDAKernel kernel = tessel::compileTileToCUDA(tile.located, cuda);
  if (!kernel.ok)
    return compileError(kernel.diagnostics);
  tessel::LauncherArtifacts launcher = tessel::buildLauncher(kernel, signature, arch);
  if (!launcher.ok)
    return compileError(launcher.diagnostics);
  program->ptx = kernel.ptx;
  program->cubin = kernel.cubin;
  program->manifest = tessel::manifestJSON(kernel, signature, arch, tessel::sha256Hex(source));
  program->descriptor = launcher.descriptor;
  program->kernelName = kernel.name;
  program->numArgs = int(signature.params.size());
  program->ok = true;
  livePrograms().add(program.get());
  *out = program.release();
  return TESSEL_SUCCESS;
}

/// Runs an entry point; nothing it throws crosses the C ABI.
template <typename F>
tessel_status guarded(const char *entry, F &&body) {
  try {
    return body();
  } catch (const std::exception &e) {
    return failWith(TESSEL_INVALID_ARGUMENT, std::string(entry) + ": " + e.what());
  } catch (...) {
    return failWith(TESSEL_INVALID_ARGUMENT, std::string(entry) + ": unexpected failure");
  }
}
} // namespace

extern "C" {

#ifdef TESSEL_NO_CUDA_RUNTIME
// Without lib/Runtime, which defines them for every Tessel header.
const char *tessel_last_error(void) { return lastError.c_str(); }
const char *tessel_status_string(tessel_status status) {
  switch (status) {
  case TESSEL_SUCCESS: return "success";
  case TESSEL_COMPILE_ERROR: return "the kernel did not compile";
  case TESSEL_INVALID_ARGUMENT: return "invalid argument";
  default: return "no CUDA driver found";
  }
}
#endif

tessel_status tessel_compile(const char *source, const tessel_compile_options *options,
                             tessel_program **out) {
  return guarded("tessel_compile", [&] { return compile(source, options, out); });
}

const char *tessel_program_log(const tessel_program *program) {
  program = liveProgram(program, "tessel_program_log");
  return program ? program->log.c_str() : "";
}

const char *tessel_program_ptx(const tessel_program *program) {
  program = liveProgram(program, "tessel_program_ptx");
  return program && program->ok ? program->ptx.c_str() : nullptr;
}

const void *tessel_program_cubin(const tessel_program *program, size_t *size) {
  if (size)
    *size = 0;
  program = liveProgram(program, "tessel_program_cubin");
  if (!program || program->cubin.empty())
    return nullptr;
  if (size)
    *size = program->cubin.size();
  return program->cubin.data();
}

const char *tessel_program_manifest(const tessel_program *program) {
  program = liveProgram(program, "tessel_program_manifest");
  return program && program->ok ? program->manifest.c_str() : nullptr;
}

const char *tessel_program_kernel_name(const tessel_program *program) {
  program = liveProgram(program, "tessel_program_kernel_name");
  return program && program->ok ? program->kernelName.c_str() : nullptr;
}

int tessel_program_num_args(const tessel_program *program) {
  program = liveProgram(program, "tessel_program_num_args");
  return program && program->ok ? program->numArgs : -1;
}

void tessel_program_destroy(tessel_program *program) {
  if (!program)
    return;
  if (!livePrograms().remove(program)) {
    setLastError("tessel_program_destroy: not a live program (destroyed already, or never "
                 "compiled); nothing was freed");
    return;
  }
  delete program;
}

tessel_status tessel_program_load(const tessel_program *program, CUcontext ctx,
                                  tessel_kernel **out) {
  return guarded("tessel_program_load", [&]() -> tessel_status {
    if (!out)
      return failWith(TESSEL_INVALID_ARGUMENT, "tessel_program_load: out is NULL");
    *out = nullptr;
    if (!liveProgram(program, "tessel_program_load"))
      return TESSEL_INVALID_ARGUMENT;
    if (!program->ok)
      return failWith(TESSEL_INVALID_ARGUMENT,
                      "tessel_program_load: the program did not compile (see its log)");
    const std::string &image =
        program->cubin.empty() || driverRunsPTXOnly() ? program->ptx : program->cubin;
    void *handle = nullptr;
    auto status = tessel_status(aotLoad(program->descriptor.c_str(), image.data(),
                                        image.size(), ctx, &handle));
    if (status != TESSEL_SUCCESS)
      return status;
    auto kernel = std::make_unique<tessel_kernel>();
    kernel->handle = handle;
    liveKernels().add(kernel.get());
    *out = kernel.release();
    return TESSEL_SUCCESS;
  });
}

tessel_status tessel_kernel_launch(tessel_kernel *kernel, CUstream stream,
                                   void *const *args, int num_args) {
  return guarded("tessel_kernel_launch", [&]() -> tessel_status {
    if (!kernel)
      return failWith(TESSEL_INVALID_ARGUMENT, "tessel_kernel_launch: the kernel is NULL");
    auto held = liveKernels().hold(kernel); // until the launch returns
    if (!held)
      return failWith(TESSEL_INVALID_ARGUMENT,
                      "tessel_kernel_launch: not a live kernel from tessel_program_load "
                      "(unloaded already, or never loaded)");
    return tessel_status(aotLaunch(kernel->handle, stream, args, num_args));
  });
}

void tessel_kernel_unload(tessel_kernel *kernel) {
  if (!kernel)
    return;
  if (!liveKernels().remove(kernel)) {
    setLastError("tessel_kernel_unload: not a live kernel (unloaded already, or never "
                 "loaded); nothing was freed");
    return;
  }
  aotUnload(kernel->handle);
  delete kernel;
}

} // extern "C"
