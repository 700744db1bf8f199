//===- Aot.cpp - the ahead-of-time launchers' side of the runtime ---------===//
//
// `tesselc --emit header,object` launchers hand the runtime a text
// descriptor of their kernel and its image; this parses the descriptor,
// loads the kernel per context, checks and launches, and dispatches among
// variants.
//
//===----------------------------------------------------------------------===//

#include "lib/Runtime/DriverAPI.h"
#include "lib/Runtime/HandleRegistry.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

using namespace tessel::rt;

//===----------------------------------------------------------------------===//
// Ahead-of-time launchers
//===----------------------------------------------------------------------===//

namespace {

/// What a tesselc-generated launcher says about its kernel, parsed from the
/// descriptor text it embeds (one item per line: `kernel NAME`, `threads N`,
/// `shared N`, `grid X Y Z`, `param NAME tensor DTYPE RANK DIMS...` or
/// `param NAME scalar TYPE`, `tensor_map PARAM TENSOR SWIZZLE RANK BOX...`;
/// version 2 adds dynamic dimensions: a name in place of an extent,
/// `dynamic NAME` for each the launch takes after the parameters, and
/// `grid_expr AXIS EXPR` for an extent computed from them); version 3 adds
/// `registers N`, the count ptxas chose, for drivers that cannot read it from
/// the image (Tessel's emulator, which checks setmaxnreg against it).
struct AotParam {
  std::string name, dtype;
  bool tensor = true;
  std::vector<int64_t> shape;
  std::vector<std::string> dimNames; ///< per dimension: "" or its T.dynamic name
  bool written = false; ///< the kernel writes it (version 4)
  bool inPlace = false; ///< declared in_place: may share memory (version 4)
};
struct AotTensorMap {
  int param = 0, tensor = 0;
  uint32_t swizzle = 0;
  std::vector<uint32_t> box;
};
struct AotKernel {
  std::string name;
  uint32_t threads = 0, sharedBytes = 0, registers = 0;
  uint32_t grid[3] = {1, 1, 1};
  std::string gridExprs[3];
  std::vector<std::string> dynamics;
  std::vector<AotParam> params;
  std::vector<AotTensorMap> tensorMaps;
  CUcontext ctx = nullptr;
  tessel_rt_kernel *kernel = nullptr;
};

bool tmaDtype(const std::string &dtype, tessel_rt_tma_dtype &out) {
  static const std::pair<const char *, tessel_rt_tma_dtype> table[] = {
      {"float16", TESSEL_RT_TMA_FLOAT16},   {"bfloat16", TESSEL_RT_TMA_BFLOAT16},
      {"float32", TESSEL_RT_TMA_FLOAT32},   {"float64", TESSEL_RT_TMA_FLOAT64},
      {"int32", TESSEL_RT_TMA_INT32},       {"int64", TESSEL_RT_TMA_INT64},
      {"uint8", TESSEL_RT_TMA_UINT8},       {"int8", TESSEL_RT_TMA_UINT8},
      {"float8_e4m3", TESSEL_RT_TMA_UINT8}, {"float8_e5m2", TESSEL_RT_TMA_UINT8},
  };
  for (auto &[name, value] : table)
    if (dtype == name) {
      out = value;
      return true;
    }
  return false;
}

/// Evaluates a grid expression (integers, dimension names, and add, sub,
/// mul, floordiv, ceildiv, rem, min, max of two) over `dims`.
bool evalGridExpression(const std::string &text, size_t &pos,
                        const std::map<std::string, int64_t> &dims, int64_t &out) {
  auto skip = [&] {
    while (pos < text.size() && text[pos] == ' ')
      ++pos;
  };
  skip();
  size_t start = pos;
  if (pos < text.size() && (text[pos] == '-' || std::isdigit(text[pos]))) {
    ++pos;
    while (pos < text.size() && std::isdigit(text[pos]))
      ++pos;
    out = std::stoll(text.substr(start, pos - start));
    return true;
  }
  while (pos < text.size() && (std::isalnum(text[pos]) || text[pos] == '_'))
    ++pos;
  std::string word = text.substr(start, pos - start);
  if (word.empty())
    return false;
  skip();
  if (pos >= text.size() || text[pos] != '(') {
    auto it = dims.find(word);
    if (it == dims.end())
      return false;
    out = it->second;
    return true;
  }
  ++pos;
  int64_t a, b;
  if (!evalGridExpression(text, pos, dims, a))
    return false;
  skip();
  if (pos >= text.size() || text[pos++] != ',')
    return false;
  if (!evalGridExpression(text, pos, dims, b))
    return false;
  skip();
  if (pos >= text.size() || text[pos++] != ')')
    return false;
  bool divides = word == "floordiv" || word == "ceildiv" || word == "rem";
  if (divides && b <= 0)
    return false;
  if (word == "add") out = a + b;
  else if (word == "sub") out = a - b;
  else if (word == "mul") out = a * b;
  else if (word == "floordiv") out = a >= 0 ? a / b : -((-a + b - 1) / b);
  else if (word == "ceildiv") out = a >= 0 ? (a + b - 1) / b : -(-a / b);
  else if (word == "rem") out = a - b * (a >= 0 ? a / b : -((-a + b - 1) / b));
  else if (word == "min") out = std::min(a, b);
  else if (word == "max") out = std::max(a, b);
  else return false;
  return true;
}

tessel_rt_status parseDescriptor(const char *text, AotKernel &k) {
  std::istringstream in(text ? text : "");
  std::string line;
  int lineNo = 0;
  auto bad = [&](const std::string &why) {
    return fail(TESSEL_RT_INVALID_ARGUMENT, "kernel descriptor line " +
                                                std::to_string(lineNo) + ": " + why);
  };
  while (std::getline(in, line)) {
    ++lineNo;
    std::istringstream words(line);
    std::string key;
    if (!(words >> key))
      continue;
    if (key == "tessel-aot") {
      int version = 0;
      if (!(words >> version) || version < 1 || version > 4)
        return bad("this runtime reads descriptor versions 1 to 4; rebuild "
                   "the kernel with a matching tesselc");
    } else if (key == "kernel") {
      words >> k.name;
    } else if (key == "threads") {
      words >> k.threads;
    } else if (key == "shared") {
      words >> k.sharedBytes;
    } else if (key == "registers") {
      words >> k.registers;
    } else if (key == "grid") {
      words >> k.grid[0] >> k.grid[1] >> k.grid[2];
    } else if (key == "param") {
      AotParam p;
      std::string kind;
      words >> p.name >> kind >> p.dtype;
      p.tensor = kind == "tensor";
      if (p.tensor) {
        int rank = 0;
        words >> rank;
        p.shape.resize(std::max(rank, 0));
        p.dimNames.resize(p.shape.size());
        for (size_t d = 0; d < p.shape.size(); ++d) {
          std::string extent;
          words >> extent;
          if (!extent.empty() && (std::isdigit(extent[0]) || extent[0] == '-')) {
            p.shape[d] = std::stoll(extent);
          } else {
            p.shape[d] = -1;
            p.dimNames[d] = extent;
          }
        }
      }
      k.params.push_back(std::move(p));
    } else if (key == "writes" || key == "in_place") {
      std::string name;
      words >> name;
      auto it = std::find_if(k.params.begin(), k.params.end(),
                             [&](const AotParam &p) { return p.name == name && p.tensor; });
      if (it == k.params.end())
        return bad("'" + key + "' names no tensor parameter '" + name + "'");
      (key == "writes" ? it->written : it->inPlace) = true;
    } else if (key == "dynamic") {
      std::string name;
      words >> name;
      k.dynamics.push_back(name);
    } else if (key == "grid_expr") {
      int axis = -1;
      words >> axis;
      if (axis < 0 || axis > 2)
        return bad("a grid expression for axis " + std::to_string(axis));
      std::getline(words >> std::ws, k.gridExprs[axis]);
    } else if (key == "tensor_map") {
      AotTensorMap m;
      int rank = 0;
      words >> m.param >> m.tensor >> m.swizzle >> rank;
      m.box.resize(std::max(rank, 0));
      for (uint32_t &d : m.box)
        words >> d;
      if (m.tensor < 0 || m.tensor >= int(k.params.size()) ||
          !k.params[m.tensor].tensor || int(m.box.size()) != int(k.params[m.tensor].shape.size()))
        return bad("a tensor map names no tensor of matching rank");
      k.tensorMaps.push_back(std::move(m));
    } else {
      return bad("unknown item '" + key + "'");
    }
    if (words.fail())
      return bad("malformed '" + key + "'");
  }
  if (k.name.empty() || k.threads == 0)
    return fail(TESSEL_RT_INVALID_ARGUMENT,
                "kernel descriptor: no kernel name or thread count");
  for (const AotParam &p : k.params)
    for (const std::string &name : p.dimNames)
      if (!name.empty() && std::find(k.dynamics.begin(), k.dynamics.end(), name) ==
                               k.dynamics.end())
        return fail(TESSEL_RT_INVALID_ARGUMENT, "kernel descriptor: dimension '" +
                                                    name + "' of '" + p.name +
                                                    "' is not a dynamic argument");
  return TESSEL_RT_SUCCESS;
}

/// Bytes per element of a descriptor's dtype name.
uint64_t elementBytes(const std::string &dtype) {
  if (dtype.find("64") != std::string::npos)
    return 8;
  if (dtype.find("32") != std::string::npos)
    return 4;
  if (dtype.find("16") != std::string::npos)
    return 2;
  return 1; // 8-bit integers and floats, bool
}

/// A written tensor must not share a byte with any other tensor argument
/// (an in-place GEMM reads what it already overwrote: silently wrong),
/// unless either is declared in_place.
tessel_rt_status checkAliasing(const AotKernel &k, void *const *args,
                               const std::map<std::string, int64_t> &dims) {
  struct Range {
    size_t param;
    uint64_t begin, end;
  };
  std::vector<Range> ranges;
  for (size_t i = 0; i < k.params.size(); ++i) {
    const AotParam &p = k.params[i];
    if (!p.tensor)
      continue;
    uint64_t bytes = elementBytes(p.dtype);
    for (size_t d = 0; d < p.shape.size(); ++d) {
      int64_t extent = p.dimNames[d].empty() ? p.shape[d] : dims.at(p.dimNames[d]);
      if (__builtin_mul_overflow(bytes, uint64_t(std::max<int64_t>(extent, 0)), &bytes))
        bytes = UINT64_MAX;
    }
    if (!bytes)
      continue; // no elements: nothing to share
    uint64_t begin = *static_cast<const uint64_t *>(args[i]), end;
    if (__builtin_add_overflow(begin, bytes, &end))
      end = UINT64_MAX;
    ranges.push_back({i, begin, end});
  }
  auto hex = [](uint64_t v) {
    char text[24];
    std::snprintf(text, sizeof text, "0x%llx", static_cast<unsigned long long>(v));
    return std::string(text);
  };
  for (const Range &w : ranges) {
    const AotParam &out = k.params[w.param];
    if (!out.written || out.inPlace)
      continue;
    for (const Range &o : ranges) {
      const AotParam &other = k.params[o.param];
      if (o.param == w.param || other.inPlace || !(w.begin < o.end && o.begin < w.end))
        continue;
      return fail(TESSEL_RT_INVALID_ARGUMENT,
                  "'" + k.name + "': output '" + out.name + "' [" + hex(w.begin) + ", " +
                      hex(w.end) + ") and argument '" + other.name + "' [" + hex(o.begin) +
                      ", " + hex(o.end) + ") share memory; pass separate buffers, or declare "
                      "the parameter T.Tensor(..., in_place=True) if the kernel is written "
                      "to work in place");
    }
  }
  return TESSEL_RT_SUCCESS;
}

/// Makes `ctx` current for the scope, restoring the previous context.
class ContextScope {
public:
  tessel_rt_status enter(CUcontext ctx) {
    if (CUresult r = driver.cuCtxGetCurrent(&previous))
      return driverFailure(r, "cuCtxGetCurrent");
    if (ctx == previous)
      return TESSEL_RT_SUCCESS;
    if (CUresult r = driver.cuCtxSetCurrent(ctx))
      return driverFailure(r, "cuCtxSetCurrent");
    switched = true;
    return TESSEL_RT_SUCCESS;
  }
  ~ContextScope() {
    if (switched)
      driver.cuCtxSetCurrent(previous);
  }

private:
  CUcontext previous = nullptr;
  bool switched = false;
};

/// The live handles load and dispatch_load gave out (never destroyed: the
/// process may unload at exit, after static destructors ran).
HandleRegistry<AotKernel> &liveKernels() {
  static auto *registry = new HandleRegistry<AotKernel>;
  return *registry;
}
struct AotDispatch;
HandleRegistry<AotDispatch> &liveDispatches() {
  static auto *registry = new HandleRegistry<AotDispatch>;
  return *registry;
}

/// Runs an entry point's body; nothing it throws crosses the C ABI.
template <typename F>
tessel_rt_status guarded(const char *entry, F &&body) {
  try {
    return body();
  } catch (const std::exception &e) {
    return fail(TESSEL_RT_INVALID_ARGUMENT, std::string(entry) + ": " + e.what());
  } catch (...) {
    return fail(TESSEL_RT_INVALID_ARGUMENT, std::string(entry) + ": unexpected failure");
  }
}

tessel_rt_status notLive(const char *entry, const void *handle, const char *from) {
  char text[32];
  std::snprintf(text, sizeof text, "%p", handle);
  return fail(TESSEL_RT_INVALID_ARGUMENT, std::string(entry) + ": " + text +
                                              " is not a live handle from " + from +
                                              " (unloaded already, or never loaded)");
}

} // namespace

extern "C" {

tessel_rt_status tessel_aot_load(const char *descriptor, const void *image,
                                 size_t image_size, void *ctx, void **out) {
  return guarded("tessel_aot_load", [&]() -> tessel_rt_status {
  if (!out)
    return fail(TESSEL_RT_INVALID_ARGUMENT, "load needs a place for the handle");
  if (!image || !image_size) {
    *out = nullptr;
    return fail(TESSEL_RT_INVALID_ARGUMENT, "load needs the kernel's image (it is empty)");
  }
  *out = nullptr;
  auto k = std::make_unique<AotKernel>();
  if (tessel_rt_status s = parseDescriptor(descriptor, *k))
    return s;
  if (tessel_rt_status s = checkDriver())
    return s;
  ContextScope scope;
  if (ctx) {
    if (tessel_rt_status s = scope.enter(static_cast<CUcontext>(ctx)))
      return s;
    k->ctx = static_cast<CUcontext>(ctx);
  } else if (tessel_rt_status s = currentContext(k->ctx)) {
    return s;
  }
  if (tessel_rt_status s = tessel_rt_kernel_create(image, image_size, k->name.c_str(),
                                                   k->threads, k->sharedBytes, &k->kernel))
    return s;
  if (k->registers)
    if (tessel_rt_status s = tessel_rt_kernel_set_registers(k->kernel, k->registers)) {
      tessel_rt_kernel_destroy(k->kernel);
      return s;
    }
  // Load the module now, so a bad image or a missing kernel is this call's
  // error rather than the first launch's.
  CUfunction function;
  if (tessel_rt_status s = functionIn(k->kernel, k->ctx, function)) {
    tessel_rt_kernel_destroy(k->kernel);
    return s;
  }
  liveKernels().add(k.get());
  *out = k.release();
  return TESSEL_RT_SUCCESS;
  });
}

tessel_rt_status tessel_aot_launch(void *handle, void *stream, void *const *args,
                                   int count) {
  return guarded("tessel_aot_launch", [&]() -> tessel_rt_status {
  if (!handle)
    return fail(TESSEL_RT_INVALID_ARGUMENT,
                "launch needs a handle from load (this one is NULL)");
  auto held = liveKernels().hold(handle); // until the launch returns
  if (!held)
    return notLive("launch", handle, "load");
  auto *k = static_cast<AotKernel *>(handle);
  int declared = int(k->params.size());
  int expected = declared + int(k->dynamics.size());
  if (count != expected)
    return fail(TESSEL_RT_INVALID_ARGUMENT,
                "'" + k->name + "' takes " + std::to_string(expected) +
                    " arguments, got " + std::to_string(count));
  if (count && !args)
    return fail(TESSEL_RT_INVALID_ARGUMENT, "'" + k->name + "' takes " +
                                                std::to_string(expected) +
                                                " arguments, but args is NULL");
  // Each argument is a pointer to its value: none may be NULL.
  for (int i = 0; i < count; ++i)
    if (!args[i])
      return fail(TESSEL_RT_INVALID_ARGUMENT,
                  "args[" + std::to_string(i) + "] (" +
                      (i < declared ? "'" + k->params[i].name + "'"
                                    : "dynamic dimension '" + k->dynamics[i - declared] + "'") +
                      ") of '" + k->name + "' is NULL; pass a pointer to the value");
  // The dynamic dimensions follow the parameters: the tensors' extents and
  // the grid come from them.
  std::map<std::string, int64_t> dims;
  for (size_t i = 0; i < k->dynamics.size(); ++i) {
    int64_t value = *static_cast<const int64_t *>(args[declared + i]);
    if (value < 0)
      return fail(TESSEL_RT_INVALID_ARGUMENT, "dynamic dimension '" + k->dynamics[i] +
                                                  "' is " + std::to_string(value) +
                                                  "; it must not be negative");
    dims[k->dynamics[i]] = value;
  }
  uint32_t grid[3] = {k->grid[0], k->grid[1], k->grid[2]};
  for (int axis = 0; axis < 3; ++axis) {
    if (k->gridExprs[axis].empty())
      continue;
    size_t pos = 0;
    int64_t extent = 0;
    if (!evalGridExpression(k->gridExprs[axis], pos, dims, extent))
      return fail(TESSEL_RT_INVALID_ARGUMENT, "kernel descriptor: cannot evaluate the "
                                              "grid expression '" + k->gridExprs[axis] + "'");
    // CUDA's limits: x below 2^31, y and z at most 65,535. Zero blocks is
    // an empty launch (a zero dynamic dimension), not an error.
    int64_t limit = axis == 0 ? 2147483647 : 65535;
    if (extent < 0 || extent > limit)
      return fail(TESSEL_RT_INVALID_ARGUMENT,
                  std::string("grid extent ") + "xyz"[axis] + " = " + k->gridExprs[axis] +
                      " is " + std::to_string(extent) + " for these dimensions; CUDA launches " +
                      (extent < 0 ? "no negative extents" : "at most " + std::to_string(limit)) +
                      " along " + "xyz"[axis]);
    grid[axis] = uint32_t(extent);
  }
  for (int i = 0; i < declared; ++i) {
    if (!k->params[i].tensor)
      continue;
    uint64_t pointer = *static_cast<const uint64_t *>(args[i]);
    std::string arg = "argument '" + k->params[i].name + "'";
    if (!pointer)
      return fail(TESSEL_RT_INVALID_ARGUMENT, arg + " is a null pointer");
    if (pointer % 16)
      return fail(TESSEL_RT_INVALID_ARGUMENT,
                  arg + " is not 16-byte aligned; Tessel kernels load tiles in "
                        "16-byte vectors");
  }
  if (tessel_rt_status s = checkAliasing(*k, args, dims))
    return s;
  std::vector<void *> params(args, args + count);
  // No blocks (a zero dynamic extent): nothing to run.
  if (!grid[0] || !grid[1] || !grid[2])
    return TESSEL_RT_SUCCESS;
  for (const AotTensorMap &m : k->tensorMaps) {
    const AotParam &p = k->params[m.tensor];
    std::vector<int64_t> shape = p.shape;
    for (size_t d = 0; d < shape.size(); ++d)
      if (!p.dimNames[d].empty())
        shape[d] = dims[p.dimNames[d]];
    tessel_rt_tma_dtype dtype;
    if (!tmaDtype(p.dtype, dtype))
      return fail(TESSEL_RT_INVALID_ARGUMENT, "no TMA element type for " + p.dtype);
    const tessel_rt_tensor_map *map = nullptr;
    uint64_t pointer = *static_cast<const uint64_t *>(args[m.tensor]);
    if (tessel_rt_status s = tessel_rt_tensor_map_get(
            &map, dtype, int(shape.size()), pointer, shape.data(), nullptr,
            m.box.data(), m.swizzle))
      return fail(s, "the TMA descriptor for argument '" + p.name +
                         "': " + tessel_rt_last_error());
    if (m.param < int(params.size()))
      return fail(TESSEL_RT_INVALID_ARGUMENT, "kernel descriptor: tensor map "
                                              "parameter inside the arguments");
    params.resize(std::max<size_t>(params.size(), m.param + 1), nullptr);
    params[m.param] = const_cast<tessel_rt_tensor_map *>(map);
  }
  ContextScope scope;
  if (tessel_rt_status s = scope.enter(k->ctx))
    return s;
  return tessel_rt_launch(k->kernel, grid, params.data(), stream);
  });
}

void tessel_aot_unload(void *handle) {
  if (!handle)
    return;
  // Unloading a handle that is not live (twice, or garbage) does nothing
  // but say so: freeing it again would corrupt the engine's heap.
  if (!liveKernels().remove(handle)) {
    notLive("unload", handle, "load");
    return;
  }
  auto *k = static_cast<AotKernel *>(handle);
  if (driverStatus == TESSEL_RT_SUCCESS && k->kernel) {
    ContextScope scope;
    if (scope.enter(k->ctx) == TESSEL_RT_SUCCESS) {
      tessel_rt_kernel_destroy(k->kernel);
      k->kernel = nullptr;
    }
  }
  if (k->kernel)
    tessel_rt_kernel_destroy(k->kernel);
  delete k;
}

namespace {
struct AotDispatch {
  std::string keyName;
  std::vector<int64_t> keys; ///< exact keys, or (ranges) inclusive upper bounds
  std::vector<void *> handles;
  int dimArg = -1;           ///< ranges: where the dimension is in a launch's arguments
};
} // namespace

tessel_rt_status tessel_aot_dispatch_load(int count, const char *const *descriptors,
                                          const void *const *images, const size_t *sizes,
                                          const int64_t *keys, const char *key_name,
                                          void *ctx, void **out) {
  if (!out || count < 1 || !descriptors || !images || !sizes || !keys)
    return fail(TESSEL_RT_INVALID_ARGUMENT, "dispatch load needs its variant tables");
  *out = nullptr;
  auto d = std::make_unique<AotDispatch>();
  d->keyName = key_name ? key_name : "key";
  for (int i = 0; i < count; ++i) {
    void *handle = nullptr;
    if (tessel_rt_status s = tessel_aot_load(descriptors[i], images[i], sizes[i], ctx, &handle)) {
      for (void *h : d->handles)
        tessel_aot_unload(h);
      return s;
    }
    d->keys.push_back(keys[i]);
    d->handles.push_back(handle);
  }
  liveDispatches().add(d.get());
  *out = d.release();
  return TESSEL_RT_SUCCESS;
}

tessel_rt_status tessel_aot_dispatch_load_ranges(int count, const char *const *descriptors,
                                                 const void *const *images,
                                                 const size_t *sizes,
                                                 const int64_t *upper_bounds,
                                                 const char *dim_name, void *ctx,
                                                 void **out) {
  if (!dim_name)
    return fail(TESSEL_RT_INVALID_ARGUMENT, "dispatch load needs the dimension's name");
  for (int i = 1; i < count; ++i)
    if (upper_bounds && upper_bounds[i] <= upper_bounds[i - 1])
      return fail(TESSEL_RT_INVALID_ARGUMENT, "dispatch ranges must increase");
  void *loaded = nullptr;
  if (tessel_rt_status s = tessel_aot_dispatch_load(count, descriptors, images, sizes,
                                                    upper_bounds, dim_name, ctx, &loaded))
    return s;
  auto *d = static_cast<AotDispatch *>(loaded);
  // Where the dimension sits among the arguments: after the parameters, in
  // the order of the kernels' dynamic dimensions (the same in every variant).
  const auto *first = static_cast<const AotKernel *>(d->handles.front());
  for (void *h : d->handles) {
    const auto *k = static_cast<const AotKernel *>(h);
    if (k->dynamics != first->dynamics || k->params.size() != first->params.size()) {
      tessel_aot_dispatch_unload(d);
      return fail(TESSEL_RT_INVALID_ARGUMENT, "dispatch variants take different arguments");
    }
  }
  auto it = std::find(first->dynamics.begin(), first->dynamics.end(), d->keyName);
  if (it == first->dynamics.end()) {
    std::string message =
        "'" + d->keyName + "' is not a dynamic dimension of '" + first->name + "'";
    tessel_aot_dispatch_unload(d); // `first` goes with it
    return fail(TESSEL_RT_INVALID_ARGUMENT, message);
  }
  d->dimArg = int(first->params.size() + (it - first->dynamics.begin()));
  *out = d;
  return TESSEL_RT_SUCCESS;
}

tessel_rt_status tessel_aot_dispatch_launch_ranges(void *dispatch, void *stream,
                                                   void *const *args, int count) {
  auto held = liveDispatches().hold(dispatch);
  if (dispatch && !held)
    return notLive("dispatch launch", dispatch, "dispatch_load_ranges");
  auto *d = static_cast<AotDispatch *>(dispatch);
  if (!d || d->dimArg < 0)
    return fail(TESSEL_RT_INVALID_ARGUMENT,
                "launch needs a handle from dispatch_load_ranges (this one is "
                "NULL or an exact-key dispatcher)");
  if (count <= d->dimArg || !args || !args[d->dimArg])
    return tessel_aot_launch(d->handles.front(), stream, args, count); // its error
  int64_t value = *static_cast<const int64_t *>(args[d->dimArg]);
  for (size_t i = 0; i < d->keys.size(); ++i)
    if (value <= d->keys[i])
      return tessel_aot_launch(d->handles[i], stream, args, count);
  return tessel_aot_launch(d->handles.back(), stream, args, count);
}

tessel_rt_status tessel_aot_dispatch_launch(void *dispatch, int64_t key, void *stream,
                                            void *const *args, int count) {
  if (!dispatch)
    return fail(TESSEL_RT_INVALID_ARGUMENT,
                "launch needs a handle from load (this one is NULL)");
  auto held = liveDispatches().hold(dispatch);
  if (!held)
    return notLive("dispatch launch", dispatch, "dispatch_load");
  auto *d = static_cast<AotDispatch *>(dispatch);
  for (size_t i = 0; i < d->keys.size(); ++i)
    if (d->keys[i] == key)
      return tessel_aot_launch(d->handles[i], stream, args, count);
  std::string known;
  for (size_t i = 0; i < d->keys.size(); ++i)
    known += (i ? ", " : "") + std::to_string(d->keys[i]);
  return fail(TESSEL_RT_INVALID_ARGUMENT, "no variant was compiled for " + d->keyName + " = " +
                                              std::to_string(key) + " (compiled: " + known + ")");
}

void tessel_aot_dispatch_unload(void *dispatch) {
  if (!dispatch)
    return;
  if (!liveDispatches().remove(dispatch)) {
    notLive("dispatch unload", dispatch, "dispatch_load");
    return;
  }
  auto *d = static_cast<AotDispatch *>(dispatch);
  for (void *h : d->handles)
    tessel_aot_unload(h);
  delete d;
}

const char *tessel_status_string(int status) {
  return tessel_rt_status_string(static_cast<tessel_rt_status>(status));
}

const char *tessel_last_error(void) { return tessel_rt_last_error(); }

} // extern "C"
