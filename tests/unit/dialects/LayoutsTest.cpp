//===- LayoutsTest.cpp - the fragment layouts are one-to-one --------------===//

#include "dialects/tile/Transforms/Layouts.h"
#include "lib/Compiler/Registration.h"

#include "mlir/IR/MLIRContext.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace tessel::tile;

namespace {

class LayoutsTest : public ::testing::Test {
protected:
  LayoutsTest() {
    DialectRegistry registry;
    tessel::registerAllTesselDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
  }
  MLIRContext context;
};

TEST_F(LayoutsTest, AccumulatorLayoutsAreBijective) {
  struct Case {
    GemmWarpPolicy policy;
    int64_t warpgroups, m, n;
  } cases[] = {
      {GemmWarpPolicy::Square, 1, 64, 8},     {GemmWarpPolicy::Square, 1, 128, 256},
      {GemmWarpPolicy::FullRow, 2, 128, 64},  {GemmWarpPolicy::FullCol, 2, 64, 128},
      {GemmWarpPolicy::Square, 2, 128, 128},  {GemmWarpPolicy::Square, 4, 256, 128},
      {GemmWarpPolicy::FullRow, 3, 192, 24},
  };
  for (const Case &c : cases) {
    std::optional<WarpgroupGrid> grid = splitWarpgroups(c.policy, c.warpgroups, c.m, c.n);
    ASSERT_TRUE(grid) << c.m << "x" << c.n;
    EXPECT_EQ(grid->alongM * grid->alongN, c.warpgroups);
    FragmentLayoutAttr acc = accumulatorLayout(&context, *grid, c.m, c.n);
    EXPECT_EQ(acc.getThreads(), 128 * c.warpgroups);
    EXPECT_TRUE(isValidLayout(acc, {c.m, c.n})) << c.m << "x" << c.n;
    FragmentLayoutAttr rows = accumulatorRowLayout(&context, *grid, c.m, c.n);
    EXPECT_TRUE(isValidLayout(rows, {c.m})) << c.m;
    EXPECT_EQ(rows.getReplicate(), 4 * grid->alongN);
  }
}

TEST_F(LayoutsTest, WarpMmaLayoutsAreBijectiveAndMatchTheInstruction) {
  struct Case {
    GemmWarpPolicy policy;
    int64_t warps, m, n;
  } cases[] = {
      {GemmWarpPolicy::Square, 2, 64, 64},  {GemmWarpPolicy::Square, 4, 32, 128},
      {GemmWarpPolicy::FullRow, 2, 32, 8},  {GemmWarpPolicy::FullCol, 4, 16, 64},
      {GemmWarpPolicy::Square, 1, 16, 8},   {GemmWarpPolicy::Square, 8, 64, 256},
  };
  for (const Case &c : cases) {
    std::optional<WarpgroupGrid> grid = splitMmaUnits(c.policy, c.warps, 32, c.m, c.n);
    ASSERT_TRUE(grid) << c.m << "x" << c.n;
    EXPECT_EQ(grid->alongM * grid->alongN, c.warps);
    FragmentLayoutAttr acc = accumulatorLayout(&context, *grid, c.m, c.n);
    EXPECT_EQ(acc.getThreads(), 32 * c.warps);
    EXPECT_TRUE(isValidLayout(acc, {c.m, c.n})) << c.m << "x" << c.n;
    FragmentLayoutAttr rows = accumulatorRowLayout(&context, *grid, c.m, c.n);
    EXPECT_TRUE(isValidLayout(rows, {c.m})) << c.m;
  }
  // The first 16x8 piece of warp 0 is mma.sync's C fragment: element
  // (g + 8 (i >> 1), 2t + (i & 1)) is register i of lane 4g + t.
  std::optional<WarpgroupGrid> grid = splitMmaUnits(GemmWarpPolicy::Square, 4, 32, 32, 128);
  ASSERT_TRUE(grid);
  FragmentLayoutAttr acc = accumulatorLayout(&context, *grid, 32, 128);
  for (int64_t lane = 0; lane < 32; ++lane)
    for (int64_t i = 0; i < 4; ++i) {
      int64_t g = lane / 4, t = lane % 4;
      SmallVector<int64_t> r = acc.getMap().compose({g + 8 * (i >> 1), 2 * t + (i & 1)});
      EXPECT_EQ(r[0], lane);
      EXPECT_EQ(r[1], i);
    }
  // 16 rows is no warp slab multiple of 24 / 8 warps: no split.
  EXPECT_FALSE(splitMmaUnits(GemmWarpPolicy::FullRow, 2, 32, 24, 64));
}

TEST_F(LayoutsTest, EveryThreadHoldsTheSameNumberOfAccumulatorValues) {
  WarpgroupGrid grid{2, 1};
  FragmentLayoutAttr acc = accumulatorLayout(&context, grid, 128, 64);
  std::vector<int> perThread(256, 0);
  int64_t maxSlot = 0;
  for (int64_t i = 0; i < 128; ++i)
    for (int64_t j = 0; j < 64; ++j) {
      SmallVector<int64_t> r = acc.getMap().compose({i, j});
      ++perThread[r[0]];
      maxSlot = std::max(maxSlot, r[1]);
    }
  for (int count : perThread)
    EXPECT_EQ(count, 32); // 64 rows x 64 cols per warpgroup / 128 threads
  EXPECT_EQ(maxSlot, 31);
}

TEST_F(LayoutsTest, SquarePolicyPrefersSquareTiles) {
  std::optional<WarpgroupGrid> g = splitWarpgroups(GemmWarpPolicy::Square, 2, 128, 256);
  ASSERT_TRUE(g);
  EXPECT_EQ(g->alongM, 1); // 128x128 per warpgroup beats 64x256
  EXPECT_EQ(g->alongN, 2);
  // full_row over two warpgroups would give each 32 rows, less than a slab:
  // the preference yields to the split along N (each 64x32).
  std::optional<WarpgroupGrid> relaxed = splitWarpgroups(GemmWarpPolicy::FullRow, 2, 64, 64);
  ASSERT_TRUE(relaxed);
  EXPECT_EQ(relaxed->alongM, 1);
  EXPECT_EQ(relaxed->alongN, 2);
  // Eight warps on a 32x64 tile, full_row: as far along M as fits (2 x 4).
  std::optional<WarpgroupGrid> warps = splitMmaUnits(GemmWarpPolicy::FullRow, 8, 32, 32, 64);
  ASSERT_TRUE(warps);
  EXPECT_EQ(warps->alongM, 2);
  EXPECT_EQ(warps->alongN, 4);
  // full_col with four warpgroups on 256x16: N holds two 8-column groups.
  std::optional<WarpgroupGrid> cols = splitWarpgroups(GemmWarpPolicy::FullCol, 4, 256, 16);
  ASSERT_TRUE(cols);
  EXPECT_EQ(cols->alongN, 2);
  EXPECT_EQ(cols->alongM, 2);
  // Nothing fits 48 rows for any split of two warpgroups.
  EXPECT_FALSE(splitWarpgroups(GemmWarpPolicy::FullRow, 2, 48, 64));
}

TEST_F(LayoutsTest, CompiledEvaluatorAgreesWithTheExpressions) {
  // Every kind of affine expression, including negative operands of mod and
  // the divisions, evaluated both ways at a grid of points.
  AffineExpr i = getAffineDimExpr(0, &context), j = getAffineDimExpr(1, &context);
  AffineMap map = AffineMap::get(
      2, 0,
      {(i * 3 - j * 5) % 7, (i - j * 2).floorDiv(4), (j - i).ceilDiv(3),
       i * 16 + j, getAffineConstantExpr(-9, &context)},
      &context);
  AffineEvaluator eval(map);
  int64_t results[5];
  for (int64_t x = -6; x <= 6; ++x) {
    for (int64_t y = -6; y <= 6; ++y) {
      eval.evaluate({x, y}, results);
      for (unsigned r = 0; r < map.getNumResults(); ++r)
        EXPECT_EQ(results[r], evaluateAffine(map.getResult(r), {x, y}))
            << "result " << r << " at (" << x << ", " << y << ")";
    }
  }
}

TEST_F(LayoutsTest, ValidityCheckCatchesCollisions) {
  AffineExpr i = getAffineDimExpr(0, &context);
  auto collide = FragmentLayoutAttr::get(
      &context, AffineMap::get(1, 0, {i % 4, getAffineConstantExpr(0, &context)}, &context),
      4, 1);
  EXPECT_FALSE(isValidLayout(collide, {8}));
  // A thread out of range, and a negative slot.
  auto outOfRange = FragmentLayoutAttr::get(
      &context, AffineMap::get(1, 0, {i, getAffineConstantExpr(0, &context)}, &context),
      4, 1);
  EXPECT_FALSE(isValidLayout(outOfRange, {8}));
  auto negativeSlot = FragmentLayoutAttr::get(
      &context, AffineMap::get(1, 0, {i % 4, i.floorDiv(4) - 1}, &context), 4, 1);
  EXPECT_FALSE(isValidLayout(negativeSlot, {8}));
  EXPECT_TRUE(isValidLayout(blockedLayout(&context, {8, 3}, 5), {8, 3}));
}

} // namespace
