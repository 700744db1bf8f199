//===- tessel-emu.cpp - run a compiled kernel on the Hopper emulator -------===//
//
// tessel-emu NAME.json [NAME.ptx] ARG... -o DIR: the kernel tesselc compiled
// (its manifest and PTX), run on Tessel's emulator with its tensors read
// from .npy files and its scalars from the command line; every tensor the
// kernel writes is saved as DIR/<param>.npy. The launch goes through the
// runtime's ahead-of-time entry points, as a generated launcher's does, so
// grids computed from dynamic dimensions, TMA descriptors and argument
// checks are the launchers' own.
//
//===----------------------------------------------------------------------===//

#include "tools/tessel-emu/Npy.h"

#include "tessel/runtime.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/raw_ostream.h"

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace llvm;

namespace {

cl::OptionCategory category("tessel-emu options");

cl::list<std::string> positional(cl::Positional, cl::OneOrMore,
                                 cl::desc("<NAME.json> [NAME.ptx] <argument>..."), cl::cat(category));
cl::opt<std::string> outDir("o", cl::desc("Directory for the tensors the kernel writes "
                                          "(default: the current directory)"),
                            cl::value_desc("dir"), cl::init("."), cl::cat(category));
cl::opt<bool> racecheck("racecheck", cl::desc("Check shared-memory accesses for races "
                                              "between unordered threads"), cl::cat(category));
cl::opt<std::string> seed("seed", cl::desc("Shuffle thread order and land async copies at "
                                           "random legal points, from this seed"),
                          cl::value_desc("n"), cl::cat(category));
cl::opt<int> trace("trace", cl::desc("Trace the instructions of this (linear) block, warp "
                                     "by warp"),
                   cl::value_desc("block"), cl::init(-1), cl::cat(category));
cl::opt<std::string> traceFile("trace-file", cl::desc("Write the trace here (default: stderr)"),
                               cl::value_desc("file"), cl::cat(category));

struct Param {
  std::string name, dtype;
  bool tensor = false, written = false;
  std::vector<int64_t> shape;
  std::vector<std::string> dynamicNames;
};

[[noreturn]] void die(const Twine &message) {
  errs() << "tessel-emu: error: " << message << "\n";
  std::exit(1);
}

std::string readFile(const std::string &path) {
  auto buffer = MemoryBuffer::getFile(path);
  if (!buffer)
    die("cannot read " + path + ": " + buffer.getError().message());
  return (*buffer)->getBuffer().str();
}

size_t elementBytes(const std::string &dtype) {
  if (dtype == "float16" || dtype == "bfloat16" || dtype == "int16" || dtype == "uint16")
    return 2;
  if (dtype == "float32" || dtype == "int32" || dtype == "uint32")
    return 4;
  if (dtype == "float64" || dtype == "int64" || dtype == "uint64")
    return 8;
  if (dtype == "int8" || dtype == "uint8" || dtype == "bool" || dtype == "float8_e4m3" ||
      dtype == "float8_e5m2")
    return 1;
  die("the manifest names an unknown dtype '" + dtype + "'");
}

void check(tessel_rt_status status, const Twine &what) {
  if (status != TESSEL_RT_SUCCESS)
    die(what + ": " + tessel_rt_status_string(status) + "\n" + tessel_rt_last_error());
}

} // namespace

int main(int argc, char **argv) {
  cl::SetVersionPrinter([](raw_ostream &os) { os << "tessel-emu (Tessel 0.1.0)\n"; });
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "tessel-emu: run a kernel tesselc compiled on Tessel's Hopper emulator\n\n"
      "  tessel-emu NAME.json [NAME.ptx] ARG... -o DIR\n\n"
      "NAME.json is the manifest (tesselc --emit ptx,manifest); the PTX is NAME.ptx\n"
      "beside it unless given. One ARG per kernel parameter, in order: a .npy file\n"
      "for a tensor (its dtype's bytes: bfloat16 and fp8 as 2- and 1-byte integers),\n"
      "'zeros' for a tensor to start at zero, a number for a scalar. Dynamic\n"
      "dimensions are read from the tensors' shapes. Every tensor the kernel\n"
      "writes is saved as DIR/<parameter>.npy.\n");
  // The emulator unless the caller named another driver (a GPU's libcuda).
  setenv("TESSEL_CUDA_DRIVER", "emu", /*overwrite=*/0);
  if (racecheck)
    setenv("TESSEL_EMU_RACECHECK", "1", 1);
  if (!seed.empty())
    setenv("TESSEL_EMU_SEED", seed.c_str(), 1);
  if (trace >= 0) {
    setenv("TESSEL_EMU_TRACE", std::to_string(trace).c_str(), 1);
    if (!traceFile.empty())
      setenv("TESSEL_EMU_TRACE_FILE", traceFile.c_str(), 1);
  }

  std::string manifestPath = positional[0];
  Expected<json::Value> parsed = json::parse(readFile(manifestPath));
  if (!parsed)
    die(manifestPath + " is not JSON: " + toString(parsed.takeError()));
  const json::Object *manifest = parsed->getAsObject();
  if (!manifest || !manifest->getString("name"))
    die(manifestPath + " is not a Tessel kernel manifest");
  std::vector<Param> params;
  if (const json::Array *ps = manifest->getArray("params"))
    for (const json::Value &v : *ps) {
      const json::Object *o = v.getAsObject();
      Param p;
      p.name = o->getString("name").value_or("").str();
      p.dtype = o->getString("dtype").value_or("").str();
      p.tensor = o->getBoolean("tensor").value_or(false);
      p.written = o->getBoolean("written").value_or(false);
      if (const json::Array *shape = o->getArray("shape"))
        for (const json::Value &d : *shape)
          p.shape.push_back(d.getAsInteger().value_or(0));
      p.dynamicNames.assign(p.shape.size(), "");
      if (const json::Array *names = o->getArray("dynamic_names"))
        for (size_t d = 0; d < names->size() && d < p.shape.size(); ++d)
          p.dynamicNames[d] = (*names)[d].getAsString().value_or("").str();
      params.push_back(std::move(p));
    }

  size_t next = 1;
  std::string ptxPath;
  if (next < positional.size() && StringRef(positional[next]).ends_with(".ptx"))
    ptxPath = positional[next++];
  else
    ptxPath = (sys::path::parent_path(manifestPath) +
               (sys::path::parent_path(manifestPath).empty() ? "" : "/") +
               sys::path::stem(manifestPath) + ".ptx")
                  .str();
  if (positional.size() - next != params.size())
    die("'" + *manifest->getString("name") + "' takes " + Twine(params.size()) +
        " arguments, got " + Twine(positional.size() - next));

  // Tensors first: their shapes give the dynamic dimensions.
  std::map<std::string, int64_t> dims;
  std::vector<tessel::NpyArray> arrays(params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    const Param &p = params[i];
    const std::string &arg = positional[next + i];
    if (!p.tensor || arg == "zeros")
      continue;
    std::string why;
    if (!tessel::readNpy(arg, arrays[i], why))
      die(arg + ": " + why);
    if (arrays[i].itemSize != elementBytes(p.dtype))
      die(arg + ": " + Twine(arrays[i].itemSize) + "-byte elements, but '" + p.name +
          "' is " + p.dtype);
    if (arrays[i].shape.size() != p.shape.size())
      die(arg + ": rank " + Twine(arrays[i].shape.size()) + ", but '" + p.name + "' has rank " +
          Twine(p.shape.size()));
    for (size_t d = 0; d < p.shape.size(); ++d) {
      int64_t got = arrays[i].shape[d];
      if (p.shape[d] >= 0 && got != p.shape[d])
        die(arg + ": dimension " + Twine(d) + " is " + Twine(got) + ", but '" + p.name +
            "' has " + Twine(p.shape[d]));
      if (p.shape[d] < 0) {
        auto [it, fresh] = dims.emplace(p.dynamicNames[d], got);
        if (!fresh && it->second != got)
          die("dynamic dimension '" + p.dynamicNames[d] + "' is " + Twine(it->second) +
              " in an earlier tensor but " + Twine(got) + " in " + arg);
      }
    }
  }
  std::vector<std::string> dynamicOrder;
  if (const json::Array *ds = manifest->getArray("dynamic_dims"))
    for (const json::Value &d : *ds)
      dynamicOrder.push_back(d.getAsString().value_or("").str());
  for (const std::string &name : dynamicOrder)
    if (!dims.count(name))
      die("no tensor argument gives the dynamic dimension '" + name + "'");

  // Device buffers, and one argument slot per parameter (then the dims).
  std::vector<uint64_t> pointers(params.size(), 0);
  std::vector<std::unique_ptr<uint64_t>> scalars;
  std::vector<void *> args;
  for (size_t i = 0; i < params.size(); ++i) {
    const Param &p = params[i];
    const std::string &arg = positional[next + i];
    if (!p.tensor) {
      auto slot = std::make_unique<uint64_t>(0);
      char *end = nullptr;
      if (p.dtype == "float32") {
        float f = std::strtof(arg.c_str(), &end);
        std::memcpy(slot.get(), &f, 4);
      } else if (p.dtype == "float64") {
        double d = std::strtod(arg.c_str(), &end);
        std::memcpy(slot.get(), &d, 8);
      } else if (p.dtype == "int32" || p.dtype == "int64") {
        int64_t v = std::strtoll(arg.c_str(), &end, 0);
        std::memcpy(slot.get(), &v, p.dtype == "int32" ? 4 : 8);
      } else {
        die("scalar '" + p.name + "' is " + p.dtype + ", which tessel-emu cannot pass");
      }
      if (!end || *end || arg.empty())
        die("scalar '" + p.name + "': '" + arg + "' is not a number");
      args.push_back(slot.get());
      scalars.push_back(std::move(slot));
      continue;
    }
    if (arg == "zeros") {
      tessel::NpyArray &a = arrays[i];
      a.itemSize = elementBytes(p.dtype);
      for (size_t d = 0; d < p.shape.size(); ++d)
        a.shape.push_back(p.shape[d] >= 0 ? p.shape[d] : dims[p.dynamicNames[d]]);
      size_t count = 1;
      for (int64_t e : a.shape)
        count *= size_t(e);
      a.data.assign(count * a.itemSize, 0);
    }
    size_t bytes = std::max<size_t>(arrays[i].data.size(), 16);
    check(tessel_rt_mem_alloc(bytes, &pointers[i]), "allocating '" + p.name + "'");
    check(tessel_rt_memcpy_to_device(pointers[i], arrays[i].data.data(), arrays[i].data.size()),
          "copying '" + p.name + "' to the device");
    args.push_back(&pointers[i]);
  }
  std::vector<int64_t> dimValues;
  for (const std::string &name : dynamicOrder)
    dimValues.push_back(dims[name]);
  for (int64_t &v : dimValues)
    args.push_back(&v);

  std::string ptx = readFile(ptxPath);
  // What a launcher embeds, so the run is the launcher's (registers included).
  std::optional<StringRef> text = manifest->getString("launch_descriptor");
  if (!text)
    die(manifestPath + " has no launch_descriptor: it was written by an older tesselc; "
                       "compile the kernel again");
  void *handle = nullptr;
  check(tessel_aot_load(text->str().c_str(), ptx.c_str(), ptx.size() + 1, nullptr, &handle),
        "loading " + ptxPath);
  check(tessel_aot_launch(handle, nullptr, args.data(), int(args.size())),
        "running '" + *manifest->getString("name") + "'");
  tessel_aot_unload(handle);

  if (std::error_code ec = sys::fs::create_directories(outDir.getValue()))
    die("cannot create " + outDir + ": " + ec.message());
  for (size_t i = 0; i < params.size(); ++i) {
    const Param &p = params[i];
    if (!p.tensor || !p.written)
      continue;
    tessel::NpyArray &a = arrays[i];
    check(tessel_rt_memcpy_to_host(a.data.data(), pointers[i], a.data.size()),
          "copying '" + p.name + "' back");
    std::string path = outDir + "/" + p.name + ".npy";
    std::string why;
    if (!tessel::writeNpy(path, a, p.dtype, why))
      die(path + ": " + why);
    outs() << "wrote " << path << "\n";
  }
  for (uint64_t ptr : pointers)
    tessel_rt_mem_free(ptr);
  return 0;
}
