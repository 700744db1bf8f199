//===- Runtime.cpp - the CUDA driver API through dlopen --------------------===//
//
// The driver's types are opaque handles and ints, declared here, so the
// runtime needs no CUDA headers to build.
//
//===----------------------------------------------------------------------===//

#include "tessel/runtime.h"

#include <dlfcn.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

namespace {

using CUresult = int;
using CUdevice = int;
using CUcontext = void *;
using CUmodule = void *;
using CUfunction = void *;
using CUstream = void *;
using CUdeviceptr = unsigned long long;

constexpr int kFuncAttributeMaxDynamicSharedSize = 8;
constexpr int kPointerAttributeMemoryType = 2;
constexpr unsigned kMemoryTypeHost = 1;

struct Driver {
  void *handle = nullptr;
  CUresult (*cuInit)(unsigned) = nullptr;
  CUresult (*cuGetErrorString)(CUresult, const char **) = nullptr;
  CUresult (*cuDeviceGetCount)(int *) = nullptr;
  CUresult (*cuDeviceGet)(CUdevice *, int) = nullptr;
  CUresult (*cuCtxGetCurrent)(CUcontext *) = nullptr;
  CUresult (*cuCtxSetCurrent)(CUcontext) = nullptr;
  CUresult (*cuCtxGetDevice)(CUdevice *) = nullptr;
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice) = nullptr;
  CUresult (*cuModuleLoadData)(CUmodule *, const void *) = nullptr;
  CUresult (*cuModuleUnload)(CUmodule) = nullptr;
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *) = nullptr;
  CUresult (*cuFuncSetAttribute)(CUfunction, int, int) = nullptr;
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, CUstream, void **,
                             void **) = nullptr;
  CUresult (*cuPointerGetAttribute)(void *, int, CUdeviceptr) = nullptr;
};

thread_local std::string lastError;

tessel_rt_status fail(tessel_rt_status status, const std::string &message) {
  lastError = message;
  return status;
}

std::once_flag driverOnce;
Driver driver;
tessel_rt_status driverStatus = TESSEL_RT_NO_DRIVER;
std::string driverMessage;

template <typename F> bool bind(F &slot, const char *name) {
  slot = reinterpret_cast<F>(dlsym(driver.handle, name));
  if (!slot)
    driverMessage = std::string("the CUDA driver has no ") + name;
  return slot != nullptr;
}

void openDriver() {
  const char *path = std::getenv("TESSEL_CUDA_DRIVER");
  if (!path || !*path)
    path = "libcuda.so.1";
  driver.handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!driver.handle) {
    const char *why = dlerror();
    driverMessage = std::string("no CUDA driver found (") + path +
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

/// Reports a failed driver call as "<what>: <driver's text>".
tessel_rt_status driverFailure(CUresult r, const std::string &what,
                               tessel_rt_status status = TESSEL_RT_DRIVER_ERROR) {
  const char *text = nullptr;
  if (driver.cuGetErrorString)
    driver.cuGetErrorString(r, &text);
  return fail(status, what + ": " + (text ? text : "error " + std::to_string(r)));
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

} // namespace

struct tessel_rt_kernel {
  std::vector<char> image;
  std::string name;
  uint32_t threads = 0, sharedBytes = 0;
  std::mutex mutex;
  std::map<CUcontext, std::pair<CUmodule, CUfunction>> perContext;
};

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
  }
  return "unknown status";
}

const char *tessel_rt_last_error(void) { return lastError.c_str(); }

tessel_rt_status tessel_rt_init(void) { return checkDriver(); }

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
  *out = kernel;
  return TESSEL_RT_SUCCESS;
}

void tessel_rt_kernel_destroy(tessel_rt_kernel *kernel) {
  if (!kernel)
    return;
  if (driverStatus == TESSEL_RT_SUCCESS) {
    for (auto &[ctx, loaded] : kernel->perContext)
      driver.cuModuleUnload(loaded.first);
  }
  delete kernel;
}

tessel_rt_status tessel_rt_launch(tessel_rt_kernel *kernel,
                                  const uint32_t grid[3], void **args,
                                  void *stream) {
  if (!kernel || !grid)
    return fail(TESSEL_RT_INVALID_ARGUMENT, "tessel_rt_launch needs a kernel and a grid");
  for (int i = 0; i < 3; ++i)
    if (grid[i] == 0)
      return fail(TESSEL_RT_INVALID_ARGUMENT,
                  "grid dimension " + std::to_string(i) + " is 0");
  if (tessel_rt_status s = checkDriver())
    return s;
  CUcontext ctx;
  if (tessel_rt_status s = currentContext(ctx))
    return s;
  CUfunction function;
  {
    std::lock_guard<std::mutex> lock(kernel->mutex);
    auto it = kernel->perContext.find(ctx);
    if (it == kernel->perContext.end()) {
      CUmodule module;
      if (CUresult r = driver.cuModuleLoadData(&module, kernel->image.data()))
        return driverFailure(r, "loading kernel '" + kernel->name + "'",
                             TESSEL_RT_INVALID_IMAGE);
      CUfunction f;
      if (CUresult r = driver.cuModuleGetFunction(&f, module, kernel->name.c_str())) {
        driver.cuModuleUnload(module);
        return driverFailure(r, "finding kernel '" + kernel->name + "'",
                             TESSEL_RT_INVALID_IMAGE);
      }
      if (kernel->sharedBytes > 48 * 1024)
        if (CUresult r = driver.cuFuncSetAttribute(
                f, kFuncAttributeMaxDynamicSharedSize, kernel->sharedBytes)) {
          driver.cuModuleUnload(module);
          return driverFailure(r, "allowing " + std::to_string(kernel->sharedBytes) +
                                      " bytes of shared memory");
        }
      it = kernel->perContext.emplace(ctx, std::make_pair(module, f)).first;
    }
    function = it->second.second;
  }
  if (CUresult r = driver.cuLaunchKernel(function, grid[0], grid[1], grid[2],
                                         kernel->threads, 1, 1, kernel->sharedBytes,
                                         stream, args, nullptr))
    return driverFailure(r, "launching '" + kernel->name + "'");
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

} // extern "C"
