//===- TileDialect.td - the tile dialect definition -------*- tablegen -*-===//

#ifndef TESSEL_TILE_DIALECT
#define TESSEL_TILE_DIALECT

include "mlir/IR/OpBase.td"

def Tile_Dialect : Dialect {
  let name = "tile";
  let cppNamespace = "::tessel::tile";
  let summary = "Block-level operations on tiles held in global, shared, fragment and local memory.";
  let description = [{
    The `tile` dialect is what Tessel's frontend emits. A kernel is a
    `tile.kernel` region executed once per block of a grid; inside it, buffers
    are `memref`s whose memory space is a `#tile.scope<...>` attribute, and the
    operations move and combine whole tiles (`tile.copy`, `tile.gemm`,
    `tile.reduce`) or loop over a tile's elements (`tile.parallel`). Scalar work
    uses the upstream `arith`, `math`, `memref` and `scf` dialects.

    ```mlir
    func.func @scale(%A: memref<256xf32, #tile.scope<global>>) {
      %c2 = arith.constant 2 : index
      tile.kernel grid(%c2) threads(128) {
      ^bb0(%bx: index):
        %s = tile.alloc : memref<128xf32, #tile.scope<fragment>>
        %off = arith.muli %bx, %c128 : index
        tile.copy %A[%off] [128] to %s[%c0] [128]
            : memref<256xf32, #tile.scope<global>> to memref<128xf32, #tile.scope<fragment>>
      }
      return
    }
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::memref::MemRefDialect"
  ];
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 1;
  let extraClassDeclaration = [{
    void registerAttributes();
  }];
}

/// Every tile op derives from this class, so that dialect-wide traits have one home.
class Tile_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tile_Dialect, mnemonic, traits>;

#endif // TESSEL_TILE_DIALECT
