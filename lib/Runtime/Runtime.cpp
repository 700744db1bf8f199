//===- Runtime.cpp - the CUDA driver API through dlopen --------------------===//
//
// The driver's types are opaque handles and ints, declared here, so the
// runtime needs no CUDA headers to build.
//
//===----------------------------------------------------------------------===//

#include "tessel/runtime.h"

#include <dlfcn.h>

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

namespace {

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
  driver.cuLaunchKernelEx = reinterpret_cast<decltype(driver.cuLaunchKernelEx)>(
      dlsym(driver.handle, "cuLaunchKernelEx"));
  driver.cuTensorMapEncodeTiled =
      reinterpret_cast<decltype(driver.cuTensorMapEncodeTiled)>(
          dlsym(driver.handle, "cuTensorMapEncodeTiled"));
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

struct tessel_rt_kernel {
  std::vector<char> image;
  std::string name;
  uint32_t threads = 0, sharedBytes = 0;
  std::mutex mutex;
  std::map<CUcontext, std::pair<CUmodule, CUfunction>> perContext;
};

namespace {

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
    it = kernel->perContext.emplace(ctx, std::make_pair(module, f)).first;
  }
  function = it->second.second;
  return TESSEL_RT_SUCCESS;
}

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
  const uint32_t single[3] = {1, 1, 1};
  return tessel_rt_launch_cluster(kernel, grid, single, args, stream);
}

tessel_rt_status tessel_rt_launch_cluster(tessel_rt_kernel *kernel,
                                          const uint32_t grid[3],
                                          const uint32_t cluster[3], void **args,
                                          void *stream) {
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

//===----------------------------------------------------------------------===//
// Ahead-of-time launchers
//===----------------------------------------------------------------------===//

namespace {

/// What a tesselc-generated launcher says about its kernel, parsed from the
/// descriptor text it embeds (one item per line: `kernel NAME`, `threads N`,
/// `shared N`, `grid X Y Z`, `param NAME tensor DTYPE RANK DIMS...` or
/// `param NAME scalar TYPE`, `tensor_map PARAM TENSOR SWIZZLE RANK BOX...`;
/// version 2 adds dynamic dimensions: a name in place of an extent,
/// `dynamic NAME` for each the launch takes after the parameters, and
/// `grid_expr AXIS EXPR` for an extent computed from them).
struct AotParam {
  std::string name, dtype;
  bool tensor = true;
  std::vector<int64_t> shape;
  std::vector<std::string> dimNames; ///< per dimension: "" or its T.dynamic name
};
struct AotTensorMap {
  int param = 0, tensor = 0;
  uint32_t swizzle = 0;
  std::vector<uint32_t> box;
};
struct AotKernel {
  std::string name;
  uint32_t threads = 0, sharedBytes = 0;
  uint32_t grid[3] = {1, 1, 1};
  std::string gridExprs[3];
  std::vector<std::string> dynamics;
  std::vector<AotParam> params;
  std::vector<AotTensorMap> tensorMaps;
  CUcontext ctx = nullptr;
  tessel_rt_kernel *kernel = nullptr;
};

bool tmaDtype(const std::string &dtype, tessel_rt_tma_dtype &out) {
  static const std::pair<const char *, tessel_rt_tma_dtype> table[] = {
      {"float16", TESSEL_RT_TMA_FLOAT16},   {"bfloat16", TESSEL_RT_TMA_BFLOAT16},
      {"float32", TESSEL_RT_TMA_FLOAT32},   {"float64", TESSEL_RT_TMA_FLOAT64},
      {"int32", TESSEL_RT_TMA_INT32},       {"int64", TESSEL_RT_TMA_INT64},
      {"uint8", TESSEL_RT_TMA_UINT8},       {"int8", TESSEL_RT_TMA_UINT8},
      {"float8_e4m3", TESSEL_RT_TMA_UINT8}, {"float8_e5m2", TESSEL_RT_TMA_UINT8},
  };
  for (auto &[name, value] : table)
    if (dtype == name) {
      out = value;
      return true;
    }
  return false;
}

/// Evaluates a grid expression (integers, dimension names, and add, sub,
/// mul, floordiv, ceildiv, rem, min, max of two) over `dims`.
bool evalGridExpression(const std::string &text, size_t &pos,
                        const std::map<std::string, int64_t> &dims, int64_t &out) {
  auto skip = [&] {
    while (pos < text.size() && text[pos] == ' ')
      ++pos;
  };
  skip();
  size_t start = pos;
  if (pos < text.size() && (text[pos] == '-' || std::isdigit(text[pos]))) {
    ++pos;
    while (pos < text.size() && std::isdigit(text[pos]))
      ++pos;
    out = std::stoll(text.substr(start, pos - start));
    return true;
  }
  while (pos < text.size() && (std::isalnum(text[pos]) || text[pos] == '_'))
    ++pos;
  std::string word = text.substr(start, pos - start);
  if (word.empty())
    return false;
  skip();
  if (pos >= text.size() || text[pos] != '(') {
    auto it = dims.find(word);
    if (it == dims.end())
      return false;
    out = it->second;
    return true;
  }
  ++pos;
  int64_t a, b;
  if (!evalGridExpression(text, pos, dims, a))
    return false;
  skip();
  if (pos >= text.size() || text[pos++] != ',')
    return false;
  if (!evalGridExpression(text, pos, dims, b))
    return false;
  skip();
  if (pos >= text.size() || text[pos++] != ')')
    return false;
  bool divides = word == "floordiv" || word == "ceildiv" || word == "rem";
  if (divides && b <= 0)
    return false;
  if (word == "add") out = a + b;
  else if (word == "sub") out = a - b;
  else if (word == "mul") out = a * b;
  else if (word == "floordiv") out = a >= 0 ? a / b : -((-a + b - 1) / b);
  else if (word == "ceildiv") out = a >= 0 ? (a + b - 1) / b : -(-a / b);
  else if (word == "rem") out = a - b * (a >= 0 ? a / b : -((-a + b - 1) / b));
  else if (word == "min") out = std::min(a, b);
  else if (word == "max") out = std::max(a, b);
  else return false;
  return true;
}

tessel_rt_status parseDescriptor(const char *text, AotKernel &k) {
  std::istringstream in(text ? text : "");
  std::string line;
  int lineNo = 0;
  auto bad = [&](const std::string &why) {
    return fail(TESSEL_RT_INVALID_ARGUMENT, "kernel descriptor line " +
                                                std::to_string(lineNo) + ": " + why);
  };
  while (std::getline(in, line)) {
    ++lineNo;
    std::istringstream words(line);
    std::string key;
    if (!(words >> key))
      continue;
    if (key == "tessel-aot") {
      int version = 0;
      if (!(words >> version) || version < 1 || version > 2)
        return bad("this runtime reads descriptor versions 1 and 2; rebuild "
                   "the kernel with a matching tesselc");
    } else if (key == "kernel") {
      words >> k.name;
    } else if (key == "threads") {
      words >> k.threads;
    } else if (key == "shared") {
      words >> k.sharedBytes;
    } else if (key == "grid") {
      words >> k.grid[0] >> k.grid[1] >> k.grid[2];
    } else if (key == "param") {
      AotParam p;
      std::string kind;
      words >> p.name >> kind >> p.dtype;
      p.tensor = kind == "tensor";
      if (p.tensor) {
        int rank = 0;
        words >> rank;
        p.shape.resize(std::max(rank, 0));
        p.dimNames.resize(p.shape.size());
        for (size_t d = 0; d < p.shape.size(); ++d) {
          std::string extent;
          words >> extent;
          if (!extent.empty() && (std::isdigit(extent[0]) || extent[0] == '-')) {
            p.shape[d] = std::stoll(extent);
          } else {
            p.shape[d] = -1;
            p.dimNames[d] = extent;
          }
        }
      }
      k.params.push_back(std::move(p));
    } else if (key == "dynamic") {
      std::string name;
      words >> name;
      k.dynamics.push_back(name);
    } else if (key == "grid_expr") {
      int axis = -1;
      words >> axis;
      if (axis < 0 || axis > 2)
        return bad("a grid expression for axis " + std::to_string(axis));
      std::getline(words >> std::ws, k.gridExprs[axis]);
    } else if (key == "tensor_map") {
      AotTensorMap m;
      int rank = 0;
      words >> m.param >> m.tensor >> m.swizzle >> rank;
      m.box.resize(std::max(rank, 0));
      for (uint32_t &d : m.box)
        words >> d;
      if (m.tensor < 0 || m.tensor >= int(k.params.size()) ||
          !k.params[m.tensor].tensor || int(m.box.size()) != int(k.params[m.tensor].shape.size()))
        return bad("a tensor map names no tensor of matching rank");
      k.tensorMaps.push_back(std::move(m));
    } else {
      return bad("unknown item '" + key + "'");
    }
    if (words.fail())
      return bad("malformed '" + key + "'");
  }
  if (k.name.empty() || k.threads == 0)
    return fail(TESSEL_RT_INVALID_ARGUMENT,
                "kernel descriptor: no kernel name or thread count");
  for (const AotParam &p : k.params)
    for (const std::string &name : p.dimNames)
      if (!name.empty() && std::find(k.dynamics.begin(), k.dynamics.end(), name) ==
                               k.dynamics.end())
        return fail(TESSEL_RT_INVALID_ARGUMENT, "kernel descriptor: dimension '" +
                                                    name + "' of '" + p.name +
                                                    "' is not a dynamic argument");
  return TESSEL_RT_SUCCESS;
}

/// Makes `ctx` current for the scope, restoring the previous context.
class ContextScope {
public:
  tessel_rt_status enter(CUcontext ctx) {
    if (CUresult r = driver.cuCtxGetCurrent(&previous))
      return driverFailure(r, "cuCtxGetCurrent");
    if (ctx == previous)
      return TESSEL_RT_SUCCESS;
    if (CUresult r = driver.cuCtxSetCurrent(ctx))
      return driverFailure(r, "cuCtxSetCurrent");
    switched = true;
    return TESSEL_RT_SUCCESS;
  }
  ~ContextScope() {
    if (switched)
      driver.cuCtxSetCurrent(previous);
  }

private:
  CUcontext previous = nullptr;
  bool switched = false;
};

} // namespace

extern "C" {

tessel_rt_status tessel_aot_load(const char *descriptor, const void *image,
                                 size_t image_size, void *ctx, void **out) {
  if (!out)
    return fail(TESSEL_RT_INVALID_ARGUMENT, "load needs a place for the handle");
  *out = nullptr;
  auto k = std::make_unique<AotKernel>();
  if (tessel_rt_status s = parseDescriptor(descriptor, *k))
    return s;
  if (tessel_rt_status s = checkDriver())
    return s;
  ContextScope scope;
  if (ctx) {
    if (tessel_rt_status s = scope.enter(static_cast<CUcontext>(ctx)))
      return s;
    k->ctx = static_cast<CUcontext>(ctx);
  } else if (tessel_rt_status s = currentContext(k->ctx)) {
    return s;
  }
  if (tessel_rt_status s = tessel_rt_kernel_create(image, image_size, k->name.c_str(),
                                                   k->threads, k->sharedBytes, &k->kernel))
    return s;
  // Load the module now, so a bad image or a missing kernel is this call's
  // error rather than the first launch's.
  CUfunction function;
  if (tessel_rt_status s = functionIn(k->kernel, k->ctx, function)) {
    tessel_rt_kernel_destroy(k->kernel);
    return s;
  }
  *out = k.release();
  return TESSEL_RT_SUCCESS;
}

tessel_rt_status tessel_aot_launch(void *handle, void *stream, void *const *args,
                                   int count) {
  if (!handle)
    return fail(TESSEL_RT_INVALID_ARGUMENT,
                "launch needs a handle from load (this one is NULL)");
  auto *k = static_cast<AotKernel *>(handle);
  int declared = int(k->params.size());
  int expected = declared + int(k->dynamics.size());
  if (count != expected || (count && !args))
    return fail(TESSEL_RT_INVALID_ARGUMENT,
                "'" + k->name + "' takes " + std::to_string(expected) +
                    " arguments, got " + std::to_string(count));
  // The dynamic dimensions follow the parameters: the tensors' extents and
  // the grid come from them.
  std::map<std::string, int64_t> dims;
  for (size_t i = 0; i < k->dynamics.size(); ++i) {
    int64_t value = *static_cast<const int64_t *>(args[declared + i]);
    if (value < 0)
      return fail(TESSEL_RT_INVALID_ARGUMENT, "dynamic dimension '" + k->dynamics[i] +
                                                  "' is " + std::to_string(value) +
                                                  "; it must not be negative");
    dims[k->dynamics[i]] = value;
  }
  uint32_t grid[3] = {k->grid[0], k->grid[1], k->grid[2]};
  for (int axis = 0; axis < 3; ++axis) {
    if (k->gridExprs[axis].empty())
      continue;
    size_t pos = 0;
    int64_t extent = 0;
    if (!evalGridExpression(k->gridExprs[axis], pos, dims, extent))
      return fail(TESSEL_RT_INVALID_ARGUMENT, "kernel descriptor: cannot evaluate the "
                                              "grid expression '" + k->gridExprs[axis] + "'");
    if (extent < 0 || extent > int64_t(UINT32_MAX))
      return fail(TESSEL_RT_INVALID_ARGUMENT,
                  "the grid's extent " + std::to_string(extent) + " (" + k->gridExprs[axis] +
                      ") is out of range for these dimensions");
    grid[axis] = uint32_t(extent);
  }
  for (int i = 0; i < declared; ++i) {
    if (!k->params[i].tensor)
      continue;
    uint64_t pointer = *static_cast<const uint64_t *>(args[i]);
    std::string arg = "argument '" + k->params[i].name + "'";
    if (!pointer)
      return fail(TESSEL_RT_INVALID_ARGUMENT, arg + " is a null pointer");
    if (pointer % 16)
      return fail(TESSEL_RT_INVALID_ARGUMENT,
                  arg + " is not 16-byte aligned; Tessel kernels load tiles in "
                        "16-byte vectors");
  }
  std::vector<void *> params(args, args + count);
  // No blocks (a zero dynamic extent): nothing to run.
  if (!grid[0] || !grid[1] || !grid[2])
    return TESSEL_RT_SUCCESS;
  for (const AotTensorMap &m : k->tensorMaps) {
    const AotParam &p = k->params[m.tensor];
    std::vector<int64_t> shape = p.shape;
    for (size_t d = 0; d < shape.size(); ++d)
      if (!p.dimNames[d].empty())
        shape[d] = dims[p.dimNames[d]];
    tessel_rt_tma_dtype dtype;
    if (!tmaDtype(p.dtype, dtype))
      return fail(TESSEL_RT_INVALID_ARGUMENT, "no TMA element type for " + p.dtype);
    const tessel_rt_tensor_map *map = nullptr;
    uint64_t pointer = *static_cast<const uint64_t *>(args[m.tensor]);
    if (tessel_rt_status s = tessel_rt_tensor_map_get(
            &map, dtype, int(shape.size()), pointer, shape.data(), nullptr,
            m.box.data(), m.swizzle))
      return fail(s, "the TMA descriptor for argument '" + p.name +
                         "': " + tessel_rt_last_error());
    if (m.param < int(params.size()))
      return fail(TESSEL_RT_INVALID_ARGUMENT, "kernel descriptor: tensor map "
                                              "parameter inside the arguments");
    params.resize(std::max<size_t>(params.size(), m.param + 1), nullptr);
    params[m.param] = const_cast<tessel_rt_tensor_map *>(map);
  }
  ContextScope scope;
  if (tessel_rt_status s = scope.enter(k->ctx))
    return s;
  return tessel_rt_launch(k->kernel, grid, params.data(), stream);
}

void tessel_aot_unload(void *handle) {
  auto *k = static_cast<AotKernel *>(handle);
  if (!k)
    return;
  if (driverStatus == TESSEL_RT_SUCCESS && k->kernel) {
    ContextScope scope;
    if (scope.enter(k->ctx) == TESSEL_RT_SUCCESS) {
      tessel_rt_kernel_destroy(k->kernel);
      k->kernel = nullptr;
    }
  }
  if (k->kernel)
    tessel_rt_kernel_destroy(k->kernel);
  delete k;
}

namespace {
struct AotDispatch {
  std::string keyName;
  std::vector<int64_t> keys; ///< exact keys, or (ranges) inclusive upper bounds
  std::vector<void *> handles;
  int dimArg = -1;           ///< ranges: where the dimension is in a launch's arguments
};
} // namespace

tessel_rt_status tessel_aot_dispatch_load(int count, const char *const *descriptors,
                                          const void *const *images, const size_t *sizes,
                                          const int64_t *keys, const char *key_name,
                                          void *ctx, void **out) {
  if (!out || count < 1 || !descriptors || !images || !sizes || !keys)
    return fail(TESSEL_RT_INVALID_ARGUMENT, "dispatch load needs its variant tables");
  *out = nullptr;
  auto d = std::make_unique<AotDispatch>();
  d->keyName = key_name ? key_name : "key";
  for (int i = 0; i < count; ++i) {
    void *handle = nullptr;
    if (tessel_rt_status s = tessel_aot_load(descriptors[i], images[i], sizes[i], ctx, &handle)) {
      for (void *h : d->handles)
        tessel_aot_unload(h);
      return s;
    }
    d->keys.push_back(keys[i]);
    d->handles.push_back(handle);
  }
  *out = d.release();
  return TESSEL_RT_SUCCESS;
}

tessel_rt_status tessel_aot_dispatch_load_ranges(int count, const char *const *descriptors,
                                                 const void *const *images,
                                                 const size_t *sizes,
                                                 const int64_t *upper_bounds,
                                                 const char *dim_name, void *ctx,
                                                 void **out) {
  if (!dim_name)
    return fail(TESSEL_RT_INVALID_ARGUMENT, "dispatch load needs the dimension's name");
  for (int i = 1; i < count; ++i)
    if (upper_bounds && upper_bounds[i] <= upper_bounds[i - 1])
      return fail(TESSEL_RT_INVALID_ARGUMENT, "dispatch ranges must increase");
  void *loaded = nullptr;
  if (tessel_rt_status s = tessel_aot_dispatch_load(count, descriptors, images, sizes,
                                                    upper_bounds, dim_name, ctx, &loaded))
    return s;
  auto *d = static_cast<AotDispatch *>(loaded);
  // Where the dimension sits among the arguments: after the parameters, in
  // the order of the kernels' dynamic dimensions (the same in every variant).
  const auto *first = static_cast<const AotKernel *>(d->handles.front());
  for (void *h : d->handles) {
    const auto *k = static_cast<const AotKernel *>(h);
    if (k->dynamics != first->dynamics || k->params.size() != first->params.size()) {
      tessel_aot_dispatch_unload(d);
      return fail(TESSEL_RT_INVALID_ARGUMENT, "dispatch variants take different arguments");
    }
  }
  auto it = std::find(first->dynamics.begin(), first->dynamics.end(), d->keyName);
  if (it == first->dynamics.end()) {
    std::string message =
        "'" + d->keyName + "' is not a dynamic dimension of '" + first->name + "'";
    tessel_aot_dispatch_unload(d); // `first` goes with it
    return fail(TESSEL_RT_INVALID_ARGUMENT, message);
  }
  d->dimArg = int(first->params.size() + (it - first->dynamics.begin()));
  *out = d;
  return TESSEL_RT_SUCCESS;
}

tessel_rt_status tessel_aot_dispatch_launch_ranges(void *dispatch, void *stream,
                                                   void *const *args, int count) {
  auto *d = static_cast<AotDispatch *>(dispatch);
  if (!d || d->dimArg < 0)
    return fail(TESSEL_RT_INVALID_ARGUMENT,
                "launch needs a handle from dispatch_load_ranges (this one is "
                "NULL or an exact-key dispatcher)");
  if (count <= d->dimArg || !args)
    return tessel_aot_launch(d->handles.front(), stream, args, count); // its count error
  int64_t value = *static_cast<const int64_t *>(args[d->dimArg]);
  for (size_t i = 0; i < d->keys.size(); ++i)
    if (value <= d->keys[i])
      return tessel_aot_launch(d->handles[i], stream, args, count);
  return tessel_aot_launch(d->handles.back(), stream, args, count);
}

tessel_rt_status tessel_aot_dispatch_launch(void *dispatch, int64_t key, void *stream,
                                            void *const *args, int count) {
  if (!dispatch)
    return fail(TESSEL_RT_INVALID_ARGUMENT,
                "launch needs a handle from load (this one is NULL)");
  auto *d = static_cast<AotDispatch *>(dispatch);
  for (size_t i = 0; i < d->keys.size(); ++i)
    if (d->keys[i] == key)
      return tessel_aot_launch(d->handles[i], stream, args, count);
  std::string known;
  for (size_t i = 0; i < d->keys.size(); ++i)
    known += (i ? ", " : "") + std::to_string(d->keys[i]);
  return fail(TESSEL_RT_INVALID_ARGUMENT, "no variant was compiled for " + d->keyName + " = " +
                                              std::to_string(key) + " (compiled: " + known + ")");
}

void tessel_aot_dispatch_unload(void *dispatch) {
  auto *d = static_cast<AotDispatch *>(dispatch);
  if (!d)
    return;
  for (void *h : d->handles)
    tessel_aot_unload(h);
  delete d;
}

const char *tessel_status_string(int status) {
  return tessel_rt_status_string(static_cast<tessel_rt_status>(status));
}

const char *tessel_last_error(void) { return tessel_rt_last_error(); }

} // extern "C"
