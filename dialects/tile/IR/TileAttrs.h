//===- TileAttrs.h - attributes and enums of the tile dialect -----*- C++ -*-===//

#ifndef TESSEL_DIALECTS_TILE_IR_TILEATTRS_H
#define TESSEL_DIALECTS_TILE_IR_TILEATTRS_H

#include "mlir/IR/AffineMap.h"
#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/DialectImplementation.h"

#include "dialects/tile/IR/TileEnums.h.inc"

#define GET_ATTRDEF_CLASSES
#include "dialects/tile/IR/TileAttrs.h.inc"

namespace tessel::tile {

/// Returns the scope of a buffer; a memref without a memory space is global.
/// Returns std::nullopt when the memory space is not a tile scope.
std::optional<MemoryScope> getMemoryScope(mlir::MemRefType type);

/// Returns `type` with its memory space set to `scope`.
mlir::MemRefType withMemoryScope(mlir::MemRefType type, MemoryScope scope);

} // namespace tessel::tile

#endif // TESSEL_DIALECTS_TILE_IR_TILEATTRS_H
