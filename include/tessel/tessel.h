/*===- tessel.h - compile and run Tessel kernels from C (libtessel) -------===*
 *
 * For engines that specialize kernels while they run: compile a kernel's
 * source text with its constants for a GPU architecture, read the PTX, the
 * cubin (when a CUDA toolkit's ptxas is installed) and the manifest, and
 * load and launch the kernel. No Python and no CUDA toolkit are needed: the
 * PTX goes to the driver's JIT when there is no ptxas. The conventions are
 * NVRTC's: a compile returns a status and a program whose log holds the
 * diagnostics, located in the source ("kernel.py:12:5: error: ...").
 *
 * Link libtessel and libtessel_runtime (CMake: Tessel::tessel and
 * Tessel::tessel_runtime). Every call returns a status; none exits.
 *===----------------------------------------------------------------------===*/

#ifndef TESSEL_TESSEL_H
#define TESSEL_TESSEL_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#ifndef CUDA_VERSION /* the driver API's handle types, as cuda.h has them */
typedef struct CUctx_st *CUcontext;
typedef struct CUstream_st *CUstream;
typedef unsigned long long CUdeviceptr;
#endif

#ifndef TESSEL_STATUS_DEFINED /* shared by every Tessel kernel header */
#define TESSEL_STATUS_DEFINED
typedef enum tessel_status {
  TESSEL_SUCCESS = 0,
  TESSEL_NO_DRIVER = 1,        /* libcuda.so.1 not found */
  TESSEL_NO_DEVICE = 2,        /* the driver sees no usable GPU */
  TESSEL_DRIVER_ERROR = 3,     /* a driver call failed */
  TESSEL_INVALID_ARGUMENT = 4, /* an argument failed its check */
  TESSEL_INVALID_IMAGE = 5,    /* the driver rejected the kernel */
  TESSEL_COMPILE_ERROR = 6     /* the kernel did not compile (C API) */
} tessel_status;
/* A fixed description of a status, e.g. "no CUDA driver found". */
const char *tessel_status_string(tessel_status status);
/* The calling thread's last failure in detail ("" if none). */
const char *tessel_last_error(void);
#endif

typedef struct tessel_compile_options {
  const char *entry;          /* the kernel factory (or prim_func) to compile */
  const char *const *defines; /* "NAME=VALUE" arguments of the factory */
  int num_defines;
  const char *target;         /* "sm_90a" (NULL: sm_90a) */
  const char *filename;       /* the source's name in messages (NULL: "<source>") */
} tessel_compile_options;

typedef struct tessel_program tessel_program;

/* Compiles `source` (the kernel's Python-syntax text). On success, and on
 * TESSEL_COMPILE_ERROR, *out is a program to destroy; its log holds the
 * diagnostics. Other statuses (a NULL argument) leave *out NULL. */
tessel_status tessel_compile(const char *source, const tessel_compile_options *options,
                             tessel_program **out);

/* The diagnostics ("" when there were none). */
const char *tessel_program_log(const tessel_program *program);
/* The PTX (NUL-terminated), NULL if the compile failed. */
const char *tessel_program_ptx(const tessel_program *program);
/* The cubin and its size, NULL when no ptxas was found. */
const void *tessel_program_cubin(const tessel_program *program, size_t *size);
/* The manifest (JSON): signature, grid, threads, shared memory, registers. */
const char *tessel_program_manifest(const tessel_program *program);
/* The kernel's name, and how many arguments a launch takes. */
const char *tessel_program_kernel_name(const tessel_program *program);
int tessel_program_num_args(const tessel_program *program);

void tessel_program_destroy(tessel_program *program);

typedef struct tessel_kernel tessel_kernel;

/* Loads the program's kernel (its cubin, else its PTX) into `ctx` (NULL:
 * the current context, or device 0's primary context). The kernel does not
 * refer to the program afterwards. */
tessel_status tessel_program_load(const tessel_program *program, CUcontext ctx,
                                  tessel_kernel **out);

/* Launches on `stream` with `num_args` arguments in the signature's order:
 * args[i] points to a CUdeviceptr for a tensor (contiguous, 16-byte
 * aligned), to the value for a scalar; then, for a kernel with T.dynamic
 * dimensions, one int64_t per dimension in the manifest's "dynamic_dims"
 * order (the grid is computed from them). */
tessel_status tessel_kernel_launch(tessel_kernel *kernel, CUstream stream,
                                   void *const *args, int num_args);

void tessel_kernel_unload(tessel_kernel *kernel);

#ifdef __cplusplus
}
#endif

#endif /* TESSEL_TESSEL_H */
