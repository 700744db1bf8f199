//===- ObjectCache.h - the on-disk cache of compiled CPU kernels --*- C++ -*-===//

#ifndef TESSEL_BACKENDS_CPU_OBJECTCACHE_H
#define TESSEL_BACKENDS_CPU_OBJECTCACHE_H

#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace tessel::cpu {

/// What the cache keeps for a tile module: the object code, the LLVM IR it
/// came from (for get_source), and each kernel's number of arguments.
struct CachedObject {
  std::string object;
  std::string llvmIR;
  std::map<std::string, unsigned> arity;
};

/// The key: a SHA-256 over the tile IR, the compiler version and the host.
std::string cacheKey(std::string_view tileIR, std::string_view version,
                     std::string_view host);

/// The cache directory: $TESSEL_CACHE_DIR, else ~/.cache/tessel; empty when
/// caching is off (TESSEL_CACHE_DIR=off) or no home is known.
std::string cacheDirectory();

/// A verified entry, or nothing: a missing, truncated or foreign file is a
/// miss, never a stale kernel.
std::optional<CachedObject> readCachedObject(const std::string &key);

/// Writes an entry atomically (a temporary file renamed into place), so that
/// concurrent processes see a whole entry or none. Failures are ignored: the
/// cache only saves time.
void writeCachedObject(const std::string &key, const CachedObject &entry);

} // namespace tessel::cpu

#endif // TESSEL_BACKENDS_CPU_OBJECTCACHE_H
