//===- ObjectCache.cpp - the on-disk cache of compiled CPU kernels --------===//
//
// An entry is one file, <dir>/cpu/<key>.tobj:
//   "tessel-cpu-object 1\n"
//   "<key>\n"
//   "<number of kernels>\n"  then "<name> <arity>\n" per kernel
//   "<bytes of LLVM IR> <bytes of object>\n"  then both, back to back, "\n"
//   "<sha256 of everything above>\n"
//
//===----------------------------------------------------------------------===//

#include "backends/cpu/ObjectCache.h"

#include "llvm/ADT/SmallString.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"
#include "llvm/Support/SHA256.h"
#include "llvm/Support/raw_ostream.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include <unistd.h>

using namespace tessel::cpu;

static constexpr const char *kMagic = "tessel-cpu-object 1\n";

static std::string sha256Hex(llvm::StringRef data) {
  llvm::SHA256 hash;
  hash.update(data);
  return llvm::toHex(hash.final(), /*LowerCase=*/true);
}

std::string tessel::cpu::cacheKey(std::string_view tileIR,
                                  std::string_view version,
                                  std::string_view host) {
  std::string all;
  for (std::string_view part : {version, host, tileIR}) {
    all += part;
    all += '\0';
  }
  return sha256Hex(all);
}

std::string tessel::cpu::cacheDirectory() {
  if (const char *dir = std::getenv("TESSEL_CACHE_DIR")) {
    if (llvm::StringRef(dir) == "off" || !*dir)
      return "";
    return dir;
  }
  llvm::SmallString<256> home;
  if (!llvm::sys::path::home_directory(home))
    return "";
  llvm::sys::path::append(home, ".cache", "tessel");
  return std::string(home);
}

static std::string entryPath(const std::string &key) {
  std::string dir = cacheDirectory();
  if (dir.empty())
    return "";
  llvm::SmallString<256> path(dir);
  llvm::sys::path::append(path, "cpu", key + ".tobj");
  return std::string(path);
}

std::optional<CachedObject> tessel::cpu::readCachedObject(const std::string &key) {
  std::string path = entryPath(key);
  if (path.empty())
    return std::nullopt;
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false);
  if (!buffer)
    return std::nullopt;
  llvm::StringRef data = (*buffer)->getBuffer();
  // The last line is the checksum of everything before it. An empty or cut
  // file (what a crash mid-write leaves) is a miss, replaced by the compile.
  if (data.size() < std::strlen(kMagic) + 65 || !data.ends_with("\n"))
    return std::nullopt;
  size_t sumStart = data.drop_back().rfind('\n');
  if (sumStart == llvm::StringRef::npos)
    return std::nullopt;
  llvm::StringRef body = data.take_front(sumStart + 1);
  if (sha256Hex(body) != data.drop_front(sumStart + 1).drop_back())
    return std::nullopt;
  if (!body.consume_front(kMagic))
    return std::nullopt;
  auto line = [&]() {
    auto [head, rest] = body.split('\n');
    body = rest;
    return head;
  };
  if (line() != key)
    return std::nullopt;
  CachedObject entry;
  unsigned count;
  if (line().getAsInteger(10, count))
    return std::nullopt;
  for (unsigned i = 0; i < count; ++i) {
    auto [name, arityText] = line().rsplit(' ');
    unsigned arity;
    if (name.empty() || arityText.getAsInteger(10, arity))
      return std::nullopt;
    entry.arity[name.str()] = arity;
  }
  auto [irText, objText] = line().split(' ');
  size_t irSize, objSize;
  if (irText.getAsInteger(10, irSize) || objText.getAsInteger(10, objSize) ||
      body.size() != irSize + objSize + 1)
    return std::nullopt;
  entry.llvmIR = body.take_front(irSize).str();
  entry.object = body.drop_front(irSize).drop_back().str();
  return entry;
}

void tessel::cpu::writeCachedObject(const std::string &key,
                                    const CachedObject &entry) {
  std::string path = entryPath(key);
  if (path.empty())
    return;
  if (llvm::sys::fs::create_directories(llvm::sys::path::parent_path(path)))
    return;
  std::string body = kMagic;
  body += key + "\n" + std::to_string(entry.arity.size()) + "\n";
  for (auto &[name, arity] : entry.arity)
    body += name + " " + std::to_string(arity) + "\n";
  body += std::to_string(entry.llvmIR.size()) + " " +
          std::to_string(entry.object.size()) + "\n";
  body += entry.llvmIR;
  body += entry.object;
  body += '\n'; // so that the checksum starts a line of its own
  std::string data = body + sha256Hex(body) + "\n";

  llvm::SmallString<256> temp;
  int fd;
  if (llvm::sys::fs::createUniqueFile(path + ".tmp-%%%%%%%%", fd, temp))
    return;
  {
    llvm::raw_fd_ostream os(fd, /*shouldClose=*/true);
    os << data;
    os.flush();
    // On disk before the rename makes it visible: a power loss must not
    // leave a named entry with no content.
    bool synced = !os.has_error() && ::fsync(fd) == 0;
    os.close();
    if (os.has_error() || !synced) {
      os.clear_error();
      llvm::sys::fs::remove(temp);
      return;
    }
  }
  if (llvm::sys::fs::rename(temp, path))
    llvm::sys::fs::remove(temp);
}
