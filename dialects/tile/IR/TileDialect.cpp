//===- TileDialect.cpp - registration of the tile dialect -----------------===//

#include "dialects/tile/IR/TileDialect.h"
#include "dialects/tile/IR/TileOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

using namespace mlir;
using namespace tessel::tile;

#include "dialects/tile/IR/TileDialect.cpp.inc"

void TileDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "dialects/tile/IR/TileOps.cpp.inc"
      >();
  registerAttributes();
}

Operation *TileDialect::materializeConstant(OpBuilder &builder, Attribute value,
                                            Type type, Location loc) {
  // Folds of tile.cast produce typed scalars; arith.constant holds them.
  if (auto typed = dyn_cast<TypedAttr>(value))
    if (arith::ConstantOp::isBuildableWith(typed, type))
      return arith::ConstantOp::create(builder, loc, type, typed);
  return nullptr;
}
