//===- emulator_launchers.cpp - generated launchers on the emulator --------===//
//
// The launchers tesselc writes (an exact-key dispatcher over M, a GEMM with
// a dynamic M, and a dispatcher over ranges of it) run their kernels on
// Tessel's emulator (TESSEL_CUDA_DRIVER=emu) unchanged: each product is
// checked against one computed here, exactly (small-integer inputs), and
// a key no variant was compiled for is refused by name.
//
//===----------------------------------------------------------------------===//

#include "dispatch/matmul.h"
#include "gemm_dyn.h"
#include "ranges/gemm_dyn.h"

#include "tessel/runtime.h"

#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

namespace {

int failures = 0;

#define EXPECT(cond)                                                                       \
  do {                                                                                     \
    if (!(cond)) {                                                                         \
      std::printf("FAILED line %d: %s (%s)\n", __LINE__, #cond, tessel_last_error());      \
      ++failures;                                                                          \
    }                                                                                      \
  } while (0)

// Small integers in fp16 (exact): the products below are exact too.
uint16_t half(int v) {
  if (v == 0)
    return 0;
  uint16_t sign = v < 0 ? 0x8000 : 0;
  int a = std::abs(v), e = 0;
  while ((a >> e) > 1)
    ++e;
  return uint16_t(sign | ((e + 15) << 10) | (((a << 10) >> e) & 0x3ff));
}
double value(uint16_t h) {
  int e = (h >> 10) & 0x1f, m = h & 0x3ff;
  double v = e ? std::ldexp(1.0 + m / 1024.0, e - 15) : std::ldexp(double(m), -24);
  return (h & 0x8000) ? -v : v;
}

/// A [m, 256] times B [256, 256] on the device, checked here.
struct Gemm {
  int m;
  std::vector<uint16_t> a, b, c;
  uint64_t da = 0, db = 0, dc = 0;
  explicit Gemm(int m) : m(m), a(size_t(m) * 256), b(256 * 256), c(size_t(m) * 256) {
    for (size_t i = 0; i < a.size(); ++i)
      a[i] = half(int(i % 7) - 3);
    for (size_t i = 0; i < b.size(); ++i)
      b[i] = half(int(i % 5) - 2);
    EXPECT(tessel_rt_mem_alloc(a.size() * 2, &da) == TESSEL_RT_SUCCESS);
    EXPECT(tessel_rt_mem_alloc(b.size() * 2, &db) == TESSEL_RT_SUCCESS);
    EXPECT(tessel_rt_mem_alloc(c.size() * 2, &dc) == TESSEL_RT_SUCCESS);
    EXPECT(tessel_rt_memcpy_to_device(da, a.data(), a.size() * 2) == TESSEL_RT_SUCCESS);
    EXPECT(tessel_rt_memcpy_to_device(db, b.data(), b.size() * 2) == TESSEL_RT_SUCCESS);
  }
  ~Gemm() {
    tessel_rt_mem_free(da);
    tessel_rt_mem_free(db);
    tessel_rt_mem_free(dc);
  }
  bool exact(const char *what) {
    EXPECT(tessel_rt_memcpy_to_host(c.data(), dc, c.size() * 2) == TESSEL_RT_SUCCESS);
    for (int i = 0; i < m; ++i)
      for (int j = 0; j < 256; ++j) {
        double sum = 0;
        for (int k = 0; k < 256; ++k)
          sum += value(a[size_t(i) * 256 + k]) * value(b[size_t(k) * 256 + j]);
        if (value(c[size_t(i) * 256 + j]) != sum) {
          std::printf("%s: C[%d][%d] = %g, expected %g\n", what, i, j,
                      value(c[size_t(i) * 256 + j]), sum);
          return false;
        }
      }
    std::printf("%s: exact\n", what);
    return true;
  }
};

} // namespace

int main() {
  // Exact keys: M = 128 and M = 256 were compiled; M = 192 was not.
  tessel_matmul_dispatch *byM = nullptr;
  EXPECT(tessel_matmul_dispatch_load(nullptr, &byM) == TESSEL_SUCCESS);
  for (int m : {128, 256}) {
    Gemm g(m);
    EXPECT(tessel_matmul_dispatch_launch(byM, nullptr, m, g.da, g.db, g.dc) == TESSEL_SUCCESS);
    EXPECT(g.exact(m == 128 ? "dispatch M=128" : "dispatch M=256"));
  }
  {
    Gemm g(192);
    EXPECT(tessel_matmul_dispatch_launch(byM, nullptr, 192, g.da, g.db, g.dc) ==
           TESSEL_INVALID_ARGUMENT);
    EXPECT(std::strstr(tessel_last_error(), "no variant was compiled for M = 192") != nullptr);
  }
  tessel_matmul_dispatch_unload(byM);

  // One kernel for every M: the grid follows the launch's m.
  tessel_gemm_dyn_handle *dynamic = nullptr;
  EXPECT(tessel_gemm_dyn_load(nullptr, &dynamic) == TESSEL_SUCCESS);
  for (int m : {64, 100}) {
    Gemm g(m);
    EXPECT(tessel_gemm_dyn_launch(dynamic, nullptr, g.da, g.db, g.dc, m) == TESSEL_SUCCESS);
    EXPECT(g.exact(m == 64 ? "dynamic m=64" : "dynamic m=100"));
  }
  tessel_gemm_dyn_unload(dynamic);

  // Ranges of m: each variant serves its own.
  tessel_gemm_dyn_dispatch *ranges = nullptr;
  EXPECT(tessel_gemm_dyn_dispatch_load(nullptr, &ranges) == TESSEL_SUCCESS);
  for (int m : {40, 300}) {
    Gemm g(m);
    EXPECT(tessel_gemm_dyn_dispatch_launch(ranges, nullptr, g.da, g.db, g.dc, m) ==
           TESSEL_SUCCESS);
    EXPECT(g.exact(m == 40 ? "ranges m=40" : "ranges m=300"));
  }
  tessel_gemm_dyn_dispatch_unload(ranges);
  if (failures)
    return 1;
  std::printf("launchers on the emulator: verified\n");
  return 0;
}
