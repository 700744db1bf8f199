//===- Target.cpp - the registry of targets the tile passes ask -----------===//

#include "dialects/tile/Transforms/Target.h"

#include "llvm/ADT/StringMap.h"

#include <algorithm>
#include <mutex>

using namespace tessel::tile;

TargetInfo::~TargetInfo() = default;

namespace {
struct Entry {
  TargetFactory factory;
  std::unique_ptr<TargetInfo> made;
};

struct Registry {
  std::mutex mutex;
  llvm::StringMap<Entry> entries;
};

Registry &registry() {
  static Registry r;
  return r;
}
} // namespace

void tessel::tile::registerTarget(llvm::StringRef name, TargetFactory factory) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  r.entries.try_emplace(name, Entry{std::move(factory), nullptr});
}

const TargetInfo *tessel::tile::lookupTarget(llvm::StringRef name) {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  auto it = r.entries.find(name);
  if (it == r.entries.end())
    return nullptr;
  if (!it->second.made)
    it->second.made = it->second.factory();
  return it->second.made.get();
}

std::vector<std::string> tessel::tile::registeredTargets() {
  Registry &r = registry();
  std::lock_guard<std::mutex> lock(r.mutex);
  std::vector<std::string> names;
  for (auto &e : r.entries)
    names.push_back(e.getKey().str());
  std::sort(names.begin(), names.end());
  return names;
}
