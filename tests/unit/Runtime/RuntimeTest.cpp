//===- RuntimeTest.cpp - the driver-API runtime without a GPU -------------===//
//
// These run where there is no driver (the test points the runtime at a
// library that does not exist), and check that every entry point answers
// with a status and a message instead of failing to load or exiting.
//
//===----------------------------------------------------------------------===//

#include "tessel/runtime.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

class RuntimeTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    // The first call decides; make sure it sees no driver.
    setenv("TESSEL_CUDA_DRIVER", "/nonexistent/libcuda.so.1", 1);
  }
};

TEST_F(RuntimeTest, NoDriverIsAStatusNotACrash) {
  EXPECT_EQ(tessel_rt_init(), TESSEL_RT_NO_DRIVER);
  EXPECT_STREQ(tessel_rt_status_string(TESSEL_RT_NO_DRIVER), "no CUDA driver found");
  EXPECT_NE(std::string(tessel_rt_last_error()).find("/nonexistent/libcuda.so.1"),
            std::string::npos);
}

TEST_F(RuntimeTest, LaunchWithoutDriver) {
  const char ptx[] = ".version 8.0\n.target sm_90a\n";
  tessel_rt_kernel *kernel = nullptr;
  ASSERT_EQ(tessel_rt_kernel_create(ptx, sizeof(ptx), "k", 128, 0, &kernel),
            TESSEL_RT_SUCCESS);
  uint32_t grid[3] = {1, 1, 1};
  EXPECT_EQ(tessel_rt_launch(kernel, grid, nullptr, nullptr), TESSEL_RT_NO_DRIVER);
  uint32_t empty[3] = {4, 0, 1};
  EXPECT_EQ(tessel_rt_launch(kernel, empty, nullptr, nullptr),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(tessel_rt_last_error()), "grid dimension 1 is 0");
  tessel_rt_kernel_destroy(kernel);
}

TEST_F(RuntimeTest, KernelCreateChecksItsArguments) {
  tessel_rt_kernel *kernel = nullptr;
  EXPECT_EQ(tessel_rt_kernel_create(nullptr, 0, "k", 128, 0, &kernel),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(tessel_rt_kernel_create("x", 1, "k", 2048, 0, &kernel),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(kernel, nullptr);
}

TEST_F(RuntimeTest, TensorChecksNameTheArgument) {
  int64_t shape[2] = {128, 64}, strides[2] = {64, 1};
  int64_t want[2] = {128, 64}, other[2] = {128, 32};
  EXPECT_EQ(tessel_rt_check_tensor("A", 0x1000, shape, strides, 2, want, 1),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(tessel_rt_last_error()), "argument 'A' has rank 2, expected 1");
  EXPECT_EQ(tessel_rt_check_tensor("A", 0x1000, shape, strides, 2, other, 2),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(std::string(tessel_rt_last_error()),
            "argument 'A' has shape (128, 64), expected (128, 32)");
  int64_t transposed[2] = {1, 128};
  EXPECT_EQ(tessel_rt_check_tensor("B", 0x1000, shape, transposed, 2, want, 2),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tessel_rt_last_error()).find("argument 'B' is not contiguous"),
            std::string::npos);
  EXPECT_EQ(tessel_rt_check_tensor("C", 0x1008, shape, strides, 2, want, 2),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(tessel_rt_last_error()).find("argument 'C' is not 16-byte aligned"),
            std::string::npos);
  // A well-formed tensor gets as far as asking the driver.
  EXPECT_EQ(tessel_rt_check_tensor("D", 0x1000, shape, strides, 2, want, 2),
            TESSEL_RT_NO_DRIVER);
}

} // namespace
