/*===- runtime.h - Tessel's CUDA driver-API runtime (C ABI) --------------===*
 *
 * Loads compiled kernels (PTX through the driver's JIT, or cubin) and
 * launches them. The driver is opened with dlopen("libcuda.so.1") on first
 * use, so a program linking this starts on a machine without CUDA and gets
 * TESSEL_RT_NO_DRIVER instead of a loader failure. Nothing here exits the
 * process; every call returns a status, and tessel_rt_last_error() gives the
 * calling thread the detailed message of its last failure.
 *
 * The runtime has no dependency but the C++ standard library: it builds on
 * a GPU machine without LLVM (scripts/gpu-check.sh does that).
 *===----------------------------------------------------------------------===*/

#ifndef TESSEL_RUNTIME_H
#define TESSEL_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum tessel_rt_status {
  TESSEL_RT_SUCCESS = 0,
  TESSEL_RT_NO_DRIVER = 1,        /* libcuda.so.1 not found or incomplete */
  TESSEL_RT_NO_DEVICE = 2,        /* the driver sees no usable GPU */
  TESSEL_RT_DRIVER_ERROR = 3,     /* a driver call failed */
  TESSEL_RT_INVALID_ARGUMENT = 4, /* an argument failed its check */
  TESSEL_RT_INVALID_IMAGE = 5,    /* the driver rejected the PTX or cubin */
} tessel_rt_status;

/* A short, fixed description of a status, e.g. "no CUDA driver found". */
const char *tessel_rt_status_string(tessel_rt_status status);

/* The detailed message of the calling thread's last failure ("" if none). */
const char *tessel_rt_last_error(void);

/* Opens the driver and initializes it; safe to call many times and from
 * many threads. Every other call does this itself. */
tessel_rt_status tessel_rt_init(void);

/* A loaded kernel: one module per CUDA context, loaded on first launch in
 * that context. Thread-safe. */
typedef struct tessel_rt_kernel tessel_rt_kernel;

/* `image` is PTX text (NUL-terminated) or a cubin/fatbin of `size` bytes;
 * the runtime keeps its own copy. `shared_bytes` is the kernel's dynamic
 * shared memory per block. */
tessel_rt_status tessel_rt_kernel_create(const void *image, size_t size,
                                         const char *name, uint32_t threads,
                                         uint32_t shared_bytes,
                                         tessel_rt_kernel **out);

/* Launches on `stream` (a CUstream; NULL is the legacy default stream) in
 * the calling thread's current context (the primary context of device 0 is
 * made current when there is none). `args` holds one pointer per kernel
 * parameter, as cuLaunchKernel takes them. */
tessel_rt_status tessel_rt_launch(tessel_rt_kernel *kernel, const uint32_t grid[3],
                                  void **args, void *stream);

void tessel_rt_kernel_destroy(tessel_rt_kernel *kernel);

/* Checks a tensor argument before a launch: device memory of the current
 * context's device, 16-byte aligned, contiguous row-major, the expected
 * shape. `name` goes into the message. */
tessel_rt_status tessel_rt_check_tensor(const char *name, uint64_t pointer,
                                        const int64_t *shape,
                                        const int64_t *strides, int rank,
                                        const int64_t *expected_shape,
                                        int expected_rank);

#ifdef __cplusplus
}
#endif

#endif /* TESSEL_RUNTIME_H */
