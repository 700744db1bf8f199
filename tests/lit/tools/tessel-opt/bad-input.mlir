// Malformed input and wrong types give located diagnostics and a non-zero exit.
// RUN: not tessel-opt %s --split-input-file 2>&1 | FileCheck %s

// CHECK: bad-input.mlir:[[# @LINE + 2]]:{{[0-9]+}}: error: expected ','
func.func @too_few_types(%a: memref<4x4xf16>) {
  tile.gemm %a, %a, %a : memref<4x4xf16>, memref<4x4xf16>
  return
}

// -----

// CHECK: bad-input.mlir:[[# @LINE + 2]]:{{[0-9]+}}: error: use of value '%x' expects different type than prior uses
func.func @wrong_fill_type(%b: memref<4xf32, #tile.scope<shared>>, %x: f16) {
  tile.fill %b, %x : memref<4xf32, #tile.scope<shared>>
  return
}

// -----

// CHECK: bad-input.mlir:[[# @LINE + 1]]:{{[0-9]+}}: error: custom op 'tile.frobnicate' is unknown
tile.frobnicate

// -----

// CHECK: bad-input.mlir:[[# @LINE + 1]]:{{[0-9]+}}: error: expected '<'
#s = #tile.scope
