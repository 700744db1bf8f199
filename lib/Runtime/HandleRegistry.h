//===- HandleRegistry.h - which C handles are alive ------------*- C++ -*-===//
//
// The C entry points take handles an engine hands back: one it already
// unloaded, one it never got, or garbage. Reading any field of such a
// handle is itself a use after free, so every entry point first asks the
// registry whether the pointer is a live handle of its kind; the pointer is
// only compared, never dereferenced, until it is found. A call holds its
// handle for its whole duration (a shared lock), so an unload on another
// thread waits for it instead of freeing the handle under it. (A freed
// address that a later load happens to reuse is live again: pointers carry
// no generation.)
//
//===----------------------------------------------------------------------===//

#ifndef TESSEL_LIB_RUNTIME_HANDLEREGISTRY_H
#define TESSEL_LIB_RUNTIME_HANDLEREGISTRY_H

#include <mutex>
#include <shared_mutex>
#include <unordered_set>

namespace tessel::rt {

template <typename T>
class HandleRegistry {
public:
  /// A handle held for a call: true when it is live; unload waits for it.
  class Hold {
  public:
    explicit operator bool() const { return live; }

  private:
    friend class HandleRegistry;
    Hold(std::shared_mutex &mutex, bool live) : lock(mutex, std::adopt_lock), live(live) {}
    std::shared_lock<std::shared_mutex> lock;
    bool live;
  };

  void add(const T *handle) {
    std::unique_lock<std::shared_mutex> lock(mutex);
    live.insert(handle);
  }
  Hold hold(const void *handle) const {
    mutex.lock_shared();
    return Hold(mutex, live.count(static_cast<const T *>(handle)) != 0);
  }
  bool contains(const void *handle) const { return bool(hold(handle)); }
  /// Forgets `handle`, after every call holding it has returned; false when
  /// it was not live (a double unload).
  bool remove(const void *handle) {
    std::unique_lock<std::shared_mutex> lock(mutex);
    return live.erase(static_cast<const T *>(handle)) != 0;
  }

private:
  mutable std::shared_mutex mutex;
  std::unordered_set<const T *> live;
};

} // namespace tessel::rt

#endif // TESSEL_LIB_RUNTIME_HANDLEREGISTRY_H
