//===- Exec.h - helpers the instruction handlers share ------------*- C++ -*-===//

#ifndef TESSEL_LIB_EMULATOR_EXEC_H
#define TESSEL_LIB_EMULATOR_EXEC_H

#include "lib/Emulator/Machine.h"
#include "lib/Emulator/Opcodes.h"

#include <cstring>
#include <type_traits>

namespace tessel::emu {

/// The bits of `v` as a register holds them: zero-extended from its width.
template <typename T> inline uint64_t bitsOf(T v) {
  if constexpr (std::is_same_v<T, float>) {
    uint32_t b;
    std::memcpy(&b, &v, 4);
    return b;
  } else if constexpr (std::is_same_v<T, double>) {
    uint64_t b;
    std::memcpy(&b, &v, 8);
    return b;
  } else if constexpr (std::is_same_v<T, bool>) {
    return v ? 1 : 0;
  } else {
    return uint64_t(std::make_unsigned_t<T>(v));
  }
}

/// A register's low bits read as T.
template <typename T> inline T fromBits(uint64_t b) {
  if constexpr (std::is_same_v<T, float>) {
    uint32_t w = uint32_t(b);
    float f;
    std::memcpy(&f, &w, 4);
    return f;
  } else if constexpr (std::is_same_v<T, double>) {
    double d;
    std::memcpy(&d, &b, 8);
    return d;
  } else {
    return T(b);
  }
}

template <typename T> inline T get(const Thread &t, const Operand &o) {
  return fromBits<T>(t.val(o));
}
template <typename T> inline void put(Thread &t, const Operand &o, T v) { t.set(o, bitsOf(v)); }

/// The element `i` of a vector operand (Kernel::vecOps).
inline const Operand &elem(const Thread &t, const Operand &v, unsigned i) {
  return t.block->kernel->vecOps[v.reg + i];
}

/// Calls f.template operator()<T>() with T the C++ type of an integer DType
/// (.b types count as unsigned); false for other types.
template <typename F> inline bool withIntType(DType type, F &&f) {
  switch (type) {
  case DType::B8: case DType::U8: f.template operator()<uint8_t>(); return true;
  case DType::S8: f.template operator()<int8_t>(); return true;
  case DType::B16: case DType::U16: f.template operator()<uint16_t>(); return true;
  case DType::S16: f.template operator()<int16_t>(); return true;
  case DType::B32: case DType::U32: f.template operator()<uint32_t>(); return true;
  case DType::S32: f.template operator()<int32_t>(); return true;
  case DType::B64: case DType::U64: f.template operator()<uint64_t>(); return true;
  case DType::S64: f.template operator()<int64_t>(); return true;
  default: return false;
  }
}

/// The effective address of a Mem operand.
inline uint64_t address(const Thread &t, const Operand &m) {
  uint64_t base = m.reg == kNoReg ? 0 : t.r[m.reg];
  uint64_t sum = base + uint64_t(m.imm);
  return m.count == 32 ? uint64_t(uint32_t(sum)) : sum;
}

} // namespace tessel::emu

#endif // TESSEL_LIB_EMULATOR_EXEC_H
