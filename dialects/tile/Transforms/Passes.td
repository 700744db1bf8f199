//===- Passes.td - passes over the tile dialect ------------*- tablegen -*-===//

#ifndef TESSEL_TILE_PASSES
#define TESSEL_TILE_PASSES

include "mlir/Pass/PassBase.td"

def TileCheckBoundsPass : Pass<"tile-check-bounds"> {
  let summary = "Reports accesses to on-chip tiles that a constant index puts outside the tile.";
  let description = [{
    Shared, fragment and local tiles have static shapes, so an access whose
    indices are constants can be checked before any code runs. The pass
    reports, at the access's location, every `tile.copy` region and every
    `memref.load`/`memref.store` on such a tile that falls outside it.
    Global tensors are not checked: reads past their edge are defined to
    return zero and writes past it are dropped.

    ```mlir
    // error: destination region [120, 136) in dim 0 is outside the tile of size 128
    tile.copy %A[%c0, %c0] [16, 64] to %s[%c120, %c0] [16, 64] : ...
    ```
  }];
}

#endif // TESSEL_TILE_PASSES
