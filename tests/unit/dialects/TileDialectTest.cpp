//===- TileDialectTest.cpp - C++ API of the tile dialect ------------------===//

#include "dialects/tile/IR/TileOps.h"
#include "lib/Compiler/Registration.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"

#include <gtest/gtest.h>

using namespace mlir;
using namespace tessel::tile;

namespace {

class TileDialectTest : public ::testing::Test {
protected:
  TileDialectTest() : builder(&context) {
    DialectRegistry registry;
    tessel::registerAllTesselDialects(registry);
    context.appendDialectRegistry(registry);
    context.loadAllAvailableDialects();
    // Keep verifier messages out of the test log; the tests check them.
    context.getDiagEngine().registerHandler([this](Diagnostic &diag) {
      lastError = diag.str();
      return success();
    });
  }

  MemRefType buffer(ArrayRef<int64_t> shape, Type elt, MemoryScope scope) {
    return MemRefType::get(shape, elt, MemRefLayoutAttrInterface(),
                           MemoryScopeAttr::get(&context, scope));
  }

  /// Builds `func @f() { tile.kernel grid(1) threads(128) { ... } }` and
  /// leaves the builder inside the kernel.
  ModuleOp kernelModule() {
    Location loc = builder.getUnknownLoc();
    auto module = ModuleOp::create(loc);
    builder.setInsertionPointToEnd(module.getBody());
    auto func = func::FuncOp::create(builder, loc, "f",
                                     builder.getFunctionType({}, {}));
    Block *entry = func.addEntryBlock();
    builder.setInsertionPointToEnd(entry);
    Value one = arith::ConstantIndexOp::create(builder, loc, 1);
    auto kernel = KernelOp::create(builder, loc, ValueRange{one},
                                   builder.getI64IntegerAttr(128),
                                   DenseI64ArrayAttr());
    Block *body = new Block();
    kernel.getBody().push_back(body);
    body->addArgument(builder.getIndexType(), loc);
    func::ReturnOp::create(builder, loc);
    builder.setInsertionPointToEnd(body);
    YieldOp::create(builder, loc);
    builder.setInsertionPointToStart(body);
    return module;
  }

  MLIRContext context;
  OpBuilder builder;
  std::string lastError;
};

TEST_F(TileDialectTest, MemoryScopeOfBuffers) {
  Type f16 = builder.getF16Type();
  EXPECT_EQ(getMemoryScope(buffer({4}, f16, MemoryScope::Shared)),
            MemoryScope::Shared);
  EXPECT_EQ(getMemoryScope(MemRefType::get({4}, f16)), MemoryScope::Global);
  auto other = MemRefType::get({4}, f16, MemRefLayoutAttrInterface(),
                               builder.getI64IntegerAttr(3));
  EXPECT_EQ(getMemoryScope(other), std::nullopt);
  MemRefType local = withMemoryScope(MemRefType::get({2, 3}, f16),
                                     MemoryScope::Local);
  EXPECT_EQ(getMemoryScope(local), MemoryScope::Local);
  EXPECT_EQ(local.getShape(), (ArrayRef<int64_t>{2, 3}));
}

TEST_F(TileDialectTest, GemmVerifierChecksShapes) {
  OwningOpRef<ModuleOp> module = kernelModule();
  Location loc = builder.getUnknownLoc();
  Type f16 = builder.getF16Type(), f32 = builder.getF32Type();
  Value a = AllocOp::create(builder, loc,
                            buffer({64, 32}, f16, MemoryScope::Shared), nullptr);
  Value b = AllocOp::create(builder, loc,
                            buffer({32, 16}, f16, MemoryScope::Shared), nullptr);
  Value c = AllocOp::create(builder, loc,
                            buffer({64, 16}, f32, MemoryScope::Fragment), nullptr);
  auto gemm = GemmOp::create(builder, loc, a, b, c);
  EXPECT_TRUE(succeeded(verify(*module)));
  EXPECT_EQ(gemm.getPolicy(), GemmWarpPolicy::Square);

  // Transposing B makes K disagree.
  gemm.setTransposeB(true);
  EXPECT_TRUE(failed(verify(*module)));
  EXPECT_NE(lastError.find("K extents differ"), std::string::npos) << lastError;
}

TEST_F(TileDialectTest, FragmentLayoutVerifier) {
  AffineExpr i = builder.getAffineDimExpr(0), j = builder.getAffineDimExpr(1);
  auto good = AffineMap::get(2, 0, {i, j}, &context);
  auto bad = AffineMap::get(2, 0, {i}, &context);
  auto emit = [&] { return emitError(builder.getUnknownLoc()); };
  EXPECT_TRUE(succeeded(FragmentLayoutAttr::verifyInvariants(emit, good, 128, 1)));
  EXPECT_TRUE(failed(FragmentLayoutAttr::verifyInvariants(emit, bad, 128, 1)));
  EXPECT_NE(lastError.find("2 results"), std::string::npos) << lastError;
  EXPECT_TRUE(failed(FragmentLayoutAttr::verifyInvariants(emit, good, 0, 1)));
  EXPECT_NE(lastError.find("positive thread count"), std::string::npos);
}

TEST_F(TileDialectTest, CastFoldsConstantsAndRoundTrips) {
  OwningOpRef<ModuleOp> module = kernelModule();
  Location loc = builder.getUnknownLoc();
  Value x = arith::ConstantOp::create(builder, loc,
                                      builder.getF32FloatAttr(1.5f));
  auto toF16 = CastOp::create(builder, loc, builder.getF16Type(), x);
  SmallVector<OpFoldResult> folded;
  ASSERT_TRUE(succeeded(toF16->fold(folded)));
  ASSERT_EQ(folded.size(), 1u);
  auto attr = dyn_cast<FloatAttr>(dyn_cast<Attribute>(folded[0]));
  ASSERT_TRUE(attr);
  EXPECT_TRUE(attr.getType().isF16());
  EXPECT_EQ(attr.getValueAsDouble(), 1.5);

  // f32 -> i32 truncates toward zero.
  Value y = arith::ConstantOp::create(builder, loc,
                                      builder.getF32FloatAttr(-2.75f));
  auto toI32 = CastOp::create(builder, loc, builder.getI32Type(), y);
  folded.clear();
  ASSERT_TRUE(succeeded(toI32->fold(folded)));
  auto intAttr = dyn_cast<IntegerAttr>(dyn_cast<Attribute>(folded[0]));
  ASSERT_TRUE(intAttr);
  EXPECT_EQ(intAttr.getInt(), -2);

  // Casts to fp8 are left for the backends.
  auto toFP8 = CastOp::create(builder, loc, builder.getType<Float8E4M3FNType>(), x);
  folded.clear();
  EXPECT_TRUE(failed(toFP8->fold(folded)));
}

} // namespace
