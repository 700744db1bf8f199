//===- TileAttrs.cpp - attributes and enums of the tile dialect -----------===//

#include "dialects/tile/IR/TileAttrs.h"
#include "dialects/tile/IR/TileDialect.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace tessel::tile;

#include "dialects/tile/IR/TileEnums.cpp.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/tile/IR/TileAttrs.cpp.inc"

void TileDialect::registerAttributes() {
  addAttributes<
#define GET_ATTRDEF_LIST
#include "dialects/tile/IR/TileAttrs.cpp.inc"
      >();
}

LogicalResult
FragmentLayoutAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                           AffineMap map, int64_t threads, int64_t replicate) {
  if (map.getNumResults() != 2)
    return emitError() << "fragment layout map must have 2 results (thread, "
                          "register index), got "
                       << map.getNumResults();
  if (map.getNumSymbols() != 0)
    return emitError() << "fragment layout map must not have symbols";
  if (threads <= 0)
    return emitError() << "fragment layout needs a positive thread count, got "
                       << threads;
  if (replicate <= 0)
    return emitError() << "fragment layout needs a positive replication, got "
                       << replicate;
  return success();
}

LogicalResult MmaAttr::verify(function_ref<InFlightDiagnostic()> emitError,
                              MmaKind kind, int64_t gridM, int64_t gridN) {
  if (gridM <= 0 || gridN <= 0)
    return emitError() << "an MMA grid needs positive extents, got " << gridM
                       << "x" << gridN;
  return success();
}

std::optional<MemoryScope> tessel::tile::getMemoryScope(MemRefType type) {
  Attribute space = type.getMemorySpace();
  if (!space)
    return MemoryScope::Global;
  if (auto scope = dyn_cast<MemoryScopeAttr>(space))
    return scope.getValue();
  return std::nullopt;
}

MemRefType tessel::tile::withMemoryScope(MemRefType type, MemoryScope scope) {
  return MemRefType::get(type.getShape(), type.getElementType(),
                         type.getLayout(),
                         MemoryScopeAttr::get(type.getContext(), scope));
}
