//===- ExecConvert.cpp - mov, cvt, cvta and isspacep -----------------------===//

#include "lib/Emulator/Exec.h"
#include "lib/Emulator/FloatFormats.h"

#include <cmath>
#include <limits>

namespace tessel::emu {

namespace {

uint64_t widthMask(unsigned bytes) {
  return bytes >= 8 ? ~uint64_t(0) : (uint64_t(1) << (8 * bytes)) - 1;
}

void execMov(Thread &t, const Instr &in) {
  const Operand &d = in.ops[0], &a = in.ops[1];
  unsigned bytes = byteWidth(in.type);
  if (a.kind == Operand::Vec) { // pack {lo, ..., hi}
    unsigned part = bytes / a.count;
    uint64_t v = 0;
    for (unsigned i = 0; i < a.count; ++i)
      v |= (t.val(elem(t, a, i)) & widthMask(part)) << (8 * part * i);
    t.set(d, v);
    return;
  }
  uint64_t v = t.val(a);
  if (d.kind == Operand::Vec) { // unpack
    unsigned part = bytes / d.count;
    for (unsigned i = 0; i < d.count; ++i)
      t.set(elem(t, d, i), v >> (8 * part * i) & widthMask(part));
    return;
  }
  t.set(d, in.type == DType::Pred ? (v != 0) : (v & widthMask(bytes)));
}

void execMovFast(Thread &t, const Instr &in) {
  t.set(in.ops[0], t.val(in.ops[1]) & 0xffffffffu);
}
void execMov64(Thread &t, const Instr &in) { t.set(in.ops[0], t.val(in.ops[1])); }

SmallFloat smallFormat(DType type) {
  switch (type) {
  case DType::F16: case DType::F16x2: return SmallFloat::F16;
  case DType::BF16: case DType::BF16x2: return SmallFloat::BF16;
  case DType::E4M3: case DType::E4M3x2: return SmallFloat::E4M3;
  default: return SmallFloat::E5M2;
  }
}

/// A float source as a double.
double readFloat(DType type, uint64_t bits) {
  switch (type) {
  case DType::F32: return fromBits<float>(bits);
  case DType::F64: return fromBits<double>(bits);
  case DType::F16: return halfToFloat(uint16_t(bits));
  case DType::BF16: return bf16ToFloat(uint16_t(bits));
  case DType::E4M3: return e4m3ToFloat(uint8_t(bits));
  case DType::E5M2: return e5m2ToFloat(uint8_t(bits));
  default: return 0;
  }
}

/// An integer source, sign- or zero-extended from its width.
int64_t readIntSigned(DType type, uint64_t bits) {
  switch (byteWidth(type)) {
  case 1: return isSigned(type) ? int64_t(int8_t(bits)) : int64_t(uint8_t(bits));
  case 2: return isSigned(type) ? int64_t(int16_t(bits)) : int64_t(uint16_t(bits));
  case 4: return isSigned(type) ? int64_t(int32_t(bits)) : int64_t(uint32_t(bits));
  default: return int64_t(bits);
  }
}

double roundIntegral(double v, Round r) {
  switch (r) {
  case Round::RZ: return std::trunc(v);
  case Round::RM: return std::floor(v);
  case Round::RP: return std::ceil(v);
  default: return std::nearbyint(v); // the host rounds to nearest even
  }
}

/// float -> integer: rounded as asked, saturated to the destination's
/// range, NaN to 0 (PTX conversions to integers always saturate).
/// Sign-extends a signed destination's bits to the whole register (a .s8
/// result in a .b32 register reads as a 32-bit signed value).
uint64_t extendSigned(uint64_t bits, DType dst) {
  switch (isSigned(dst) ? byteWidth(dst) : 8) {
  case 1: return uint64_t(int64_t(int8_t(bits)));
  case 2: return uint64_t(int64_t(int16_t(bits)));
  case 4: return uint64_t(int64_t(int32_t(bits)));
  default: return bits;
  }
}

uint64_t floatToInt(double v, DType src, DType dst, Round r) {
  // NaN is 0, except from f64 or into 64 bits: the most negative value's bits.
  if (std::isnan(v))
    return src == DType::F64 || byteWidth(dst) == 8 ? uint64_t(1) << (8 * byteWidth(dst) - 1)
                                                    : 0;
  v = roundIntegral(v, r);
  unsigned bytes = byteWidth(dst);
  if (isSigned(dst)) {
    double lo = -std::ldexp(1.0, 8 * bytes - 1), hi = std::ldexp(1.0, 8 * bytes - 1);
    int64_t x = v <= lo ? int64_t(lo) : v >= hi ? (bytes == 8 ? std::numeric_limits<int64_t>::max()
                                                            : int64_t(hi) - 1)
                                                : int64_t(v);
    return uint64_t(x) & widthMask(bytes);
  }
  double hi = std::ldexp(1.0, 8 * bytes);
  if (v <= 0)
    return 0;
  if (v >= hi)
    return widthMask(bytes);
  return uint64_t(v);
}

uint64_t intToInt(int64_t v, DType src, DType dst, bool sat) {
  unsigned bytes = byteWidth(dst);
  if (sat) {
    bool srcUnsigned = !isSigned(src) && byteWidth(src) == 8;
    if (isSigned(dst)) {
      int64_t hi = bytes == 8 ? std::numeric_limits<int64_t>::max()
                              : (int64_t(1) << (8 * bytes - 1)) - 1;
      int64_t lo = bytes == 8 ? std::numeric_limits<int64_t>::min() : -hi - 1;
      if (srcUnsigned && uint64_t(v) > uint64_t(hi))
        v = hi;
      else if (!srcUnsigned)
        v = std::min(std::max(v, lo), hi);
    } else {
      if (!srcUnsigned && v < 0)
        v = 0;
      else if (bytes < 8 && uint64_t(v) > widthMask(bytes))
        v = int64_t(widthMask(bytes));
    }
  }
  return uint64_t(v) & widthMask(bytes);
}

void execCvt(Thread &t, const Instr &in) {
  DType dst = in.type, src = in.type2;
  uint64_t a = t.val(in.ops[1]);
  bool sat = in.mods & ModSat, satfinite = in.mods & ModSatFinite, relu = in.mods & ModRelu;
  Round round = in.round == Round::None ? Round::RN : in.round;
  // Pairs: d = {a -> high half, b -> low half}.
  if (dst == DType::F16x2 || dst == DType::BF16x2 || dst == DType::E4M3x2 ||
      dst == DType::E5M2x2) {
    SmallFloat f = smallFormat(dst);
    unsigned half = dst == DType::E4M3x2 || dst == DType::E5M2x2 ? 8 : 16;
    uint64_t out;
    if (src == DType::F32) {
      uint64_t b = t.val(in.ops[2]);
      uint32_t hi = encodeSmallFloat(fromBits<float>(a), f, round, satfinite, relu);
      uint32_t lo = encodeSmallFloat(fromBits<float>(b), f, round, satfinite, relu);
      out = uint64_t(hi) << half | lo;
    } else if (src == DType::F16x2) { // f16x2 -> e4m3x2/e5m2x2
      uint32_t hi = encodeSmallFloat(halfToFloat(uint16_t(a >> 16)), f, round, satfinite, relu);
      uint32_t lo = encodeSmallFloat(halfToFloat(uint16_t(a)), f, round, satfinite, relu);
      out = uint64_t(hi) << half | lo;
    } else if (src == DType::E4M3x2 || src == DType::E5M2x2) { // e4m3x2 -> f16x2
      double hi = src == DType::E4M3x2 ? e4m3ToFloat(uint8_t(a >> 8)) : e5m2ToFloat(uint8_t(a >> 8));
      double lo = src == DType::E4M3x2 ? e4m3ToFloat(uint8_t(a)) : e5m2ToFloat(uint8_t(a));
      out = uint64_t(encodeSmallFloat(hi, f, Round::RN, false, relu)) << 16 |
            encodeSmallFloat(lo, f, Round::RN, false, relu);
    } else {
      t.fail(ErrNotSupported, "this packed conversion is not emulated");
    }
    t.set(in.ops[0], out);
    return;
  }
  if (dst == DType::TF32) { // cvt.rna.tf32.f32: f32 bits, 13 low bits rounded away
    float f = fromBits<float>(a);
    if (std::isnan(f)) {
      t.set(in.ops[0], 0x7fffffffu);
      return;
    }
    uint32_t b = uint32_t(a);
    b = round == Round::RZ ? (b & ~0x1fffu) : ((b + 0x1000u) & ~0x1fffu);
    t.set(in.ops[0], b);
    return;
  }
  bool srcFloat = isFloat(src), dstFloat = isFloat(dst);
  if (srcFloat && dstFloat) {
    double v = readFloat(src, a);
    if ((in.mods & ModFtz) && src == DType::F32)
      v = flushSubnormal(float(v));
    // Same-size float conversions with an integer rounding round to integral.
    bool integral = in.round != Round::None && src == dst;
    uint64_t out;
    switch (dst) {
    case DType::F32: {
      float f = integral ? float(roundIntegral(v, round)) : roundToFloat(v, round);
      if (in.mods & ModFtz)
        f = flushSubnormal(f);
      if (sat)
        f = std::isnan(f) ? 0.0f : std::fmin(std::fmax(f, 0.0f), 1.0f);
      out = bitsOf(f);
      break;
    }
    case DType::F64: {
      double f = integral ? roundIntegral(v, round) : v;
      if (sat)
        f = std::isnan(f) ? 0.0 : std::fmin(std::fmax(f, 0.0), 1.0);
      out = bitsOf(f);
      break;
    }
    default: {
      if (integral)
        v = roundIntegral(v, round);
      if (sat && !std::isnan(v))
        v = std::fmin(std::fmax(v, 0.0), 1.0);
      out = encodeSmallFloat(v, smallFormat(dst), round, satfinite, relu);
    }
    }
    t.set(in.ops[0], out);
    return;
  }
  if (srcFloat) { // float -> int
    double v = readFloat(src, a);
    if ((in.mods & ModFtz) && src == DType::F32)
      v = flushSubnormal(float(v));
    t.set(in.ops[0], extendSigned(floatToInt(v, src, dst, round), dst));
    return;
  }
  int64_t v = readIntSigned(src, a);
  if (dstFloat) { // int -> float
    // long double holds every 64-bit integer exactly: one rounding.
    bool unsignedSource = !isSigned(src);
    long double exact = unsignedSource && byteWidth(src) == 8 ? (long double)uint64_t(v)
                                                              : (long double)v;
    uint64_t out;
    if (dst == DType::F32)
      out = bitsOf(roundToFloat(exact, round));
    else if (dst == DType::F64)
      out = bitsOf(roundToDouble(exact, round));
    else
      out = encodeSmallFloat(double(exact), smallFormat(dst), round, satfinite, relu);
    t.set(in.ops[0], out);
    return;
  }
  t.set(in.ops[0], extendSigned(intToInt(v, src, dst, sat), dst));
}

void execCvta(Thread &t, const Instr &in) {
  uint64_t a = t.val(in.ops[1]);
  bool toSpace = in.sub == 1;
  uint64_t window = in.space == Space::Shared || in.space == Space::SharedCluster ? kSharedWindow
                    : in.space == Space::Local                                   ? kLocalWindow
                    : in.space == Space::Param                                   ? kParamWindow
                                                                                 : 0;
  if (!toSpace) {
    t.set(in.ops[0], window ? (a & kWindowMask) + window : a);
    return;
  }
  if (window && (a >> 48) != (window >> 48))
    t.fail(ErrInvalidAddressSpace, "cvta.to converts a generic address that is not in the "
                                   "state space it names");
  if (!window && (a >> 48))
    t.fail(ErrInvalidAddressSpace, "cvta.to.global of an address in shared, local or "
                                   "parameter memory");
  uint64_t v = window ? (a & kWindowMask) : a;
  if (in.type == DType::U32 || in.type == DType::B32)
    v &= 0xffffffffu;
  t.set(in.ops[0], v);
}

void execIsspacep(Thread &t, const Instr &in) {
  uint64_t a = t.val(in.ops[1]);
  uint64_t w = a >> 48;
  bool r = false;
  switch (in.space) {
  case Space::Global: case Space::Const: r = w == 0; break;
  case Space::Shared: case Space::SharedCluster: r = w == 2; break;
  case Space::Local: r = w == 1; break;
  case Space::Param: r = w == 3; break;
  default: break;
  }
  t.set(in.ops[0], r);
}

} // namespace

bool bindConvert(Instr &in, const DecodedOpcode &d) {
  switch (d.op) {
  case OpMov:
    if (in.ops[0].kind == Operand::Reg && in.ops[1].kind != Operand::Vec &&
        in.ops[1].kind != Operand::Clock && byteWidth(in.type) == 4)
      in.exec = execMovFast;
    else if (in.ops[0].kind == Operand::Reg && in.ops[1].kind != Operand::Vec &&
             in.ops[1].kind != Operand::Clock && byteWidth(in.type) == 8)
      in.exec = execMov64;
    else
      in.exec = execMov;
    return true;
  case OpCvt:
    if (d.types.size() != 2)
      return false;
    in.exec = execCvt;
    return true;
  case OpCvta:
    for (const std::string &m : d.mods)
      if (m == "to")
        in.sub = 1;
    in.exec = execCvta;
    return true;
  case OpIsspacep:
    in.exec = execIsspacep;
    return true;
  default:
    return false;
  }
}

} // namespace tessel::emu
