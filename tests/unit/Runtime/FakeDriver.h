//===- FakeDriver.h - what the fake CUDA driver recorded ---------*- C++ -*-===//

#ifndef TESSEL_TESTS_UNIT_RUNTIME_FAKEDRIVER_H
#define TESSEL_TESTS_UNIT_RUNTIME_FAKEDRIVER_H

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

struct FakeLaunch {
  unsigned grid[3] = {0, 0, 0}, block[3] = {0, 0, 0}, cluster[3] = {1, 1, 1};
  unsigned sharedBytes = 0;
  void *stream = nullptr;
  void **params = nullptr;
  bool extended = false; // through cuLaunchKernelEx
  /// The first 8 bytes of the first `snapshotParams` parameters, copied
  /// during the call (the caller's storage is gone after it).
  std::vector<uint64_t> paramWords;
};

struct FakeTensorMap {
  int dtype = -1, interleave = -1, swizzle = -1, l2Promotion = -1, oobFill = -1;
  unsigned rank = 0;
  uint64_t address = 0;
  std::vector<uint64_t> dims, byteStrides;
  std::vector<uint32_t> box, elementStrides;
};

struct FakeDriverState {
  bool hasContext = false;
  int moduleLoads = 0, moduleUnloads = 0;
  std::string lastImage, lastFunctionName;
  std::vector<std::pair<int, int>> attributes;
  std::vector<FakeLaunch> launches;
  std::vector<FakeTensorMap> tensorMaps;
  // Pointers from here up are "host memory".
  uint64_t hostMemoryFrom = uint64_t(1) << 60;
  /// How many parameters a launch copies into FakeLaunch::paramWords (a test
  /// sets it to the kernel's count; the driver cannot know it).
  int snapshotParams = 0;
};

extern "C" FakeDriverState *fake_driver_state();

#endif // TESSEL_TESTS_UNIT_RUNTIME_FAKEDRIVER_H
