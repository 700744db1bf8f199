//===- Tma.cpp - tensor maps and bulk tensor copies ------------------------===//
//
// cp.async.bulk.tensor in tile mode, both directions, from the tensor map
// the emulator's cuTensorMapEncodeTiled wrote: a box placed at the
// coordinates (innermost first), elements outside the tensor filled with
// zero (loads) or skipped (stores), laid out row-major in shared memory and
// swizzled on absolute shared addresses. Loads land when the program can
// no longer make progress without them and complete their mbarrier's
// transaction count with the whole box's bytes.
//
//===----------------------------------------------------------------------===//

#include "lib/Emulator/Tma.h"

#include "lib/Emulator/Exec.h"
#include "lib/Emulator/Shadow.h"
#include "lib/Emulator/TensorMap.h"

#include <cmath>

namespace tessel::emu {

unsigned tensorMapElementBytes(int dtype) {
  static const unsigned bytes[] = {1, 2, 4, 4, 8, 8, 2, 4, 8, 2, 4, 4, 4};
  return dtype >= 0 && dtype < 13 ? bytes[dtype] : 0;
}

std::string encodeTensorMap(TensorMap &out, int dtype, unsigned rank, uint64_t address,
                            const uint64_t *dims, const uint64_t *strides, const uint32_t *box,
                            const uint32_t *elementStrides, int interleave, int swizzle,
                            int l2Promotion, int oobFill) {
  unsigned e = tensorMapElementBytes(dtype);
  if (!e)
    return "unknown data type " + std::to_string(dtype);
  if (rank < 1 || rank > 5)
    return "rank " + std::to_string(rank) + " is not 1 to 5";
  if (address % 16)
    return "the global address is not 16-byte aligned";
  if (interleave != 0)
    return "interleaved layouts are not emulated";
  if (swizzle < 0 || swizzle > 3)
    return "swizzle mode " + std::to_string(swizzle) + " is not emulated";
  if (oobFill < 0 || oobFill > 1)
    return "unknown out-of-bounds fill " + std::to_string(oobFill);
  TensorMap m;
  m.magic = kTensorMapMagic;
  m.dtype = uint8_t(dtype);
  m.rank = uint8_t(rank);
  m.swizzle = uint8_t(swizzle);
  m.l2Promotion = uint8_t(l2Promotion);
  m.oobFill = uint8_t(oobFill);
  m.elementBytes = uint8_t(e);
  m.address = address;
  for (unsigned d = 0; d < rank; ++d) {
    if (dims[d] < 1 || dims[d] > (uint64_t(1) << 32))
      return "dimension " + std::to_string(d) + " is " + std::to_string(dims[d]);
    if (box[d] < 1 || box[d] > 256)
      return "box dimension " + std::to_string(d) + " is " + std::to_string(box[d]);
    uint32_t es = elementStrides ? elementStrides[d] : 1;
    if (es < 1 || es > 8)
      return "element stride " + std::to_string(es);
    m.dims[d] = dims[d];
    m.box[d] = box[d];
    m.elementStrides[d] = uint8_t(d == 0 ? 1 : es);
    if (d > 0) {
      uint64_t s = strides[d - 1];
      if (s % 16 || s >= (uint64_t(1) << 40))
        return "the stride of dimension " + std::to_string(d) + " is " + std::to_string(s) +
               " bytes; it must be a multiple of 16 below 2^40";
      m.strides[d - 1] = s;
    }
  }
  unsigned rowBytes = box[0] * e;
  if (rowBytes % 16)
    return "the box's inner dimension is " + std::to_string(rowBytes) +
           " bytes, not a multiple of 16";
  unsigned span = swizzle ? 16u << swizzle : 0;
  if (span && rowBytes > span)
    return "the box's inner dimension (" + std::to_string(rowBytes) +
           " bytes) is wider than the " + std::to_string(span) + "-byte swizzle";
  out = m;
  return "";
}

namespace {

unsigned swizzleBytes(const TensorMap &m) { return m.swizzle ? 16u << m.swizzle : 0; }

TensorMap readTensorMap(Thread &t, uint64_t generic) {
  if (generic % 64)
    t.fail(ErrMisalignedAddress, "the tensor map's address is not 64-byte aligned");
  TensorMap m;
  std::memcpy(&m, t.generic(generic, 128, false), sizeof m);
  if (m.magic != kTensorMapMagic)
    t.fail(ErrIllegalAddress, "the tensor map operand does not point at a tensor map "
                              "encoded by cuTensorMapEncodeTiled");
  return m;
}

/// Elements of the box along each dimension.
void boxExtents(const TensorMap &m, uint64_t extents[5]) {
  for (unsigned d = 0; d < 5; ++d)
    extents[d] = d < m.rank ? (m.box[d] + m.elementStrides[d] - 1) / m.elementStrides[d] : 1;
}

uint64_t boxBytes(const TensorMap &m) {
  uint64_t e[5];
  boxExtents(m, e);
  return e[0] * e[1] * e[2] * e[3] * e[4] * m.elementBytes;
}

/// Visits every element of the box: its offset in shared memory (before
/// swizzling), and its global address or nullopt-like `false` when out of
/// bounds.
template <typename F> void forEachBoxElement(const TensorMap &m, const int32_t *coords, F &&f) {
  uint64_t ext[5];
  boxExtents(m, ext);
  uint64_t off = 0;
  for (uint64_t j4 = 0; j4 < ext[4]; ++j4)
    for (uint64_t j3 = 0; j3 < ext[3]; ++j3)
      for (uint64_t j2 = 0; j2 < ext[2]; ++j2)
        for (uint64_t j1 = 0; j1 < ext[1]; ++j1)
          for (uint64_t j0 = 0; j0 < ext[0]; ++j0, off += m.elementBytes) {
            uint64_t j[5] = {j0, j1, j2, j3, j4};
            bool inside = true;
            uint64_t g = m.address;
            for (unsigned d = 0; d < m.rank; ++d) {
              int64_t x = int64_t(coords[d]) + int64_t(j[d] * m.elementStrides[d]);
              if (x < 0 || uint64_t(x) >= m.dims[d]) {
                inside = false;
                break;
              }
              g += d == 0 ? uint64_t(x) * m.elementBytes : uint64_t(x) * m.strides[d - 1];
            }
            f(off, inside, g);
          }
}

void checkGlobal(const AsyncAccess &a, uint64_t g, unsigned bytes) {
  uint64_t base, size;
  if (!deviceMemory().find(g, bytes, base, size))
    asyncFail(a, ErrIllegalAddress,
              "the tensor map addresses global memory outside every allocation (element at " +
                  std::to_string(g) + "); its shape or strides do not fit the tensor");
}

struct TensorCopy {
  TensorMap map;
  int32_t coords[5] = {0, 0, 0, 0, 0};
  uint32_t shared = 0;     ///< shared address of the box
  uint32_t mbarrier = 0;
};

/// A copy's tensor map, coordinates and shared address (`side` names the
/// shared end in messages: "destination" or "source").
TensorCopy tensorCopy(Thread &t, const Instr &in, const Operand &tensor, const Operand &shared,
                      const char *side) {
  TensorCopy c;
  c.map = readTensorMap(t, t.r[tensor.reg]);
  if (tensor.count != c.map.rank || in.shape != c.map.rank)
    t.fail(ErrIllegalInstruction, "a " + std::to_string(in.shape) + "d copy with a rank-" +
                                      std::to_string(c.map.rank) + " tensor map");
  for (unsigned d = 0; d < tensor.count; ++d)
    c.coords[d] = int32_t(t.val(t.block->kernel->vecOps[uint32_t(tensor.imm) + d]));
  c.shared = uint32_t(address(t, shared));
  if (c.shared % 128)
    t.fail(ErrMisalignedAddress, std::string("the TMA ") + side + " (shared address " +
                                     std::to_string(c.shared) + ") is not 128-byte aligned");
  return c;
}

void execTmaLoad(Thread &t, const Instr &in) {
  Block &b = *t.block;
  TensorCopy c = tensorCopy(t, in, in.ops[1], in.ops[0], "destination");
  c.mbarrier = uint32_t(address(t, in.ops[2]));
  b.mbarrier(t, c.mbarrier); // must be initialized now
  uint64_t bytes = boxBytes(c.map);
  AsyncOp op = issueAsync(t);
  op.mbarrier = c.mbarrier;
  AsyncAccess access{&t, "this TMA load", t.cur, op.id};
  asyncWriteIssued(b, access, c.shared, uint32_t(bytes));
  std::string issuedAt = t.where();
  op.land = [c, bytes, issuedAt, pc = t.cur, id = op.id](Block &blk) {
    AsyncAccess landing{nullptr, issuedAt + ": this TMA load", pc, id};
    unsigned swz = swizzleBytes(c.map);
    unsigned e = c.map.elementBytes;
    bool nanFill = c.map.oobFill == 1;
    forEachBoxElement(c.map, c.coords, [&](uint64_t off, bool inside, uint64_t g) {
      uint32_t dst = swizzleAddress(uint32_t(c.shared + off), swz);
      uint8_t *p = blk.sharedMem.data() + dst;
      if (inside) {
        checkGlobal(landing, g, e);
        std::memcpy(p, reinterpret_cast<const void *>(g), e);
      } else if (nanFill) {
        std::memset(p, 0xff, e);
        p[e - 1] = 0x7f;
      } else {
        std::memset(p, 0, e);
      }
    });
    asyncWriteLanded(blk, c.shared, uint32_t(bytes));
    blk.completeTx(c.mbarrier, int64_t(bytes), nullptr);
  };
  b.async.push_back(std::move(op));
}

void execTmaStore(Thread &t, const Instr &in) {
  Block &b = *t.block;
  TensorCopy c = tensorCopy(t, in, in.ops[0], in.ops[1], "source");
  uint64_t bytes = boxBytes(c.map);
  AsyncOp op = issueAsync(t);
  op.isBulk = true;
  op.group = b.bulkCommitted[t.linear];
  AsyncAccess access{&t, "this TMA store", t.cur, op.id};
  asyncRead(b, access, c.shared, uint32_t(bytes), true);
  std::string issuedAt = t.where();
  op.land = [c, bytes, issuedAt, pc = t.cur, id = op.id](Block &blk) {
    AsyncAccess landing{nullptr, issuedAt + ": this TMA store", pc, id};
    unsigned swz = swizzleBytes(c.map);
    unsigned e = c.map.elementBytes;
    forEachBoxElement(c.map, c.coords, [&](uint64_t off, bool inside, uint64_t g) {
      if (!inside)
        return;
      checkGlobal(landing, g, e);
      uint32_t src = swizzleAddress(uint32_t(c.shared + off), swz);
      std::memcpy(reinterpret_cast<void *>(g), blk.sharedMem.data() + src, e);
    });
    releaseAsyncRead(blk, c.shared, uint32_t(bytes));
  };
  b.async.push_back(std::move(op));
}

/// cp.async.bulk (no tensor map): `size` contiguous bytes.
void execBulkCopy(Thread &t, const Instr &in) {
  Block &b = *t.block;
  bool toGlobal = in.mods & ModStore;
  uint64_t dst = address(t, in.ops[0]), src = address(t, in.ops[1]);
  uint32_t size = uint32_t(t.val(in.ops[2]));
  if (size % 16 || dst % 16 || src % 16)
    t.fail(ErrMisalignedAddress, "cp.async.bulk needs 16-byte aligned addresses and a size "
                                 "that is a multiple of 16");
  AsyncOp op = issueAsync(t);
  std::string issuedAt = t.where();
  if (toGlobal) {
    op.isBulk = true;
    op.group = b.bulkCommitted[t.linear];
    AsyncAccess access{&t, "this bulk copy", t.cur, op.id};
    asyncRead(b, access, uint32_t(src), size, true);
    t.global(dst, 1, true);
    op.land = [dst, src, size, issuedAt, pc = t.cur, id = op.id](Block &blk) {
      AsyncAccess landing{nullptr, issuedAt + ": this bulk copy", pc, id};
      checkGlobal(landing, dst, size);
      std::memcpy(reinterpret_cast<void *>(dst), blk.sharedMem.data() + src, size);
      releaseAsyncRead(blk, uint32_t(src), size);
    };
  } else {
    uint32_t mbar = uint32_t(address(t, in.ops[3]));
    b.mbarrier(t, mbar);
    AsyncAccess access{&t, "this bulk copy", t.cur, op.id};
    asyncWriteIssued(b, access, uint32_t(dst), size);
    op.mbarrier = mbar;
    op.land = [dst, src, size, mbar, issuedAt, pc = t.cur, id = op.id](Block &blk) {
      AsyncAccess landing{nullptr, issuedAt + ": this bulk copy", pc, id};
      checkGlobal(landing, src, size);
      std::memcpy(blk.sharedMem.data() + dst, reinterpret_cast<const void *>(src), size);
      asyncWriteLanded(blk, uint32_t(dst), size);
      blk.completeTx(mbar, size, nullptr);
    };
  }
  b.async.push_back(std::move(op));
}

} // namespace

bool bindTma(Instr &in, const DecodedOpcode &d) {
  // The direction is the order of the two spaces: dst first.
  int sharedAt = -1, globalAt = -1;
  for (size_t i = 0; i < d.mods.size(); ++i) {
    const std::string &m = d.mods[i];
    if (sharedAt < 0 && m.rfind("shared", 0) == 0)
      sharedAt = int(i);
    if (globalAt < 0 && m == "global")
      globalAt = int(i);
    if (m.size() == 2 && m[1] == 'd' && m[0] >= '1' && m[0] <= '5')
      in.shape = uint16_t(m[0] - '0');
    if (m == "im2col" || m.rfind("multicast", 0) == 0 || m == "gather4" || m == "scatter4")
      return false;
  }
  if (sharedAt < 0 || globalAt < 0)
    return false;
  bool store = globalAt < sharedAt;
  if (d.op == OpCpAsyncBulk) {
    if (store)
      in.mods |= ModStore;
    in.exec = execBulkCopy;
    return in.nops >= (store ? 3 : 4);
  }
  if (store) {
    in.exec = execTmaStore;
    return in.ops[0].kind == Operand::Tensor;
  }
  in.exec = execTmaLoad;
  return in.ops[1].kind == Operand::Tensor && in.nops >= 3;
}

} // namespace tessel::emu
