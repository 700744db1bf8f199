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
  TESSEL_RT_COMPILE_ERROR = 6,    /* the kernel did not compile (C API) */
} tessel_rt_status;

/* A short, fixed description of a status, e.g. "no CUDA driver found". */
const char *tessel_rt_status_string(tessel_rt_status status);

/* The detailed message of the calling thread's last failure ("" if none). */
const char *tessel_rt_last_error(void);
/* Sets the calling thread's last error (libtessel's C API reports its own
 * failures through it). */
void tessel_rt_set_last_error(const char *message);

/* Opens the driver and initializes it; safe to call many times and from
 * many threads. Every other call does this itself. TESSEL_CUDA_DRIVER
 * names another driver library (a path), or "emu" for Tessel's Hopper
 * emulator (libtessel_emu.so beside this library), which runs PTX on the
 * CPU. */
tessel_rt_status tessel_rt_init(void);

/* 1 when the driver is Tessel's emulator, which runs PTX (not cubins). */
int tessel_rt_driver_is_emulator(void);

/* Device memory in the current context (device 0's primary context when
 * there is none), for callers with no allocator of their own: numpy arrays
 * on the cuda target, C programs. Copies are synchronous. */
tessel_rt_status tessel_rt_mem_alloc(size_t bytes, uint64_t *out);
tessel_rt_status tessel_rt_mem_free(uint64_t pointer);
tessel_rt_status tessel_rt_memcpy_to_device(uint64_t dst, const void *src, size_t bytes);
tessel_rt_status tessel_rt_memcpy_to_host(void *dst, uint64_t src, size_t bytes);

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

/* As tessel_rt_launch, in clusters of `cluster` blocks (thread block
 * clusters, sm_90): each cluster dimension must divide the grid's, and a
 * cluster holds at most 16 blocks (more than 8 is allowed where the device
 * supports it). A cluster of {1, 1, 1} is an ordinary launch. */
tessel_rt_status tessel_rt_launch_cluster(tessel_rt_kernel *kernel,
                                          const uint32_t grid[3],
                                          const uint32_t cluster[3], void **args,
                                          void *stream);

/* The registers per thread the kernel is launched with (what ptxas chose,
 * the manifest's "registers"). Drivers take it from the cubin; Tessel's
 * emulator, which runs the PTX, checks setmaxnreg against it when it is
 * given. 0: unknown. */
tessel_rt_status tessel_rt_kernel_set_registers(tessel_rt_kernel *kernel, uint32_t registers);

void tessel_rt_kernel_destroy(tessel_rt_kernel *kernel);

/* TMA (Hopper's tensor memory accelerator) descriptors. A descriptor
 * describes a global tensor and the box of it one cp.async.bulk.tensor
 * moves; kernels take it as a by-value (__grid_constant__) parameter.
 * Aligned as CUDA 13's CUtensorMap is (128 bytes; CUDA 12 asked for 64),
 * since the driver encodes into it in place. */
typedef struct tessel_rt_tensor_map {
#if defined(__cplusplus)
  alignas(128)
#else
  _Alignas(128)
#endif
      uint64_t opaque[16];
} tessel_rt_tensor_map;

/* Element types, numbered as the driver's CUtensorMapDataType (fp8 tensors
 * use UINT8). */
typedef enum tessel_rt_tma_dtype {
  TESSEL_RT_TMA_UINT8 = 0,
  TESSEL_RT_TMA_UINT16 = 1,
  TESSEL_RT_TMA_UINT32 = 2,
  TESSEL_RT_TMA_INT32 = 3,
  TESSEL_RT_TMA_UINT64 = 4,
  TESSEL_RT_TMA_INT64 = 5,
  TESSEL_RT_TMA_FLOAT16 = 6,
  TESSEL_RT_TMA_FLOAT32 = 7,
  TESSEL_RT_TMA_FLOAT64 = 8,
  TESSEL_RT_TMA_BFLOAT16 = 9,
} tessel_rt_tma_dtype;

/* Encodes a descriptor for the row-major tensor at `pointer` of `rank` (1 to
 * 5) dimensions `shape`, with `strides` in elements (NULL: contiguous),
 * moving boxes of `box` elements per dimension (row-major, each 1 to 256),
 * swizzled in shared memory by `swizzle_bytes` (0, 32, 64 or 128). Reads
 * outside the tensor fill zeros. Every requirement the hardware has
 * (16-byte aligned address and strides, box row a multiple of 16 bytes and
 * no wider than the swizzle) is checked first, with a message naming it. */
tessel_rt_status tessel_rt_tensor_map_encode(tessel_rt_tensor_map *out,
                                             tessel_rt_tma_dtype dtype, int rank,
                                             uint64_t pointer,
                                             const int64_t *shape,
                                             const int64_t *strides,
                                             const uint32_t *box,
                                             uint32_t swizzle_bytes);

/* As tessel_rt_tensor_map_encode, through a process-wide cache keyed by all
 * the arguments: a tensor launched with again and again is encoded once.
 * The descriptor lives until tessel_rt_tensor_map_cache_clear(). */
tessel_rt_status tessel_rt_tensor_map_get(const tessel_rt_tensor_map **out,
                                          tessel_rt_tma_dtype dtype, int rank,
                                          uint64_t pointer, const int64_t *shape,
                                          const int64_t *strides,
                                          const uint32_t *box,
                                          uint32_t swizzle_bytes);

/* Drops every cached descriptor (pointers from tessel_rt_tensor_map_get
 * become invalid). Call it when tensors are freed and their addresses may
 * be reused with other shapes; the cache never returns a descriptor for a
 * different shape, strides or box, only for the same ones. */
void tessel_rt_tensor_map_cache_clear(void);

/* How many descriptors the cache holds. */
size_t tessel_rt_tensor_map_cache_size(void);

/* Checks a tensor argument before a launch: device memory of the current
 * context's device, 16-byte aligned, contiguous row-major, the expected
 * shape. `name` goes into the message. */
tessel_rt_status tessel_rt_check_tensor(const char *name, uint64_t pointer,
                                        const int64_t *shape,
                                        const int64_t *strides, int rank,
                                        const int64_t *expected_shape,
                                        int expected_rank);

/* Ahead-of-time launchers. `tesselc --emit header,object` writes NAME.h and
 * NAME.o; NAME.o holds the kernel image and a text descriptor of the kernel
 * (its parameters, grid, block, shared memory and TMA descriptors) and
 * calls these. Programs use the NAME.h functions, not these. The statuses
 * are tessel_rt_status's, which NAME.h names tessel_status. */

/* Loads the kernel in `ctx` (a CUcontext; NULL: the calling thread's
 * current context, or device 0's primary context when there is none) and
 * returns a handle for launches in that context. */
tessel_rt_status tessel_aot_load(const char *descriptor, const void *image,
                                 size_t image_size, void *ctx, void **out);

/* Launches on `stream` with `count` arguments, args[i] the address of the
 * i-th (a CUdeviceptr for a tensor, the value itself for a scalar). Checks
 * the handle, the count and each tensor pointer (not null, 16-byte
 * aligned), encodes the kernel's TMA descriptors (cached), and launches in
 * the handle's context. Thread-safe. */
tessel_rt_status tessel_aot_launch(void *handle, void *stream,
                                   void *const *args, int count);

void tessel_aot_unload(void *handle);

/* Several variants of one kernel (tesselc --variants ... --dispatch KEY):
 * loaded together; a launch runs the variant whose key equals `key`, and
 * any other value is TESSEL_RT_INVALID_ARGUMENT naming the compiled ones. */
tessel_rt_status tessel_aot_dispatch_load(int count, const char *const *descriptors,
                                          const void *const *images, const size_t *sizes,
                                          const int64_t *keys, const char *key_name,
                                          void *ctx, void **out);
tessel_rt_status tessel_aot_dispatch_launch(void *dispatch, int64_t key, void *stream,
                                            void *const *args, int count);
/* Variants for ranges of a dynamic dimension (tesselc --dispatch DIM
 * --dispatch-bounds B1,...): variant i serves values up to upper_bounds[i]
 * (inclusive; the last entry is INT64_MAX), the value read from the
 * launch's arguments, where the dimension `dim_name` is passed. Every
 * variant takes the same arguments. */
tessel_rt_status tessel_aot_dispatch_load_ranges(int count, const char *const *descriptors,
                                                 const void *const *images,
                                                 const size_t *sizes,
                                                 const int64_t *upper_bounds,
                                                 const char *dim_name, void *ctx,
                                                 void **out);
tessel_rt_status tessel_aot_dispatch_launch_ranges(void *dispatch, void *stream,
                                                   void *const *args, int count);
/* Unloads either kind of dispatcher. */
void tessel_aot_dispatch_unload(void *dispatch);

/* The runtime also defines tessel_status_string and tessel_last_error, which
 * NAME.h declares (tessel_rt_status_string and tessel_rt_last_error under the
 * names a kernel header's user sees). */

#ifdef __cplusplus
}
#endif

#endif /* TESSEL_RUNTIME_H */
