//===- TileAttrs.td - attributes and enums of the tile dialect -*- tablegen -*-===//

#ifndef TESSEL_TILE_ATTRS
#define TESSEL_TILE_ATTRS

include "dialects/tile/IR/TileDialect.td"
include "mlir/IR/AttrTypeBase.td"
include "mlir/IR/EnumAttr.td"
include "mlir/IR/BuiltinAttributeInterfaces.td"

//===----------------------------------------------------------------------===//
// Enums
//===----------------------------------------------------------------------===//

def Tile_MemoryScope : I32EnumAttr<"MemoryScope",
    "where a buffer lives: device memory, shared memory, or registers", [
      I32EnumAttrCase<"Global", 0, "global">,
      I32EnumAttrCase<"Shared", 1, "shared">,
      I32EnumAttrCase<"Fragment", 2, "fragment">,
      I32EnumAttrCase<"Local", 3, "local">
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::tessel::tile";
}

def Tile_MemoryScopeAttr : EnumAttr<Tile_Dialect, Tile_MemoryScope, "scope"> {
  let summary = "Memory-space attribute of a memref: global, shared, fragment or local.";
  let description = [{
    Used as the memory space of every buffer a kernel touches. `global` is
    device memory (kernel arguments), `shared` is per-block shared memory,
    `fragment` is a tile distributed over the registers of a block's threads
    (each thread holds the elements its layout assigns it), and `local` is a
    small per-thread array.

    ```mlir
    memref<128x64xf16, #tile.scope<shared>>
    ```
  }];
  let assemblyFormat = "`<` $value `>`";
}

def Tile_GemmWarpPolicy : I32EnumAttr<"GemmWarpPolicy",
    "how a gemm's output tile is split among warps", [
      I32EnumAttrCase<"Square", 0, "square">,
      I32EnumAttrCase<"FullRow", 1, "full_row">,
      I32EnumAttrCase<"FullCol", 2, "full_col">
    ]> {
  let cppNamespace = "::tessel::tile";
}

def Tile_MmaKind : I32EnumAttr<"MmaKind",
    "the tensor-core instruction family a gemm runs on", [
      I32EnumAttrCase<"Wgmma", 0, "wgmma">,
      I32EnumAttrCase<"MmaSync", 1, "mma_sync">
    ]> {
  let genSpecializedAttr = 0;
  let cppNamespace = "::tessel::tile";
}

def Tile_ReduceKind : I32EnumAttr<"ReduceKind", "the combining function of a reduction", [
      I32EnumAttrCase<"Max", 0, "max">,
      I32EnumAttrCase<"Min", 1, "min">,
      I32EnumAttrCase<"Sum", 2, "sum">,
      I32EnumAttrCase<"AbsSum", 3, "abssum">,
      I32EnumAttrCase<"AbsMax", 4, "absmax">
    ]> {
  let cppNamespace = "::tessel::tile";
}

//===----------------------------------------------------------------------===//
// Fragment layout
//===----------------------------------------------------------------------===//

def Tile_FragmentLayoutAttr : AttrDef<Tile_Dialect, "FragmentLayout"> {
  let mnemonic = "fragment";
  let summary = "Maps each element of a fragment to the thread that holds it and its slot in that thread's registers.";
  let description = [{
    `map` takes a fragment's element indices to two results: the thread that
    holds the element (in `[0, threads)`) and the element's index among that
    thread's registers. `replicate` says how many thread groups hold identical
    copies (a row-reduced fragment is replicated across the columns' threads).

    ```mlir
    // 128 threads, each holding one row of a 128x64 tile.
    #tile.fragment<map = (i, j) -> (i, j), threads = 128>
    ```
  }];
  let parameters = (ins
    "::mlir::AffineMap":$map,
    "int64_t":$threads,
    DefaultValuedParameter<"int64_t", "1">:$replicate
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

//===----------------------------------------------------------------------===//
// MMA choice
//===----------------------------------------------------------------------===//

def Tile_MmaAttr : AttrDef<Tile_Dialect, "Mma"> {
  let mnemonic = "mma";
  let summary = "The MMA instruction family a gemm runs on and how the block's MMA units split its output tile.";
  let description = [{
    `tile-infer-layouts` writes it on every `tile.gemm` with a fragment
    accumulator, choosing among the target's MMA kinds. `kind` is the
    instruction family (`wgmma`: a warpgroup of 128 threads issues each MMA,
    64 accumulator rows at a time; `mma_sync`: a warp of 32 threads, 16 rows
    at a time). The block's threads form `gridM x gridN` such units, each
    holding an `(M / gridM) x (N / gridN)` part of the accumulator.

    ```mlir
    tile.gemm %As, %Bs, %C transpose_b {mma = #tile.mma<kind = mma_sync, gridM = 1, gridN = 4>} : ...
    ```
  }];
  let parameters = (ins
    EnumParameter<Tile_MmaKind>:$kind,
    "int64_t":$gridM,
    "int64_t":$gridN
  );
  let assemblyFormat = "`<` struct(params) `>`";
  let genVerifyDecl = 1;
}

#endif // TESSEL_TILE_ATTRS
