//===- PrintRuntime.h - what vector.print calls, inside Tessel ---*- C++ -*-===//
//
// vector.print lowers to calls of printF32, printI64, printString, printComma,
// printNewline and a few more. MLIR keeps them in libmlir_c_runner_utils.so,
// which needs the shared libMLIR; Tessel defines its own and hands their
// addresses to the JIT, so a CPU kernel that prints loads no library.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_BACKENDS_CPU_PRINTRUNTIME_H
#define TESSEL_BACKENDS_CPU_PRINTRUNTIME_H

#include <utility>
#include <vector>

namespace tessel::cpu {

/// (symbol name the lowering calls, address of Tessel's definition).
std::vector<std::pair<const char *, void *>> printRuntimeSymbols();

} // namespace tessel::cpu

#endif // TESSEL_BACKENDS_CPU_PRINTRUNTIME_H
