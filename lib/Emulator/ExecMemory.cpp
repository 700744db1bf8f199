//===- ExecMemory.cpp - loads, stores and atomics --------------------------===//

#include "lib/Emulator/Exec.h"
#include "lib/Emulator/FloatFormats.h"
#include "lib/Emulator/Racecheck.h"

#include <cmath>

namespace tessel::emu {

namespace {

uint64_t loadBits(const uint8_t *p, unsigned bytes, bool signExtend) {
  switch (bytes) {
  case 1: { int8_t v; std::memcpy(&v, p, 1); return signExtend ? uint64_t(int64_t(v)) : uint8_t(v); }
  case 2: { int16_t v; std::memcpy(&v, p, 2); return signExtend ? uint64_t(int64_t(v)) : uint16_t(v); }
  case 4: { int32_t v; std::memcpy(&v, p, 4); return signExtend ? uint64_t(int64_t(v)) : uint32_t(v); }
  default: { uint64_t v; std::memcpy(&v, p, 8); return v; }
  }
}

void storeBits(uint8_t *p, unsigned bytes, uint64_t v) { std::memcpy(p, &v, bytes); }

void execLd(Thread &t, const Instr &in) {
  unsigned w = byteWidth(in.type);
  unsigned total = w * in.vec;
  uint64_t a = address(t, in.ops[1]);
  const uint8_t *p = t.at(in.space, a, total, false);
  if (t.block->launch->options.racecheck)
    racecheckAccess(t, in.space, a, total, false);
  bool sx = isSigned(in.type);
  const Operand &d = in.ops[0];
  if (in.vec == 1 && d.kind != Operand::Vec) {
    t.set(d, loadBits(p, w, sx));
    return;
  }
  for (unsigned i = 0; i < in.vec; ++i)
    t.set(elem(t, d, i), loadBits(p + i * w, w, sx));
}

void execSt(Thread &t, const Instr &in) {
  unsigned w = byteWidth(in.type);
  unsigned total = w * in.vec;
  uint64_t a = address(t, in.ops[0]);
  uint8_t *p = t.at(in.space, a, total, true);
  if (t.block->launch->options.racecheck)
    racecheckAccess(t, in.space, a, total, true);
  const Operand &v = in.ops[1];
  if (in.vec == 1 && v.kind != Operand::Vec) {
    storeBits(p, w, t.val(v));
    return;
  }
  for (unsigned i = 0; i < in.vec; ++i)
    storeBits(p + i * w, w, t.val(elem(t, v, i)));
}

// atom/red operations (Instr::sub).
enum AtomOp : uint8_t { AAdd, AMin, AMax, AInc, ADec, AAnd, AOr, AXor, AExch, ACas };

template <typename T> T atomicApply(AtomOp op, T old, T b, T c) {
  switch (op) {
  case AAdd: return T(old + b);
  case AMin: return old < b ? old : b;
  case AMax: return old > b ? old : b;
  case AInc: return (old >= b) ? T(0) : T(old + 1);
  case ADec: return (old == 0 || old > b) ? b : T(old - 1);
  case AAnd: return T(old & b);
  case AOr: return T(old | b);
  case AXor: return T(old ^ b);
  case AExch: return b;
  case ACas: return old == b ? c : old;
  }
  return old;
}

/// Read-modify-write of `bytes` at `p` as one atomic step (blocks may run
/// on several host threads).
template <typename U, typename F> U atomicUpdate(uint8_t *p, F &&f) {
  U *q = reinterpret_cast<U *>(p);
  U old = __atomic_load_n(q, __ATOMIC_RELAXED);
  while (!__atomic_compare_exchange_n(q, &old, f(old), true, __ATOMIC_SEQ_CST, __ATOMIC_RELAXED)) {
  }
  return old;
}

void execAtom(Thread &t, const Instr &in) {
  bool isRed = in.op == OpRed;
  const Operand &mem = isRed ? in.ops[0] : in.ops[1];
  const Operand &bOp = isRed ? in.ops[1] : in.ops[2];
  unsigned w = byteWidth(in.type);
  uint64_t a = address(t, mem);
  uint8_t *p = t.at(in.space, a, w, true);
  if (t.block->launch->options.racecheck)
    racecheckAtomic(t, in.space, a, w);
  AtomOp op = AtomOp(in.sub);
  uint64_t b = t.val(bOp);
  uint64_t c = (!isRed && op == ACas) ? t.val(in.ops[3]) : 0;
  uint64_t old = 0;
  switch (in.type) {
  case DType::F32:
    old = atomicUpdate<uint32_t>(p, [&](uint32_t o) {
      float x = fromBits<float>(o), y = fromBits<float>(uint32_t(b));
      float r = op == AAdd ? x + y : op == AMin ? std::fmin(x, y) : op == AMax ? std::fmax(x, y) : y;
      return uint32_t(bitsOf(r));
    });
    break;
  case DType::F64:
    old = atomicUpdate<uint64_t>(p, [&](uint64_t o) {
      return bitsOf(fromBits<double>(o) + fromBits<double>(b));
    });
    break;
  case DType::F16:
  case DType::BF16: {
    bool bf = in.type == DType::BF16;
    old = atomicUpdate<uint16_t>(p, [&](uint16_t o) {
      float x = bf ? bf16ToFloat(o) : halfToFloat(o);
      float y = bf ? bf16ToFloat(uint16_t(b)) : halfToFloat(uint16_t(b));
      return uint16_t(bf ? floatToBf16(x + y) : floatToHalf(x + y));
    });
    break;
  }
  default:
    withIntType(in.type, [&]<typename T>() {
      using U = std::make_unsigned_t<T>;
      old = bitsOf(T(atomicUpdate<U>(p, [&](U o) {
        return U(atomicApply<T>(op, T(o), T(b), T(c)));
      })));
    });
  }
  if (!isRed)
    t.set(in.ops[0], isSigned(in.type) && w < 8 ? uint64_t(int64_t(int32_t(old))) & 0xffffffffu
                                                : old);
}

void execNop(Thread &, const Instr &) {}

} // namespace

bool bindMemory(Instr &in, const DecodedOpcode &d) {
  switch (d.op) {
  case OpLd:
  case OpLdu:
    if (in.type == DType::None || in.type == DType::B128)
      return false;
    in.exec = execLd;
    return true;
  case OpSt:
    if (in.type == DType::None || in.type == DType::B128)
      return false;
    in.exec = execSt;
    return true;
  case OpAtom:
  case OpRed: {
    static const char *names[] = {"add", "min", "max", "inc", "dec", "and", "or", "xor",
                                  "exch", "cas"};
    bool found = false;
    for (uint8_t i = 0; i < 10; ++i)
      for (const std::string &m : d.mods)
        if (m == names[i])
          in.sub = i, found = true;
    if (!found || in.vec != 1)
      return false;
    in.exec = execAtom;
    return true;
  }
  case OpPrefetch:
  case OpPrefetchTensormap:
    in.exec = execNop;
    return true;
  default:
    return false;
  }
}

} // namespace tessel::emu
