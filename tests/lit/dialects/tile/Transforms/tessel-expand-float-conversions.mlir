// RUN: tessel-opt %s -tessel-expand-float-conversions -split-input-file | FileCheck %s
// f32 <-> f16/bf16/fp8 conversions become integer code; others stay.

// CHECK-LABEL: func.func @to_f8
// CHECK-NOT: arith.truncf
// CHECK: %[[BITS:.+]] = arith.bitcast %{{.+}} : f32 to i32
// CHECK: arith.minui
// CHECK: %[[B8:.+]] = arith.trunci %{{.+}} : i32 to i8
// CHECK: %[[R:.+]] = arith.bitcast %[[B8]] : i8 to f8E4M3FN
// CHECK: return %[[R]]
func.func @to_f8(%x: f32) -> f8E4M3FN {
  %y = arith.truncf %x : f32 to f8E4M3FN
  return %y : f8E4M3FN
}

// -----

// bf16 from f32 is a rounding of the top half.
// CHECK-LABEL: func.func @to_bf16
// CHECK: arith.constant 32767 : i32
// CHECK: arith.trunci %{{.+}} : i32 to i16
// CHECK: arith.bitcast %{{.+}} : i16 to bf16
func.func @to_bf16(%x: f32) -> bf16 {
  %y = arith.truncf %x : f32 to bf16
  return %y : bf16
}

// -----

// Extension from f16 handles subnormals with an exact float multiply.
// CHECK-LABEL: func.func @from_f16
// CHECK-NOT: arith.extf
// CHECK: %[[SCALE:.+]] = arith.constant 5.96046448E-8 : f32
// CHECK: arith.bitcast %{{.+}} : f16 to i16
// CHECK: %[[M:.+]] = arith.uitofp
// CHECK: arith.mulf %[[M]], %[[SCALE]] : f32
// CHECK: arith.bitcast %{{.+}} : i32 to f32
func.func @from_f16(%x: f16) -> f32 {
  %y = arith.extf %x : f16 to f32
  return %y : f32
}

// -----

// f32 <-> f64 is left alone.
// CHECK-LABEL: func.func @wide
// CHECK: arith.extf %{{.+}} : f32 to f64
func.func @wide(%x: f32) -> f64 {
  %y = arith.extf %x : f32 to f64
  return %y : f64
}
