//===- Shadow.cpp - shared memory as the async proxy sees it ---------------===//

#include "lib/Emulator/Shadow.h"

#include <cstdio>

namespace tessel::emu {

namespace {
std::string hex(uint64_t v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));
  return buf;
}

std::string line(const Block &b, uint32_t pc) {
  return "PTX line " + std::to_string(b.kernel->code[pc].ptxLine);
}

/// A word a thread wrote through the generic proxy and has not fenced
/// (fence.proxy.async) since.
bool unfenced(const Block &b, const ShadowWord &s) {
  return s.writer && s.writer != kPendingAsync && b.threads[s.writer - 1].fenceEpoch == s.epoch;
}

std::string writtenBy(const Block &b, const ShadowWord &s) {
  return "thread " + std::to_string(s.writer - 1) + " wrote through the generic proxy (" +
         line(b, s.writerPc) + ") with no fence.proxy.async by that thread since";
}

void checkRange(Block &b, const AsyncAccess &a, uint32_t address, uint32_t bytes) {
  if (uint64_t(address) + bytes > b.sharedMem.size())
    asyncFail(a, ErrIllegalAddress,
              "it touches shared memory [" + hex(address) + ", " + hex(uint64_t(address) + bytes) +
                  "), outside the block's " + std::to_string(b.sharedMem.size()) + " bytes");
}
} // namespace

void asyncFail(const AsyncAccess &a, Result code, const std::string &why) {
  std::string where = a.issuer ? a.issuer->where() + ": " : "";
  throw EmuError(code, where + a.what + ": " + why);
}

void asyncRead(Block &b, const AsyncAccess &a, uint32_t address, uint32_t bytes, bool hold) {
  checkRange(b, a, address, bytes);
  for (uint32_t w = address / 4; w < (address + bytes + 3) / 4; ++w) {
    ShadowWord &s = b.shadow[w];
    if (s.writer == kPendingAsync)
      asyncFail(a, ErrIllegalAddress,
                "it reads shared memory at " + hex(w * 4) +
                    " that an async copy has not finished writing (wait on its mbarrier first)");
    if (unfenced(b, s))
      asyncFail(a, ErrIllegalInstruction,
                "it reads shared memory at " + hex(w * 4) + " that " + writtenBy(b, s) +
                    "; the async proxy may not see the write");
    if (hold) {
      s.asyncReads++;
      s.readerPc = a.pc;
    }
  }
}

void releaseAsyncRead(Block &b, uint32_t address, uint32_t bytes) {
  for (uint32_t w = address / 4; w < (address + bytes + 3) / 4 && w < b.shadow.size(); ++w)
    if (b.shadow[w].asyncReads)
      b.shadow[w].asyncReads--;
}

void asyncWriteIssued(Block &b, const AsyncAccess &a, uint32_t address, uint32_t bytes,
                      bool asyncProxy) {
  checkRange(b, a, address, bytes);
  for (uint32_t w = address / 4; w < (address + bytes + 3) / 4; ++w) {
    ShadowWord &s = b.shadow[w];
    if (s.writer == kPendingAsync)
      asyncFail(a, ErrIllegalAddress,
                "it writes shared memory at " + hex(w * 4) +
                    " that another async copy in flight also writes");
    if (s.asyncReads)
      asyncFail(a, ErrIllegalAddress,
                "it overwrites shared memory at " + hex(w * 4) + " that an async operation (" +
                    line(b, s.readerPc) + ") is still reading");
    if (asyncProxy && unfenced(b, s))
      asyncFail(a, ErrIllegalInstruction,
                "it overwrites shared memory at " + hex(w * 4) + " that " + writtenBy(b, s) +
                    "; the two writes are unordered");
    s.writer = kPendingAsync;
    s.epoch = uint32_t(a.id);
    s.writerPc = a.pc;
  }
}

void asyncWriteLanded(Block &b, uint32_t address, uint32_t bytes) {
  for (uint32_t w = address / 4; w < (address + bytes + 3) / 4 && w < b.shadow.size(); ++w) {
    ShadowWord &s = b.shadow[w];
    s.writer = 0;
    s.epoch = 0;
  }
}

} // namespace tessel::emu
