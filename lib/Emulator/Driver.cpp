//===- Driver.cpp - the CUDA driver API, served by the emulator ------------===//
//
// libtessel_emu.so exports the driver functions Tessel's runtime, its
// launchers and programs like examples/embed call, under the names
// libcuda.so.1 gives them (and the _v2 names cuda.h maps to), so that
// TESSEL_CUDA_DRIVER=emu (or a path to this library) runs them unchanged.
// One device, an sm_90 with 132 SMs; device memory is host memory;
// launches run to completion before they return. When a call fails,
// tesselEmuLastError() holds the whole message (the located check that
// failed, for launches).
//
//===----------------------------------------------------------------------===//

#include "lib/Emulator/Fatbin.h"
#include "lib/Emulator/Machine.h"
#include "lib/Emulator/TensorMap.h"

#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <set>

using namespace tessel::emu;

namespace {

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;

struct Context {
  int device = 0;
};
struct ModuleHandle {
  std::unique_ptr<Module> module;
};
struct FunctionHandle {
  ModuleHandle *module = nullptr;
  const Kernel *kernel = nullptr;
  int maxDynamicShared = 48 * 1024;
  int launchRegisters = 0;
};
struct Event {
  std::chrono::steady_clock::time_point when;
};

thread_local std::string lastError;
/// The calling thread's last launch: thread-instructions run, seconds taken.
thread_local uint64_t lastInstructions = 0;
thread_local double lastSeconds = 0;
thread_local Context *current = nullptr;
Context primary;
std::mutex handlesMutex;
std::set<Context *> contexts = {&primary};
std::set<ModuleHandle *> modules;
std::map<FunctionHandle *, ModuleHandle *> functions;
bool initialized = false;

constexpr size_t kMaxSharedOptIn = 232448; // 227 KB

CUresult fail(Result code, const std::string &message) {
  lastError = message;
  return code;
}

template <typename F> CUresult guarded(F &&f) {
  try {
    lastError.clear();
    return f();
  } catch (const EmuError &e) {
    lastError = e.what();
    return e.code;
  } catch (const std::exception &e) {
    lastError = std::string("emulator: ") + e.what();
    return ErrUnknown;
  }
}

CUresult needInit() {
  if (!initialized)
    return fail(ErrNotInitialized, "cuInit has not been called");
  return Success;
}

bool validFunction(FunctionHandle *f) {
  std::lock_guard<std::mutex> lock(handlesMutex);
  return functions.count(f) != 0;
}

/// The registers a kernel starts with when the launch does not say: what
/// ptxas allows under its .maxntid/.minnctapersm or .maxnreg, else 255.
int defaultRegisters(const Kernel &k) {
  if (k.maxRegs)
    return int(k.maxRegs);
  if (k.maxThreads) {
    uint32_t blocks = std::max(k.minBlocksPerSM, 1u);
    uint32_t perThread = 65536 / (k.maxThreads * blocks);
    return int(std::min<uint32_t>(255, perThread / 8 * 8));
  }
  return 0;
}

struct LaunchConfig {
  unsigned gridDimX, gridDimY, gridDimZ;
  unsigned blockDimX, blockDimY, blockDimZ;
  unsigned sharedMemBytes;
  void *hStream;
  void *attrs;
  unsigned numAttrs;
};

CUresult launch(FunctionHandle *f, const unsigned grid[3], const unsigned block[3],
                unsigned shared, void **params, void **extra) {
  if (CUresult r = needInit())
    return r;
  if (!validFunction(f))
    return fail(ErrInvalidHandle, "cuLaunchKernel: not a function of a loaded module");
  const Kernel &k = *f->kernel;
  uint64_t threads = uint64_t(block[0]) * block[1] * block[2];
  if (!threads || threads > 1024 || block[2] > 64)
    return fail(ErrInvalidValue, "launching '" + k.name + "': a block of " +
                                     std::to_string(threads) + " threads (1 to 1024, z up to 64)");
  if (k.maxThreads && threads > k.maxThreads)
    return fail(ErrInvalidValue, "launching '" + k.name + "': a block of " +
                                     std::to_string(threads) + " threads, but its .maxntid is " +
                                     std::to_string(k.maxThreads));
  if (k.reqThreads[0] &&
      (block[0] != k.reqThreads[0] || block[1] != std::max(k.reqThreads[1], 1u) ||
       block[2] != std::max(k.reqThreads[2], 1u)))
    return fail(ErrInvalidValue, "launching '" + k.name + "': the block shape differs from its "
                                                          ".reqntid");
  if (!grid[0] || !grid[1] || !grid[2] || grid[0] > 0x7fffffffu || grid[1] > 65535 ||
      grid[2] > 65535)
    return fail(ErrInvalidValue, "launching '" + k.name + "': grid (" + std::to_string(grid[0]) +
                                     ", " + std::to_string(grid[1]) + ", " +
                                     std::to_string(grid[2]) +
                                     ") is out of range (x below 2^31, y and z up to 65535)");
  if (shared > unsigned(f->maxDynamicShared))
    return fail(ErrInvalidValue,
                "launching '" + k.name + "' with " + std::to_string(shared) +
                    " bytes of dynamic shared memory; above 48 KB, raise "
                    "CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES first (it is " +
                    std::to_string(f->maxDynamicShared) + ")");
  if (size_t(k.dynamicSharedOffset) + shared > kMaxSharedOptIn)
    return fail(ErrInvalidValue, "launching '" + k.name + "': " +
                                     std::to_string(k.dynamicSharedOffset + shared) +
                                     " bytes of shared memory per block (at most 232448)");
  Launch l;
  l.module = f->module->module.get();
  l.kernel = &k;
  for (int i = 0; i < 3; ++i)
    l.grid[i] = grid[i], l.block[i] = block[i];
  l.dynamicShared = shared;
  // Known only when the runtime says (ptxas chooses it, the PTX does not);
  // unknown, setmaxnreg's direction and the register pool are not checked.
  l.launchRegisters = unsigned(f->launchRegisters);
  l.params.assign(k.paramBytes, 0);
  if (params) {
    for (size_t i = 0; i < k.params.size(); ++i) {
      if (!params[i])
        return fail(ErrInvalidValue, "launching '" + k.name + "': parameter " +
                                         std::to_string(i) + " (" + k.params[i].name +
                                         ") is a null pointer in kernelParams");
      std::memcpy(l.params.data() + k.params[i].offset, params[i], k.params[i].size);
    }
  } else if (extra) {
    // CU_LAUNCH_PARAM_BUFFER_POINTER (1), CU_LAUNCH_PARAM_BUFFER_SIZE (2), END (0)
    const void *buffer = nullptr;
    size_t size = 0;
    for (void **e = extra; *e; e += 2) {
      if (*e == reinterpret_cast<void *>(1))
        buffer = e[1];
      else if (*e == reinterpret_cast<void *>(2))
        size = *static_cast<size_t *>(e[1]);
    }
    if (!buffer || size < k.paramBytes)
      return fail(ErrInvalidValue, "launching '" + k.name + "': the extra parameter buffer is "
                                                            "missing or too small");
    std::memcpy(l.params.data(), buffer, k.paramBytes);
  } else if (!k.params.empty()) {
    return fail(ErrInvalidValue, "launching '" + k.name + "' without its parameters");
  }
  l.options = Options::fromEnvironment();
  auto start = std::chrono::steady_clock::now();
  CUresult r = guarded([&] {
    l.run();
    return Success;
  });
  lastInstructions = l.instructions;
  lastSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return r;
}

} // namespace

#define EXPORT extern "C" __attribute__((visibility("default")))

EXPORT const char *tesselEmuLastError() { return lastError.c_str(); }

/// What the calling thread's last launch cost: thread-instructions executed
/// (every thread's, every block's) and seconds of wall time.
EXPORT void tesselEmuLastLaunchStats(uint64_t *instructions, double *seconds) {
  if (instructions)
    *instructions = lastInstructions;
  if (seconds)
    *seconds = lastSeconds;
}

/// The instructions of a PTX module the emulator does not run, a line each
/// ("PTX line N: `text`"), "" when it runs them all; a module it cannot
/// read gives its parse error. Valid until the thread's next call.
EXPORT const char *tesselEmuUnsupported(const char *ptx) {
  static thread_local std::string report;
  report.clear();
  try {
    std::unique_ptr<Module> m = loadModule(ptx ? ptx : "");
    for (const auto &k : m->kernels)
      for (const Instr &in : k->code)
        if (in.flags & FlagUnsupported) {
          std::string text = in.ptxLine <= m->sourceLines.size() ? m->sourceLines[in.ptxLine - 1] : "";
          size_t b = text.find_first_not_of(" \t");
          report += "PTX line " + std::to_string(in.ptxLine) + ": `" +
                    (b == std::string::npos ? "" : text.substr(b)) + "`\n";
        }
    for (const auto &[name, address] : m->globalAddress)
      deviceMemory().removeRange(address);
  } catch (const EmuError &e) {
    report = e.what();
  }
  return report.c_str();
}

/// Sets the register count a kernel starts with (what ptxas reported), so
/// setmaxnreg is checked against it.
EXPORT CUresult tesselEmuSetLaunchRegisters(void *function, int registers) {
  auto *f = static_cast<FunctionHandle *>(function);
  if (!validFunction(f) || registers < 0 || registers > 255)
    return fail(ErrInvalidValue, "tesselEmuSetLaunchRegisters: bad function or count");
  f->launchRegisters = registers;
  return Success;
}

EXPORT CUresult cuInit(unsigned flags) {
  if (flags)
    return fail(ErrInvalidValue, "cuInit takes flags 0");
  initialized = true;
  return Success;
}

EXPORT CUresult cuDriverGetVersion(int *version) {
  if (!version)
    return ErrInvalidValue;
  *version = 13000;
  return Success;
}

EXPORT CUresult cuGetErrorString(CUresult error, const char **text) {
  if (!text)
    return ErrInvalidValue;
  switch (error) {
  case Success: *text = "no error"; break;
  case ErrInvalidValue: *text = "invalid argument"; break;
  case ErrOutOfMemory: *text = "out of memory"; break;
  case ErrNotInitialized: *text = "initialization error"; break;
  case ErrNoDevice: *text = "no CUDA-capable device is detected"; break;
  case ErrInvalidDevice: *text = "invalid device ordinal"; break;
  case ErrInvalidImage: *text = "device kernel image is invalid"; break;
  case ErrInvalidContext: *text = "invalid device context"; break;
  case ErrNoBinaryForGPU: *text = "no kernel image is available for execution on the device"; break;
  case ErrInvalidPTX: *text = "a PTX JIT compilation failed"; break;
  case ErrInvalidHandle: *text = "invalid resource handle"; break;
  case ErrNotFound: *text = "named symbol not found"; break;
  case ErrIllegalAddress: *text = "an illegal memory access was encountered"; break;
  case ErrLaunchOutOfResources: *text = "too many resources requested for launch"; break;
  case ErrLaunchTimeout: *text = "the launch timed out and was terminated"; break;
  case ErrIllegalInstruction: *text = "an illegal instruction was encountered"; break;
  case ErrMisalignedAddress: *text = "misaligned address"; break;
  case ErrInvalidAddressSpace: *text = "operation not supported on global/shared address space"; break;
  case ErrLaunchFailed: *text = "unspecified launch failure"; break;
  case ErrNotSupported: *text = "operation not supported"; break;
  default: *text = "unknown error"; return ErrInvalidValue;
  }
  return Success;
}

EXPORT CUresult cuGetErrorName(CUresult error, const char **text) {
  return cuGetErrorString(error, text);
}

EXPORT CUresult cuDeviceGetCount(int *count) {
  if (!count)
    return ErrInvalidValue;
  if (CUresult r = needInit())
    return r;
  *count = 1;
  return Success;
}

EXPORT CUresult cuDeviceGet(CUdevice *device, int ordinal) {
  if (!device)
    return ErrInvalidValue;
  if (CUresult r = needInit())
    return r;
  if (ordinal != 0)
    return fail(ErrInvalidDevice, "the emulator has one device (0)");
  *device = 0;
  return Success;
}

EXPORT CUresult cuDeviceGetName(char *name, int length, CUdevice device) {
  if (!name || length <= 0 || device != 0)
    return ErrInvalidValue;
  std::strncpy(name, "Tessel Hopper emulator (sm_90)", size_t(length));
  name[length - 1] = 0;
  return Success;
}

EXPORT CUresult cuDeviceTotalMem_v2(size_t *bytes, CUdevice device) {
  if (!bytes || device != 0)
    return ErrInvalidValue;
  *bytes = size_t(16) << 30;
  return Success;
}
EXPORT CUresult cuDeviceTotalMem(size_t *bytes, CUdevice device) {
  return cuDeviceTotalMem_v2(bytes, device);
}

EXPORT CUresult cuDeviceComputeCapability(int *major, int *minor, CUdevice device) {
  if (!major || !minor || device != 0)
    return ErrInvalidValue;
  *major = 9;
  *minor = 0;
  return Success;
}

EXPORT CUresult cuDeviceGetAttribute(int *value, int attribute, CUdevice device) {
  if (!value || device != 0)
    return ErrInvalidValue;
  static const std::map<int, int> attributes = {
      {1, 1024},        {2, 1024},   {3, 1024},    {4, 64},      {5, 0x7fffffff},
      {6, 65535},       {7, 65535},  {8, 49152},   {9, 65536},   {10, 32},
      {11, 0x7fffffff}, {12, 65536}, {13, 1830000}, {14, 512},   {15, 1},
      {16, 132},        {17, 0},     {18, 0},      {19, 1},      {20, 0},
      {31, 1},          {33, 0},     {34, 0},      {35, 0},      {36, 2619000},
      {37, 5120},       {38, 50 * 1024 * 1024},    {39, 2048},   {40, 1},
      {41, 1},          {75, 9},     {76, 0},      {81, 233472}, {82, 65536},
      {95, 1},          {97, int(kMaxSharedOptIn)}, {106, 32},   {120, 1},
  };
  auto it = attributes.find(attribute);
  *value = it == attributes.end() ? 0 : it->second;
  return Success;
}

EXPORT CUresult cuDevicePrimaryCtxRetain(void **ctx, CUdevice device) {
  if (!ctx || device != 0)
    return ErrInvalidValue;
  if (CUresult r = needInit())
    return r;
  *ctx = &primary;
  return Success;
}
EXPORT CUresult cuDevicePrimaryCtxRelease_v2(CUdevice) { return Success; }
EXPORT CUresult cuDevicePrimaryCtxRelease(CUdevice) { return Success; }

EXPORT CUresult cuCtxCreate_v2(void **ctx, unsigned, CUdevice device) {
  if (!ctx || device != 0)
    return ErrInvalidValue;
  if (CUresult r = needInit())
    return r;
  auto *c = new Context;
  {
    std::lock_guard<std::mutex> lock(handlesMutex);
    contexts.insert(c);
  }
  current = c;
  *ctx = c;
  return Success;
}
EXPORT CUresult cuCtxCreate(void **ctx, unsigned flags, CUdevice device) {
  return cuCtxCreate_v2(ctx, flags, device);
}

EXPORT CUresult cuCtxDestroy_v2(void *ctx) {
  auto *c = static_cast<Context *>(ctx);
  std::lock_guard<std::mutex> lock(handlesMutex);
  if (c == &primary || !contexts.count(c))
    return fail(ErrInvalidContext, "cuCtxDestroy: not a context cuCtxCreate made");
  contexts.erase(c);
  if (current == c)
    current = nullptr;
  delete c;
  return Success;
}
EXPORT CUresult cuCtxDestroy(void *ctx) { return cuCtxDestroy_v2(ctx); }

EXPORT CUresult cuCtxGetCurrent(void **ctx) {
  if (!ctx)
    return ErrInvalidValue;
  *ctx = current;
  return Success;
}

EXPORT CUresult cuCtxSetCurrent(void *ctx) {
  auto *c = static_cast<Context *>(ctx);
  std::lock_guard<std::mutex> lock(handlesMutex);
  if (c && !contexts.count(c))
    return fail(ErrInvalidContext, "cuCtxSetCurrent: not a context");
  current = c;
  return Success;
}
EXPORT CUresult cuCtxPushCurrent_v2(void *ctx) { return cuCtxSetCurrent(ctx); }
EXPORT CUresult cuCtxPopCurrent_v2(void **ctx) {
  if (ctx)
    *ctx = current;
  current = nullptr;
  return Success;
}

EXPORT CUresult cuCtxGetDevice(CUdevice *device) {
  if (!device)
    return ErrInvalidValue;
  if (!current)
    return fail(ErrInvalidContext, "no current context");
  *device = 0;
  return Success;
}

EXPORT CUresult cuCtxSynchronize() { return needInit(); }
EXPORT CUresult cuStreamSynchronize(void *) { return needInit(); }
EXPORT CUresult cuStreamCreate(void **stream, unsigned) {
  if (!stream)
    return ErrInvalidValue;
  *stream = new int(0);
  return Success;
}
EXPORT CUresult cuStreamDestroy_v2(void *stream) {
  delete static_cast<int *>(stream);
  return Success;
}
EXPORT CUresult cuStreamDestroy(void *stream) { return cuStreamDestroy_v2(stream); }

EXPORT CUresult cuEventCreate(void **event, unsigned) {
  if (!event)
    return ErrInvalidValue;
  *event = new Event;
  return Success;
}
EXPORT CUresult cuEventRecord(void *event, void *) {
  if (!event)
    return ErrInvalidHandle;
  static_cast<Event *>(event)->when = std::chrono::steady_clock::now();
  return Success;
}
EXPORT CUresult cuEventSynchronize(void *) { return Success; }
EXPORT CUresult cuEventElapsedTime(float *ms, void *start, void *end) {
  if (!ms || !start || !end)
    return ErrInvalidValue;
  *ms = std::chrono::duration<float, std::milli>(static_cast<Event *>(end)->when -
                                                 static_cast<Event *>(start)->when)
            .count();
  return Success;
}
EXPORT CUresult cuEventDestroy_v2(void *event) {
  delete static_cast<Event *>(event);
  return Success;
}
EXPORT CUresult cuEventDestroy(void *event) { return cuEventDestroy_v2(event); }

// ---- memory -------------------------------------------------------------

EXPORT CUresult cuMemAlloc_v2(CUdeviceptr *ptr, size_t bytes) {
  if (!ptr)
    return ErrInvalidValue;
  if (CUresult r = needInit())
    return r;
  if (bytes == 0)
    return fail(ErrInvalidValue, "cuMemAlloc of 0 bytes");
  uint64_t a = deviceMemory().allocate(bytes);
  if (!a)
    return fail(ErrOutOfMemory, "cuMemAlloc: out of host memory for " + std::to_string(bytes) +
                                    " bytes");
  *ptr = a;
  return Success;
}
EXPORT CUresult cuMemAlloc(CUdeviceptr *ptr, size_t bytes) { return cuMemAlloc_v2(ptr, bytes); }

EXPORT CUresult cuMemFree_v2(CUdeviceptr ptr) {
  if (!ptr)
    return Success;
  if (!deviceMemory().release(ptr))
    return fail(ErrInvalidValue, "cuMemFree of a pointer cuMemAlloc did not return");
  return Success;
}
EXPORT CUresult cuMemFree(CUdeviceptr ptr) { return cuMemFree_v2(ptr); }

EXPORT CUresult cuMemGetInfo_v2(size_t *free, size_t *total) {
  if (free)
    *free = size_t(15) << 30;
  if (total)
    *total = size_t(16) << 30;
  return Success;
}
EXPORT CUresult cuMemGetInfo(size_t *free, size_t *total) { return cuMemGetInfo_v2(free, total); }

namespace {
CUresult checkDevice(CUdeviceptr p, size_t bytes, const char *what) {
  uint64_t base, size;
  if (bytes && !deviceMemory().find(p, bytes, base, size))
    return fail(ErrInvalidValue, std::string(what) + ": [" + std::to_string(p) + ", +" +
                                     std::to_string(bytes) +
                                     ") is not inside one device allocation");
  return Success;
}
} // namespace

EXPORT CUresult cuMemcpyHtoD_v2(CUdeviceptr dst, const void *src, size_t bytes) {
  if (CUresult r = checkDevice(dst, bytes, "cuMemcpyHtoD"))
    return r;
  if (bytes)
    std::memcpy(reinterpret_cast<void *>(dst), src, bytes);
  return Success;
}
EXPORT CUresult cuMemcpyHtoD(CUdeviceptr dst, const void *src, size_t bytes) {
  return cuMemcpyHtoD_v2(dst, src, bytes);
}
EXPORT CUresult cuMemcpyHtoDAsync_v2(CUdeviceptr dst, const void *src, size_t bytes, void *) {
  return cuMemcpyHtoD_v2(dst, src, bytes);
}

EXPORT CUresult cuMemcpyDtoH_v2(void *dst, CUdeviceptr src, size_t bytes) {
  if (CUresult r = checkDevice(src, bytes, "cuMemcpyDtoH"))
    return r;
  if (bytes)
    std::memcpy(dst, reinterpret_cast<const void *>(src), bytes);
  return Success;
}
EXPORT CUresult cuMemcpyDtoH(void *dst, CUdeviceptr src, size_t bytes) {
  return cuMemcpyDtoH_v2(dst, src, bytes);
}
EXPORT CUresult cuMemcpyDtoHAsync_v2(void *dst, CUdeviceptr src, size_t bytes, void *) {
  return cuMemcpyDtoH_v2(dst, src, bytes);
}

EXPORT CUresult cuMemcpyDtoD_v2(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
  if (CUresult r = checkDevice(src, bytes, "cuMemcpyDtoD"))
    return r;
  if (CUresult r = checkDevice(dst, bytes, "cuMemcpyDtoD"))
    return r;
  if (bytes)
    std::memmove(reinterpret_cast<void *>(dst), reinterpret_cast<const void *>(src), bytes);
  return Success;
}
EXPORT CUresult cuMemcpyDtoD(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
  return cuMemcpyDtoD_v2(dst, src, bytes);
}
EXPORT CUresult cuMemcpy(CUdeviceptr dst, CUdeviceptr src, size_t bytes) {
  std::memmove(reinterpret_cast<void *>(dst), reinterpret_cast<const void *>(src), bytes);
  return Success;
}

EXPORT CUresult cuMemsetD8_v2(CUdeviceptr dst, unsigned char value, size_t count) {
  if (CUresult r = checkDevice(dst, count, "cuMemsetD8"))
    return r;
  std::memset(reinterpret_cast<void *>(dst), value, count);
  return Success;
}
EXPORT CUresult cuMemsetD8(CUdeviceptr dst, unsigned char value, size_t count) {
  return cuMemsetD8_v2(dst, value, count);
}
EXPORT CUresult cuMemsetD8Async(CUdeviceptr dst, unsigned char value, size_t count, void *) {
  return cuMemsetD8_v2(dst, value, count);
}
EXPORT CUresult cuMemsetD16_v2(CUdeviceptr dst, unsigned short value, size_t count) {
  if (CUresult r = checkDevice(dst, count * 2, "cuMemsetD16"))
    return r;
  auto *p = reinterpret_cast<unsigned short *>(dst);
  for (size_t i = 0; i < count; ++i)
    p[i] = value;
  return Success;
}
EXPORT CUresult cuMemsetD16(CUdeviceptr dst, unsigned short value, size_t count) {
  return cuMemsetD16_v2(dst, value, count);
}
EXPORT CUresult cuMemsetD32_v2(CUdeviceptr dst, unsigned value, size_t count) {
  if (CUresult r = checkDevice(dst, count * 4, "cuMemsetD32"))
    return r;
  auto *p = reinterpret_cast<unsigned *>(dst);
  for (size_t i = 0; i < count; ++i)
    p[i] = value;
  return Success;
}
EXPORT CUresult cuMemsetD32(CUdeviceptr dst, unsigned value, size_t count) {
  return cuMemsetD32_v2(dst, value, count);
}
EXPORT CUresult cuMemsetD32Async(CUdeviceptr dst, unsigned value, size_t count, void *) {
  return cuMemsetD32_v2(dst, value, count);
}

EXPORT CUresult cuPointerGetAttribute(void *data, int attribute, CUdeviceptr ptr) {
  if (!data)
    return ErrInvalidValue;
  uint64_t base, size;
  if (!deviceMemory().find(ptr, 1, base, size))
    return fail(ErrInvalidValue, "the pointer is not device memory the emulator allocated");
  switch (attribute) {
  case 1: *static_cast<void **>(data) = current ? current : &primary; return Success; // context
  case 2: *static_cast<unsigned *>(data) = 2; return Success;  // CU_MEMORYTYPE_DEVICE
  case 3: *static_cast<CUdeviceptr *>(data) = ptr; return Success; // device pointer
  case 9: *static_cast<int *>(data) = 0; return Success;      // device ordinal
  case 11: *static_cast<CUdeviceptr *>(data) = base; return Success; // range start
  case 12: *static_cast<size_t *>(data) = size; return Success;      // range size
  default: return fail(ErrInvalidValue, "pointer attribute " + std::to_string(attribute) +
                                            " is not emulated");
  }
}

// ---- modules and launches -------------------------------------------------

EXPORT CUresult cuModuleLoadData(void **module, const void *image) {
  if (!module || !image)
    return ErrInvalidValue;
  if (CUresult r = needInit())
    return r;
  return guarded([&]() -> CUresult {
    std::string ptx, why;
    ImageKind kind = extractPTX(image, ptx, why);
    if (kind == ImageKind::Cubin)
      return fail(ErrNoBinaryForGPU, "emulator: " + why);
    if (kind == ImageKind::Invalid)
      return fail(ErrInvalidImage, "emulator: " + why);
    auto handle = std::make_unique<ModuleHandle>();
    handle->module = loadModule(ptx);
    std::lock_guard<std::mutex> lock(handlesMutex);
    modules.insert(handle.get());
    *module = handle.release();
    return Success;
  });
}

EXPORT CUresult cuModuleLoadDataEx(void **module, const void *image, unsigned, void *, void **) {
  return cuModuleLoadData(module, image);
}

EXPORT CUresult cuModuleUnload(void *module) {
  auto *m = static_cast<ModuleHandle *>(module);
  std::lock_guard<std::mutex> lock(handlesMutex);
  if (!modules.count(m))
    return fail(ErrInvalidHandle, "cuModuleUnload: not a loaded module");
  modules.erase(m);
  for (auto it = functions.begin(); it != functions.end();)
    if (it->second == m) {
      delete it->first;
      it = functions.erase(it);
    } else {
      ++it;
    }
  for (const auto &[name, address] : m->module->globalAddress)
    deviceMemory().removeRange(address);
  delete m;
  return Success;
}

EXPORT CUresult cuModuleGetFunction(void **function, void *module, const char *name) {
  if (!function || !name)
    return ErrInvalidValue;
  auto *m = static_cast<ModuleHandle *>(module);
  std::lock_guard<std::mutex> lock(handlesMutex);
  if (!modules.count(m))
    return fail(ErrInvalidHandle, "cuModuleGetFunction: not a loaded module");
  const Kernel *k = m->module->find(name);
  if (!k)
    return fail(ErrNotFound, std::string("the module has no kernel '") + name + "'");
  auto *f = new FunctionHandle;
  f->module = m;
  f->kernel = k;
  functions[f] = m;
  *function = f;
  return Success;
}

EXPORT CUresult cuModuleGetGlobal_v2(CUdeviceptr *ptr, size_t *bytes, void *module,
                                     const char *name) {
  auto *m = static_cast<ModuleHandle *>(module);
  std::lock_guard<std::mutex> lock(handlesMutex);
  if (!modules.count(m) || !name)
    return ErrInvalidHandle;
  auto it = m->module->globalAddress.find(name);
  if (it == m->module->globalAddress.end())
    return fail(ErrNotFound, std::string("the module has no global '") + name + "'");
  if (ptr)
    *ptr = it->second;
  if (bytes) {
    uint64_t base, size;
    *bytes = deviceMemory().find(it->second, 1, base, size) ? size : 0;
  }
  return Success;
}

EXPORT CUresult cuFuncSetAttribute(void *function, int attribute, int value) {
  auto *f = static_cast<FunctionHandle *>(function);
  if (!validFunction(f))
    return fail(ErrInvalidHandle, "cuFuncSetAttribute: not a function");
  switch (attribute) {
  case 8: // CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES
    if (value < 0 || size_t(value) + f->kernel->dynamicSharedOffset > kMaxSharedOptIn)
      return fail(ErrInvalidValue, "at most 232448 bytes of shared memory per block");
    f->maxDynamicShared = value;
    return Success;
  case 9:  // preferred shared memory carveout
  case 14: // non-portable cluster sizes
    return Success;
  default:
    return fail(ErrInvalidValue, "function attribute " + std::to_string(attribute) +
                                     " cannot be set on the emulator");
  }
}

EXPORT CUresult cuFuncGetAttribute(int *value, int attribute, void *function) {
  auto *f = static_cast<FunctionHandle *>(function);
  if (!value || !validFunction(f))
    return ErrInvalidValue;
  const Kernel &k = *f->kernel;
  switch (attribute) {
  case 0: *value = k.maxThreads ? int(k.maxThreads) : 1024; break; // max threads per block
  case 1: *value = int(k.staticShared); break;
  case 2: *value = 0; break;
  case 3: *value = int(k.localBytes); break;
  case 4: *value = f->launchRegisters ? f->launchRegisters : defaultRegisters(k); break;
  case 5: *value = 90; break; // PTX version
  case 6: *value = 90; break; // binary version
  case 8: *value = f->maxDynamicShared; break;
  default: *value = 0;
  }
  return Success;
}

EXPORT CUresult cuLaunchKernel(void *function, unsigned gx, unsigned gy, unsigned gz,
                               unsigned bx, unsigned by, unsigned bz, unsigned shared,
                               void *stream, void **params, void **extra) {
  (void)stream;
  const unsigned grid[3] = {gx, gy, gz}, block[3] = {bx, by, bz};
  return launch(static_cast<FunctionHandle *>(function), grid, block, shared, params, extra);
}

EXPORT CUresult cuLaunchKernelEx(const void *configPtr, void *function, void **params,
                                 void **extra) {
  if (!configPtr)
    return ErrInvalidValue;
  const auto *config = static_cast<const LaunchConfig *>(configPtr);
  struct Attribute {
    int id;
    char pad[4];
    unsigned value[16];
  };
  const auto *attrs = static_cast<const Attribute *>(config->attrs);
  for (unsigned i = 0; i < config->numAttrs; ++i)
    if (attrs[i].id == 4) { // cluster dimension
      unsigned blocks = attrs[i].value[0] * attrs[i].value[1] * attrs[i].value[2];
      if (blocks > 1)
        return fail(ErrNotSupported,
                    "the emulator runs clusters of one block only (this launch asks for " +
                        std::to_string(blocks) + "); multicast and distributed shared "
                                                 "memory are not modelled yet");
    }
  const unsigned grid[3] = {config->gridDimX, config->gridDimY, config->gridDimZ};
  const unsigned block[3] = {config->blockDimX, config->blockDimY, config->blockDimZ};
  return launch(static_cast<FunctionHandle *>(function), grid, block, config->sharedMemBytes,
                params, extra);
}

EXPORT CUresult cuTensorMapEncodeTiled(void *map, int dtype, unsigned rank, void *address,
                                       const uint64_t *dims, const uint64_t *strides,
                                       const uint32_t *box, const uint32_t *elementStrides,
                                       int interleave, int swizzle, int l2Promotion,
                                       int oobFill) {
  if (!map || !dims || !box || (rank > 1 && !strides))
    return fail(ErrInvalidValue, "cuTensorMapEncodeTiled: missing arguments");
  if (reinterpret_cast<uintptr_t>(map) % 64)
    return fail(ErrInvalidValue, "cuTensorMapEncodeTiled: the tensor map is not 64-byte aligned");
  TensorMap m;
  std::string why = encodeTensorMap(m, dtype, rank, reinterpret_cast<uintptr_t>(address), dims,
                                    strides, box, elementStrides, interleave, swizzle,
                                    l2Promotion, oobFill);
  if (!why.empty())
    return fail(ErrInvalidValue, "cuTensorMapEncodeTiled: " + why);
  std::memset(map, 0, 128);
  std::memcpy(map, &m, sizeof m);
  return Success;
}
