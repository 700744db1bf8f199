//===- fake_driver.cpp - a generated launcher against the fake driver -----===//
//
// The launcher tesselc generates (matmul.h / matmul.o, compiled here as C++)
// loads and launches through libtessel_runtime against the recording
// stand-in for libcuda: load hands the embedded image to the driver, bad
// arguments come back as TESSEL_INVALID_ARGUMENT naming the argument, and a
// launch runs the manifest's grid, block and shared memory with the tensors
// and an encoded TMA descriptor as parameters.
//
//===----------------------------------------------------------------------===//

#include "matmul.h"
#include "tests/aot/FakeDriverCheck.h"

#include <cstring>

int main() {
  FakeDriverState *state = fakeDriverState();
  if (!state)
    return 1;

  tessel_matmul_handle *kernel = nullptr;
  EXPECT(tessel_matmul_load(nullptr, &kernel) == TESSEL_SUCCESS);
  EXPECT(kernel != nullptr);
  EXPECT(state->moduleLoads == 1);
  EXPECT(state->lastFunctionName == "matmul");
  // The embedded image (a fatbin, cubin or PTX) went to the driver whole.
  EXPECT(!state->lastImage.empty());

  // Wrong inputs: the launcher's checks answer before the driver is asked.
  const CUdeviceptr a = 0x1000000, b = 0x2000000, c = 0x3000000;
  EXPECT(tessel_matmul_launch(nullptr, nullptr, a, b, c) == TESSEL_INVALID_ARGUMENT);
  EXPECT(tessel_matmul_launch(kernel, nullptr, 0, b, c) == TESSEL_INVALID_ARGUMENT);
  EXPECT(std::strstr(tessel_last_error(), "argument 'A' is a null pointer"));
  EXPECT(tessel_matmul_launch(kernel, nullptr, a, b + 8, c) == TESSEL_INVALID_ARGUMENT);
  EXPECT(std::strstr(tessel_last_error(), "argument 'B' is not 16-byte aligned"));
  EXPECT(state->launches.empty());

  // A launch: the kernel's geometry, then its parameters (the tensors, then
  // the TMA descriptors the launcher encoded for A and B).
  CUstream stream = reinterpret_cast<CUstream>(0x5);
  EXPECT(tessel_matmul_launch(kernel, stream, a, b, c) == TESSEL_SUCCESS);
  EXPECT(state->launches.size() == 1);
  if (state->launches.size() == 1) {
    const FakeLaunch &l = state->launches[0];
    EXPECT(l.grid[0] == TESSEL_MATMUL_GRID_X && l.grid[1] == TESSEL_MATMUL_GRID_Y);
    EXPECT(l.block[0] == TESSEL_MATMUL_THREADS);
    EXPECT(l.sharedBytes == TESSEL_MATMUL_SHARED_BYTES);
    EXPECT(l.stream == stream);
  }
  // A's box is 64 columns (128 bytes) by 128 rows; B's (read MN-major in
  // place) one 64-column swizzle atom by B's 64 rows.
  EXPECT(state->tensorMaps.size() == 2);
  if (state->tensorMaps.size() == 2) {
    const FakeTensorMap &m = state->tensorMaps[0];
    EXPECT(m.address == a && m.rank == 2);
    EXPECT(m.box.size() == 2 && m.box[0] == 64 && m.box[1] == 128);
    const FakeTensorMap &mb = state->tensorMaps[1];
    EXPECT(mb.address == b && mb.rank == 2);
    EXPECT(mb.box.size() == 2 && mb.box[0] == 64 && mb.box[1] == 64);
  }
  tessel_matmul_unload(kernel);
  EXPECT(state->moduleUnloads == 1);
  if (failures)
    return 1;
  std::printf("generated launcher: load, checks, launch, unload verified\n");
  return 0;
}
