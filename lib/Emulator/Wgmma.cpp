//===- Wgmma.cpp - warpgroup matrix multiply-accumulate --------------------===//
//
// Operand addressing follows the PTX ISA's shared-memory matrix layouts
// (9.7.15.5.1.2): 8-row core matrices, K-major or MN-major, the leading and
// stride byte offsets of the descriptor, and the 32/64/128-byte swizzles on
// absolute shared addresses. Fragments follow 9.7.15.5.1.1: warp w of the
// warpgroup holds rows 16w..16w+15 of D, lane l rows 16w + l/4 and +8,
// columns 8j + 2(l%4) and +1.
//
//===----------------------------------------------------------------------===//

#include "lib/Emulator/Wgmma.h"

#include "lib/Emulator/Exec.h"
#include "lib/Emulator/FloatFormats.h"
#include "lib/Emulator/Shadow.h"
#include "lib/Emulator/TensorMap.h"

#include <algorithm>
#include <climits>
#include <cstdio>

namespace tessel::emu {

namespace {

struct Shape {
  unsigned n = 0, k = 0;
  DType d = DType::None, a = DType::None, b = DType::None;
  bool aRegs = false;
};

Shape shapeOf(const Instr &in) {
  Shape s;
  s.n = in.shape;
  s.d = in.type;
  s.a = in.type2;
  s.b = DType(in.sub);
  s.k = (s.a == DType::F16 || s.a == DType::BF16) ? 16 : s.a == DType::TF32 ? 8 : 32;
  s.aRegs = in.ops[1].kind == Operand::Vec;
  return s;
}

unsigned elementBytes(DType t) {
  switch (t) {
  case DType::F16: case DType::BF16: return 2;
  case DType::TF32: return 4;
  default: return 1;
  }
}

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

/// The shared address of element (r, k) of an operand: r is the M row of A
/// or the N row of B, k its K index within the instruction.
uint32_t elementAddress(const Thread &t, uint64_t desc, unsigned r, unsigned k, unsigned e,
                        bool mnMajor) {
  uint32_t start = uint32_t(desc & 0x3fff) << 4;
  uint32_t lbo = uint32_t(desc >> 16 & 0x3fff) << 4;
  uint32_t sbo = uint32_t(desc >> 32 & 0x3fff) << 4;
  unsigned mode = unsigned(desc >> 62);
  if (desc >> 49 & 7)
    t.fail(ErrNotSupported, "a wgmma matrix descriptor with a non-zero base offset (bits "
                            "49-51) is not emulated");
  unsigned S = mode == 1 ? 128 : mode == 2 ? 64 : mode == 3 ? 32 : 0;
  unsigned kb = k * e;
  uint32_t off;
  if (!mnMajor) {
    off = S ? (r % 8) * S + (r / 8) * sbo + kb
            : (r % 8) * 16 + (r / 8) * sbo + (kb / 16) * lbo + kb % 16;
  } else {
    unsigned T = 16 / e;
    if (!S) {
      off = (r % T) * e + (r / T) * sbo + (k % 8) * 16 + (k / 8) * lbo;
    } else {
      unsigned R = S / e;
      off = (r % R) * e + (r / R) * lbo + (k % 8) * S + (k / 8) * sbo;
    }
  }
  return swizzleAddress(start + off, S);
}

float toFloat(DType t, uint32_t bits) {
  switch (t) {
  case DType::F16: return halfToFloat(uint16_t(bits));
  case DType::BF16: return bf16ToFloat(uint16_t(bits));
  case DType::E4M3: return e4m3ToFloat(uint8_t(bits));
  case DType::E5M2: return e5m2ToFloat(uint8_t(bits));
  case DType::TF32: return fromBits<float>(bits & ~0x1fffu);
  default: return 0;
  }
}

int32_t toInt(DType t, uint32_t bits) {
  return t == DType::S8 ? int32_t(int8_t(bits)) : int32_t(uint8_t(bits));
}

/// The threads of t's warpgroup, computed once per block.
const std::vector<uint32_t> &warpgroupMembers(const Thread &t) {
  Block &b = *t.block;
  uint32_t wg = t.warp / 4;
  std::vector<uint32_t> &members = b.wgmma->members[wg];
  if (members.empty())
    for (uint32_t i = wg * 128; i < wg * 128 + 128 && i < b.threads.size(); ++i)
      members.push_back(i);
  return members;
}

void setBit(std::vector<uint64_t> &bits, uint32_t slot) {
  if (bits.size() <= slot / 64)
    bits.resize(slot / 64 + 1, 0);
  bits[slot / 64] |= uint64_t(1) << (slot % 64);
}
bool testBit(const std::vector<uint64_t> &bits, uint32_t slot) {
  return slot / 64 < bits.size() && (bits[slot / 64] >> (slot % 64) & 1);
}

/// Every register slot of the instruction's D and (register) A operands.
template <typename F> void forEachFragmentRegister(const Kernel &k, const Instr &in, F &&f) {
  for (int which : {0, 1}) {
    const Operand &v = in.ops[which];
    if (v.kind != Operand::Vec)
      continue;
    for (unsigned i = 0; i < v.count; ++i)
      if (k.vecOps[v.reg + i].kind == Operand::Reg)
        f(k.vecOps[v.reg + i].reg);
  }
}

/// An A-fragment register element's (row, k) within the warpgroup's tile.
void fragmentA(DType a, unsigned q, unsigned reg, unsigned part, unsigned &row, unsigned &k) {
  unsigned w = q / 32, lane = q % 32, g = lane >> 2, tq = lane & 3;
  row = 16 * w + g + 8 * (reg & 1);
  if (a == DType::F16 || a == DType::BF16)
    k = 2 * tq + part + 8 * (reg >> 1);
  else if (a == DType::TF32)
    k = tq + 4 * (reg >> 1);
  else
    k = 4 * tq + part + 16 * (reg >> 1);
}

/// Gives `op`'s fragment registers to it in every member thread.
void lock(Block &b, const WgmmaOp &op) {
  const Instr &in = b.kernel->code[op.pc];
  for (uint32_t id : op.members) {
    Thread &m = b.threads[id];
    forEachFragmentRegister(*b.kernel, in, [&](uint32_t slot) { setBit(m.locked, slot); });
    m.lockedCount = 1;
  }
}

/// After a wait: the registers of what is still in flight stay locked.
void relock(Block &b, uint32_t wg) {
  WarpgroupWgmma &state = b.wgmma->warpgroups[wg];
  for (uint32_t i = wg * 128; i < wg * 128 + 128 && i < b.threads.size(); ++i) {
    Thread &m = b.threads[i];
    if (m.lockedCount)
      std::fill(m.locked.begin(), m.locked.end(), 0);
    m.lockedCount = 0;
  }
  for (const WgmmaOp &op : state.uncommitted)
    lock(b, op);
  for (const auto &group : state.groups)
    for (const WgmmaOp &op : group)
      lock(b, op);
}

/// `arrived` is the thread that completed the collective; failures that
/// concern the whole warpgroup are reported at its first thread.
void issue(Thread &arrived, const Instr &in, const std::vector<uint32_t> &members) {
  Block &b = *arrived.block;
  const Kernel &k = *b.kernel;
  Shape s = shapeOf(in);
  Thread &first = b.threads[members[0]];
  Thread &t = first;
  uint64_t descA = s.aRegs ? 0 : first.val(in.ops[1]);
  uint64_t descB = first.val(in.ops[2]);
  bool scaleD = in.ops[3].kind == Operand::Imm ? in.ops[3].imm != 0 : first.pred(in.ops[3]);
  for (uint32_t id : members) {
    Thread &m = b.threads[id];
    if ((!s.aRegs && m.val(in.ops[1]) != descA) || m.val(in.ops[2]) != descB)
      m.fail(ErrIllegalInstruction, "the threads of the warpgroup pass different matrix "
                                    "descriptors to this wgmma.mma_async");
    bool sd = in.ops[3].kind == Operand::Imm ? in.ops[3].imm != 0 : m.pred(in.ops[3]);
    if (sd != scaleD)
      m.fail(ErrIllegalInstruction, "the threads of the warpgroup pass different scale-d "
                                    "predicates to this wgmma.mma_async");
    if (!m.fenced)
      m.fail(ErrIllegalInstruction,
             "no wgmma.fence before this thread's first wgmma.mma_async");
    forEachFragmentRegister(k, in, [&](uint32_t slot) {
      if (testBit(m.touched, slot))
        m.fail(ErrIllegalInstruction,
               "register " + k.regNames[slot] + " of this wgmma.mma_async was accessed at " +
                   describeLocation(m, m.touchedPc) +
                   " after the last wgmma.fence; put a wgmma.fence between that access and "
                   "the wgmma (PTX ISA 9.7.15.7.1)");
    });
  }
  // A swizzled operand's pattern starts on an atom (8 rows of the swizzle
  // width) with base offset 0: its start may move along the first row (a K
  // step inside the atom), not into another row of it.
  for (auto [desc, which] : {std::pair<uint64_t, const char *>{descA, "A"}, {descB, "B"}}) {
    if (which[0] == 'A' && s.aRegs)
      continue;
    unsigned mode = unsigned(desc >> 62);
    uint32_t width = mode == 1 ? 128 : mode == 2 ? 64 : mode == 3 ? 32 : 0;
    uint32_t start = uint32_t(desc & 0x3fff) << 4;
    if (width && start % (8 * width) >= width)
      t.fail(ErrMisalignedAddress,
             std::string("operand ") + which + "'s matrix descriptor starts at shared address " +
                 hex(start) + ", inside row " + std::to_string(start % (8 * width) / width) +
                 " of a " + std::to_string(8 * width) + "-byte " + std::to_string(width) +
                 "-byte-swizzle atom: the tile is misaligned for its swizzle (it must start " +
                 "on an atom boundary)");
  }
  WgmmaOp op;
  op.pc = arrived.cur;
  op.members = members;
  op.scaleD = scaleD;
  unsigned ea = elementBytes(s.a), eb = elementBytes(s.b);
  bool transA = in.mods & ModTransA, transB = in.mods & ModTransB;
  if (!s.aRegs)
    for (unsigned r = 0; r < 64; ++r)
      for (unsigned kk = 0; kk < s.k; ++kk)
        op.addresses.push_back(elementAddress(t, descA, r, kk, ea, transA));
  size_t aCount = op.addresses.size();
  for (unsigned r = 0; r < s.n; ++r)
    for (unsigned kk = 0; kk < s.k; ++kk)
      op.addresses.push_back(elementAddress(t, descB, r, kk, eb, transB));
  op.raw.resize(op.addresses.size());
  for (size_t i = 0; i < op.addresses.size(); ++i) {
    unsigned e = i < aCount ? ea : eb;
    uint32_t a = op.addresses[i];
    if (uint64_t(a) + e > b.sharedMem.size())
      t.fail(ErrIllegalAddress, "this wgmma.mma_async reads shared memory at " + hex(a) +
                                    ", outside the block's " +
                                    std::to_string(b.sharedMem.size()) + " bytes");
    if (a % e)
      t.fail(ErrMisalignedAddress, "this wgmma.mma_async's operand element at " + hex(a) +
                                       " is misaligned");
    uint32_t v = 0;
    std::memcpy(&v, b.sharedMem.data() + a, e);
    op.raw[i] = v;
    op.words.push_back(a / 4);
  }
  std::sort(op.words.begin(), op.words.end());
  op.words.erase(std::unique(op.words.begin(), op.words.end()), op.words.end());
  AsyncAccess access{&t, "this wgmma.mma_async", arrived.cur, 0};
  for (uint32_t w : op.words)
    asyncRead(b, access, w * 4, 4, true);
  if (s.aRegs) {
    op.aFromRegs.assign(64 * s.k, 0);
    unsigned perReg = 4 / ea;
    for (unsigned q = 0; q < members.size(); ++q) {
      Thread &m = b.threads[members[q]];
      for (unsigned reg = 0; reg < 4; ++reg) {
        uint32_t bits = uint32_t(m.val(elem(m, in.ops[1], reg)));
        for (unsigned part = 0; part < perReg; ++part) {
          unsigned row, kk;
          fragmentA(s.a, q, reg, part, row, kk);
          op.aFromRegs[row * s.k + kk] = ea == 4 ? bits : bits >> (8 * ea * part) & ((1u << (8 * ea)) - 1);
        }
      }
    }
  }
  WarpgroupWgmma &state = b.wgmma->warpgroups[t.warp / 4];
  lock(b, op);
  state.uncommitted.push_back(std::move(op));
  (void)arrived;
}

void complete(Block &b, const WgmmaOp &op) {
  const Kernel &k = *b.kernel;
  const Instr &in = k.code[op.pc];
  Shape s = shapeOf(in);
  unsigned ea = elementBytes(s.a), eb = elementBytes(s.b);
  size_t aCount = s.aRegs ? 0 : size_t(64) * s.k;
  std::vector<uint32_t> aBits(64 * s.k), bBits(size_t(s.n) * s.k);
  for (size_t i = 0; i < op.addresses.size(); ++i) {
    unsigned e = i < aCount ? ea : eb;
    uint32_t v = 0;
    std::memcpy(&v, b.sharedMem.data() + op.addresses[i], e);
    if (v != op.raw[i]) {
      const Thread &issuer = b.threads[op.members[0]];
      throw EmuError(ErrIllegalAddress,
                     describeLocation(issuer, op.pc) + ": shared memory at " +
                         hex(op.addresses[i]) +
                         " that this wgmma.mma_async reads changed before the "
                         "wgmma.wait_group that covers it");
    }
    if (i < aCount)
      aBits[i] = v;
    else
      bBits[i - aCount] = v;
  }
  if (s.aRegs)
    aBits = op.aFromRegs;
  for (uint32_t w : op.words)
    releaseAsyncRead(b, w * 4, 4);
  unsigned M = 64, N = s.n, K = s.k;
  bool integer = s.d == DType::S32;
  std::vector<float> P;
  std::vector<int32_t> Pi;
  if (integer) {
    Pi.assign(size_t(M) * N, 0);
    for (unsigned m = 0; m < M; ++m)
      for (unsigned kk = 0; kk < K; ++kk) {
        int32_t a = toInt(s.a, aBits[m * K + kk]);
        for (unsigned n = 0; n < N; ++n)
          Pi[m * N + n] = int32_t(uint32_t(Pi[m * N + n]) +
                                  uint32_t(a * toInt(s.b, bBits[n * K + kk])));
      }
  } else {
    float signA = (in.mods & ModNegA) ? -1.0f : 1.0f, signB = in.sub2 ? -1.0f : 1.0f;
    std::vector<float> Bt(size_t(K) * N);
    for (unsigned n = 0; n < N; ++n)
      for (unsigned kk = 0; kk < K; ++kk)
        Bt[kk * N + n] = signB * toFloat(s.b, bBits[n * K + kk]);
    P.assign(size_t(M) * N, 0.0f);
    for (unsigned m = 0; m < M; ++m) {
      float *row = P.data() + size_t(m) * N;
      for (unsigned kk = 0; kk < K; ++kk) {
        float a = signA * toFloat(s.a, aBits[m * K + kk]);
        const float *bt = Bt.data() + size_t(kk) * N;
        for (unsigned n = 0; n < N; ++n)
          row[n] += a * bt[n];
      }
    }
  }
  const Operand &dv = in.ops[0];
  bool halfAccum = s.d == DType::F16;
  for (unsigned q = 0; q < op.members.size(); ++q) {
    Thread &m = b.threads[op.members[q]];
    unsigned w = q / 32, lane = q % 32, g = lane >> 2, tq = lane & 3;
    unsigned count = halfAccum ? N / 4 : N / 2;
    for (unsigned r = 0; r < count; ++r) {
      const Operand &reg = k.vecOps[dv.reg + r];
      uint64_t old = m.val(reg);
      uint64_t out = 0;
      for (unsigned part = 0; part < (halfAccum ? 2u : 1u); ++part) {
        unsigned i = halfAccum ? 2 * r + part : r;
        unsigned row = 16 * w + g + 8 * ((i >> 1) & 1);
        unsigned col = 8 * (i >> 2) + 2 * tq + (i & 1);
        if (integer) {
          int64_t prev = op.scaleD ? int64_t(int32_t(old)) : 0;
          int64_t sum = prev + Pi[row * N + col];
          // .satfinite clamps to the int32 range; without it the sum wraps.
          if (in.mods & ModSatFinite)
            sum = std::min<int64_t>(std::max<int64_t>(sum, INT32_MIN), INT32_MAX);
          out = uint32_t(sum);
        } else if (halfAccum) {
          float prev = op.scaleD ? halfToFloat(uint16_t(old >> (16 * part))) : 0.0f;
          out |= uint64_t(floatToHalf(prev + P[row * N + col])) << (16 * part);
        } else {
          float prev = op.scaleD ? fromBits<float>(old) : 0.0f;
          out = bitsOf(prev + P[row * N + col]);
        }
      }
      m.set(reg, out);
    }
  }
}

void execMma(Thread &t, const Instr &in) {
  const std::vector<uint32_t> &members = warpgroupMembers(t);
  if (members.size() != 128)
    t.fail(ErrIllegalInstruction, "wgmma.mma_async needs a whole warpgroup of 128 threads");
  t.block->collective(t, (uint64_t(1) << 20) | t.warp / 4, 0, members,
                      [&](const std::vector<uint32_t> &) { issue(t, in, members); });
}

void execFence(Thread &t, const Instr &) {
  const std::vector<uint32_t> &members = warpgroupMembers(t);
  Block &b = *t.block;
  b.collective(t, (uint64_t(1) << 20) | t.warp / 4, 0, members, [&](const std::vector<uint32_t> &) {
    for (uint32_t id : members) {
      Thread &m = b.threads[id];
      std::fill(m.touched.begin(), m.touched.end(), 0);
      m.fenced = true;
    }
  });
}

void execCommit(Thread &t, const Instr &) {
  const std::vector<uint32_t> &members = warpgroupMembers(t);
  Block &b = *t.block;
  b.collective(t, (uint64_t(1) << 20) | t.warp / 4, 0, members, [&](const std::vector<uint32_t> &) {
    WarpgroupWgmma &state = b.wgmma->warpgroups[t.warp / 4];
    state.groups.push_back(std::move(state.uncommitted));
    state.uncommitted.clear();
  });
}

void execWait(Thread &t, const Instr &in) {
  const std::vector<uint32_t> &members = warpgroupMembers(t);
  Block &b = *t.block;
  uint64_t keep = t.val(in.ops[0]);
  b.collective(t, (uint64_t(1) << 20) | t.warp / 4, keep, members,
               [&](const std::vector<uint32_t> &) {
    uint32_t wg = t.warp / 4;
    WarpgroupWgmma &state = b.wgmma->warpgroups[wg];
    while (state.groups.size() > keep) {
      std::vector<WgmmaOp> group = std::move(state.groups.front());
      state.groups.pop_front();
      for (const WgmmaOp &op : group)
        complete(b, op);
    }
    relock(b, wg);
  });
}

} // namespace

void checkWgmmaAtExit(Block &b) {
  for (const auto &[wg, state] : b.wgmma->warpgroups) {
    const WgmmaOp *pending = !state.uncommitted.empty() ? &state.uncommitted.front()
                             : !state.groups.empty() && !state.groups.front().empty()
                                 ? &state.groups.front().front()
                                 : nullptr;
    if (pending)
      throw EmuError(ErrIllegalInstruction,
                     describeLocation(b.threads[pending->members[0]], pending->pc) +
                         ": the block exits with this wgmma.mma_async in flight; no "
                         "wgmma.wait_group covered it");
  }
}

bool bindWgmma(Instr &in, const DecodedOpcode &d) {
  switch (d.op) {
  case OpWgmmaMma: {
    if (d.types.size() != 3)
      return false;
    unsigned m = 0, n = 0, k = 0;
    bool shaped = false;
    for (const std::string &mod : d.mods)
      if (std::sscanf(mod.c_str(), "m%un%uk%u", &m, &n, &k) == 3)
        shaped = true;
    if (!shaped || m != 64 || n % 8 || n < 8 || n > 256)
      return false;
    in.shape = uint16_t(n);
    in.type = d.types[0];
    in.type2 = d.types[1];
    in.sub = uint8_t(d.types[2]);
    DType a = d.types[1];
    unsigned wantK = (a == DType::F16 || a == DType::BF16) ? 16 : a == DType::TF32 ? 8 : 32;
    if (k != wantK || a == DType::None)
      return false;
    if (in.ops[0].kind != Operand::Vec ||
        in.ops[0].count != (in.type == DType::F16 ? n / 4 : n / 2))
      return false;
    in.exec = execMma;
    return true;
  }
  case OpWgmmaFence: in.exec = execFence; return true;
  case OpWgmmaCommit: in.exec = execCommit; return true;
  case OpWgmmaWait: in.exec = execWait; return in.nops == 1;
  default: return false;
  }
}

} // namespace tessel::emu
