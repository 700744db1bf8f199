//===- Passes.h - passes of the CPU backend -----------------------*- C++ -*-===//

#ifndef TESSEL_BACKENDS_CPU_PASSES_H
#define TESSEL_BACKENDS_CPU_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinOps.h"
#include "dialects/tile/IR/TileAttrs.h"
#include "mlir/Pass/Pass.h"

namespace tessel::cpu {

#define GEN_PASS_DECL
#include "backends/cpu/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "backends/cpu/Passes.h.inc"

} // namespace tessel::cpu

#endif // TESSEL_BACKENDS_CPU_PASSES_H
