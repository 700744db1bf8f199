//===- FloatFormats.h - the GPU's small float formats, bit-exact --*- C++ -*-===//
//
// f16, bf16, e4m3 and e5m2 to and from f32/f64 with the PTX ISA's rounding
// modes and saturation (.satfinite turns an overflow or infinity into the
// largest finite value; NaN stays NaN).
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_LIB_EMULATOR_FLOATFORMATS_H
#define TESSEL_LIB_EMULATOR_FLOATFORMATS_H

#include "lib/Emulator/Program.h"

#include <cstdint>

namespace tessel::emu {

enum class SmallFloat : uint8_t { F16, BF16, E4M3, E5M2, TF32 };

struct SmallFloatFormat {
  int exponentBits, mantissaBits, bias;
  bool hasInfinity;      ///< e4m3 has none (its top code is NaN)
  uint32_t canonicalNaN; ///< the NaN a conversion produces
};

const SmallFloatFormat &formatOf(SmallFloat f);

/// Rounds `x` to the format and returns its bits. `relu` clamps negative
/// results to +0 (NaN stays NaN).
uint32_t encodeSmallFloat(double x, SmallFloat f, Round round, bool satfinite,
                          bool relu = false);
double decodeSmallFloat(uint32_t bits, SmallFloat f);

/// Fast paths for the hot conversions (tables built once).
float halfToFloat(uint16_t h);
float bf16ToFloat(uint16_t h);
float e4m3ToFloat(uint8_t b);
float e5m2ToFloat(uint8_t b);
uint16_t floatToHalf(float f);   ///< round to nearest even
uint16_t floatToBf16(float f);   ///< round to nearest even

/// f32 arithmetic result under a rounding mode other than nearest-even,
/// computed exactly in double first (float results of +,-,*,/,fma on f32
/// inputs are exact in double except fma, which uses long double).
float roundToFloat(long double exact, Round round);
double roundToDouble(long double exact, Round round);

/// Flushes f32 subnormals to sign-preserving zero (.ftz).
float flushSubnormal(float f);

} // namespace tessel::emu

#endif // TESSEL_LIB_EMULATOR_FLOATFORMATS_H
