//===- ExecInteger.cpp - integer and bit instructions ----------------------===//

#include "lib/Emulator/Exec.h"

#include <climits>
#include <limits>

namespace tessel::emu {

namespace {

template <typename T> using Wide = std::conditional_t<
    sizeof(T) == 8, std::conditional_t<std::is_signed_v<T>, __int128, unsigned __int128>,
    std::conditional_t<std::is_signed_v<T>,
                       std::conditional_t<sizeof(T) == 4, int64_t,
                                          std::conditional_t<sizeof(T) == 2, int32_t, int16_t>>,
                       std::conditional_t<sizeof(T) == 4, uint64_t,
                                          std::conditional_t<sizeof(T) == 2, uint32_t, uint16_t>>>>;

constexpr unsigned kBits(unsigned bytes) { return bytes * 8; }

template <typename T> T wrapAdd(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return T(U(a) + U(b));
}
template <typename T> T wrapSub(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return T(U(a) - U(b));
}
template <typename T> T wrapMul(T a, T b) {
  using U = std::make_unsigned_t<T>;
  return T(U(a) * U(b));
}

template <typename T> T saturate(int64_t v) {
  if (v > std::numeric_limits<T>::max())
    return std::numeric_limits<T>::max();
  if (v < std::numeric_limits<T>::min())
    return std::numeric_limits<T>::min();
  return T(v);
}

template <typename T> void execAdd(Thread &t, const Instr &in) {
  T a = get<T>(t, in.ops[1]), b = get<T>(t, in.ops[2]);
  if constexpr (std::is_same_v<T, int32_t>)
    if (in.mods & ModSat) {
      put(t, in.ops[0], saturate<int32_t>(int64_t(a) + int64_t(b)));
      return;
    }
  put(t, in.ops[0], wrapAdd(a, b));
}

template <typename T> void execSub(Thread &t, const Instr &in) {
  T a = get<T>(t, in.ops[1]), b = get<T>(t, in.ops[2]);
  if constexpr (std::is_same_v<T, int32_t>)
    if (in.mods & ModSat) {
      put(t, in.ops[0], saturate<int32_t>(int64_t(a) - int64_t(b)));
      return;
    }
  put(t, in.ops[0], wrapSub(a, b));
}

/// mul/mad: .lo keeps the low half of the product, .hi the high half,
/// .wide the whole double-width product.
template <typename T> Wide<T> product(T a, T b) { return Wide<T>(a) * Wide<T>(b); }

template <typename T> void execMul(Thread &t, const Instr &in) {
  T a = get<T>(t, in.ops[1]), b = get<T>(t, in.ops[2]);
  if (in.mods & ModWide) {
    t.set(in.ops[0], uint64_t(product(a, b)));
  } else if (in.mods & ModHi) {
    t.set(in.ops[0], bitsOf(T(product(a, b) >> kBits(sizeof(T)))));
  } else {
    put(t, in.ops[0], wrapMul(a, b));
  }
}

template <typename T> void execMad(Thread &t, const Instr &in) {
  T a = get<T>(t, in.ops[1]), b = get<T>(t, in.ops[2]);
  if (in.mods & ModWide) {
    using W = std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>;
    W c = get<W>(t, in.ops[3]);
    t.set(in.ops[0], uint64_t(W(uint64_t(product(a, b)) + uint64_t(c))));
  } else if (in.mods & ModHi) {
    T c = get<T>(t, in.ops[3]);
    T hi = T(product(a, b) >> kBits(sizeof(T)));
    if constexpr (std::is_same_v<T, int32_t>)
      if (in.mods & ModSat) {
        put(t, in.ops[0], saturate<int32_t>(int64_t(hi) + int64_t(c)));
        return;
      }
    put(t, in.ops[0], wrapAdd(hi, c));
  } else {
    T c = get<T>(t, in.ops[3]);
    put(t, in.ops[0], wrapAdd(wrapMul(a, b), c));
  }
}

template <typename T> void execMul24(Thread &t, const Instr &in) {
  auto low24 = [](T v) -> int64_t {
    if constexpr (std::is_signed_v<T>)
      return int64_t(int32_t(uint32_t(v) << 8) >> 8);
    return int64_t(uint32_t(v) & 0xffffff);
  };
  int64_t p = low24(get<T>(t, in.ops[1])) * low24(get<T>(t, in.ops[2]));
  T r = (in.mods & ModHi) ? T(p >> 16) : T(p);
  if (in.op == OpMad24)
    r = wrapAdd(r, get<T>(t, in.ops[3]));
  put(t, in.ops[0], r);
}

template <typename T> void execDiv(Thread &t, const Instr &in) {
  T a = get<T>(t, in.ops[1]), b = get<T>(t, in.ops[2]);
  T r;
  if (b == 0)
    r = T(~T(0)); // undefined on the GPU; never a host trap
  else if (std::is_signed_v<T> && a == std::numeric_limits<T>::min() && b == T(-1))
    r = in.op == OpRem ? T(0) : a;
  else
    r = in.op == OpRem ? T(a % b) : T(a / b);
  put(t, in.ops[0], r);
}

template <typename T> void execAbs(Thread &t, const Instr &in) {
  T a = get<T>(t, in.ops[1]);
  put(t, in.ops[0], a < 0 ? wrapSub(T(0), a) : a);
}
template <typename T> void execNeg(Thread &t, const Instr &in) {
  put(t, in.ops[0], wrapSub(T(0), get<T>(t, in.ops[1])));
}
template <typename T> void execMin(Thread &t, const Instr &in) {
  T a = get<T>(t, in.ops[1]), b = get<T>(t, in.ops[2]);
  T r = in.op == OpMin ? (a < b ? a : b) : (a > b ? a : b);
  if constexpr (std::is_signed_v<T>)
    if ((in.mods & ModRelu) && r < 0)
      r = 0;
  put(t, in.ops[0], r);
}

template <typename T> void execBitwise(Thread &t, const Instr &in) {
  using U = std::make_unsigned_t<T>;
  U a = U(get<T>(t, in.ops[1]));
  U r;
  switch (in.op) {
  case OpNot: r = U(~a); break;
  case OpCnot: r = U(a == 0); break;
  case OpPopc: r = U(__builtin_popcountll(uint64_t(a))); break;
  case OpClz: r = U(a ? __builtin_clzll(uint64_t(a)) - (64 - kBits(sizeof(T))) : kBits(sizeof(T))); break;
  case OpBrev: {
    r = 0;
    for (unsigned i = 0; i < kBits(sizeof(T)); ++i)
      if (a >> i & 1)
        r |= U(U(1) << (kBits(sizeof(T)) - 1 - i));
    break;
  }
  case OpBfind: {
    // The position of the most significant non-sign bit; .shiftamt (ModShiftR
    // is not it) is not used by the code we run.
    uint64_t v = uint64_t(a);
    if (std::is_signed_v<T> && T(a) < 0)
      v = uint64_t(U(~a));
    r = v ? U(63 - __builtin_clzll(v)) : U(~U(0));
    if (!v) {
      t.set(in.ops[0], 0xffffffffu);
      return;
    }
    t.set(in.ops[0], uint32_t(r));
    return;
  }
  default: {
    U b = U(get<T>(t, in.ops[2]));
    if (in.op == OpAnd) r = a & b;
    else if (in.op == OpOr) r = a | b;
    else r = a ^ b;
  }
  }
  // popc/clz write a .u32 whatever the source's width.
  if (in.op == OpPopc || in.op == OpClz)
    t.set(in.ops[0], uint32_t(r));
  else
    put(t, in.ops[0], T(r));
}

void execPredLogic(Thread &t, const Instr &in) {
  bool a = t.pred(in.ops[1]);
  bool r;
  switch (in.op) {
  case OpNot: r = !a; break;
  case OpAnd: r = a && t.pred(in.ops[2]); break;
  case OpOr: r = a || t.pred(in.ops[2]); break;
  default: r = a != t.pred(in.ops[2]); break;
  }
  t.set(in.ops[0], r);
}

template <typename T> void execShift(Thread &t, const Instr &in) {
  T a = get<T>(t, in.ops[1]);
  uint32_t n = uint32_t(t.val(in.ops[2]));
  constexpr unsigned w = kBits(sizeof(T));
  T r;
  if (in.op == OpShl)
    r = n >= w ? T(0) : T(std::make_unsigned_t<T>(a) << n);
  else if constexpr (std::is_signed_v<T>)
    r = n >= w ? T(a < 0 ? -1 : 0) : T(a >> n);
  else
    r = n >= w ? T(0) : T(a >> n);
  put(t, in.ops[0], r);
}

template <typename T> void execBfe(Thread &t, const Instr &in) {
  using U = std::make_unsigned_t<T>;
  constexpr unsigned msb = kBits(sizeof(T)) - 1;
  U a = U(get<T>(t, in.ops[1]));
  unsigned pos = unsigned(t.val(in.ops[2]) & 0xff), len = unsigned(t.val(in.ops[3]) & 0xff);
  unsigned sbit = 0;
  if (std::is_signed_v<T> && len != 0)
    sbit = unsigned(a >> std::min(pos + len - 1, msb) & 1);
  U d = 0;
  for (unsigned i = 0; i <= msb; ++i) {
    unsigned bit = (i < len && pos + i <= msb) ? unsigned(a >> (pos + i) & 1) : sbit;
    d |= U(U(bit) << i);
  }
  put(t, in.ops[0], T(d));
}

template <typename T> void execBfi(Thread &t, const Instr &in) {
  using U = std::make_unsigned_t<T>;
  constexpr unsigned msb = kBits(sizeof(T)) - 1;
  U f = U(get<T>(t, in.ops[1])), b = U(get<T>(t, in.ops[2]));
  unsigned pos = unsigned(t.val(in.ops[3]) & 0xff), len = unsigned(t.val(in.ops[4]) & 0xff);
  U d = b;
  for (unsigned i = 0; i < len && pos + i <= msb; ++i) {
    d = U(d & ~(U(1) << (pos + i)));
    d |= U(U(f >> i & 1) << (pos + i));
  }
  put(t, in.ops[0], T(d));
}

void execPrmt(Thread &t, const Instr &in) {
  uint32_t a = uint32_t(t.val(in.ops[1])), b = uint32_t(t.val(in.ops[2]));
  uint32_t c = uint32_t(t.val(in.ops[3]));
  uint64_t bytes = uint64_t(b) << 32 | a;
  uint32_t d = 0;
  // Only the default (generic) mode: each selector nibble picks a byte;
  // its high bit replicates that byte's sign.
  for (int i = 0; i < 4; ++i) {
    uint32_t sel = c >> (4 * i) & 0xf;
    uint32_t byte = uint32_t(bytes >> (8 * (sel & 7)) & 0xff);
    if (sel & 8)
      byte = (byte & 0x80) ? 0xff : 0;
    d |= byte << (8 * i);
  }
  t.set(in.ops[0], d);
}

void execLop3(Thread &t, const Instr &in) {
  uint32_t a = uint32_t(t.val(in.ops[1])), b = uint32_t(t.val(in.ops[2]));
  uint32_t c = uint32_t(t.val(in.ops[3]));
  uint32_t lut = uint32_t(t.val(in.ops[4])) & 0xff;
  uint32_t d = 0;
  for (int i = 0; i < 32; ++i) {
    unsigned idx = (a >> i & 1) << 2 | (b >> i & 1) << 1 | (c >> i & 1);
    d |= (lut >> idx & 1) << i;
  }
  t.set(in.ops[0], d);
}

void execShf(Thread &t, const Instr &in) {
  uint64_t lo = uint32_t(t.val(in.ops[1])), hi = uint32_t(t.val(in.ops[2]));
  uint32_t n = uint32_t(t.val(in.ops[3]));
  n = (in.mods & ModClamp) ? std::min(n, 32u) : (n & 31);
  uint64_t v = hi << 32 | lo;
  uint32_t d = (in.mods & ModShiftR) ? uint32_t(v >> n) : uint32_t((v << n) >> 32);
  t.set(in.ops[0], d);
}

template <typename T> void execSad(Thread &t, const Instr &in) {
  T a = get<T>(t, in.ops[1]), b = get<T>(t, in.ops[2]), c = get<T>(t, in.ops[3]);
  put(t, in.ops[0], wrapAdd(T(a < b ? b - a : a - b), c));
}

void execDp4a(Thread &t, const Instr &in) {
  uint32_t a = uint32_t(t.val(in.ops[1])), b = uint32_t(t.val(in.ops[2]));
  int64_t acc = int64_t(int32_t(t.val(in.ops[3])));
  bool sa = isSigned(in.type), sb = isSigned(in.type2);
  for (int i = 0; i < 4; ++i) {
    int64_t x = sa ? int8_t(a >> (8 * i)) : uint8_t(a >> (8 * i));
    int64_t y = sb ? int8_t(b >> (8 * i)) : uint8_t(b >> (8 * i));
    acc += x * y;
  }
  t.set(in.ops[0], uint32_t(acc));
}

template <template <typename> class H> bool bindTyped(Instr &in, DType type, bool signedOnly = false) {
  return withIntType(type, [&]<typename T>() {
    if (!signedOnly || std::is_signed_v<T>)
      in.exec = H<T>::fn;
  }) && in.exec;
}

#define TESSEL_HANDLER(name, fnName)                                                          \
  template <typename T> struct name {                                                        \
    static constexpr Exec fn = fnName<T>;                                                    \
  };
TESSEL_HANDLER(HAdd, execAdd)
TESSEL_HANDLER(HSub, execSub)
TESSEL_HANDLER(HMul, execMul)
TESSEL_HANDLER(HMad, execMad)
TESSEL_HANDLER(HMul24, execMul24)
TESSEL_HANDLER(HDiv, execDiv)
TESSEL_HANDLER(HAbs, execAbs)
TESSEL_HANDLER(HNeg, execNeg)
TESSEL_HANDLER(HMin, execMin)
TESSEL_HANDLER(HBitwise, execBitwise)
TESSEL_HANDLER(HShift, execShift)
TESSEL_HANDLER(HBfe, execBfe)
TESSEL_HANDLER(HBfi, execBfi)
TESSEL_HANDLER(HSad, execSad)
#undef TESSEL_HANDLER

} // namespace

bool bindInteger(Instr &in, const DecodedOpcode &d) {
  if (isFloat(in.type))
    return false;
  if (in.type == DType::Pred && (d.op == OpAnd || d.op == OpOr || d.op == OpXor || d.op == OpNot)) {
    in.exec = execPredLogic;
    return true;
  }
  switch (d.op) {
  case OpAdd: return bindTyped<HAdd>(in, in.type);
  case OpSub: return bindTyped<HSub>(in, in.type);
  case OpMul: return bindTyped<HMul>(in, in.type);
  case OpMad: return bindTyped<HMad>(in, in.type);
  case OpMul24: case OpMad24: return bindTyped<HMul24>(in, in.type);
  case OpDiv: case OpRem: return bindTyped<HDiv>(in, in.type);
  case OpAbs: return bindTyped<HAbs>(in, in.type, true);
  case OpNeg: return bindTyped<HNeg>(in, in.type);
  case OpMin: case OpMax: return bindTyped<HMin>(in, in.type);
  case OpAnd: case OpOr: case OpXor: case OpNot: case OpCnot: case OpPopc: case OpClz:
  case OpBrev: case OpBfind:
    return bindTyped<HBitwise>(in, in.type);
  case OpShl: case OpShr: return bindTyped<HShift>(in, in.type);
  case OpBfe: return bindTyped<HBfe>(in, in.type);
  case OpBfi: return bindTyped<HBfi>(in, in.type);
  case OpSad: return bindTyped<HSad>(in, in.type);
  case OpPrmt:
    // Only the generic selector mode (no .f4e/.b4e/... modes).
    if (d.mods.size() != 1)
      return false;
    in.exec = execPrmt;
    return true;
  case OpLop3: in.exec = execLop3; return true;
  case OpShf: in.exec = execShf; return true;
  case OpDp4a: in.exec = execDp4a; return true;
  default: return false;
  }
}

} // namespace tessel::emu
