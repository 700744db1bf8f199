//===- FakeDriverCheck.h - what the launcher programs share -----*- C++ -*-===//
//
// The generated-launcher programs run against the recording stand-in for
// libcuda named by TESSEL_CUDA_DRIVER: EXPECT counts failures (printing
// tessel_last_error()), fakeDriverState() opens the stand-in the runtime
// will use and returns what it records.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_TESTS_AOT_FAKEDRIVERCHECK_H
#define TESSEL_TESTS_AOT_FAKEDRIVERCHECK_H

#include "tests/unit/Runtime/FakeDriver.h"

#include <dlfcn.h>

#include <cstdio>
#include <cstdlib>

static int failures = 0;
#define EXPECT(cond)                                                           \
  do {                                                                         \
    if (!(cond)) {                                                             \
      std::printf("FAILED: %s (line %d): %s\n", #cond, __LINE__,               \
                  tessel_last_error());                                        \
      ++failures;                                                              \
    }                                                                          \
  } while (0)

/// The fake driver's recorded state, or null (said on stdout) when
/// TESSEL_CUDA_DRIVER does not name it.
static FakeDriverState *fakeDriverState() {
  const char *path = std::getenv("TESSEL_CUDA_DRIVER");
  void *fake = path ? dlopen(path, RTLD_NOW) : nullptr;
  if (!fake) {
    std::printf("set TESSEL_CUDA_DRIVER to the fake driver\n");
    return nullptr;
  }
  return reinterpret_cast<FakeDriverState *(*)()>(dlsym(fake, "fake_driver_state"))();
}

#endif // TESSEL_TESTS_AOT_FAKEDRIVERCHECK_H
