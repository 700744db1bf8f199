//===- MmaSync.cpp - warp-level mma.sync, ldmatrix and stmatrix ------------===//
//
// Fragments per the PTX ISA (9.7.14.5.8, 9.7.14.5.10, 9.7.14.5.15-16), with
// g = lane / 4 and t = lane % 4: the A element i of m16n8k16 is row
// g + 8((i >> 1) & 1), column 2t + (i & 1) + 8(i >> 2); B element i is
// k = 2t + (i & 1) + 8(i >> 1), n = g; C/D element i is row g + 8(i >> 1),
// column 2t + (i & 1). The 8-bit k32 forms hold four elements per register.
//
//===----------------------------------------------------------------------===//

#include "lib/Emulator/Exec.h"
#include "lib/Emulator/FloatFormats.h"

#include <algorithm>
#include <climits>
#include <cstdio>

namespace tessel::emu {

namespace {

std::vector<uint32_t> fullWarp(const Thread &t) {
  std::vector<uint32_t> m;
  for (uint32_t l = 0; l < 32 && t.warp * 32 + l < t.block->threads.size(); ++l)
    m.push_back(t.warp * 32 + l);
  return m;
}

float elementToFloat(DType type, uint32_t bits) {
  switch (type) {
  case DType::F16: return halfToFloat(uint16_t(bits));
  case DType::BF16: return bf16ToFloat(uint16_t(bits));
  case DType::E4M3: return e4m3ToFloat(uint8_t(bits));
  case DType::E5M2: return e5m2ToFloat(uint8_t(bits));
  default: return 0;
  }
}

void execMmaSync(Thread &t, const Instr &in) {
  Block &b = *t.block;
  std::vector<uint32_t> members = fullWarp(t);
  if (members.size() != 32)
    t.fail(ErrIllegalInstruction, "mma.sync needs a whole warp");
  b.collective(t, t.warp, 0, members, [&](const std::vector<uint32_t> &) {
    unsigned K = in.shape;          // 16 or 32
    DType ta = in.type2, tb = DType(in.sub), td = in.type;
    bool eight = K == 32;
    bool integer = td == DType::S32;
    bool halfAccum = td == DType::F16;
    float A[16][32] = {}, B[32][8] = {};
    int32_t Ai[16][32] = {}, Bi[32][8] = {};
    uint32_t C[16][8] = {};         // bits of the C elements
    const Kernel &k = *b.kernel;
    auto reg = [&](Thread &m, int op, unsigned i) {
      return uint32_t(m.val(k.vecOps[in.ops[op].reg + i]));
    };
    for (uint32_t id : members) {
      Thread &m = b.threads[id];
      unsigned g = m.lane >> 2, tq = m.lane & 3;
      unsigned aElems = eight ? 16 : 8, bElems = eight ? 8 : 4;
      for (unsigned i = 0; i < aElems; ++i) {
        unsigned row, col;
        uint32_t bits;
        if (eight) {
          row = g + 8 * ((i >> 2) & 1);
          col = 4 * tq + (i & 3) + 16 * (i >> 3);
          bits = reg(m, 1, i / 4) >> (8 * (i % 4)) & 0xff;
        } else {
          row = g + 8 * ((i >> 1) & 1);
          col = 2 * tq + (i & 1) + 8 * (i >> 2);
          bits = reg(m, 1, i / 2) >> (16 * (i % 2)) & 0xffff;
        }
        if (integer)
          Ai[row][col] = ta == DType::S8 ? int8_t(bits) : int32_t(bits);
        else
          A[row][col] = elementToFloat(ta, bits);
      }
      for (unsigned i = 0; i < bElems; ++i) {
        unsigned kk;
        uint32_t bits;
        if (eight) {
          kk = 4 * tq + (i & 3) + 16 * (i >> 2);
          bits = reg(m, 2, i / 4) >> (8 * (i % 4)) & 0xff;
        } else {
          kk = 2 * tq + (i & 1) + 8 * (i >> 1);
          bits = reg(m, 2, i / 2) >> (16 * (i % 2)) & 0xffff;
        }
        if (integer)
          Bi[kk][g] = tb == DType::S8 ? int8_t(bits) : int32_t(bits);
        else
          B[kk][g] = elementToFloat(tb, bits);
      }
      for (unsigned i = 0; i < 4; ++i) {
        unsigned row = g + 8 * (i >> 1), col = 2 * tq + (i & 1);
        C[row][col] = halfAccum ? reg(m, 3, i / 2) >> (16 * (i % 2)) & 0xffff : reg(m, 3, i);
      }
    }
    for (uint32_t id : members) {
      Thread &m = b.threads[id];
      unsigned g = m.lane >> 2, tq = m.lane & 3;
      uint32_t out[4] = {0, 0, 0, 0};
      for (unsigned i = 0; i < 4; ++i) {
        unsigned row = g + 8 * (i >> 1), col = 2 * tq + (i & 1);
        if (integer) {
          int64_t acc = int32_t(C[row][col]);
          for (unsigned kk = 0; kk < K; ++kk)
            acc += int64_t(Ai[row][kk]) * Bi[kk][col];
          // .satfinite clamps to the int32 range; without it the sum wraps.
          if (in.mods & ModSatFinite)
            acc = std::min<int64_t>(std::max<int64_t>(acc, INT32_MIN), INT32_MAX);
          out[i] = uint32_t(acc);
        } else {
          float acc = 0;
          for (unsigned kk = 0; kk < K; ++kk)
            acc += A[row][kk] * B[kk][col];
          float c = halfAccum ? halfToFloat(uint16_t(C[row][col])) : fromBits<float>(C[row][col]);
          float r = c + acc;
          if (halfAccum)
            out[i / 2] |= uint32_t(floatToHalf(r)) << (16 * (i % 2));
          else
            out[i] = uint32_t(bitsOf(r));
        }
      }
      unsigned count = halfAccum ? 2 : 4;
      for (unsigned i = 0; i < count; ++i)
        m.set(k.vecOps[in.ops[0].reg + i], out[i]);
    }
  });
}

/// ldmatrix / stmatrix .m8n8.x{1,2,4}{.trans}.b16: lanes 8j..8j+7 give the
/// row addresses of matrix j; lane l's register j holds row l/4, columns
/// 2(l%4) and +1 of matrix j (transposed: those rows of column l/4).
void execLdStMatrix(Thread &t, const Instr &in) {
  Block &b = *t.block;
  std::vector<uint32_t> members = fullWarp(t);
  if (members.size() != 32)
    t.fail(ErrIllegalInstruction, "ldmatrix/stmatrix need a whole warp");
  bool store = in.op == OpStmatrix;
  b.collective(t, t.warp, 0, members, [&](const std::vector<uint32_t> &) {
    const Kernel &k = *b.kernel;
    unsigned count = in.shape;
    bool trans = in.mods & ModTrans;
    const Operand &addrOp = store ? in.ops[0] : in.ops[1];
    const Operand &regs = store ? in.ops[1] : in.ops[0];
    uint64_t rowAddr[32];
    for (uint32_t id : members) {
      Thread &m = b.threads[id];
      rowAddr[m.lane] = address(m, addrOp);
      if (in.space == Space::Generic) {
        if ((rowAddr[m.lane] >> 48) != 2)
          m.fail(ErrIllegalAddress, "an ldmatrix/stmatrix row address outside shared memory");
        rowAddr[m.lane] &= kWindowMask;
      }
    }
    for (uint32_t id : members) {
      Thread &m = b.threads[id];
      unsigned l = m.lane;
      for (unsigned j = 0; j < count; ++j) {
        uint32_t value = store ? uint32_t(m.val(k.vecOps[regs.reg + j])) : 0;
        for (unsigned half = 0; half < 2; ++half) {
          unsigned row = trans ? 2 * (l % 4) + half : l / 4;
          unsigned col = trans ? l / 4 : 2 * (l % 4) + half;
          Thread &owner = b.threads[members[8 * j + row]];
          uint8_t *p = owner.shared(rowAddr[8 * j + row] + 2 * col, 2, store);
          if (store) {
            uint16_t v = uint16_t(value >> (16 * half));
            std::memcpy(p, &v, 2);
          } else {
            uint16_t v;
            std::memcpy(&v, p, 2);
            value |= uint32_t(v) << (16 * half);
          }
        }
        if (!store)
          m.set(k.vecOps[regs.reg + j], value);
      }
    }
  });
}

} // namespace

bool bindMma(Instr &in, const DecodedOpcode &d) {
  switch (d.op) {
  case OpMmaSync: {
    unsigned m = 0, n = 0, k = 0;
    bool shaped = false;
    for (const std::string &mod : d.mods)
      if (std::sscanf(mod.c_str(), "m%un%uk%u", &m, &n, &k) == 3)
        shaped = true;
    if (!shaped || m != 16 || n != 8 || (k != 16 && k != 32) || d.types.size() != 4)
      return false;
    DType a = d.types[1];
    bool eight = a == DType::S8 || a == DType::U8 || a == DType::E4M3 || a == DType::E5M2;
    if ((k == 32) != eight)
      return false;
    in.shape = uint16_t(k);
    in.type = d.types[0];
    in.type2 = a;
    in.sub = uint8_t(d.types[2]);
    in.exec = execMmaSync;
    return in.nops == 4;
  }
  case OpLdmatrix:
  case OpStmatrix: {
    unsigned count = 0;
    for (const std::string &mod : d.mods)
      if (mod == "x1" || mod == "x2" || mod == "x4")
        count = unsigned(mod[1] - '0');
    bool m8n8 = false;
    for (const std::string &mod : d.mods)
      m8n8 |= mod == "m8n8";
    if (!count || !m8n8 || in.type != DType::B16)
      return false;
    in.shape = uint16_t(count);
    in.exec = execLdStMatrix;
    return true;
  }
  default:
    return false;
  }
}

} // namespace tessel::emu
