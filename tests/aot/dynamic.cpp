//===- dynamic.cpp - a generated launcher with a dynamic dimension --------===//
//
// The corpus GEMM with M a T.dynamic dimension, compiled once by tesselc
// (gemm_dyn.h / gemm_dyn.o): its launch takes M after the tensors, and the
// runtime computes the grid from it (ceildiv(M, 64) blocks along y),
// encodes A's TMA descriptor with M rows, and passes M to the kernel. A zero
// M launches nothing; a negative one is refused.
//
//===----------------------------------------------------------------------===//

#include "gemm_dyn.h"
#include "tests/aot/FakeDriverCheck.h"

#include <cstring>

int main() {
  FakeDriverState *state = fakeDriverState();
  if (!state)
    return 1;
  state->snapshotParams = 4; // A, B, C, M (the descriptors follow)

  tessel_gemm_dyn_handle *kernel = nullptr;
  EXPECT(tessel_gemm_dyn_load(nullptr, &kernel) == TESSEL_SUCCESS);
  const CUdeviceptr a = 0x1000000, b = 0x2000000, c = 0x3000000;
  const int64_t ms[] = {100, 64, 1};
  for (int64_t m : ms) {
    size_t before = state->launches.size();
    EXPECT(tessel_gemm_dyn_launch(kernel, nullptr, a, b, c, m) == TESSEL_SUCCESS);
    EXPECT(state->launches.size() == before + 1);
    if (state->launches.size() != before + 1)
      continue;
    const FakeLaunch &l = state->launches.back();
    EXPECT(l.grid[0] == TESSEL_GEMM_DYN_GRID_X && l.grid[1] == uint32_t((m + 63) / 64) &&
           l.grid[2] == 1);
    EXPECT(l.paramWords.size() == 4 && l.paramWords[0] == a && l.paramWords[2] == c &&
           int64_t(l.paramWords[3]) == m);
    // A's descriptor, encoded again for each M: 256 columns, M rows
    // (innermost first, as the driver takes them). B's is static: encoded
    // once, on the first launch.
    const FakeTensorMap *mapA = nullptr, *mapB = nullptr;
    for (const FakeTensorMap &map : state->tensorMaps) {
      if (map.address == a)
        mapA = &map;
      if (map.address == b)
        mapB = &map;
    }
    EXPECT(mapA && mapA->dims.size() == 2 && mapA->dims[0] == 256 &&
           mapA->dims[1] == uint64_t(m));
    EXPECT(mapB && mapB->dims.size() == 2 && mapB->dims[0] == 256 && mapB->dims[1] == 256);
  }
  // No rows: no blocks, no launch, success.
  size_t before = state->launches.size();
  EXPECT(tessel_gemm_dyn_launch(kernel, nullptr, a, b, c, 0) == TESSEL_SUCCESS);
  EXPECT(state->launches.size() == before);
  EXPECT(tessel_gemm_dyn_launch(kernel, nullptr, a, b, c, -5) == TESSEL_INVALID_ARGUMENT);
  EXPECT(std::strstr(tessel_last_error(),
                     "dynamic dimension 'm' is -5; it must not be negative"));
  tessel_gemm_dyn_unload(kernel);
  if (failures)
    return 1;
  std::printf("dynamic launcher: grid, dimension and descriptor follow M\n");
  return 0;
}
