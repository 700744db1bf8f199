//===- AbuseTest.cpp - the runtime's C ABI under misuse -------------------===//
//
// What an engine linking libtessel_runtime gets wrong: NULL arguments, a
// handle unloaded twice or used after unload, garbage handles, a descriptor
// that is not one. Every case is a status and a message, never a crash; the
// suite runs again under ASan and UBSan (runtime-fake-driver-asan), where a
// use after free or a double free would fail it.
//
//===----------------------------------------------------------------------===//

#include "tessel/runtime.h"

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

namespace {

class RuntimeAbuseTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    setenv("TESSEL_CUDA_DRIVER", TESSEL_FAKE_DRIVER_PATH, 1);
    ASSERT_EQ(tessel_rt_init(), TESSEL_RT_SUCCESS) << tessel_rt_last_error();
  }
  std::string lastError() { return tessel_rt_last_error(); }
  bool says(const char *text) { return lastError().find(text) != std::string::npos; }
};

constexpr const char *kDescriptor =
    "tessel-aot 2\nkernel rows\nthreads 128\nshared 0\ngrid 0 1 1\n"
    "grid_expr 0 ceildiv(r, 4)\n"
    "param X tensor float32 2 r n\nparam Y tensor float32 2 r n\n"
    "dynamic r\ndynamic n\n";
const char kImage[] = "// ptx";

void *load() {
  void *handle = nullptr;
  EXPECT_EQ(tessel_aot_load(kDescriptor, kImage, sizeof(kImage), nullptr, &handle),
            TESSEL_RT_SUCCESS)
      << tessel_rt_last_error();
  return handle;
}

} // namespace

TEST_F(RuntimeAbuseTest, NullArgumentsAreNamed) {
  void *handle = load();
  uint64_t x = 0x10000, y = 0x20000;
  int64_t r = 8, n = 4;
  void *holey[4] = {&x, nullptr, &r, &n};
  EXPECT_EQ(tessel_aot_launch(handle, nullptr, holey, 4), TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(lastError(), "args[1] ('Y') of 'rows' is NULL; pass a pointer to the value");
  void *noDim[4] = {&x, &y, &r, nullptr};
  EXPECT_EQ(tessel_aot_launch(handle, nullptr, noDim, 4), TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_TRUE(says("args[3] (dynamic dimension 'n')")) << lastError();
  EXPECT_EQ(tessel_aot_launch(handle, nullptr, nullptr, 4), TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(lastError(), "'rows' takes 4 arguments, but args is NULL");
  void *out = &x;
  EXPECT_EQ(tessel_aot_load(kDescriptor, nullptr, 0, nullptr, &out), TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(out, nullptr);
  EXPECT_EQ(tessel_aot_load(kDescriptor, kImage, sizeof(kImage), nullptr, nullptr),
            TESSEL_RT_INVALID_ARGUMENT);
  tessel_aot_unload(handle);
}

TEST_F(RuntimeAbuseTest, UnloadTwiceAndLaunchAfterUnloadAreRefused) {
  void *handle = load();
  tessel_aot_unload(handle);
  // Neither reads the freed handle (ASan would report it).
  uint64_t x = 0x10000, y = 0x20000;
  int64_t r = 8, n = 4;
  void *args[4] = {&x, &y, &r, &n};
  EXPECT_EQ(tessel_aot_launch(handle, nullptr, args, 4), TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_TRUE(says("is not a live handle from load")) << lastError();
  tessel_aot_unload(handle);
  EXPECT_TRUE(says("unload:")) << lastError();
  tessel_aot_unload(nullptr); // as free(NULL): nothing
}

TEST_F(RuntimeAbuseTest, GarbageHandlesAreRefused) {
  alignas(16) unsigned char garbage[256];
  std::memset(garbage, 0xAB, sizeof garbage);
  uint64_t x = 0x10000;
  void *args[1] = {&x};
  // Before: the handle's std::string fields were read (std::length_error
  // crossed the C ABI, or a SIGSEGV).
  EXPECT_EQ(tessel_aot_launch(garbage, nullptr, args, 1), TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_TRUE(says("is not a live handle")) << lastError();
  tessel_aot_unload(garbage);
  EXPECT_EQ(tessel_aot_dispatch_launch(garbage, 1, nullptr, args, 1), TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(tessel_aot_dispatch_launch_ranges(garbage, nullptr, args, 1),
            TESSEL_RT_INVALID_ARGUMENT);
  tessel_aot_dispatch_unload(garbage);
  uint32_t grid[3] = {1, 1, 1};
  EXPECT_EQ(tessel_rt_launch(reinterpret_cast<tessel_rt_kernel *>(garbage), grid, nullptr,
                             nullptr),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(tessel_rt_kernel_set_registers(reinterpret_cast<tessel_rt_kernel *>(garbage), 32),
            TESSEL_RT_INVALID_ARGUMENT);
  tessel_rt_kernel_destroy(reinterpret_cast<tessel_rt_kernel *>(garbage));
  EXPECT_TRUE(says("not a live kernel")) << lastError();
}

TEST_F(RuntimeAbuseTest, RuntimeKernelDestroyedTwice) {
  tessel_rt_kernel *kernel = nullptr;
  ASSERT_EQ(tessel_rt_kernel_create(kImage, sizeof(kImage), "k", 128, 0, &kernel),
            TESSEL_RT_SUCCESS);
  tessel_rt_kernel_destroy(kernel);
  tessel_rt_kernel_destroy(kernel);
  EXPECT_TRUE(says("not a live kernel")) << lastError();
  uint32_t grid[3] = {1, 1, 1};
  EXPECT_EQ(tessel_rt_launch(kernel, grid, nullptr, nullptr), TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_TRUE(says("tessel_rt_launch: not a live kernel")) << lastError();
}

TEST_F(RuntimeAbuseTest, DispatchUnloadedTwice) {
  const char *descriptors[2] = {kDescriptor, kDescriptor};
  const void *images[2] = {kImage, kImage};
  size_t sizes[2] = {sizeof(kImage), sizeof(kImage)};
  int64_t keys[2] = {1, 2};
  void *dispatch = nullptr;
  ASSERT_EQ(tessel_aot_dispatch_load(2, descriptors, images, sizes, keys, "k", nullptr,
                                     &dispatch),
            TESSEL_RT_SUCCESS)
      << lastError();
  tessel_aot_dispatch_unload(dispatch);
  tessel_aot_dispatch_unload(dispatch);
  EXPECT_TRUE(says("dispatch unload")) << lastError();
  EXPECT_EQ(tessel_aot_dispatch_launch(dispatch, 1, nullptr, nullptr, 0),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_TRUE(says("dispatch launch:")) << lastError();
}

TEST_F(RuntimeAbuseTest, GarbageDescriptorsAreErrors) {
  void *handle = nullptr;
  // An extent past int64: std::stoll threw out of the C ABI before.
  EXPECT_EQ(tessel_aot_load("tessel-aot 2\nkernel k\nthreads 128\n"
                            "param X tensor float32 1 99999999999999999999999\n",
                            kImage, sizeof(kImage), nullptr, &handle),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(handle, nullptr);
  EXPECT_TRUE(says("tessel_aot_load")) << lastError();
  EXPECT_EQ(tessel_aot_load(nullptr, kImage, sizeof(kImage), nullptr, &handle),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(tessel_aot_load("\xff\xfe garbage \x01\n\n", kImage, sizeof(kImage), nullptr,
                            &handle),
            TESSEL_RT_INVALID_ARGUMENT);
}

TEST_F(RuntimeAbuseTest, DynamicGridPastCudaLimitsIsNamed) {
  void *handle = load();
  uint64_t x = 0x10000, y = 0x20000;
  int64_t r = int64_t(4) * 2147483648, n = 4; // ceildiv(r, 4) = 2^31
  void *args[4] = {&x, &y, &r, &n};
  EXPECT_EQ(tessel_aot_launch(handle, nullptr, args, 4), TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(lastError(), "grid extent x = ceildiv(r, 4) is 2147483648 for these dimensions; "
                         "CUDA launches at most 2147483647 along x");
  r = 0; // no blocks: an empty launch, as before
  EXPECT_EQ(tessel_aot_launch(handle, nullptr, args, 4), TESSEL_RT_SUCCESS) << lastError();
  tessel_aot_unload(handle);
}

TEST_F(RuntimeAbuseTest, UnloadWhileOtherThreadsLaunch) {
  // Launches on other threads hold the handle until they return: the
  // unload waits for them, and later launches are refused (under ASan a
  // launch reading the freed handle would fail this test).
  for (int round = 0; round < 20; ++round) {
    void *handle = load();
    std::atomic<int> refused{0}, launched{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&] {
        uint64_t x = 0x1000000, y = 0x2000000;
        int64_t r = 8, n = 4;
        void *args[4] = {&x, &y, &r, &n};
        for (int i = 0; i < 50; ++i)
          (tessel_aot_launch(handle, nullptr, args, 4) == TESSEL_RT_SUCCESS ? launched
                                                                            : refused)++;
      });
    tessel_aot_unload(handle);
    for (std::thread &t : threads)
      t.join();
    EXPECT_EQ(launched + refused, 200);
  }
}
