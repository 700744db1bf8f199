//===- TargetTest.cpp - the core passes reach a target only through TargetInfo
//
// A stub target, registered under its own name, with its own MMA kinds,
// layouts and register budget: tile-infer-layouts and
// tile-check-register-budget must take every hardware fact from it (its
// calls are counted, and its answers differ from sm_90a's).
//
//===----------------------------------------------------------------------===//

#include "dialects/tile/IR/TileOps.h"
#include "dialects/tile/Transforms/Layouts.h"
#include "dialects/tile/Transforms/Target.h"
#include "lib/Compiler/Registration.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace tessel::tile;

namespace {

struct StubCalls {
  int kinds = 0, splits = 0, layouts = 0, rowLayouts = 0, budgets = 0;
};
StubCalls calls;

/// Warp MMA only, one warp per 8 accumulator rows (not a layout sm_90a
/// has), each thread a row-major share of its warp's rows; 20 registers a
/// thread.
class StubTarget final : public TargetInfo {
public:
  StringRef name() const override { return "stub"; }
  int64_t warpSize() const override { return 32; }
  SmallVector<MmaKind> mmaKinds(Type, Type) const override {
    ++calls.kinds;
    return {MmaKind::MmaSync};
  }
  std::optional<MmaAttr> splitMma(MLIRContext *ctx, MmaKind kind, GemmWarpPolicy,
                                  int64_t threads, int64_t m, int64_t n) const override {
    ++calls.splits;
    if (kind != MmaKind::MmaSync || m != 8 * (threads / 32))
      return std::nullopt;
    return MmaAttr::get(ctx, kind, threads / 32, 1);
  }
  std::string mmaRequirement(MmaKind) const override {
    return "the stub needs 8 rows per warp";
  }
  FragmentLayoutAttr accumulatorLayout(MmaAttr mma, int64_t m, int64_t n) const override {
    ++calls.layouts;
    return blockedLayout(mma.getContext(), {m, n}, mma.getGridM() * 32);
  }
  FragmentLayoutAttr accumulatorRowLayout(MmaAttr mma, int64_t m, int64_t) const override {
    ++calls.rowLayouts;
    return blockedLayout(mma.getContext(), {m}, mma.getGridM() * 32);
  }
  int64_t registersPerThread() const override {
    ++calls.budgets;
    return 20;
  }
  int64_t registersPerBlock() const override { return 1 << 20; }
};

class TargetTest : public ::testing::Test {
protected:
  TargetTest() {
    DialectRegistry registry;
    tessel::registerAllTesselDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    tessel::registerAllTesselPasses();
    registerTarget("stub", [] { return std::make_unique<StubTarget>(); });
    calls = StubCalls();
  }

  /// Runs `pipeline` (passes on the module) on `source`.
  LogicalResult run(StringRef source, StringRef pipeline, OwningOpRef<ModuleOp> &module) {
    module = parseSourceString<ModuleOp>(source, &context);
    if (!module)
      return failure();
    PassManager pm(&context);
    if (failed(parsePassPipeline(pipeline, pm)))
      return failure();
    return pm.run(*module);
  }

  MLIRContext context;
};

constexpr const char *kGemm = R"mlir(
func.func @k() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(64) {
  ^bb0(%bx: index):
    %a = tile.alloc : memref<16x16xf16, #tile.scope<shared>>
    %b = tile.alloc : memref<16x32xf16, #tile.scope<shared>>
    %c = tile.alloc : memref<16x32xf32, #tile.scope<fragment>>
    %r = tile.alloc : memref<16xf32, #tile.scope<fragment>>
    tile.gemm %a, %b, %c : memref<16x16xf16, #tile.scope<shared>>, memref<16x32xf16, #tile.scope<shared>>, memref<16x32xf32, #tile.scope<fragment>>
    tile.reduce max %c, %r dim 1 : memref<16x32xf32, #tile.scope<fragment>> to memref<16xf32, #tile.scope<fragment>>
  }
  return
}
)mlir";

TEST_F(TargetTest, InferLayoutsTakesMmaKindsAndLayoutsFromTheTarget) {
  OwningOpRef<ModuleOp> module;
  ASSERT_TRUE(succeeded(run(kGemm, "tile-infer-layouts{target=stub}", module)));
  GemmOp gemm;
  module->walk([&](GemmOp g) { gemm = g; });
  ASSERT_TRUE(gemm && gemm.getMmaAttr());
  EXPECT_EQ(gemm.getMmaAttr().getKind(), MmaKind::MmaSync);
  EXPECT_EQ(gemm.getMmaAttr().getGridM(), 2);
  SmallVector<AllocOp> allocs;
  module->walk([&](AllocOp a) { allocs.push_back(a); });
  ASSERT_EQ(allocs.size(), 4u);
  // The accumulator and its row reduction have the stub's layouts, which
  // sm_90a would never give a gemm.
  EXPECT_EQ(allocs[2].getLayoutAttr(), blockedLayout(&context, {16, 32}, 64));
  EXPECT_EQ(allocs[3].getLayoutAttr(), blockedLayout(&context, {16}, 64));
  EXPECT_EQ(calls.kinds, 1);
  EXPECT_GE(calls.splits, 1);
  EXPECT_GE(calls.layouts, 1);
  EXPECT_GE(calls.rowLayouts, 1);
}

TEST_F(TargetTest, TheTargetsRequirementsNameTheRefusal) {
  std::string text(kGemm);
  text.replace(text.find("threads(64)"), 11, "threads(96)");
  std::string seen;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    seen += d.str();
    return success();
  });
  OwningOpRef<ModuleOp> module;
  EXPECT_TRUE(failed(run(text, "tile-infer-layouts{target=stub}", module)));
  EXPECT_NE(seen.find("no MMA of target stub fits a 16x32 accumulator in a block of 96 threads"),
            std::string::npos)
      << seen;
  EXPECT_NE(seen.find("the stub needs 8 rows per warp"), std::string::npos) << seen;
}

TEST_F(TargetTest, RegisterBudgetComesFromTheTarget) {
  // 16x32 f32 over 64 threads is 8 registers a thread: within the stub's
  // 20. A 21-element local buffer is not.
  std::string text(kGemm);
  text.replace(text.find("    tile.gemm"), 0,
               "    %l = tile.alloc : memref<21xf32, #tile.scope<local>>\n");
  std::string seen;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    seen += d.str();
    return success();
  });
  OwningOpRef<ModuleOp> module;
  EXPECT_TRUE(failed(run(text,
                         "tile-infer-layouts{target=stub},"
                         "tile-check-register-budget{target=stub}",
                         module)));
  EXPECT_NE(seen.find("needs 21 registers per thread"), std::string::npos) << seen;
  EXPECT_NE(seen.find("a thread has at most 20"), std::string::npos) << seen;
  EXPECT_GE(calls.budgets, 1);
  // The same program under sm_90a (255 a thread) passes the check.
  EXPECT_TRUE(succeeded(run(text,
                            "tile-infer-layouts,tile-check-register-budget",
                            module)));
}

TEST_F(TargetTest, UnknownTargetsAreNamed) {
  std::string seen;
  ScopedDiagnosticHandler handler(&context, [&](Diagnostic &d) {
    seen += d.str();
    return success();
  });
  OwningOpRef<ModuleOp> module;
  EXPECT_TRUE(failed(run(kGemm, "tile-infer-layouts{target=nope}", module)));
  EXPECT_NE(seen.find("unknown target 'nope'"), std::string::npos) << seen;
  EXPECT_NE(seen.find("stub"), std::string::npos) << seen;
  EXPECT_NE(seen.find("sm_90a"), std::string::npos) << seen;
}

} // namespace
