//===- FakeDriver.cpp - a CUDA driver stand-in for the runtime's tests -----===//
//
// Implements the driver entry points the runtime binds, with the real
// cuda.h declarations, and records what it is called with. The runtime
// declares the driver's structures itself (it builds without CUDA headers);
// reading them here through cuda.h's types checks that the two layouts
// agree. Nothing runs: launches are recorded, not executed.
//
//===----------------------------------------------------------------------===//

#include "FakeDriver.h"

#include <cuda.h>

#include <cstring>
#include <mutex>

namespace {
FakeDriverState state;
int contextToken = 0;
int moduleToken = 0;
int functionToken = 0;
} // namespace

extern "C" {

FakeDriverState *fake_driver_state() { return &state; }

CUresult cuInit(unsigned) { return CUDA_SUCCESS; }

CUresult cuGetErrorString(CUresult r, const char **text) {
  *text = r == CUDA_ERROR_INVALID_VALUE ? "invalid argument" : "fake error";
  return CUDA_SUCCESS;
}

CUresult cuDeviceGetCount(int *count) {
  *count = 1;
  return CUDA_SUCCESS;
}

CUresult cuDeviceGet(CUdevice *device, int ordinal) {
  *device = ordinal;
  return CUDA_SUCCESS;
}

// A Hopper (compute capability 9.0).
CUresult cuDeviceGetAttribute(int *value, CUdevice_attribute attribute, CUdevice) {
  if (attribute == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR)
    *value = 9;
  else if (attribute == CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR)
    *value = 0;
  else
    return CUDA_ERROR_INVALID_VALUE;
  return CUDA_SUCCESS;
}

/// Launches may come from several threads at once.
static std::mutex recording;

CUresult cuCtxGetCurrent(CUcontext *ctx) {
  *ctx = state.hasContext ? reinterpret_cast<CUcontext>(&contextToken) : nullptr;
  return CUDA_SUCCESS;
}

CUresult cuCtxSetCurrent(CUcontext) {
  state.hasContext = true;
  return CUDA_SUCCESS;
}

CUresult cuCtxGetDevice(CUdevice *device) {
  *device = 0;
  return CUDA_SUCCESS;
}

CUresult cuDevicePrimaryCtxRetain(CUcontext *ctx, CUdevice) {
  *ctx = reinterpret_cast<CUcontext>(&contextToken);
  return CUDA_SUCCESS;
}

CUresult cuModuleLoadData(CUmodule *module, const void *image) {
  ++state.moduleLoads;
  state.lastImage = static_cast<const char *>(image);
  *module = reinterpret_cast<CUmodule>(&moduleToken);
  return CUDA_SUCCESS;
}

CUresult cuModuleUnload(CUmodule) {
  ++state.moduleUnloads;
  return CUDA_SUCCESS;
}

CUresult cuModuleGetFunction(CUfunction *function, CUmodule, const char *name) {
  state.lastFunctionName = name;
  *function = reinterpret_cast<CUfunction>(&functionToken);
  return CUDA_SUCCESS;
}

CUresult cuFuncSetAttribute(CUfunction, CUfunction_attribute attribute, int value) {
  state.attributes.emplace_back(int(attribute), value);
  return CUDA_SUCCESS;
}

CUresult cuLaunchKernel(CUfunction, unsigned gx, unsigned gy, unsigned gz,
                        unsigned bx, unsigned by, unsigned bz, unsigned shared,
                        CUstream stream, void **params, void **) {
  FakeLaunch launch;
  launch.grid[0] = gx, launch.grid[1] = gy, launch.grid[2] = gz;
  launch.block[0] = bx, launch.block[1] = by, launch.block[2] = bz;
  launch.sharedBytes = shared;
  launch.stream = stream;
  launch.params = params;
  for (int i = 0; i < state.snapshotParams; ++i) {
    uint64_t word = 0;
    std::memcpy(&word, params[i], sizeof(word));
    launch.paramWords.push_back(word);
  }
  {
    std::lock_guard<std::mutex> lock(recording);
    state.launches.push_back(launch);
  }
  return CUDA_SUCCESS;
}

CUresult cuLaunchKernelEx(const CUlaunchConfig *config, CUfunction, void **params,
                          void **) {
  FakeLaunch launch;
  launch.extended = true;
  launch.grid[0] = config->gridDimX, launch.grid[1] = config->gridDimY;
  launch.grid[2] = config->gridDimZ;
  launch.block[0] = config->blockDimX, launch.block[1] = config->blockDimY;
  launch.block[2] = config->blockDimZ;
  launch.sharedBytes = config->sharedMemBytes;
  launch.stream = config->hStream;
  launch.params = params;
  for (unsigned i = 0; i < config->numAttrs; ++i) {
    const CUlaunchAttribute &a = config->attrs[i];
    if (a.id == CU_LAUNCH_ATTRIBUTE_CLUSTER_DIMENSION) {
      launch.cluster[0] = a.value.clusterDim.x;
      launch.cluster[1] = a.value.clusterDim.y;
      launch.cluster[2] = a.value.clusterDim.z;
    }
  }
  for (int i = 0; i < state.snapshotParams; ++i) {
    uint64_t word = 0;
    std::memcpy(&word, params[i], sizeof(word));
    launch.paramWords.push_back(word);
  }
  {
    std::lock_guard<std::mutex> lock(recording);
    state.launches.push_back(launch);
  }
  return CUDA_SUCCESS;
}

CUresult cuPointerGetAttribute(void *data, CUpointer_attribute attribute,
                               CUdeviceptr pointer) {
  if (attribute != CU_POINTER_ATTRIBUTE_MEMORY_TYPE)
    return CUDA_ERROR_INVALID_VALUE;
  *static_cast<unsigned *>(data) = pointer >= state.hostMemoryFrom
                                       ? CU_MEMORYTYPE_HOST
                                       : CU_MEMORYTYPE_DEVICE;
  return CUDA_SUCCESS;
}

CUresult cuTensorMapEncodeTiled(CUtensorMap *map, CUtensorMapDataType dtype,
                                cuuint32_t rank, void *address,
                                const cuuint64_t *dims, const cuuint64_t *strides,
                                const cuuint32_t *box, const cuuint32_t *elementStrides,
                                CUtensorMapInterleave interleave,
                                CUtensorMapSwizzle swizzle,
                                CUtensorMapL2promotion l2, CUtensorMapFloatOOBfill oob) {
  FakeTensorMap call;
  call.dtype = int(dtype);
  call.rank = rank;
  call.address = reinterpret_cast<uint64_t>(address);
  for (unsigned i = 0; i < rank; ++i) {
    call.dims.push_back(dims[i]);
    call.box.push_back(box[i]);
    call.elementStrides.push_back(elementStrides[i]);
    if (i + 1 < rank)
      call.byteStrides.push_back(strides[i]);
  }
  call.interleave = int(interleave);
  call.swizzle = int(swizzle);
  call.l2Promotion = int(l2);
  call.oobFill = int(oob);
  state.tensorMaps.push_back(call);
  std::memset(map, 0, sizeof(*map));
  map->opaque[0] = call.address;
  map->opaque[1] = state.tensorMaps.size();
  return CUDA_SUCCESS;
}

} // extern "C"
