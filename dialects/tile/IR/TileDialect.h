//===- TileDialect.h - the tile dialect ---------------------------*- C++ -*-===//

#ifndef TESSEL_DIALECTS_TILE_IR_TILEDIALECT_H
#define TESSEL_DIALECTS_TILE_IR_TILEDIALECT_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Dialect.h"

#include "dialects/tile/IR/TileDialect.h.inc"

#endif // TESSEL_DIALECTS_TILE_IR_TILEDIALECT_H
