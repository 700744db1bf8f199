//===- FakeDriverTest.cpp - the runtime against a recording driver --------===//
//
// The runtime is pointed at libtessel-fake-cuda (FakeDriver.cpp), which
// records every driver call: these tests check what a launch, a cluster
// launch and a TMA descriptor ask of the driver, on a machine without a GPU.
//
//===----------------------------------------------------------------------===//

#include "FakeDriver.h"

#include "tessel/runtime.h"

#include <dlfcn.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

FakeDriverState *fake = nullptr;

class FakeDriverTest : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    setenv("TESSEL_CUDA_DRIVER", TESSEL_FAKE_DRIVER_PATH, 1);
    ASSERT_EQ(tessel_rt_init(), TESSEL_RT_SUCCESS) << tessel_rt_last_error();
    // The same library the runtime opened (dlopen returns its handle).
    void *handle = dlopen(TESSEL_FAKE_DRIVER_PATH, RTLD_NOW | RTLD_NOLOAD);
    ASSERT_NE(handle, nullptr);
    auto state = reinterpret_cast<FakeDriverState *(*)()>(
        dlsym(handle, "fake_driver_state"));
    ASSERT_NE(state, nullptr);
    fake = state();
  }
  void SetUp() override {
    ASSERT_NE(fake, nullptr);
    fake->launches.clear();
    fake->tensorMaps.clear();
    fake->attributes.clear();
    tessel_rt_tensor_map_cache_clear();
  }
  std::string lastError() { return tessel_rt_last_error(); }
};

TEST_F(FakeDriverTest, LaunchLoadsOnceAndPassesTheConfiguration) {
  const char ptx[] = "// ptx";
  tessel_rt_kernel *kernel = nullptr;
  ASSERT_EQ(tessel_rt_kernel_create(ptx, sizeof(ptx), "matmul", 128, 64 * 1024, &kernel),
            TESSEL_RT_SUCCESS);
  int loadsBefore = fake->moduleLoads;
  uint32_t grid[3] = {32, 16, 1};
  void *args[1] = {nullptr};
  int stream = 0;
  ASSERT_EQ(tessel_rt_launch(kernel, grid, args, &stream), TESSEL_RT_SUCCESS)
      << lastError();
  ASSERT_EQ(tessel_rt_launch(kernel, grid, args, &stream), TESSEL_RT_SUCCESS);
  // One module per context, however many launches.
  EXPECT_EQ(fake->moduleLoads, loadsBefore + 1);
  EXPECT_EQ(fake->lastImage, "// ptx");
  EXPECT_EQ(fake->lastFunctionName, "matmul");
  // More than 48 KB of shared memory has to be allowed first.
  ASSERT_EQ(fake->attributes.size(), 1u);
  EXPECT_EQ(fake->attributes[0], std::make_pair(8, 64 * 1024));
  ASSERT_EQ(fake->launches.size(), 2u);
  const FakeLaunch &l = fake->launches[0];
  EXPECT_FALSE(l.extended);
  EXPECT_EQ(l.grid[0], 32u);
  EXPECT_EQ(l.grid[1], 16u);
  EXPECT_EQ(l.block[0], 128u);
  EXPECT_EQ(l.sharedBytes, 64u * 1024);
  EXPECT_EQ(l.stream, &stream);
  EXPECT_EQ(l.params, args);
  tessel_rt_kernel_destroy(kernel);
}

TEST_F(FakeDriverTest, ClusterLaunchGoesThroughLaunchKernelEx) {
  const char ptx[] = "// ptx";
  tessel_rt_kernel *kernel = nullptr;
  ASSERT_EQ(tessel_rt_kernel_create(ptx, sizeof(ptx), "k", 256, 1024, &kernel),
            TESSEL_RT_SUCCESS);
  uint32_t grid[3] = {8, 4, 1}, cluster[3] = {2, 1, 1};
  ASSERT_EQ(tessel_rt_launch_cluster(kernel, grid, cluster, nullptr, nullptr),
            TESSEL_RT_SUCCESS)
      << lastError();
  ASSERT_EQ(fake->launches.size(), 1u);
  const FakeLaunch &l = fake->launches[0];
  EXPECT_TRUE(l.extended);
  EXPECT_EQ(l.grid[0], 8u);
  EXPECT_EQ(l.grid[1], 4u);
  EXPECT_EQ(l.grid[2], 1u);
  EXPECT_EQ(l.block[0], 256u);
  EXPECT_EQ(l.block[1], 1u);
  EXPECT_EQ(l.sharedBytes, 1024u);
  EXPECT_EQ(l.cluster[0], 2u);
  EXPECT_EQ(l.cluster[1], 1u);
  EXPECT_EQ(l.cluster[2], 1u);
  EXPECT_TRUE(fake->attributes.empty());

  // 16 blocks is beyond the portable 8: allowed explicitly.
  uint32_t big[3] = {16, 1, 1};
  ASSERT_EQ(tessel_rt_launch_cluster(kernel, grid, big, nullptr, nullptr),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(lastError(), "cluster dimension 0 (16) does not divide the grid's (8)");
  uint32_t grid16[3] = {16, 2, 1};
  ASSERT_EQ(tessel_rt_launch_cluster(kernel, grid16, big, nullptr, nullptr),
            TESSEL_RT_SUCCESS);
  ASSERT_EQ(fake->attributes.size(), 1u);
  EXPECT_EQ(fake->attributes[0], std::make_pair(14, 1));

  uint32_t tooBig[3] = {8, 4, 1};
  EXPECT_EQ(tessel_rt_launch_cluster(kernel, grid, tooBig, nullptr, nullptr),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(lastError(), "a cluster holds at most 16 blocks; this one has 32");
  // {1, 1, 1} is an ordinary launch.
  uint32_t one[3] = {1, 1, 1};
  ASSERT_EQ(tessel_rt_launch_cluster(kernel, grid, one, nullptr, nullptr),
            TESSEL_RT_SUCCESS);
  EXPECT_FALSE(fake->launches.back().extended);
  tessel_rt_kernel_destroy(kernel);
}

TEST_F(FakeDriverTest, TensorMapArgumentsAreInnermostFirstInBytes) {
  tessel_rt_tensor_map map;
  int64_t shape[2] = {4096, 1024};
  uint32_t box[2] = {128, 64};
  ASSERT_EQ(tessel_rt_tensor_map_encode(&map, TESSEL_RT_TMA_FLOAT16, 2, 0x10000,
                                        shape, nullptr, box, 128),
            TESSEL_RT_SUCCESS)
      << lastError();
  ASSERT_EQ(fake->tensorMaps.size(), 1u);
  const FakeTensorMap &t = fake->tensorMaps[0];
  EXPECT_EQ(t.dtype, 6); // CU_TENSOR_MAP_DATA_TYPE_FLOAT16
  EXPECT_EQ(t.rank, 2u);
  EXPECT_EQ(t.address, 0x10000u);
  EXPECT_EQ(t.dims, (std::vector<uint64_t>{1024, 4096}));
  EXPECT_EQ(t.byteStrides, (std::vector<uint64_t>{2048}));
  EXPECT_EQ(t.box, (std::vector<uint32_t>{64, 128}));
  EXPECT_EQ(t.elementStrides, (std::vector<uint32_t>{1, 1}));
  EXPECT_EQ(t.interleave, 0);
  EXPECT_EQ(t.swizzle, 3); // CU_TENSOR_MAP_SWIZZLE_128B
  EXPECT_EQ(t.oobFill, 0); // zeros outside the tensor
  EXPECT_EQ(map.opaque[0], 0x10000u);

  // Explicit strides (a view of every other row), fp8 as bytes, 3-d.
  int64_t shape3[3] = {2, 64, 256}, strides3[3] = {64 * 512, 512, 1};
  uint32_t box3[3] = {1, 64, 64};
  ASSERT_EQ(tessel_rt_tensor_map_encode(&map, TESSEL_RT_TMA_UINT8, 3, 0x20000,
                                        shape3, strides3, box3, 64),
            TESSEL_RT_SUCCESS)
      << lastError();
  const FakeTensorMap &u = fake->tensorMaps.back();
  EXPECT_EQ(u.dims, (std::vector<uint64_t>{256, 64, 2}));
  EXPECT_EQ(u.byteStrides, (std::vector<uint64_t>{512, 64 * 512}));
  EXPECT_EQ(u.swizzle, 2);
}

TEST_F(FakeDriverTest, TensorMapRequirementsAreNamed) {
  tessel_rt_tensor_map map;
  int64_t shape[2] = {4096, 1024};
  uint32_t box[2] = {128, 64};
  struct Case {
    uint64_t pointer;
    int64_t shape[2];
    uint32_t box[2];
    uint32_t swizzle;
    const char *message;
  } cases[] = {
      {0x10008, {4096, 1024}, {128, 64}, 128,
       "tensor map: the tensor's address is not 16-byte aligned"},
      {0x10000, {4096, 1004}, {128, 64}, 128,
       "tensor map: dimension 0's stride is 2008 bytes; it must be a positive "
       "multiple of 16 below 2^40"},
      {0x10000, {4096, 1024}, {512, 64}, 128,
       "tensor map: the box's dimension 0 is 512; it must be 1 to 256"},
      {0x10000, {4096, 1024}, {128, 4}, 0,
       "tensor map: the box's innermost extent is 8 bytes; it must be a "
       "multiple of 16"},
      {0x10000, {4096, 1024}, {128, 128}, 128,
       "tensor map: the box's innermost extent (256 bytes) is wider than the "
       "128-byte swizzle"},
      {0x10000, {4096, 1024}, {128, 64}, 96,
       "tensor map: swizzle of 96 bytes; it is 0, 32, 64 or 128"},
  };
  for (const Case &c : cases) {
    EXPECT_EQ(tessel_rt_tensor_map_encode(&map, TESSEL_RT_TMA_FLOAT16, 2, c.pointer,
                                          c.shape, nullptr, c.box, c.swizzle),
              TESSEL_RT_INVALID_ARGUMENT);
    EXPECT_EQ(lastError(), c.message);
  }
  EXPECT_EQ(tessel_rt_tensor_map_encode(&map, TESSEL_RT_TMA_FLOAT16, 6, 0x10000,
                                        shape, nullptr, box, 0),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(lastError(), "tensor map: rank 6 is not 1 to 5");
  int64_t strided[2] = {1024, 2};
  EXPECT_EQ(tessel_rt_tensor_map_encode(&map, TESSEL_RT_TMA_FLOAT16, 2, 0x10000,
                                        shape, strided, box, 128),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(lastError(), "tensor map: the innermost dimension must be contiguous "
                         "(stride 1), not stride 2");
  // Nothing reached the driver.
  EXPECT_TRUE(fake->tensorMaps.empty());
}

TEST_F(FakeDriverTest, TensorMapCacheKeysOnEveryArgument) {
  int64_t shape[2] = {4096, 1024};
  uint32_t box[2] = {128, 64};
  const tessel_rt_tensor_map *a = nullptr, *b = nullptr, *c = nullptr, *d = nullptr;
  ASSERT_EQ(tessel_rt_tensor_map_get(&a, TESSEL_RT_TMA_FLOAT16, 2, 0x10000, shape,
                                     nullptr, box, 128),
            TESSEL_RT_SUCCESS);
  ASSERT_EQ(tessel_rt_tensor_map_get(&b, TESSEL_RT_TMA_FLOAT16, 2, 0x10000, shape,
                                     nullptr, box, 128),
            TESSEL_RT_SUCCESS);
  EXPECT_EQ(a, b);
  EXPECT_EQ(fake->tensorMaps.size(), 1u);
  // Same pointer, another shape: another descriptor, never the cached one.
  int64_t other[2] = {2048, 1024};
  ASSERT_EQ(tessel_rt_tensor_map_get(&c, TESSEL_RT_TMA_FLOAT16, 2, 0x10000, other,
                                     nullptr, box, 128),
            TESSEL_RT_SUCCESS);
  EXPECT_NE(a, c);
  EXPECT_EQ(fake->tensorMaps.back().dims, (std::vector<uint64_t>{1024, 2048}));
  // Same everything but the box.
  uint32_t box2[2] = {64, 64};
  ASSERT_EQ(tessel_rt_tensor_map_get(&d, TESSEL_RT_TMA_FLOAT16, 2, 0x10000, shape,
                                     nullptr, box2, 128),
            TESSEL_RT_SUCCESS);
  EXPECT_NE(a, d);
  EXPECT_EQ(tessel_rt_tensor_map_cache_size(), 3u);
  EXPECT_EQ(fake->tensorMaps.size(), 3u);
  // A failed encode caches nothing.
  uint32_t bad[2] = {128, 128};
  const tessel_rt_tensor_map *e = nullptr;
  EXPECT_EQ(tessel_rt_tensor_map_get(&e, TESSEL_RT_TMA_FLOAT16, 2, 0x10000, shape,
                                     nullptr, bad, 128),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(tessel_rt_tensor_map_cache_size(), 3u);
  tessel_rt_tensor_map_cache_clear();
  EXPECT_EQ(tessel_rt_tensor_map_cache_size(), 0u);
}

TEST_F(FakeDriverTest, TensorCheckAsksTheDriverWhereMemoryIs) {
  int64_t shape[2] = {128, 64}, strides[2] = {64, 1};
  EXPECT_EQ(tessel_rt_check_tensor("A", 0x1000, shape, strides, 2, shape, 2),
            TESSEL_RT_SUCCESS)
      << lastError();
  uint64_t host = fake->hostMemoryFrom + 0x1000;
  EXPECT_EQ(tessel_rt_check_tensor("B", host, shape, strides, 2, shape, 2),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(lastError(), "argument 'B' is in host memory; move it to the GPU first");
}

} // namespace

namespace {

// A version-2 descriptor as tesselc writes one for a kernel with dynamic
// dimensions (no TMA, so any image will do).
constexpr const char *kDynamicDescriptor =
    "tessel-aot 2\nkernel rows\nthreads 128\nshared 0\ngrid 0 1 1\n"
    "grid_expr 0 add(ceildiv(r, 4), min(n, 0))\n"
    "param X tensor float32 2 r n\nparam Y tensor float32 2 r n\n"
    "dynamic r\ndynamic n\n";

} // namespace

TEST_F(FakeDriverTest, AotDynamicDimensionsSetTheGrid) {
  const char ptx[] = "// ptx";
  void *handle = nullptr;
  ASSERT_EQ(tessel_aot_load(kDynamicDescriptor, ptx, sizeof(ptx), nullptr, &handle),
            TESSEL_RT_SUCCESS)
      << lastError();
  uint64_t x = 0x10000, y = 0x20000;
  int64_t r = 10, n = 7;
  void *args[4] = {&x, &y, &r, &n};
  ASSERT_EQ(tessel_aot_launch(handle, nullptr, args, 4), TESSEL_RT_SUCCESS) << lastError();
  ASSERT_EQ(fake->launches.size(), 1u);
  EXPECT_EQ(fake->launches[0].grid[0], 3u); // ceildiv(10, 4)
  // The dimensions are arguments: leaving them out is a count error.
  EXPECT_EQ(tessel_aot_launch(handle, nullptr, args, 2), TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(lastError(), "'rows' takes 4 arguments, got 2");
  tessel_aot_unload(handle);
}

TEST_F(FakeDriverTest, AotDynamicDescriptorErrorsAreNamed) {
  const char ptx[] = "// ptx";
  void *handle = nullptr;
  // A tensor extent naming no dynamic argument.
  EXPECT_EQ(tessel_aot_load("tessel-aot 2\nkernel k\nthreads 128\nshared 0\ngrid 1 1 1\n"
                            "param X tensor float32 1 q\n",
                            ptx, sizeof(ptx), nullptr, &handle),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(lastError(),
            "kernel descriptor: dimension 'q' of 'X' is not a dynamic argument");
  // A grid expression the runtime cannot evaluate shows at launch.
  ASSERT_EQ(tessel_aot_load("tessel-aot 2\nkernel k\nthreads 128\nshared 0\ngrid 0 1 1\n"
                            "grid_expr 0 pow(m, 2)\nparam X tensor float32 1 m\ndynamic m\n",
                            ptx, sizeof(ptx), nullptr, &handle),
            TESSEL_RT_SUCCESS);
  uint64_t x = 0x10000;
  int64_t m = 3;
  void *args[2] = {&x, &m};
  EXPECT_EQ(tessel_aot_launch(handle, nullptr, args, 2), TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(lastError(), "kernel descriptor: cannot evaluate the grid expression 'pow(m, 2)'");
  tessel_aot_unload(handle);
  // A version this runtime does not read.
  EXPECT_EQ(tessel_aot_load("tessel-aot 5\nkernel k\nthreads 128\n", ptx, sizeof(ptx),
                            nullptr, &handle),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(lastError(), "kernel descriptor line 1: this runtime reads descriptor versions "
                         "1 to 4; rebuild the kernel with a matching tesselc");
}

TEST_F(FakeDriverTest, AotRangeDispatchNamesItsDimension) {
  const char ptx[] = "// ptx";
  const char *descriptors[2] = {kDynamicDescriptor, kDynamicDescriptor};
  const void *images[2] = {ptx, ptx};
  size_t sizes[2] = {sizeof(ptx), sizeof(ptx)};
  int64_t bounds[2] = {4, INT64_MAX};
  void *dispatch = nullptr;
  // The dimension must be one the kernels take.
  EXPECT_EQ(tessel_aot_dispatch_load_ranges(2, descriptors, images, sizes, bounds, "q",
                                            nullptr, &dispatch),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(lastError(), "'q' is not a dynamic dimension of 'rows'");
  int64_t unordered[2] = {8, 4};
  EXPECT_EQ(tessel_aot_dispatch_load_ranges(2, descriptors, images, sizes, unordered, "n",
                                            nullptr, &dispatch),
            TESSEL_RT_INVALID_ARGUMENT);
  EXPECT_EQ(lastError(), "dispatch ranges must increase");
  // By n (the second dynamic argument): n = 4 is the first variant's, 5 the
  // second's; both launch (the same kernel here) with the grid from r.
  ASSERT_EQ(tessel_aot_dispatch_load_ranges(2, descriptors, images, sizes, bounds, "n",
                                            nullptr, &dispatch),
            TESSEL_RT_SUCCESS)
      << lastError();
  uint64_t x = 0x10000, y = 0x20000;
  int64_t r = 8, n = 4;
  void *args[4] = {&x, &y, &r, &n};
  EXPECT_EQ(tessel_aot_dispatch_launch_ranges(dispatch, nullptr, args, 4), TESSEL_RT_SUCCESS);
  n = 5;
  EXPECT_EQ(tessel_aot_dispatch_launch_ranges(dispatch, nullptr, args, 4), TESSEL_RT_SUCCESS);
  EXPECT_EQ(fake->launches.size(), 2u);
  // An exact-key dispatcher is not a range one.
  EXPECT_EQ(tessel_aot_dispatch_launch_ranges(nullptr, nullptr, args, 4),
            TESSEL_RT_INVALID_ARGUMENT);
  tessel_aot_dispatch_unload(dispatch);
}
