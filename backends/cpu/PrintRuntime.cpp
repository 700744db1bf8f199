//===- PrintRuntime.cpp - what vector.print calls, inside Tessel -----------===//
//
// The output format is the one MLIR's runner utilities print (numbers with
// %g, "( ", ", ", " )" around vectors), so a kernel prints the same text with
// either. The functions have internal names; the JIT binds the names the
// lowering uses to them by address.
//
//===----------------------------------------------------------------------===//

#include "backends/cpu/PrintRuntime.h"

#include <cinttypes>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace {

void printDouble(double value) {
  // A negative NaN prints as "-nan" on glibc already; say it the same way
  // everywhere.
  if (std::isnan(value))
    std::fputs(std::signbit(value) ? "-nan" : "nan", stdout);
  else
    std::fprintf(stdout, "%g", value);
}

float halfToFloat(uint16_t bits) {
  uint32_t sign = uint32_t(bits & 0x8000) << 16;
  uint32_t exponent = (bits >> 10) & 0x1f;
  uint32_t mantissa = bits & 0x3ff;
  if (exponent == 0x1f) {
    uint32_t out = sign | 0x7f800000u | (mantissa << 13);
    float f;
    std::memcpy(&f, &out, sizeof f);
    return f;
  }
  // Normal and subnormal values are exact in float arithmetic.
  float magnitude = exponent == 0 ? std::ldexp(float(mantissa), -24)
                                  : std::ldexp(float(mantissa | 0x400), int(exponent) - 25);
  return sign ? -magnitude : magnitude;
}

extern "C" {
void tesselPrintI64(int64_t value) { std::fprintf(stdout, "%" PRId64, value); }
void tesselPrintU64(uint64_t value) { std::fprintf(stdout, "%" PRIu64, value); }
void tesselPrintF16(uint16_t bits) { printDouble(halfToFloat(bits)); }
void tesselPrintBF16(uint16_t bits) {
  uint32_t wide = uint32_t(bits) << 16;
  float f;
  std::memcpy(&f, &wide, sizeof f);
  printDouble(f);
}
void tesselPrintF32(float value) { printDouble(value); }
void tesselPrintF64(double value) { printDouble(value); }
void tesselPrintString(const char *text) { std::fputs(text, stdout); }
void tesselPrintOpen() { std::fputs("( ", stdout); }
void tesselPrintClose() { std::fputs(" )", stdout); }
void tesselPrintComma() { std::fputs(", ", stdout); }
void tesselPrintNewline() { std::fputc('\n', stdout); }
}

template <typename F> void *address(F *function) {
  return reinterpret_cast<void *>(function);
}

} // namespace

std::vector<std::pair<const char *, void *>> tessel::cpu::printRuntimeSymbols() {
  return {
      {"printI64", address(&tesselPrintI64)},
      {"printU64", address(&tesselPrintU64)},
      {"printF16", address(&tesselPrintF16)},
      {"printBF16", address(&tesselPrintBF16)},
      {"printF32", address(&tesselPrintF32)},
      {"printF64", address(&tesselPrintF64)},
      {"printString", address(&tesselPrintString)},
      {"printOpen", address(&tesselPrintOpen)},
      {"printClose", address(&tesselPrintClose)},
      {"printComma", address(&tesselPrintComma)},
      {"printNewline", address(&tesselPrintNewline)},
  };
}
