//===- ExecFloat.cpp - floating-point arithmetic and comparisons -----------===//
//
// f32 and f64 through the host's IEEE arithmetic (round to nearest even;
// other rounding modes corrected afterwards); the .approx functions through
// the host's correctly rounded ones, which is within every error bound the
// ISA states. f16/bf16 (and their x2 pairs) compute in f32 and round once.
//
//===----------------------------------------------------------------------===//

#include "lib/Emulator/Exec.h"
#include "lib/Emulator/FloatFormats.h"

#include <cmath>
#include <limits>

namespace tessel::emu {

namespace {

float ftzIn(const Instr &in, float v) { return (in.mods & ModFtz) ? flushSubnormal(v) : v; }

float minMax(bool isMin, bool nanPropagates, float a, float b) {
  if (std::isnan(a) || std::isnan(b)) {
    if (nanPropagates || (std::isnan(a) && std::isnan(b)))
      return fromBits<float>(0x7fffffff);
    return std::isnan(a) ? b : a;
  }
  if (a == b) // -0 is below +0
    return isMin ? (std::signbit(a) ? a : b) : (std::signbit(a) ? b : a);
  return isMin ? (a < b ? a : b) : (a > b ? a : b);
}

/// a + b rounded to nearest, nudged one unit toward the part the rounding
/// dropped (TwoSum's error term): a value that lands on a tie of a
/// narrower format, or on one of its numbers, then rounds to it the way the
/// exact sum would. The sum is exact when the nudge is not needed.
template <typename F> F sumForRounding(F a, F b) {
  F s = a + b;
  F bb = s - a;
  F err = (a - (s - bb)) + (b - bb);
  if (err == 0 || !std::isfinite(s))
    return s;
  return std::nextafter(s, err > 0 ? std::numeric_limits<F>::infinity()
                                   : -std::numeric_limits<F>::infinity());
}

long double exactF32(const Instr &in, float a, float b, float c) {
  switch (in.op) {
  case OpAdd: return sumForRounding<long double>(a, b);
  case OpSub: return sumForRounding<long double>(a, -(long double)b);
  case OpMul: return (long double)a * b;
  case OpFma: case OpMad: return sumForRounding<long double>((long double)a * b, c);
  case OpDiv: return (long double)a / b;
  default: return 0;
  }
}

/// One f32 result from the op, its inputs already flushed when .ftz.
float computeF32(const Thread &t, const Instr &in, float a, float b, float c) {
  switch (in.op) {
  case OpAdd: case OpSub: case OpMul: case OpFma: case OpMad: case OpDiv: {
    if (in.round != Round::None && in.round != Round::RN)
      return roundToFloat(exactF32(in, a, b, c), in.round);
    switch (in.op) {
    case OpAdd: return a + b;
    case OpSub: return a - b;
    case OpMul: return a * b;
    case OpDiv: return a / b;
    default: return std::fma(a, b, c);
    }
  }
  case OpRcp: return in.round != Round::None && in.round != Round::RN
                         ? roundToFloat(1.0 / double(a), in.round) : 1.0f / a;
  case OpSqrt: return in.round != Round::None && in.round != Round::RN
                          ? roundToFloat(std::sqrt(double(a)), in.round) : std::sqrt(a);
  case OpRsqrt: return float(1.0 / std::sqrt(double(a)));
  case OpEx2: return std::exp2(a);
  case OpLg2: return std::log2(a);
  case OpSin: return std::sin(a);
  case OpCos: return std::cos(a);
  case OpTanh: return std::tanh(a);
  case OpMin: case OpMax: return minMax(in.op == OpMin, in.mods & ModNaN, a, b);
  case OpAbs: return fromBits<float>(bitsOf(a) & 0x7fffffffu);
  case OpNeg: return fromBits<float>(bitsOf(a) ^ 0x80000000u);
  case OpCopysign: return fromBits<float>((bitsOf(b) & 0x7fffffffu) | (bitsOf(a) & 0x80000000u));
  default:
    t.fail(ErrNotSupported, "this f32 operation is not emulated");
  }
}

float finishF32(const Instr &in, float r) {
  if (in.mods & ModFtz)
    r = flushSubnormal(r);
  if (in.mods & ModSat)
    r = std::isnan(r) ? 0.0f : std::fmin(std::fmax(r, 0.0f), 1.0f);
  if ((in.mods & ModRelu) && !std::isnan(r) && r < 0)
    r = 0.0f;
  return r;
}

void execF32(Thread &t, const Instr &in) {
  float a = ftzIn(in, get<float>(t, in.ops[1]));
  float b = in.nops > 2 ? ftzIn(in, get<float>(t, in.ops[2])) : 0.0f;
  float c = in.nops > 3 ? ftzIn(in, get<float>(t, in.ops[3])) : 0.0f;
  put(t, in.ops[0], finishF32(in, computeF32(t, in, a, b, c)));
}

// The hot forms, with nothing to adjust.
void execAddF32(Thread &t, const Instr &in) {
  put(t, in.ops[0], get<float>(t, in.ops[1]) + get<float>(t, in.ops[2]));
}
void execSubF32(Thread &t, const Instr &in) {
  put(t, in.ops[0], get<float>(t, in.ops[1]) - get<float>(t, in.ops[2]));
}
void execMulF32(Thread &t, const Instr &in) {
  put(t, in.ops[0], get<float>(t, in.ops[1]) * get<float>(t, in.ops[2]));
}
void execFmaF32(Thread &t, const Instr &in) {
  put(t, in.ops[0],
      std::fma(get<float>(t, in.ops[1]), get<float>(t, in.ops[2]), get<float>(t, in.ops[3])));
}

void execF64(Thread &t, const Instr &in) {
  double a = get<double>(t, in.ops[1]);
  double b = in.nops > 2 ? get<double>(t, in.ops[2]) : 0.0;
  double c = in.nops > 3 ? get<double>(t, in.ops[3]) : 0.0;
  double r;
  switch (in.op) {
  case OpAdd: r = a + b; break;
  case OpSub: r = a - b; break;
  case OpMul: r = a * b; break;
  case OpFma: case OpMad: r = std::fma(a, b, c); break;
  case OpDiv: r = a / b; break;
  case OpRcp: r = 1.0 / a; break;
  case OpSqrt: r = std::sqrt(a); break;
  case OpRsqrt: r = 1.0 / std::sqrt(a); break;
  case OpMin: case OpMax:
    if (std::isnan(a) || std::isnan(b))
      r = (std::isnan(a) && std::isnan(b)) || (in.mods & ModNaN) ? NAN : (std::isnan(a) ? b : a);
    else
      r = in.op == OpMin ? std::fmin(a, b) : std::fmax(a, b);
    break;
  case OpAbs: r = fromBits<double>(bitsOf(a) & ~(uint64_t(1) << 63)); break;
  case OpNeg: r = fromBits<double>(bitsOf(a) ^ (uint64_t(1) << 63)); break;
  case OpEx2: r = std::exp2(a); break;
  case OpLg2: r = std::log2(a); break;
  default:
    t.fail(ErrNotSupported, "this f64 operation is not emulated");
  }
  put(t, in.ops[0], r);
}

/// f16/bf16 scalars and pairs: each lane in f32, rounded back once.
void execHalf(Thread &t, const Instr &in) {
  bool bf = in.type == DType::BF16 || in.type == DType::BF16x2;
  bool pair = in.type == DType::F16x2 || in.type == DType::BF16x2;
  SmallFloat fmt = bf ? SmallFloat::BF16 : SmallFloat::F16;
  auto dec = [&](uint64_t bits, int lane) {
    uint16_t h = uint16_t(bits >> (16 * lane));
    return bf ? bf16ToFloat(h) : halfToFloat(h);
  };
  uint64_t a = t.val(in.ops[1]);
  uint64_t b = in.nops > 2 ? t.val(in.ops[2]) : 0;
  uint64_t c = in.nops > 3 ? t.val(in.ops[3]) : 0;
  uint32_t out = 0;
  for (int lane = 0; lane < (pair ? 2 : 1); ++lane) {
    float x = dec(a, lane), y = dec(b, lane), z = dec(c, lane);
    uint32_t bits;
    if (in.op == OpAbs || in.op == OpNeg) {
      uint32_t h = uint32_t(a >> (16 * lane)) & 0xffff;
      bits = in.op == OpAbs ? (h & 0x7fff) : (h ^ 0x8000);
    } else {
      double r;
      // Products of two halves are exact in double; sums are nudged so the
      // one rounding to the half format is the exact result's.
      switch (in.op) {
      case OpAdd: r = sumForRounding<double>(x, y); break;
      case OpSub: r = sumForRounding<double>(x, -double(y)); break;
      case OpMul: r = double(x) * y; break;
      case OpFma: case OpMad: r = sumForRounding<double>(double(x) * y, z); break;
      case OpMin: case OpMax: r = minMax(in.op == OpMin, in.mods & ModNaN, x, y); break;
      case OpEx2: r = std::exp2(x); break;
      case OpTanh: r = std::tanh(x); break;
      default: t.fail(ErrNotSupported, "this f16/bf16 operation is not emulated");
      }
      if ((in.mods & ModSat) && !std::isnan(r))
        r = std::fmin(std::fmax(r, 0.0), 1.0);
      bits = encodeSmallFloat(r, fmt, in.round == Round::None ? Round::RN : in.round, false,
                              in.mods & ModRelu);
    }
    out |= bits << (16 * lane);
  }
  t.set(in.ops[0], out);
}

// ---- comparisons and selection ------------------------------------------

template <typename T> bool compareInt(uint8_t cmp, T a, T b) {
  using U = std::make_unsigned_t<T>;
  switch (cmp) {
  case CmpEq: return a == b;
  case CmpNe: return a != b;
  case CmpLt: return a < b;
  case CmpLe: return a <= b;
  case CmpGt: return a > b;
  case CmpGe: return a >= b;
  case CmpLo: return U(a) < U(b);
  case CmpLs: return U(a) <= U(b);
  case CmpHi: return U(a) > U(b);
  case CmpHs: return U(a) >= U(b);
  default: return false;
  }
}

bool compareFloat(uint8_t cmp, double a, double b) {
  bool unordered = std::isnan(a) || std::isnan(b);
  switch (cmp) {
  case CmpEq: return !unordered && a == b;
  case CmpNe: return !unordered && a != b;
  case CmpLt: return !unordered && a < b;
  case CmpLe: return !unordered && a <= b;
  case CmpGt: return !unordered && a > b;
  case CmpGe: return !unordered && a >= b;
  case CmpEqu: return unordered || a == b;
  case CmpNeu: return unordered || a != b;
  case CmpLtu: return unordered || a < b;
  case CmpLeu: return unordered || a <= b;
  case CmpGtu: return unordered || a > b;
  case CmpGeu: return unordered || a >= b;
  case CmpNum: return !unordered;
  case CmpNan: return unordered;
  default: return false;
  }
}

bool compareOperands(const Thread &t, const Instr &in) {
  uint64_t a = t.val(in.ops[1]), b = t.val(in.ops[2]);
  switch (in.type) {
  case DType::F32: {
    float x = fromBits<float>(a), y = fromBits<float>(b);
    if (in.mods & ModFtz)
      x = flushSubnormal(x), y = flushSubnormal(y);
    return compareFloat(in.sub, x, y);
  }
  case DType::F64: return compareFloat(in.sub, fromBits<double>(a), fromBits<double>(b));
  case DType::F16: return compareFloat(in.sub, halfToFloat(uint16_t(a)), halfToFloat(uint16_t(b)));
  case DType::BF16: return compareFloat(in.sub, bf16ToFloat(uint16_t(a)), bf16ToFloat(uint16_t(b)));
  default: {
    bool r = false;
    withIntType(in.type, [&]<typename T>() { r = compareInt<T>(in.sub, T(a), T(b)); });
    return r;
  }
  }
}

bool combine(uint8_t op, bool x, bool c) {
  switch (op) {
  case BoolAnd: return x && c;
  case BoolOr: return x || c;
  case BoolXor: return x != c;
  default: return x;
  }
}

void execSetp(Thread &t, const Instr &in) {
  bool x = compareOperands(t, in);
  bool c = in.sub2 != BoolNone ? t.pred(in.ops[3]) : false;
  const Operand &d = in.ops[0];
  if (d.kind == Operand::Vec) { // p|q
    t.set(elem(t, d, 0), combine(in.sub2, x, c));
    t.set(elem(t, d, 1), combine(in.sub2, !x, c));
  } else {
    t.set(d, combine(in.sub2, x, c));
  }
}

void execSet(Thread &t, const Instr &in) {
  // set.cmp.dtype.stype: the compare reads the second type.
  Instr cmp = in;
  cmp.type = in.type2;
  bool x = combine(in.sub2, compareOperands(t, cmp),
                   in.sub2 != BoolNone ? t.pred(in.ops[3]) : false);
  uint64_t v = in.type == DType::F32 ? (x ? bitsOf(1.0f) : 0) : (x ? 0xffffffffu : 0);
  t.set(in.ops[0], v);
}

void execSelp(Thread &t, const Instr &in) {
  t.set(in.ops[0], t.pred(in.ops[3]) ? t.val(in.ops[1]) : t.val(in.ops[2]));
}

void execSlct(Thread &t, const Instr &in) {
  bool first = in.type2 == DType::F32 ? !(get<float>(t, in.ops[3]) < 0)
                                      : int32_t(t.val(in.ops[3])) >= 0;
  t.set(in.ops[0], first ? t.val(in.ops[1]) : t.val(in.ops[2]));
}

void execTestp(Thread &t, const Instr &in) {
  double v = in.type == DType::F64 ? get<double>(t, in.ops[1]) : get<float>(t, in.ops[1]);
  int c = std::fpclassify(in.type == DType::F64 ? v : float(v));
  bool r;
  switch (in.sub) {
  case 0: r = std::isfinite(v); break;
  case 1: r = std::isinf(v); break;
  case 2: r = !std::isnan(v); break;
  case 3: r = std::isnan(v); break;
  case 4: r = c == FP_NORMAL; break;
  default: r = c == FP_SUBNORMAL; break;
  }
  t.set(in.ops[0], r);
}

} // namespace

bool bindFloat(Instr &in, const DecodedOpcode &d) {
  switch (d.op) {
  case OpSetp:
    in.exec = execSetp;
    return in.type != DType::F16x2 && in.type != DType::BF16x2;
  case OpSet: in.exec = execSet; return true;
  case OpSelp: in.exec = execSelp; return true;
  case OpSlct: in.exec = execSlct; return true;
  case OpTestp: {
    static const char *kinds[] = {"finite", "infinite", "number", "notanumber", "normal",
                                  "subnormal"};
    for (uint8_t i = 0; i < 6; ++i)
      for (const std::string &m : d.mods)
        if (m == kinds[i])
          in.sub = i;
    in.exec = execTestp;
    return true;
  }
  default:
    break;
  }
  if (!isFloat(in.type))
    return false;
  bool arith = d.op == OpAdd || d.op == OpSub || d.op == OpMul || d.op == OpFma ||
               d.op == OpMad || d.op == OpDiv || d.op == OpRcp || d.op == OpSqrt ||
               d.op == OpRsqrt || d.op == OpEx2 || d.op == OpLg2 || d.op == OpSin ||
               d.op == OpCos || d.op == OpTanh || d.op == OpMin || d.op == OpMax ||
               d.op == OpAbs || d.op == OpNeg || d.op == OpCopysign;
  if (!arith)
    return false;
  switch (in.type) {
  case DType::F32: {
    bool plain = !(in.mods & (ModFtz | ModSat | ModRelu)) &&
                 (in.round == Round::None || in.round == Round::RN);
    if (plain && d.op == OpAdd) in.exec = execAddF32;
    else if (plain && d.op == OpSub) in.exec = execSubF32;
    else if (plain && d.op == OpMul) in.exec = execMulF32;
    else if (plain && (d.op == OpFma || d.op == OpMad)) in.exec = execFmaF32;
    else in.exec = execF32;
    return true;
  }
  case DType::F64: in.exec = execF64; return true;
  case DType::F16: case DType::F16x2: case DType::BF16: case DType::BF16x2:
    in.exec = execHalf;
    return true;
  default:
    return false;
  }
}

} // namespace tessel::emu
