//===- Shadow.h - shared memory as the async proxy sees it --------*- C++ -*-===//
//
// Async operations (TMA, cp.async, bulk copies, wgmma) check and mark the
// shadow of the shared memory they touch: a generic write not followed by
// its writer's fence.proxy.async is invisible to them; memory an async copy
// is still writing may not be read; memory an async operation is still
// reading may not be overwritten.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_LIB_EMULATOR_SHADOW_H
#define TESSEL_LIB_EMULATOR_SHADOW_H

#include "lib/Emulator/Machine.h"

#include <string>

namespace tessel::emu {

/// Who does an async access, for messages: the issuing thread's location.
struct AsyncAccess {
  const Thread *issuer = nullptr;  ///< null when landing (no thread runs)
  std::string what;                ///< "a TMA copy issued at ..."
  uint32_t pc = 0;
  uint64_t id = 0;
};

/// An async read of [address, address + bytes): checks proxy fences and
/// pending writes; with `hold`, the words stay marked as being read until
/// releaseAsyncRead.
void asyncRead(Block &b, const AsyncAccess &a, uint32_t address, uint32_t bytes, bool hold);
void releaseAsyncRead(Block &b, uint32_t address, uint32_t bytes);
/// An async write issued: checks, then marks the words pending. cp.async
/// (not `asyncProxy`) writes through the generic proxy and needs no fence.
void asyncWriteIssued(Block &b, const AsyncAccess &a, uint32_t address, uint32_t bytes,
                      bool asyncProxy = true);
/// The write landed: the words are ordinary again.
void asyncWriteLanded(Block &b, uint32_t address, uint32_t bytes);

[[noreturn]] void asyncFail(const AsyncAccess &a, Result code, const std::string &why);

} // namespace tessel::emu

#endif // TESSEL_LIB_EMULATOR_SHADOW_H
