//===- FloatFormats.cpp - the GPU's small float formats, bit-exact ---------===//

#include "lib/Emulator/FloatFormats.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

namespace tessel::emu {

const SmallFloatFormat &formatOf(SmallFloat f) {
  static const SmallFloatFormat formats[] = {
      {5, 10, 15, true, 0x7fff},   // f16
      {8, 7, 127, true, 0x7fff},   // bf16
      {4, 3, 7, false, 0x7f},      // e4m3 (fn): no infinity, S.1111.111 is NaN
      {5, 2, 15, true, 0x7f},      // e5m2
      {8, 10, 127, true, 0x7fffffff}, // tf32, in f32 bits (handled separately)
  };
  return formats[unsigned(f)];
}

namespace {

double maxFinite(const SmallFloatFormat &F) {
  int topExponent = (1 << F.exponentBits) - 1 - F.bias; // all-ones exponent field
  if (F.hasInfinity)
    return std::ldexp(2.0 - std::ldexp(1.0, -F.mantissaBits), topExponent - 1);
  // e4m3: the all-ones exponent holds normal numbers except the NaN code.
  return std::ldexp(2.0 - std::ldexp(1.0, 1 - F.mantissaBits), topExponent);
}

double roundInteger(double v, Round round, bool negative) {
  switch (round) {
  case Round::RZ: return std::trunc(v);
  case Round::RM: return negative ? std::ceil(v) : std::floor(v);
  case Round::RP: return negative ? std::floor(v) : std::ceil(v);
  case Round::RNA: return std::round(v);
  default: {
    double f = std::floor(v), diff = v - f;
    if (diff > 0.5 || (diff == 0.5 && std::fmod(f, 2.0) != 0))
      return f + 1;
    return f;
  }
  }
}

} // namespace

uint32_t encodeSmallFloat(double x, SmallFloat f, Round round, bool satfinite, bool relu) {
  const SmallFloatFormat &F = formatOf(f);
  int totalBits = 1 + F.exponentBits + F.mantissaBits;
  uint32_t signBit = uint32_t(1) << (totalBits - 1);
  if (std::isnan(x))
    return F.canonicalNaN;
  bool negative = std::signbit(x);
  if (relu && negative)
    return 0;
  uint32_t sign = negative ? signBit : 0;
  double a = std::fabs(x);
  double maxValue = maxFinite(F);
  uint32_t infBits = uint32_t((1u << F.exponentBits) - 1) << F.mantissaBits;
  auto packFinite = [&](double v) -> uint32_t {
    if (v == 0)
      return 0;
    int e;
    std::frexp(v, &e);
    int E = e - 1, emin = 1 - F.bias;
    if (E < emin) // subnormal
      return uint32_t(std::ldexp(v, F.mantissaBits - emin));
    uint32_t mant = uint32_t(std::ldexp(v, F.mantissaBits - E)) & ((1u << F.mantissaBits) - 1);
    return uint32_t(E + F.bias) << F.mantissaBits | mant;
  };
  auto overflow = [&]() -> uint32_t {
    if (satfinite)
      return sign | packFinite(maxValue);
    if (!F.hasInfinity)
      return F.canonicalNaN | sign;
    bool toInf = round == Round::RN || round == Round::RNA || round == Round::None ||
                 (round == Round::RP && !negative) || (round == Round::RM && negative);
    return sign | (toInf ? infBits : packFinite(maxValue));
  };
  if (std::isinf(a))
    return (satfinite || !F.hasInfinity) ? sign | packFinite(maxValue) : sign | infBits;
  if (a == 0)
    return sign;
  int e;
  std::frexp(a, &e);
  int E = std::max(e - 1, 1 - F.bias);
  int q = E - F.mantissaBits;
  double r = std::ldexp(roundInteger(std::ldexp(a, -q), round, negative), q);
  if (r > maxValue)
    return overflow();
  return sign | packFinite(r);
}

double decodeSmallFloat(uint32_t bits, SmallFloat f) {
  const SmallFloatFormat &F = formatOf(f);
  int totalBits = 1 + F.exponentBits + F.mantissaBits;
  bool negative = bits >> (totalBits - 1) & 1;
  uint32_t exponent = bits >> F.mantissaBits & ((1u << F.exponentBits) - 1);
  uint32_t mant = bits & ((1u << F.mantissaBits) - 1);
  uint32_t top = (1u << F.exponentBits) - 1;
  double v;
  if (exponent == top && F.hasInfinity)
    v = mant ? NAN : INFINITY;
  else if (exponent == top && mant == (1u << F.mantissaBits) - 1)
    v = NAN; // e4m3's only NaN code
  else if (exponent == 0)
    v = std::ldexp(double(mant), 1 - F.bias - F.mantissaBits);
  else
    v = std::ldexp(double(mant | (1u << F.mantissaBits)),
                   int(exponent) - F.bias - F.mantissaBits);
  return negative ? -v : v;
}

namespace {
struct Tables {
  std::vector<float> half, e4m3, e5m2;
  Tables() : half(65536), e4m3(256), e5m2(256) {
    for (uint32_t i = 0; i < 65536; ++i)
      half[i] = float(decodeSmallFloat(i, SmallFloat::F16));
    for (uint32_t i = 0; i < 256; ++i) {
      e4m3[i] = float(decodeSmallFloat(i, SmallFloat::E4M3));
      e5m2[i] = float(decodeSmallFloat(i, SmallFloat::E5M2));
    }
  }
};
const Tables &tables() {
  static const Tables t;
  return t;
}
} // namespace

float halfToFloat(uint16_t h) { return tables().half[h]; }
float e4m3ToFloat(uint8_t b) { return tables().e4m3[b]; }
float e5m2ToFloat(uint8_t b) { return tables().e5m2[b]; }

float bf16ToFloat(uint16_t h) {
  uint32_t b = uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &b, 4);
  return f;
}

uint16_t floatToHalf(float f) {
  return uint16_t(encodeSmallFloat(double(f), SmallFloat::F16, Round::RN, false));
}

uint16_t floatToBf16(float f) {
  uint32_t b;
  std::memcpy(&b, &f, 4);
  if (std::isnan(f))
    return 0x7fff;
  // Round to nearest even on the dropped 16 bits.
  uint32_t lsb = b >> 16 & 1;
  b += 0x7fff + lsb;
  return uint16_t(b >> 16);
}

namespace {
template <typename F> F roundDirected(long double exact, Round round) {
  F f = F(exact);
  if (std::isnan(exact) || round == Round::RN || round == Round::None ||
      (long double)f == exact)
    return f;
  const F inf = std::numeric_limits<F>::infinity();
  switch (round) {
  case Round::RZ:
    if (std::fabs((long double)f) > std::fabs(exact))
      f = std::nextafter(f, F(0));
    break;
  case Round::RM:
    if ((long double)f > exact)
      f = std::nextafter(f, -inf);
    break;
  case Round::RP:
    if ((long double)f < exact)
      f = std::nextafter(f, inf);
    break;
  default:
    break;
  }
  return f;
}
} // namespace

float roundToFloat(long double exact, Round round) { return roundDirected<float>(exact, round); }
double roundToDouble(long double exact, Round round) {
  return roundDirected<double>(exact, round);
}

float flushSubnormal(float f) {
  if (std::fpclassify(f) == FP_SUBNORMAL)
    return std::signbit(f) ? -0.0f : 0.0f;
  return f;
}

} // namespace tessel::emu
