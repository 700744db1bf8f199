//===- Runtime.cpp - the CUDA driver API through dlopen --------------------===//
//
// The driver's types are opaque handles and ints, declared here, so the
// runtime needs no CUDA headers to build.
//
//===----------------------------------------------------------------------===//

#include "lib/Runtime/DriverAPI.h"
#include "lib/Runtime/HandleRegistry.h"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>
namespace tessel::rt {

thread_local std::string lastError;

tessel_rt_status fail(tessel_rt_status status, const std::string &message) {
  lastError = message;
  return status;
}

/// The kernels tessel_rt_kernel_create gave out and not yet destroyed.
static HandleRegistry<tessel_rt_kernel> &liveRtKernels() {
  static auto *registry = new HandleRegistry<tessel_rt_kernel>;
  return *registry;
}

static tessel_rt_status notLiveKernel(const char *entry) {
  return fail(TESSEL_RT_INVALID_ARGUMENT,
              std::string(entry) + ": not a live kernel from tessel_rt_kernel_create "
                                   "(destroyed already, or never created)");
}

namespace {
std::once_flag driverOnce;
std::string driverMessage;
} // namespace

Driver driver;
tessel_rt_status driverStatus = TESSEL_RT_NO_DRIVER;

template <typename F> void bindOptional(F &slot, const char *name) {
  slot = reinterpret_cast<F>(dlsym(driver.handle, name));
}

template <typename F> bool bind(F &slot, const char *name) {
  slot = reinterpret_cast<F>(dlsym(driver.handle, name));
  if (!slot)
    driverMessage = std::string("the CUDA driver has no ") + name;
  return slot != nullptr;
}

/// Where the emulator (TESSEL_CUDA_DRIVER=emu) is: beside this library,
/// else wherever the loader finds libtessel_emu.so.
std::string emulatorPath() {
  Dl_info info;
  if (dladdr(reinterpret_cast<void *>(&tessel_rt_init), &info) && info.dli_fname) {
    std::string self = info.dli_fname;
    size_t slash = self.rfind('/');
    std::string beside = (slash == std::string::npos ? std::string() : self.substr(0, slash + 1)) +
                         "libtessel_emu.so";
    if (access(beside.c_str(), R_OK) == 0)
      return beside;
  }
  return "libtessel_emu.so";
}

void openDriver() {
  const char *path = std::getenv("TESSEL_CUDA_DRIVER");
  if (!path || !*path)
    path = "libcuda.so.1";
  std::string resolved = std::string(path) == "emu" ? emulatorPath() : path;
  driver.handle = dlopen(resolved.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!driver.handle) {
    const char *why = dlerror();
    driverMessage = std::string("no CUDA driver found (") + resolved +
                    (why ? std::string(": ") + why : std::string()) + ")";
    return;
  }
  bool ok = bind(driver.cuInit, "cuInit") &&
            bind(driver.cuGetErrorString, "cuGetErrorString") &&
            bind(driver.cuDeviceGetCount, "cuDeviceGetCount") &&
            bind(driver.cuDeviceGet, "cuDeviceGet") &&
            bind(driver.cuCtxGetCurrent, "cuCtxGetCurrent") &&
            bind(driver.cuCtxSetCurrent, "cuCtxSetCurrent") &&
            bind(driver.cuCtxGetDevice, "cuCtxGetDevice") &&
            bind(driver.cuDevicePrimaryCtxRetain, "cuDevicePrimaryCtxRetain") &&
            bind(driver.cuModuleLoadData, "cuModuleLoadData") &&
            bind(driver.cuModuleUnload, "cuModuleUnload") &&
            bind(driver.cuModuleGetFunction, "cuModuleGetFunction") &&
            bind(driver.cuFuncSetAttribute, "cuFuncSetAttribute") &&
            bind(driver.cuLaunchKernel, "cuLaunchKernel") &&
            bind(driver.cuPointerGetAttribute, "cuPointerGetAttribute");
  if (!ok)
    return;
  driver.cuLaunchKernelEx = reinterpret_cast<decltype(driver.cuLaunchKernelEx)>(
      dlsym(driver.handle, "cuLaunchKernelEx"));
  driver.cuTensorMapEncodeTiled =
      reinterpret_cast<decltype(driver.cuTensorMapEncodeTiled)>(
          dlsym(driver.handle, "cuTensorMapEncodeTiled"));
  bindOptional(driver.cuMemAlloc, "cuMemAlloc_v2");
  bindOptional(driver.cuMemFree, "cuMemFree_v2");
  bindOptional(driver.cuMemcpyHtoD, "cuMemcpyHtoD_v2");
  bindOptional(driver.cuMemcpyDtoH, "cuMemcpyDtoH_v2");
  // Only the emulator has these: its messages name the failing check.
  bindOptional(driver.emuLastError, "tesselEmuLastError");
  bindOptional(driver.emuSetLaunchRegisters, "tesselEmuSetLaunchRegisters");
  if (CUresult r = driver.cuInit(0)) {
    const char *text = nullptr;
    driver.cuGetErrorString(r, &text);
    driverStatus = TESSEL_RT_NO_DEVICE;
    driverMessage = std::string("cuInit failed: ") + (text ? text : "unknown error");
    return;
  }
  int count = 0;
  if (driver.cuDeviceGetCount(&count) || count == 0) {
    driverStatus = TESSEL_RT_NO_DEVICE;
    driverMessage = "the CUDA driver sees no GPU";
    return;
  }
  driverStatus = TESSEL_RT_SUCCESS;
}

tessel_rt_status checkDriver() {
  std::call_once(driverOnce, openDriver);
  if (driverStatus != TESSEL_RT_SUCCESS)
    return fail(driverStatus, driverMessage);
  return TESSEL_RT_SUCCESS;
}

tessel_rt_status driverFailure(CUresult r, const std::string &what, tessel_rt_status status) {
  const char *text = nullptr;
  if (driver.cuGetErrorString)
    driver.cuGetErrorString(r, &text);
  std::string message = what + ": " + (text ? text : "error " + std::to_string(r));
  if (driver.emuLastError) {
    const char *detail = driver.emuLastError();
    if (detail && *detail)
      message += "\n" + std::string(detail);
  }
  return fail(status, message);
}

/// The current context, or device 0's primary context made current.
tessel_rt_status currentContext(CUcontext &ctx) {
  if (CUresult r = driver.cuCtxGetCurrent(&ctx))
    return driverFailure(r, "cuCtxGetCurrent");
  if (ctx)
    return TESSEL_RT_SUCCESS;
  CUdevice device;
  if (CUresult r = driver.cuDeviceGet(&device, 0))
    return driverFailure(r, "cuDeviceGet");
  if (CUresult r = driver.cuDevicePrimaryCtxRetain(&ctx, device))
    return driverFailure(r, "cuDevicePrimaryCtxRetain");
  if (CUresult r = driver.cuCtxSetCurrent(ctx))
    return driverFailure(r, "cuCtxSetCurrent");
  return TESSEL_RT_SUCCESS;
}

/// The kernel's function in `ctx` (the context current now), its module
/// loaded there on first use: a bad image or a missing kernel is
/// TESSEL_RT_INVALID_IMAGE.
tessel_rt_status functionIn(tessel_rt_kernel *kernel, CUcontext ctx, CUfunction &function) {
  std::lock_guard<std::mutex> lock(kernel->mutex);
  auto it = kernel->perContext.find(ctx);
  if (it == kernel->perContext.end()) {
    CUmodule module;
    if (CUresult r = driver.cuModuleLoadData(&module, kernel->image.data()))
      return driverFailure(r, "loading kernel '" + kernel->name + "'", TESSEL_RT_INVALID_IMAGE);
    CUfunction f;
    if (CUresult r = driver.cuModuleGetFunction(&f, module, kernel->name.c_str())) {
      driver.cuModuleUnload(module);
      return driverFailure(r, "finding kernel '" + kernel->name + "'", TESSEL_RT_INVALID_IMAGE);
    }
    if (kernel->sharedBytes > 48 * 1024)
      if (CUresult r = driver.cuFuncSetAttribute(f, kFuncAttributeMaxDynamicSharedSize,
                                                 kernel->sharedBytes)) {
        driver.cuModuleUnload(module);
        return driverFailure(r, "allowing " + std::to_string(kernel->sharedBytes) +
                                    " bytes of shared memory");
      }
    if (kernel->registers && driver.emuSetLaunchRegisters)
      driver.emuSetLaunchRegisters(f, int(kernel->registers));
    it = kernel->perContext.emplace(ctx, std::make_pair(module, f)).first;
  }
  function = it->second.second;
  return TESSEL_RT_SUCCESS;
}

} // namespace tessel::rt

using namespace tessel::rt;

namespace {

int64_t elementBytes(tessel_rt_tma_dtype dtype) {
  switch (dtype) {
  case TESSEL_RT_TMA_UINT8:
    return 1;
  case TESSEL_RT_TMA_UINT16:
  case TESSEL_RT_TMA_FLOAT16:
  case TESSEL_RT_TMA_BFLOAT16:
    return 2;
  case TESSEL_RT_TMA_UINT32:
  case TESSEL_RT_TMA_INT32:
  case TESSEL_RT_TMA_FLOAT32:
    return 4;
  case TESSEL_RT_TMA_UINT64:
  case TESSEL_RT_TMA_INT64:
  case TESSEL_RT_TMA_FLOAT64:
    return 8;
  }
  return 0;
}

/// The hardware's requirements on a tiled tensor map, each with its own
/// message (the driver answers only "invalid value").
tessel_rt_status checkTensorMap(tessel_rt_tma_dtype dtype, int rank,
                                uint64_t pointer, const int64_t *shape,
                                const int64_t *strides, const uint32_t *box,
                                uint32_t swizzle) {
  auto bad = [](const std::string &what) {
    return fail(TESSEL_RT_INVALID_ARGUMENT, "tensor map: " + what);
  };
  int64_t bytes = elementBytes(dtype);
  if (!bytes)
    return bad("unknown element type " + std::to_string(int(dtype)));
  if (rank < 1 || rank > 5)
    return bad("rank " + std::to_string(rank) + " is not 1 to 5");
  if (pointer % 16)
    return bad("the tensor's address is not 16-byte aligned");
  if (swizzle != 0 && swizzle != 32 && swizzle != 64 && swizzle != 128)
    return bad("swizzle of " + std::to_string(swizzle) +
               " bytes; it is 0, 32, 64 or 128");
  int64_t contiguous = 1;
  for (int d = rank - 1; d >= 0; --d) {
    std::string dim = "dimension " + std::to_string(d);
    if (shape[d] < 1 || shape[d] > (int64_t(1) << 32))
      return bad(dim + " has extent " + std::to_string(shape[d]) +
                 "; it must be 1 to 2^32");
    if (box[d] < 1 || box[d] > 256)
      return bad("the box's " + dim + " is " + std::to_string(box[d]) +
                 "; it must be 1 to 256");
    int64_t stride = strides ? strides[d] : contiguous;
    if (d == rank - 1 && stride != 1)
      return bad("the innermost dimension must be contiguous (stride 1), "
                 "not stride " + std::to_string(stride));
    if (d < rank - 1 &&
        (stride * bytes % 16 || stride * bytes >= (int64_t(1) << 40) || stride < 1))
      return bad(dim + "'s stride is " + std::to_string(stride * bytes) +
                 " bytes; it must be a positive multiple of 16 below 2^40");
    contiguous *= shape[d];
  }
  int64_t rowBytes = int64_t(box[rank - 1]) * bytes;
  if (rowBytes % 16)
    return bad("the box's innermost extent is " + std::to_string(rowBytes) +
               " bytes; it must be a multiple of 16");
  if (swizzle && rowBytes > swizzle)
    return bad("the box's innermost extent (" + std::to_string(rowBytes) +
               " bytes) is wider than the " + std::to_string(swizzle) +
               "-byte swizzle");
  return TESSEL_RT_SUCCESS;
}

std::mutex tensorMapMutex;
std::map<std::vector<int64_t>, std::unique_ptr<tessel_rt_tensor_map>> tensorMaps;


} // namespace

extern "C" {

const char *tessel_rt_status_string(tessel_rt_status status) {
  switch (status) {
  case TESSEL_RT_SUCCESS:
    return "success";
  case TESSEL_RT_NO_DRIVER:
    return "no CUDA driver found";
  case TESSEL_RT_NO_DEVICE:
    return "no usable CUDA device";
  case TESSEL_RT_DRIVER_ERROR:
    return "a CUDA driver call failed";
  case TESSEL_RT_INVALID_ARGUMENT:
    return "invalid argument";
  case TESSEL_RT_INVALID_IMAGE:
    return "the driver rejected the kernel image";
  case TESSEL_RT_COMPILE_ERROR:
    return "the kernel did not compile";
  }
  return "unknown status";
}

const char *tessel_rt_last_error(void) { return lastError.c_str(); }

void tessel_rt_set_last_error(const char *message) { lastError = message ? message : ""; }

tessel_rt_status tessel_rt_init(void) { return checkDriver(); }

int tessel_rt_driver_is_emulator(void) {
  return checkDriver() == TESSEL_RT_SUCCESS && driver.emuLastError != nullptr;
}

namespace {
/// The driver's memory functions, in a current context.
tessel_rt_status memoryReady(const char *what) {
  if (tessel_rt_status s = checkDriver())
    return s;
  if (!driver.cuMemAlloc || !driver.cuMemFree || !driver.cuMemcpyHtoD || !driver.cuMemcpyDtoH)
    return fail(TESSEL_RT_DRIVER_ERROR,
                std::string(what) + ": this CUDA driver has no cuMemAlloc_v2/cuMemcpy*_v2");
  CUcontext ctx;
  return currentContext(ctx);
}

/// A memory call's failure: a pointer or size the driver rejects is the
/// caller's argument; anything else (a kernel's fault surfacing at the next
/// synchronous copy) is the driver's.
tessel_rt_status memoryStatus(CUresult r) {
  constexpr CUresult kInvalidValue = CUresult(1); // CUDA_ERROR_INVALID_VALUE
  return r == kInvalidValue ? TESSEL_RT_INVALID_ARGUMENT : TESSEL_RT_DRIVER_ERROR;
}
} // namespace

tessel_rt_status tessel_rt_mem_alloc(size_t bytes, uint64_t *out) {
  if (!out || !bytes)
    return fail(TESSEL_RT_INVALID_ARGUMENT, "tessel_rt_mem_alloc needs a size and an output");
  if (tessel_rt_status s = memoryReady("tessel_rt_mem_alloc"))
    return s;
  CUdeviceptr p = 0;
  if (CUresult r = driver.cuMemAlloc(&p, bytes))
    return driverFailure(r, "allocating " + std::to_string(bytes) + " bytes of device memory");
  *out = p;
  return TESSEL_RT_SUCCESS;
}

tessel_rt_status tessel_rt_mem_free(uint64_t pointer) {
  if (!pointer)
    return TESSEL_RT_SUCCESS;
  if (tessel_rt_status s = memoryReady("tessel_rt_mem_free"))
    return s;
  if (CUresult r = driver.cuMemFree(pointer))
    return driverFailure(r, "freeing device memory", memoryStatus(r));
  return TESSEL_RT_SUCCESS;
}

tessel_rt_status tessel_rt_memcpy_to_device(uint64_t dst, const void *src, size_t bytes) {
  if (!bytes)
    return TESSEL_RT_SUCCESS;
  if (!dst || !src)
    return fail(TESSEL_RT_INVALID_ARGUMENT, "tessel_rt_memcpy_to_device needs two pointers");
  if (tessel_rt_status s = memoryReady("tessel_rt_memcpy_to_device"))
    return s;
  if (CUresult r = driver.cuMemcpyHtoD(dst, src, bytes))
    return driverFailure(r, "copying " + std::to_string(bytes) + " bytes to the device",
                         memoryStatus(r));
  return TESSEL_RT_SUCCESS;
}

tessel_rt_status tessel_rt_memcpy_to_host(void *dst, uint64_t src, size_t bytes) {
  if (!bytes)
    return TESSEL_RT_SUCCESS;
  if (!dst || !src)
    return fail(TESSEL_RT_INVALID_ARGUMENT, "tessel_rt_memcpy_to_host needs two pointers");
  if (tessel_rt_status s = memoryReady("tessel_rt_memcpy_to_host"))
    return s;
  if (CUresult r = driver.cuMemcpyDtoH(dst, src, bytes))
    return driverFailure(r, "copying " + std::to_string(bytes) + " bytes from the device",
                         memoryStatus(r));
  return TESSEL_RT_SUCCESS;
}

tessel_rt_status tessel_rt_kernel_create(const void *image, size_t size,
                                         const char *name, uint32_t threads,
                                         uint32_t shared_bytes,
                                         tessel_rt_kernel **out) {
  if (!image || !size || !name || !*name || !out || threads == 0 ||
      threads > 1024)
    return fail(TESSEL_RT_INVALID_ARGUMENT,
                "tessel_rt_kernel_create needs an image, a name, 1 to 1024 "
                "threads and an output pointer");
  auto *kernel = new tessel_rt_kernel;
  const char *bytes = static_cast<const char *>(image);
  kernel->image.assign(bytes, bytes + size);
  // PTX is text the driver reads up to a NUL.
  if (kernel->image.back() != '\0')
    kernel->image.push_back('\0');
  kernel->name = name;
  kernel->threads = threads;
  kernel->sharedBytes = shared_bytes;
  liveRtKernels().add(kernel);
  *out = kernel;
  return TESSEL_RT_SUCCESS;
}

tessel_rt_status tessel_rt_kernel_set_registers(tessel_rt_kernel *kernel, uint32_t registers) {
  if (!kernel || registers > 255)
    return fail(TESSEL_RT_INVALID_ARGUMENT,
                "tessel_rt_kernel_set_registers needs a kernel and at most 255 registers");
  auto held = liveRtKernels().hold(kernel);
  if (!held)
    return notLiveKernel("tessel_rt_kernel_set_registers");
  std::lock_guard<std::mutex> lock(kernel->mutex);
  kernel->registers = registers;
  // Functions already loaded take it too; later loads take it in functionIn.
  if (registers && driver.emuSetLaunchRegisters)
    for (auto &[ctx, loaded] : kernel->perContext)
      driver.emuSetLaunchRegisters(loaded.second, int(registers));
  return TESSEL_RT_SUCCESS;
}

void tessel_rt_kernel_destroy(tessel_rt_kernel *kernel) {
  if (!kernel)
    return;
  if (!liveRtKernels().remove(kernel)) {
    notLiveKernel("tessel_rt_kernel_destroy");
    return;
  }
  if (driverStatus == TESSEL_RT_SUCCESS) {
    for (auto &[ctx, loaded] : kernel->perContext)
      driver.cuModuleUnload(loaded.first);
  }
  delete kernel;
}

tessel_rt_status tessel_rt_launch(tessel_rt_kernel *kernel,
                                  const uint32_t grid[3], void **args,
                                  void *stream) {
  const uint32_t single[3] = {1, 1, 1};
  return tessel_rt_launch_cluster(kernel, grid, single, args, stream);
}

tessel_rt_status tessel_rt_launch_cluster(tessel_rt_kernel *kernel,
                                          const uint32_t grid[3],
                                          const uint32_t cluster[3], void **args,
                                          void *stream) {
  auto held = liveRtKernels().hold(kernel); // until the launch returns
  if (kernel && !held)
    return notLiveKernel("tessel_rt_launch");
  if (!kernel || !grid || !cluster)
    return fail(TESSEL_RT_INVALID_ARGUMENT,
                "tessel_rt_launch needs a kernel, a grid and a cluster shape");
  for (int i = 0; i < 3; ++i)
    if (grid[i] == 0)
      return fail(TESSEL_RT_INVALID_ARGUMENT,
                  "grid dimension " + std::to_string(i) + " is 0");
  uint32_t clusterBlocks = 1;
  for (int i = 0; i < 3; ++i) {
    if (cluster[i] == 0 || grid[i] % cluster[i])
      return fail(TESSEL_RT_INVALID_ARGUMENT,
                  "cluster dimension " + std::to_string(i) + " (" +
                      std::to_string(cluster[i]) +
                      ") does not divide the grid's (" + std::to_string(grid[i]) + ")");
    clusterBlocks *= cluster[i];
  }
  if (clusterBlocks > 16)
    return fail(TESSEL_RT_INVALID_ARGUMENT,
                "a cluster holds at most 16 blocks; this one has " +
                    std::to_string(clusterBlocks));
  if (tessel_rt_status s = checkDriver())
    return s;
  CUcontext ctx;
  if (tessel_rt_status s = currentContext(ctx))
    return s;
  CUfunction function;
  if (tessel_rt_status s = functionIn(kernel, ctx, function))
    return s;
  if (clusterBlocks == 1) {
    if (CUresult r = driver.cuLaunchKernel(function, grid[0], grid[1], grid[2],
                                           kernel->threads, 1, 1,
                                           kernel->sharedBytes, stream, args,
                                           nullptr))
      return driverFailure(r, "launching '" + kernel->name + "'");
    return TESSEL_RT_SUCCESS;
  }
  if (!driver.cuLaunchKernelEx)
    return fail(TESSEL_RT_DRIVER_ERROR,
                "this CUDA driver has no cuLaunchKernelEx, which cluster "
                "launches need (CUDA 12 or newer)");
  if (clusterBlocks > 8)
    if (CUresult r = driver.cuFuncSetAttribute(
            function, kFuncAttributeNonPortableClusterSizeAllowed, 1))
      return driverFailure(r, "allowing clusters of " +
                                  std::to_string(clusterBlocks) + " blocks");
  LaunchAttribute attribute{};
  attribute.id = kLaunchAttributeClusterDimension;
  attribute.value.clusterDim.x = cluster[0];
  attribute.value.clusterDim.y = cluster[1];
  attribute.value.clusterDim.z = cluster[2];
  LaunchConfig config{};
  config.gridDimX = grid[0];
  config.gridDimY = grid[1];
  config.gridDimZ = grid[2];
  config.blockDimX = kernel->threads;
  config.blockDimY = config.blockDimZ = 1;
  config.sharedMemBytes = kernel->sharedBytes;
  config.hStream = stream;
  config.attrs = &attribute;
  config.numAttrs = 1;
  if (CUresult r = driver.cuLaunchKernelEx(&config, function, args, nullptr))
    return driverFailure(r, "launching '" + kernel->name + "' in clusters of " +
                                std::to_string(clusterBlocks));
  return TESSEL_RT_SUCCESS;
}

tessel_rt_status tessel_rt_check_tensor(const char *name, uint64_t pointer,
                                        const int64_t *shape,
                                        const int64_t *strides, int rank,
                                        const int64_t *expected_shape,
                                        int expected_rank) {
  std::string arg = std::string("argument '") + (name ? name : "?") + "'";
  auto dims = [](const int64_t *v, int n) {
    std::ostringstream os;
    os << "(";
    for (int i = 0; i < n; ++i)
      os << (i ? ", " : "") << v[i];
    os << (n == 1 ? ",)" : ")");
    return os.str();
  };
  if (rank != expected_rank)
    return fail(TESSEL_RT_INVALID_ARGUMENT,
                arg + " has rank " + std::to_string(rank) + ", expected " +
                    std::to_string(expected_rank));
  for (int i = 0; i < rank; ++i)
    if (shape[i] != expected_shape[i])
      return fail(TESSEL_RT_INVALID_ARGUMENT,
                  arg + " has shape " + dims(shape, rank) + ", expected " +
                      dims(expected_shape, rank));
  // No elements (a zero dynamic dimension): nothing is read or written, so
  // neither the layout nor the pointer matters (an empty launch).
  for (int i = 0; i < rank; ++i)
    if (shape[i] == 0)
      return TESSEL_RT_SUCCESS;
  if (strides) {
    int64_t expect = 1;
    for (int i = rank - 1; i >= 0; --i) {
      if (shape[i] != 1 && strides[i] != expect)
        return fail(TESSEL_RT_INVALID_ARGUMENT,
                    arg + " is not contiguous (strides " + dims(strides, rank) +
                        "); pass a contiguous tensor");
      expect *= shape[i];
    }
  }
  if (pointer % 16)
    return fail(TESSEL_RT_INVALID_ARGUMENT,
                arg + " is not 16-byte aligned; Tessel kernels load tiles in "
                      "16-byte vectors");
  if (tessel_rt_status s = checkDriver())
    return s;
  unsigned memoryType = 0;
  if (CUresult r = driver.cuPointerGetAttribute(&memoryType, kPointerAttributeMemoryType,
                                                pointer))
    return driverFailure(r, arg + " is not memory the CUDA driver knows",
                         TESSEL_RT_INVALID_ARGUMENT);
  if (memoryType == kMemoryTypeHost)
    return fail(TESSEL_RT_INVALID_ARGUMENT,
                arg + " is in host memory; move it to the GPU first");
  return TESSEL_RT_SUCCESS;
}

tessel_rt_status tessel_rt_tensor_map_encode(tessel_rt_tensor_map *out,
                                             tessel_rt_tma_dtype dtype, int rank,
                                             uint64_t pointer,
                                             const int64_t *shape,
                                             const int64_t *strides,
                                             const uint32_t *box,
                                             uint32_t swizzle_bytes) {
  if (!out || !shape || !box)
    return fail(TESSEL_RT_INVALID_ARGUMENT,
                "tessel_rt_tensor_map_encode needs an output, a shape and a box");
  if (tessel_rt_status s = checkTensorMap(dtype, rank, pointer, shape, strides,
                                          box, swizzle_bytes))
    return s;
  if (tessel_rt_status s = checkDriver())
    return s;
  if (!driver.cuTensorMapEncodeTiled)
    return fail(TESSEL_RT_DRIVER_ERROR,
                "this CUDA driver has no cuTensorMapEncodeTiled, which TMA "
                "needs (CUDA 12 or newer)");
  // The driver counts dimensions from the innermost.
  uint64_t dims[5], byteStrides[4];
  uint32_t boxDims[5], elementStrides[5] = {1, 1, 1, 1, 1};
  int64_t bytes = elementBytes(dtype), contiguous = 1;
  for (int i = 0; i < rank; ++i) {
    int d = rank - 1 - i;
    dims[i] = uint64_t(shape[d]);
    boxDims[i] = box[d];
    int64_t stride = strides ? strides[d] : contiguous;
    if (i > 0)
      byteStrides[i - 1] = uint64_t(stride * bytes);
    contiguous *= shape[d];
  }
  int swizzle = swizzle_bytes == 0 ? 0 : swizzle_bytes == 32 ? 1 : swizzle_bytes == 64 ? 2 : 3;
  if (CUresult r = driver.cuTensorMapEncodeTiled(
          out->opaque, int(dtype), unsigned(rank), reinterpret_cast<void *>(pointer),
          dims, byteStrides, boxDims, elementStrides, /*interleave=*/0, swizzle,
          /*l2Promotion: 128B*/ 2, /*oobFill: zeros*/ 0))
    return driverFailure(r, "cuTensorMapEncodeTiled", TESSEL_RT_INVALID_ARGUMENT);
  return TESSEL_RT_SUCCESS;
}

tessel_rt_status tessel_rt_tensor_map_get(const tessel_rt_tensor_map **out,
                                          tessel_rt_tma_dtype dtype, int rank,
                                          uint64_t pointer, const int64_t *shape,
                                          const int64_t *strides,
                                          const uint32_t *box,
                                          uint32_t swizzle_bytes) {
  if (!out || !shape || !box || rank < 1 || rank > 5)
    return fail(TESSEL_RT_INVALID_ARGUMENT,
                "tessel_rt_tensor_map_get needs an output, a shape and a box "
                "of rank 1 to 5");
  // The key is every argument, so a hit is the descriptor these arguments
  // encode: the cache cannot hand out one for another shape or box.
  std::vector<int64_t> key = {int64_t(dtype), rank, int64_t(pointer),
                              int64_t(swizzle_bytes), strides ? 1 : 0};
  for (int i = 0; i < rank; ++i) {
    key.push_back(shape[i]);
    key.push_back(strides ? strides[i] : 0);
    key.push_back(box[i]);
  }
  std::lock_guard<std::mutex> lock(tensorMapMutex);
  auto it = tensorMaps.find(key);
  if (it == tensorMaps.end()) {
    auto map = std::make_unique<tessel_rt_tensor_map>();
    if (tessel_rt_status s = tessel_rt_tensor_map_encode(
            map.get(), dtype, rank, pointer, shape, strides, box, swizzle_bytes))
      return s;
    it = tensorMaps.emplace(std::move(key), std::move(map)).first;
  }
  *out = it->second.get();
  return TESSEL_RT_SUCCESS;
}

void tessel_rt_tensor_map_cache_clear(void) {
  std::lock_guard<std::mutex> lock(tensorMapMutex);
  tensorMaps.clear();
}

size_t tessel_rt_tensor_map_cache_size(void) {
  std::lock_guard<std::mutex> lock(tensorMapMutex);
  return tensorMaps.size();
}

} // extern "C"
