//===- dispatch_ranges.cpp - a dispatcher over ranges of a dimension ------===//
//
// The corpus GEMM with a dynamic M in two variants (block_M 64 and 128),
// compiled by `tesselc --variant block_M=64 --variant block_M=128 --dispatch m
// --dispatch-bounds 64`: the dispatcher's launch takes the GEMM's own
// arguments and runs the 64-row variant for m <= 64, the 128-row one above;
// against the fake driver, each launch's shared memory and grid say which
// ran.
//
//===----------------------------------------------------------------------===//

#include "gemm_dyn_ranges.h"
#include "tests/aot/FakeDriverCheck.h"

#include <cstring>

int main() {
  FakeDriverState *state = fakeDriverState();
  if (!state)
    return 1;
  static_assert(TESSEL_GEMM_DYN_BLOCKM64_SHARED_BYTES != TESSEL_GEMM_DYN_BLOCKM128_SHARED_BYTES,
                "the variants must be told apart by their shared memory");

  tessel_gemm_dyn_dispatch *kernel = nullptr;
  EXPECT(tessel_gemm_dyn_dispatch_load(nullptr, &kernel) == TESSEL_SUCCESS);
  const CUdeviceptr a = 0x1000000, b = 0x2000000, c = 0x3000000;
  struct Case {
    int64_t m;
    unsigned shared, gridY;
  } cases[] = {
      {1, TESSEL_GEMM_DYN_BLOCKM64_SHARED_BYTES, 1},
      {64, TESSEL_GEMM_DYN_BLOCKM64_SHARED_BYTES, 1},
      {65, TESSEL_GEMM_DYN_BLOCKM128_SHARED_BYTES, 1},
      {300, TESSEL_GEMM_DYN_BLOCKM128_SHARED_BYTES, 3},
  };
  for (const Case &k : cases) {
    size_t before = state->launches.size();
    EXPECT(tessel_gemm_dyn_dispatch_launch(kernel, nullptr, a, b, c, k.m) == TESSEL_SUCCESS);
    EXPECT(state->launches.size() == before + 1);
    if (state->launches.size() != before + 1)
      continue;
    const FakeLaunch &l = state->launches.back();
    EXPECT(l.sharedBytes == k.shared);
    EXPECT(l.grid[1] == k.gridY);
  }
  // The variant's own checks still answer through the dispatcher.
  EXPECT(tessel_gemm_dyn_dispatch_launch(kernel, nullptr, a, b, c, -1) ==
         TESSEL_INVALID_ARGUMENT);
  EXPECT(std::strstr(tessel_last_error(), "dynamic dimension 'm' is -1"));
  tessel_gemm_dyn_dispatch_unload(kernel);
  if (failures)
    return 1;
  std::printf("range dispatcher: m <= 64 ran the 64-row variant, larger the 128-row one\n");
  return 0;
}
