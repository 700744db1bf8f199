// RUN: tessel-opt %s -canonicalize -split-input-file | FileCheck %s
// Folds and canonicalization patterns of the tile dialect.

// A cast to the same type is its input.
// CHECK-LABEL: func.func @cast_identity
// CHECK-SAME: (%[[X:.+]]: f32)
// CHECK-NOT: tile.cast
// CHECK: return %[[X]]
func.func @cast_identity(%x: f32) -> f32 {
  %y = tile.cast %x : f32 to f32
  return %y : f32
}

// -----

// Widening and narrowing back is the original value.
// CHECK-LABEL: func.func @cast_round_trip
// CHECK-SAME: (%[[X:.+]]: bf16)
// CHECK-NOT: tile.cast
// CHECK: return %[[X]]
func.func @cast_round_trip(%x: bf16) -> bf16 {
  %w = tile.cast %x : bf16 to f32
  %y = tile.cast %w : f32 to bf16
  return %y : bf16
}

// -----

// Narrowing first loses information, so the pair stays.
// CHECK-LABEL: func.func @cast_lossy_pair
// CHECK: %[[N:.+]] = tile.cast %{{.+}} : f32 to f16
// CHECK: %[[W:.+]] = tile.cast %[[N]] : f16 to f32
// CHECK: return %[[W]]
func.func @cast_lossy_pair(%x: f32) -> f32 {
  %n = tile.cast %x : f32 to f16
  %w = tile.cast %n : f16 to f32
  return %w : f32
}

// -----

// Casts of constants fold: float to float, float to int (toward zero), int to float.
// CHECK-LABEL: func.func @cast_constants
// CHECK-DAG: %[[H:.+]] = arith.constant 1.500000e+00 : f16
// CHECK-DAG: %[[I:.+]] = arith.constant -2 : i32
// CHECK-DAG: %[[F:.+]] = arith.constant 7.000000e+00 : f32
// CHECK-NOT: tile.cast
// CHECK: return %[[H]], %[[I]], %[[F]]
func.func @cast_constants() -> (f16, i32, f32) {
  %a = arith.constant 1.5 : f32
  %b = arith.constant -2.75 : f32
  %c = arith.constant 7 : i64
  %h = tile.cast %a : f32 to f16
  %i = tile.cast %b : f32 to i32
  %f = tile.cast %c : i64 to f32
  return %h, %i, %f : f16, i32, f32
}

// -----

// Conversions to fp8 are not folded: the backends own fp8 saturation.
// CHECK-LABEL: func.func @cast_fp8_kept
// CHECK: tile.cast %{{.+}} : f32 to f8E4M3FN
func.func @cast_fp8_kept() -> f8E4M3FN {
  %a = arith.constant 1000.0 : f32
  %h = tile.cast %a : f32 to f8E4M3FN
  return %h : f8E4M3FN
}

// -----

// A parallel loop with a zero extent is removed; others stay.
// CHECK-LABEL: func.func @parallel_empty
// CHECK: tile.parallel [4, 2]
// CHECK-NOT: tile.parallel
func.func @parallel_empty(%n: index, %buf: memref<4xf32, #tile.scope<shared>>) {
  tile.kernel grid(%n) threads(32) {
  ^bb0(%bx: index):
    %z = arith.constant 0.0 : f32
    tile.parallel [4, 0] {
    ^bb0(%i: index, %j: index):
      memref.store %z, %buf[%i] : memref<4xf32, #tile.scope<shared>>
    }
    tile.parallel [4, 2] {
    ^bb0(%i: index, %j: index):
      memref.store %z, %buf[%i] : memref<4xf32, #tile.scope<shared>>
    }
  }
  return
}

// -----

// A pipelined loop whose constant bounds give no iteration is removed.
// CHECK-LABEL: func.func @pipelined_empty
// CHECK-COUNT-1: tile.pipelined
// CHECK-NOT: tile.pipelined
func.func @pipelined_empty(%n: index, %buf: memref<4xf32, #tile.scope<shared>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %z = arith.constant 0.0 : f32
  tile.kernel grid(%n) threads(32) {
  ^bb0(%bx: index):
    tile.pipelined %c4 to %c4 step %c1 stages 2 {
    ^bb0(%k: index):
      memref.store %z, %buf[%k] : memref<4xf32, #tile.scope<shared>>
    }
    tile.pipelined %c0 to %n step %c1 stages 2 {
    ^bb0(%k: index):
      memref.store %z, %buf[%k] : memref<4xf32, #tile.scope<shared>>
    }
  }
  return
}
