//===- DriverAPI.h - the runtime's view of the CUDA driver ----*- C++ -*-===//
//
// What Runtime.cpp (driver, kernels, launches, tensor maps, memory) and
// Aot.cpp (the ahead-of-time launchers' descriptors and dispatch) share: the
// driver's functions as opened with dlopen, and the error helpers.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_LIB_RUNTIME_DRIVERAPI_H
#define TESSEL_LIB_RUNTIME_DRIVERAPI_H

#include "tessel/runtime.h"

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace tessel::rt {

using CUresult = int;
using CUdevice = int;
using CUcontext = void *;
using CUmodule = void *;
using CUfunction = void *;
using CUstream = void *;
using CUdeviceptr = unsigned long long;

constexpr int kFuncAttributeMaxDynamicSharedSize = 8;
constexpr int kFuncAttributeNonPortableClusterSizeAllowed = 14;
constexpr int kLaunchAttributeClusterDimension = 4;

// cuLaunchKernelEx's configuration, laid out as the driver's CUlaunchConfig
// and CUlaunchAttribute (checked against cuda.h by the fake-driver tests).
union LaunchAttributeValue {
  char pad[64];
  struct {
    unsigned x, y, z;
  } clusterDim;
};
struct LaunchAttribute {
  int id;
  char pad[8 - sizeof(int)];
  LaunchAttributeValue value;
};
struct LaunchConfig {
  unsigned gridDimX, gridDimY, gridDimZ;
  unsigned blockDimX, blockDimY, blockDimZ;
  unsigned sharedMemBytes;
  void *hStream;
  LaunchAttribute *attrs;
  unsigned numAttrs;
};
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
  // Optional: drivers before CUDA 12 lack them; used only when asked for.
  CUresult (*cuLaunchKernelEx)(const LaunchConfig *, CUfunction, void **,
                               void **) = nullptr;
  CUresult (*cuTensorMapEncodeTiled)(void *, int, unsigned, void *,
                                     const uint64_t *, const uint64_t *,
                                     const uint32_t *, const uint32_t *, int,
                                     int, int, int) = nullptr;
  // Optional: memory for callers that have no allocator of their own
  // (numpy arrays on the cuda target), and the emulator's messages.
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t) = nullptr;
  CUresult (*cuMemFree)(CUdeviceptr) = nullptr;
  CUresult (*cuMemcpyHtoD)(CUdeviceptr, const void *, size_t) = nullptr;
  CUresult (*cuMemcpyDtoH)(void *, CUdeviceptr, size_t) = nullptr;
  const char *(*emuLastError)() = nullptr;
  CUresult (*emuSetLaunchRegisters)(CUfunction, int) = nullptr;
};

extern Driver driver;
extern tessel_rt_status driverStatus;

/// Records `message` as the calling thread's last error and returns `status`.
tessel_rt_status fail(tessel_rt_status status, const std::string &message);
/// Opens the driver on first use; its status.
tessel_rt_status checkDriver();
/// Reports a failed driver call as "<what>: <driver's text>" (and, on the
/// emulator, the emulator's whole message).
tessel_rt_status driverFailure(CUresult r, const std::string &what,
                               tessel_rt_status status = TESSEL_RT_DRIVER_ERROR);
/// The current context, or device 0's primary context made current.
tessel_rt_status currentContext(CUcontext &ctx);
/// The kernel's function in `ctx`, its module loaded there on first use.
tessel_rt_status functionIn(tessel_rt_kernel *kernel, CUcontext ctx, CUfunction &function);

} // namespace tessel::rt

struct tessel_rt_kernel {
  std::vector<char> image;
  std::string name;
  uint32_t threads = 0, sharedBytes = 0, registers = 0;
  std::mutex mutex;
  std::map<tessel::rt::CUcontext, std::pair<tessel::rt::CUmodule, tessel::rt::CUfunction>> perContext;
};

#endif // TESSEL_LIB_RUNTIME_DRIVERAPI_H
