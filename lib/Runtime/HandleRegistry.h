//===- HandleRegistry.h - which C handles are alive ------------*- C++ -*-===//
//
// The C entry points take handles an engine hands back: one it already
// unloaded, one it never got, or garbage. Reading any field of such a
// handle is itself a use after free, so every entry point first asks the
// registry whether the pointer is a live handle of its kind; the pointer is
// only compared, never dereferenced, until it is found.
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_LIB_RUNTIME_HANDLEREGISTRY_H
#define TESSEL_LIB_RUNTIME_HANDLEREGISTRY_H

#include <mutex>
#include <unordered_set>

namespace tessel::rt {

template <typename T>
class HandleRegistry {
public:
  void add(const T *handle) {
    std::lock_guard<std::mutex> lock(mutex);
    live.insert(handle);
  }
  bool contains(const void *handle) const {
    std::lock_guard<std::mutex> lock(mutex);
    return live.count(static_cast<const T *>(handle)) != 0;
  }
  /// Forgets `handle`; false when it was not live (a double unload).
  bool remove(const void *handle) {
    std::lock_guard<std::mutex> lock(mutex);
    return live.erase(static_cast<const T *>(handle)) != 0;
  }

private:
  mutable std::mutex mutex;
  std::unordered_set<const T *> live;
};

} // namespace tessel::rt

#endif // TESSEL_LIB_RUNTIME_HANDLEREGISTRY_H
