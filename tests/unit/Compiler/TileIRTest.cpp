//===- TileIRTest.cpp - the facade's tile-IR entry point ------------------===//

#include "tessel/Compiler.h"

#include <gtest/gtest.h>

namespace {

const char *kEmptyKernel = R"mlir(
func.func @f() {
  %c1 = arith.constant 1 : index
  tile.kernel grid(%c1) threads(32) {
  ^bb0(%bx: index):
    tile.barrier
  }
  return
}
)mlir";

TEST(TileIR, VersionIsSemantic) {
  std::string v = tessel::version();
  EXPECT_EQ(std::count(v.begin(), v.end(), '.'), 2) << v;
}

TEST(TileIR, RoundTripsAndRunsPipelines) {
  tessel::CompileResult result = tessel::runTileIR(kEmptyKernel, "");
  ASSERT_TRUE(result.ok) << result.diagnostics;
  EXPECT_NE(result.output.find("tile.barrier"), std::string::npos);

  result = tessel::runTileIR(kEmptyKernel,
                             "builtin.module(canonicalize,tile-check-bounds)");
  ASSERT_TRUE(result.ok) << result.diagnostics;
  EXPECT_NE(result.output.find("tile.kernel grid"), std::string::npos);
}

TEST(TileIR, ReportsLocatedErrors) {
  tessel::CompileResult result =
      tessel::runTileIR("func.func @f() {\n  tile.barrier\n  return\n}\n", "",
                        "bad.mlir");
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.diagnostics.find("bad.mlir:2:3: error: 'tile.barrier' op "
                                    "must be inside a tile.kernel"),
            std::string::npos)
      << result.diagnostics;
}

TEST(TileIR, RejectsUnknownPasses) {
  tessel::CompileResult result =
      tessel::runTileIR(kEmptyKernel, "builtin.module(no-such-pass)");
  EXPECT_FALSE(result.ok);
  EXPECT_NE(result.diagnostics.find("no-such-pass"), std::string::npos)
      << result.diagnostics;
}

} // namespace
