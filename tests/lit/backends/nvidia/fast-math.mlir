// nvidia-fast-math marks division and math functions `afn`, which NVPTX
// turns into approximate instructions; other arithmetic is left alone.
// RUN: tessel-opt %s --nvidia-fast-math | FileCheck %s

// CHECK-LABEL: func.func @kernel
// CHECK: arith.divf %{{.+}}, %{{.+}} fastmath<afn> : f32
// CHECK: math.exp2 %{{.+}} fastmath<afn> : f32
// CHECK: math.sqrt %{{.+}} fastmath<fast> : f32
// CHECK: arith.mulf %{{.+}}, %{{.+}} : f32
func.func @kernel(%a: f32, %b: f32) -> f32 {
  %q = arith.divf %a, %b : f32
  %e = math.exp2 %q : f32
  %s = math.sqrt %e fastmath<fast> : f32
  %m = arith.mulf %s, %a : f32
  return %m : f32
}
