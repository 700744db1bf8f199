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

#include <string>

namespace {
#ifdef TESSEL_NO_CUDA_RUNTIME
// Built without lib/Runtime (TESSEL_ENABLE_CUDA_RUNTIME=OFF): compiling
// works, loading says there is no driver.
tessel_rt_status aotLoad(const char *, const void *, size_t, void *, void **) {
  return TESSEL_RT_NO_DRIVER;
}
tessel_rt_status aotLaunch(void *, void *, void *const *, int) {
  return TESSEL_RT_INVALID_ARGUMENT;
}
void aotUnload(void *) {}
bool driverRunsPTXOnly() { return false; }
#else
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
} // namespace

struct tessel_program {
  std::string log, ptx, cubin, manifest, descriptor, kernelName;
  int numArgs = 0;
  bool ok = false;
};

struct tessel_kernel {
  void *handle = nullptr;
};

extern "C" {

tessel_status tessel_compile(const char *source, const tessel_compile_options *options,
                             tessel_program **out) {
  if (!out)
    return TESSEL_INVALID_ARGUMENT;
  *out = nullptr;
  if (!source || !options || !options->entry || !*options->entry ||
      (options->num_defines > 0 && !options->defines) || options->num_defines < 0)
    return TESSEL_INVALID_ARGUMENT;
  auto program = new tessel_program;
  *out = program;
  tessel::KernelRequest request;
  request.source = source;
  request.file = options->filename && *options->filename ? options->filename : "<source>";
  request.entry = options->entry;
  for (int i = 0; i < options->num_defines; ++i) {
    std::string define = options->defines[i] ? options->defines[i] : "";
    size_t eq = define.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == define.size()) {
      program->log = "error: bad define '" + define + "': expected NAME=VALUE\n";
      return TESSEL_COMPILE_ERROR;
    }
    request.args.emplace_back(define.substr(0, eq), define.substr(eq + 1));
  }
  std::string arch = options->target && *options->target ? options->target : "sm_90a";
  if (arch != "sm_90a" && arch != "sm_90") {
    program->log = "error: unknown target '" + arch + "' (known: sm_90a, sm_90)\n";
    return TESSEL_COMPILE_ERROR;
  }
  tessel::KernelSignature signature;
  tessel::CompileResult tile = tessel::compileKernelToTile(request, &signature);
  if (!tile.ok) {
    program->log = tile.diagnostics;
    return TESSEL_COMPILE_ERROR;
  }
  tessel::CUDAOptions cuda;
  cuda.arch = arch;
  cuda.cubin = !tessel::findPtxas().empty();
  tessel::CUDAKernel kernel = tessel::compileTileToCUDA(tile.located, cuda);
  if (!kernel.ok) {
    program->log = kernel.diagnostics;
    return TESSEL_COMPILE_ERROR;
  }
  tessel::LauncherArtifacts launcher = tessel::buildLauncher(kernel, signature, arch);
  if (!launcher.ok) {
    program->log = launcher.diagnostics;
    return TESSEL_COMPILE_ERROR;
  }
  program->ptx = kernel.ptx;
  program->cubin = kernel.cubin;
  program->manifest = tessel::manifestJSON(kernel, signature, arch, tessel::sha256Hex(source));
  program->descriptor = launcher.descriptor;
  program->kernelName = kernel.name;
  program->numArgs = int(signature.params.size());
  program->ok = true;
  return TESSEL_SUCCESS;
}

const char *tessel_program_log(const tessel_program *program) {
  return program ? program->log.c_str() : "";
}

const char *tessel_program_ptx(const tessel_program *program) {
  return program && program->ok ? program->ptx.c_str() : nullptr;
}

const void *tessel_program_cubin(const tessel_program *program, size_t *size) {
  if (size)
    *size = 0;
  if (!program || program->cubin.empty())
    return nullptr;
  if (size)
    *size = program->cubin.size();
  return program->cubin.data();
}

const char *tessel_program_manifest(const tessel_program *program) {
  return program && program->ok ? program->manifest.c_str() : nullptr;
}

const char *tessel_program_kernel_name(const tessel_program *program) {
  return program && program->ok ? program->kernelName.c_str() : nullptr;
}

int tessel_program_num_args(const tessel_program *program) {
  return program && program->ok ? program->numArgs : -1;
}

void tessel_program_destroy(tessel_program *program) { delete program; }

tessel_status tessel_program_load(const tessel_program *program, CUcontext ctx,
                                  tessel_kernel **out) {
  if (!out)
    return TESSEL_INVALID_ARGUMENT;
  *out = nullptr;
  if (!program || !program->ok)
    return TESSEL_INVALID_ARGUMENT;
  const std::string &image =
      program->cubin.empty() || driverRunsPTXOnly() ? program->ptx : program->cubin;
  void *handle = nullptr;
  auto status = tessel_status(aotLoad(program->descriptor.c_str(), image.data(),
                                              image.size(), ctx, &handle));
  if (status != TESSEL_SUCCESS)
    return status;
  *out = new tessel_kernel{handle};
  return TESSEL_SUCCESS;
}

tessel_status tessel_kernel_launch(tessel_kernel *kernel, CUstream stream,
                                   void *const *args, int num_args) {
  return tessel_status(
      aotLaunch(kernel ? kernel->handle : nullptr, stream, args, num_args));
}

void tessel_kernel_unload(tessel_kernel *kernel) {
  if (!kernel)
    return;
  aotUnload(kernel->handle);
  delete kernel;
}

} // extern "C"
