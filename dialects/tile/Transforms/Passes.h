//===- Passes.h - passes over the tile dialect --------------------*- C++ -*-===//

#ifndef TESSEL_DIALECTS_TILE_TRANSFORMS_PASSES_H
#define TESSEL_DIALECTS_TILE_TRANSFORMS_PASSES_H

#include "mlir/Pass/Pass.h"

namespace tessel::tile {

#define GEN_PASS_DECL
#include "dialects/tile/Transforms/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "dialects/tile/Transforms/Passes.h.inc"

} // namespace tessel::tile

#endif // TESSEL_DIALECTS_TILE_TRANSFORMS_PASSES_H
