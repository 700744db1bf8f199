//===- embed.cpp - an engine-style program linking two Tessel kernels ------===//
//
// Links the GEMM and flash-attention kernels compiled ahead of time by
// tesselc (matmul.h/.o, flash_attention.h/.o), allocates with the CUDA driver
// API, launches both and checks them against a reference computed here on
// the CPU. No Python and no CUDA toolkit are involved at run time; the
// driver itself is opened with dlopen, so on a machine without one the
// program says so and exits cleanly (TESSEL_CUDA_DRIVER=emu runs it on
// Tessel's emulator instead).
//
//===----------------------------------------------------------------------===//

#include "flash_attention.h"
#include "matmul.h"

#include <dlfcn.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <vector>

namespace {

// The few driver calls the program makes itself (the kernels' runtime opens
// the driver on its own).
struct Driver {
  int (*memAlloc)(CUdeviceptr *, size_t) = nullptr;
  int (*memFree)(CUdeviceptr) = nullptr;
  int (*copyToDevice)(CUdeviceptr, const void *, size_t) = nullptr;
  int (*copyToHost)(void *, CUdeviceptr, size_t) = nullptr;
  int (*synchronize)() = nullptr;

  /// The driver the kernels' runtime opens too: $TESSEL_CUDA_DRIVER (a
  /// path, or "emu" for Tessel's emulator), else libcuda.so.1.
  bool open() {
    const char *name = std::getenv("TESSEL_CUDA_DRIVER");
    if (!name || !*name)
      name = "libcuda.so.1";
    else if (std::strcmp(name, "emu") == 0)
      name = "libtessel_emu.so";
    void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!lib)
      return false;
    memAlloc = reinterpret_cast<decltype(memAlloc)>(dlsym(lib, "cuMemAlloc_v2"));
    memFree = reinterpret_cast<decltype(memFree)>(dlsym(lib, "cuMemFree_v2"));
    copyToDevice = reinterpret_cast<decltype(copyToDevice)>(dlsym(lib, "cuMemcpyHtoD_v2"));
    copyToHost = reinterpret_cast<decltype(copyToHost)>(dlsym(lib, "cuMemcpyDtoH_v2"));
    synchronize = reinterpret_cast<decltype(synchronize)>(dlsym(lib, "cuCtxSynchronize"));
    return memAlloc && memFree && copyToDevice && copyToHost && synchronize;
  }
};

// IEEE half precision on the host, round to nearest even.
uint16_t toHalf(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000, exp = (x >> 23) & 0xff, mant = x & 0x7fffff;
  if (exp == 0xff)
    return uint16_t(sign | 0x7c00 | (mant ? 0x200 : 0));
  int e = int(exp) - 127 + 15;
  if (e >= 31)
    return uint16_t(sign | 0x7c00);
  if (e <= 0) {
    if (e < -10)
      return uint16_t(sign);
    mant |= 0x800000;
    int shift = 14 - e;
    uint32_t half = mant >> shift, rest = mant & ((1u << shift) - 1), mid = 1u << (shift - 1);
    if (rest > mid || (rest == mid && (half & 1)))
      ++half;
    return uint16_t(sign | half);
  }
  uint32_t half = (uint32_t(e) << 10) | (mant >> 13), rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1)))
    ++half;
  return uint16_t(sign | half);
}

float fromHalf(uint16_t h) {
  uint32_t sign = uint32_t(h & 0x8000) << 16, exp = (h >> 10) & 0x1f, mant = h & 0x3ff;
  float value;
  if (exp == 0)
    value = std::ldexp(float(mant), -24);
  else if (exp == 31)
    value = mant ? NAN : INFINITY;
  else
    value = std::ldexp(float(mant | 0x400), int(exp) - 25);
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  bits |= sign;
  std::memcpy(&value, &bits, 4);
  return value;
}

std::vector<uint16_t> randomHalves(size_t n, std::mt19937 &rng) {
  std::normal_distribution<float> normal;
  std::vector<uint16_t> v(n);
  for (uint16_t &h : v)
    h = toHalf(normal(rng) * 0.5f);
  return v;
}

struct DeviceBuffer {
  Driver &driver;
  CUdeviceptr ptr = 0;
  size_t bytes;
  DeviceBuffer(Driver &d, size_t bytes) : driver(d), bytes(bytes) { driver.memAlloc(&ptr, bytes); }
  ~DeviceBuffer() {
    if (ptr)
      driver.memFree(ptr);
  }
};

bool check(const char *what, tessel_status status) {
  if (status == TESSEL_SUCCESS)
    return true;
  std::printf("%s: %s (%s)\n", what, tessel_status_string(status), tessel_last_error());
  return false;
}

double maxRelativeError(const std::vector<uint16_t> &got, const std::vector<float> &want) {
  double err = 0, scale = 1e-6;
  for (size_t i = 0; i < got.size(); ++i) {
    err = std::fmax(err, std::fabs(double(fromHalf(got[i])) - want[i]));
    scale = std::fmax(scale, std::fabs(want[i]));
  }
  return err / scale;
}

} // namespace

int main() {
  // Loading the first kernel opens the driver and makes a context current.
  tessel_matmul_handle *gemm = nullptr;
  tessel_status status = tessel_matmul_load(nullptr, &gemm);
  if (status == TESSEL_NO_DRIVER || status == TESSEL_NO_DEVICE) {
    std::printf("no GPU here: %s (%s)\n", tessel_status_string(status), tessel_last_error());
    return 0;
  }
  if (!check("loading the GEMM", status))
    return 1;
  tessel_flash_attention_handle *attention = nullptr;
  if (!check("loading attention", tessel_flash_attention_load(nullptr, &attention)))
    return 1;
  Driver driver;
  if (!driver.open()) {
    std::printf("the CUDA driver lacks the memory calls this program uses\n");
    return 1;
  }
  std::mt19937 rng(7);
  int failures = 0;

  { // C = A B, 256 x 256 x 256, fp16 in and out, fp32 accumulation.
    const int M = 256, N = 256, K = 256;
    std::vector<uint16_t> a = randomHalves(size_t(M) * K, rng), b = randomHalves(size_t(K) * N, rng);
    std::vector<uint16_t> c(size_t(M) * N);
    DeviceBuffer da(driver, a.size() * 2), db(driver, b.size() * 2), dc(driver, c.size() * 2);
    driver.copyToDevice(da.ptr, a.data(), da.bytes);
    driver.copyToDevice(db.ptr, b.data(), db.bytes);
    if (!check("launching the GEMM", tessel_matmul_launch(gemm, nullptr, da.ptr, db.ptr, dc.ptr)))
      return 1;
    driver.synchronize();
    driver.copyToHost(c.data(), dc.ptr, dc.bytes);
    std::vector<float> want(c.size());
    for (int i = 0; i < M; ++i)
      for (int j = 0; j < N; ++j) {
        float sum = 0;
        for (int k = 0; k < K; ++k)
          sum += fromHalf(a[size_t(i) * K + k]) * fromHalf(b[size_t(k) * N + j]);
        want[size_t(i) * N + j] = sum;
      }
    double err = maxRelativeError(c, want);
    std::printf("gemm 256^3:      max rel. error %.2e %s\n", err, err < 2e-2 ? "OK" : "FAIL");
    failures += !(err < 2e-2);
  }

  { // softmax(Q K^T / sqrt(d)) V over [batch, seq, heads, dim] = [1, 128, 2, 64].
    const int S = 128, H = 2, D = 64;
    size_t n = size_t(S) * H * D;
    std::vector<uint16_t> q = randomHalves(n, rng), k = randomHalves(n, rng), v = randomHalves(n, rng);
    std::vector<uint16_t> o(n);
    DeviceBuffer dq(driver, n * 2), dk(driver, n * 2), dv(driver, n * 2), dout(driver, n * 2);
    driver.copyToDevice(dq.ptr, q.data(), n * 2);
    driver.copyToDevice(dk.ptr, k.data(), n * 2);
    driver.copyToDevice(dv.ptr, v.data(), n * 2);
    if (!check("launching attention",
               tessel_flash_attention_launch(attention, nullptr, dq.ptr, dk.ptr, dv.ptr, dout.ptr)))
      return 1;
    driver.synchronize();
    driver.copyToHost(o.data(), dout.ptr, n * 2);
    auto at = [&](const std::vector<uint16_t> &t, int s, int h, int d) {
      return fromHalf(t[(size_t(s) * H + h) * D + d]);
    };
    std::vector<float> want(n);
    for (int h = 0; h < H; ++h)
      for (int i = 0; i < S; ++i) {
        std::vector<float> p(S);
        float top = -INFINITY, total = 0;
        for (int j = 0; j < S; ++j) {
          float dot = 0;
          for (int d = 0; d < D; ++d)
            dot += at(q, i, h, d) * at(k, j, h, d);
          p[j] = dot / std::sqrt(float(D));
          top = std::fmax(top, p[j]);
        }
        for (float &x : p)
          total += (x = std::exp(x - top));
        for (int d = 0; d < D; ++d) {
          float sum = 0;
          for (int j = 0; j < S; ++j)
            sum += p[j] * at(v, j, h, d);
          want[(size_t(i) * H + h) * D + d] = sum / total;
        }
      }
    double err = maxRelativeError(o, want);
    std::printf("attention 1x128x2x64: max rel. error %.2e %s\n", err, err < 2e-2 ? "OK" : "FAIL");
    failures += !(err < 2e-2);
  }
  tessel_flash_attention_unload(attention);
  tessel_matmul_unload(gemm);
  return failures ? 1 : 0;
}
