//===- Memory.cpp - device memory and a thread's checked accesses ----------===//

#include "lib/Emulator/Machine.h"

#include "lib/Emulator/Opcodes.h"

#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace tessel::emu {

DeviceMemory &deviceMemory() {
  static DeviceMemory *memory = new DeviceMemory; // outlives static destructors
  return *memory;
}

uint64_t DeviceMemory::allocate(size_t bytes) {
  // 256-byte aligned like cuMemAlloc; rounded up so a 16-byte vector at the
  // end of an odd-sized buffer stays inside the host allocation.
  size_t rounded = (std::max<size_t>(bytes, 1) + 255) / 256 * 256;
  void *p = std::aligned_alloc(256, rounded);
  if (!p)
    return 0;
  // Fresh device memory holds garbage on a GPU; all-ones bytes read as NaN
  // in every float type and -1 in integers, so a read of what no one wrote
  // shows.
  std::memset(p, 0xff, rounded);
  std::lock_guard<std::mutex> lock(mutex);
  uint64_t a = reinterpret_cast<uintptr_t>(p);
  ranges[a] = bytes;
  owned[a] = p;
  return a;
}

bool DeviceMemory::release(uint64_t address) {
  std::lock_guard<std::mutex> lock(mutex);
  auto it = owned.find(address);
  if (it == owned.end())
    return false;
  std::free(it->second);
  owned.erase(it);
  ranges.erase(address);
  return true;
}

void DeviceMemory::addRange(uint64_t base, uint64_t size) {
  std::lock_guard<std::mutex> lock(mutex);
  ranges[base] = size;
}

void DeviceMemory::removeRange(uint64_t base) {
  std::lock_guard<std::mutex> lock(mutex);
  ranges.erase(base);
}

bool DeviceMemory::below(uint64_t address, uint64_t &base, uint64_t &size) const {
  std::lock_guard<std::mutex> lock(mutex);
  auto it = ranges.upper_bound(address);
  if (it == ranges.begin())
    return false;
  --it;
  base = it->first;
  size = it->second;
  return true;
}

bool DeviceMemory::find(uint64_t address, uint64_t bytes, uint64_t &base,
                        uint64_t &size) const {
  std::lock_guard<std::mutex> lock(mutex);
  auto it = ranges.upper_bound(address);
  if (it == ranges.begin())
    return false;
  --it;
  if (address + bytes > it->first + it->second || address < it->first)
    return false;
  base = it->first;
  size = it->second;
  return true;
}

namespace {

std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

/// Where an out-of-bounds global address is relative to the nearest
/// allocation, for the message.
std::string nearestAllocation(uint64_t address) {
  uint64_t base = 0, size = 0;
  if (!deviceMemory().below(address, base, size) || address < base + size ||
      address - (base + size) > (uint64_t(1) << 20))
    return "";
  return " (" + std::to_string(address - (base + size)) + " bytes past the end of the " +
         std::to_string(size) + "-byte allocation at " + hex(base) + ")";
}

} // namespace

uint8_t *Thread::shared(uint64_t address, unsigned bytes, bool write) {
  Block &b = *block;
  if (address + bytes > b.sharedMem.size() || address >> 32)
    fail(ErrIllegalAddress, "shared memory access of " + std::to_string(bytes) + " bytes at " +
                                hex(address) + " is outside the block's " +
                                std::to_string(b.sharedMem.size()) + " bytes of shared memory");
  if (address % bytes)
    fail(ErrMisalignedAddress, "shared memory access of " + std::to_string(bytes) +
                                   " bytes at " + hex(address) + " is not " +
                                   std::to_string(bytes) + "-byte aligned");
  uint32_t first = uint32_t(address / 4), last = uint32_t((address + bytes - 1) / 4);
  for (uint32_t w = first; w <= last; ++w) {
    ShadowWord &s = b.shadow[w];
    if (s.writer == kPendingAsync) {
      uint32_t line = b.kernel->code[s.writerPc].ptxLine;
      fail(ErrIllegalAddress,
           std::string(write ? "writes" : "reads") + " shared memory at " + hex(w * 4) +
               " that an async copy (PTX line " + std::to_string(line) +
               ") has not finished writing: wait on its mbarrier or group first");
    }
    if (write) {
      if (s.asyncReads)
        fail(ErrIllegalAddress,
             "overwrites shared memory at " + hex(w * 4) + " that an async operation (PTX line " +
                 std::to_string(b.kernel->code[s.readerPc].ptxLine) +
                 ") is still reading: wait for it (wgmma.wait_group, "
                 "cp.async.bulk.wait_group.read) first");
      s.writer = linear + 1;
      s.epoch = fenceEpoch;
      s.writerPc = cur;
    }
  }
  return b.sharedMem.data() + address;
}

uint8_t *Thread::global(uint64_t address, unsigned bytes, bool write) {
  (void)write;
  uint64_t base, size;
  if (!deviceMemory().find(address, bytes, base, size))
    fail(ErrIllegalAddress, "global memory access of " + std::to_string(bytes) + " bytes at " +
                                hex(address) + " is outside every allocation" +
                                nearestAllocation(address));
  if (address % bytes)
    fail(ErrMisalignedAddress, "global memory access of " + std::to_string(bytes) +
                                   " bytes at " + hex(address) + " is not " +
                                   std::to_string(bytes) + "-byte aligned");
  return reinterpret_cast<uint8_t *>(address);
}

void Thread::globalRange(uint64_t address, uint64_t bytes) {
  uint64_t base, size;
  if (!deviceMemory().find(address, bytes, base, size))
    fail(ErrIllegalAddress, "global memory access of " + std::to_string(bytes) + " bytes at " +
                                hex(address) + " is outside every allocation" +
                                nearestAllocation(address));
}

uint8_t *Thread::localMem(uint64_t address, unsigned bytes) {
  const Kernel &k = *block->kernel;
  if (address + bytes > k.localBytes)
    fail(ErrIllegalAddress, "local memory access of " + std::to_string(bytes) + " bytes at " +
                                hex(address) + " is outside the thread's " +
                                std::to_string(k.localBytes) + " bytes");
  if (address % bytes)
    fail(ErrMisalignedAddress, "misaligned local memory access at " + hex(address));
  return local + address;
}

const uint8_t *Thread::param(uint64_t address, unsigned bytes) const {
  const std::vector<uint8_t> &p = block->launch->params;
  if (address + bytes > p.size())
    fail(ErrIllegalAddress, "parameter access of " + std::to_string(bytes) + " bytes at " +
                                hex(address) + " is outside the kernel's " +
                                std::to_string(p.size()) + " bytes of parameters");
  return p.data() + address;
}

uint8_t *Thread::generic(uint64_t address, unsigned bytes, bool write) {
  switch (address >> 48) {
  case 0:
    return global(address, bytes, write);
  case 1:
    return localMem(address & kWindowMask, bytes);
  case 2:
    return shared(address & kWindowMask, bytes, write);
  case 3:
    if (write)
      fail(ErrIllegalAddress, "a store to kernel parameter memory (read-only)");
    return const_cast<uint8_t *>(param(address & kWindowMask, bytes));
  }
  fail(ErrIllegalAddress, "generic address " + hex(address) + " is in no memory");
}

uint8_t *Thread::at(Space space, uint64_t address, unsigned bytes, bool write) {
  switch (space) {
  case Space::Generic:
    return generic(address, bytes, write);
  case Space::Global:
  case Space::Const:
    return global(address, bytes, write);
  case Space::Shared:
  case Space::SharedCluster:
    return shared(address, bytes, write);
  case Space::Local:
    return localMem(address, bytes);
  case Space::Param:
    if (write)
      fail(ErrIllegalAddress, "a store to kernel parameter memory (read-only)");
    return const_cast<uint8_t *>(param(address, bytes));
  }
  return nullptr;
}

uint64_t Thread::slowValue(const Operand &o) const {
  if (o.kind == Operand::Clock)
    return steps;
  if (o.kind == Operand::Sink || o.kind == Operand::None)
    return 0;
  fail(ErrIllegalInstruction, "an operand of this kind cannot be read as a value");
}

void Thread::badDestination(const Operand &o) const {
  (void)o;
  fail(ErrIllegalInstruction, "the destination is not a register");
}

std::string describeInstruction(const Block &b, uint32_t pc) {
  const Kernel &k = *b.kernel;
  const Module &m = *b.launch->module;
  std::ostringstream os;
  if (pc >= k.code.size())
    return "the end of the kernel";
  const Instr &in = k.code[pc];
  os << "PTX line " << in.ptxLine;
  if (in.ptxLine && in.ptxLine <= m.sourceLines.size()) {
    std::string text = m.sourceLines[in.ptxLine - 1];
    size_t s = text.find_first_not_of(" \t");
    size_t e = text.find_last_not_of(" \t\r");
    if (s != std::string::npos)
      os << " `" << text.substr(s, e - s + 1) << "`";
  }
  if (in.loc && in.loc < k.locs.size()) {
    const SourceLoc &l = k.locs[in.loc];
    std::string file = l.file < m.fileNames.size() ? m.fileNames[l.file] : "?";
    os << " (" << file << ":" << l.line << ")";
  }
  return os.str();
}

std::string describeLocation(const Thread &t, uint32_t pc) {
  const Block &b = *t.block;
  std::ostringstream os;
  os << "block (" << b.ctaid[0] << ", " << b.ctaid[1] << ", " << b.ctaid[2] << ") warp "
     << t.warp << " thread " << t.linear << ", " << describeInstruction(b, pc);
  return os.str();
}

std::string Thread::where() const { return describeLocation(*this, cur); }

void Thread::fail(Result code, const std::string &what) const {
  throw EmuError(code, where() + ": " + what);
}

void Thread::checkLocked(const Instr &in) const {
  auto check = [&](const Operand &o) {
    if (o.kind == Operand::Reg && o.reg < locked.size() * 64 &&
        (locked[o.reg / 64] >> (o.reg % 64) & 1))
      fail(ErrIllegalInstruction,
           "register " + block->kernel->regNames[o.reg] +
               " belongs to a wgmma.mma_async still in flight; it may be read or written "
               "only after the wgmma.wait_group that covers it");
  };
  if (in.op == OpWgmmaMma || in.op == OpWgmmaWait)
    return; // the chain and its wait own those registers
  if (in.guard != kNoReg) {
    Operand g;
    g.kind = Operand::Reg;
    g.reg = in.guard;
    check(g);
  }
  const Kernel &k = *block->kernel;
  for (unsigned i = 0; i < in.nops; ++i) {
    const Operand &o = in.ops[i];
    if (o.kind == Operand::Vec || o.kind == Operand::Tensor) {
      uint32_t start = o.kind == Operand::Vec ? o.reg : uint32_t(o.imm);
      for (unsigned j = 0; j < o.count; ++j)
        check(k.vecOps[start + j]);
      if (o.kind == Operand::Tensor) {
        Operand base;
        base.kind = Operand::Reg;
        base.reg = o.reg;
        check(base);
      }
    } else if (o.kind == Operand::Mem && o.reg != kNoReg) {
      Operand base;
      base.kind = Operand::Reg;
      base.reg = o.reg;
      check(base);
    } else {
      check(o);
    }
  }
}

} // namespace tessel::emu
