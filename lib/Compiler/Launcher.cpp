//===- Launcher.cpp - C headers and host objects for compiled kernels ------===//
//
// `tesselc --emit header,object` turns a compiled kernel into NAME.h and
// NAME.o for programs that link kernels instead of running Python. NAME.o is
// a host object Tessel writes itself (LLVM's code generator for the machine
// tesselc runs on, no C compiler involved): the kernel image, a descriptor
// of the kernel in text, and three small functions that hand both to the
// runtime (libtessel_runtime), which loads, checks and launches.
//
//===----------------------------------------------------------------------===//

#include "tessel/Compiler.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/IR/IRBuilder.h"
#include "llvm/IR/LLVMContext.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/MC/TargetRegistry.h"
#include "llvm/Object/ArchiveWriter.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/SHA256.h"

#include <cctype>
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/Target/TargetMachine.h"
#include "llvm/TargetParser/Host.h"

#include <cstdio>
#include <mutex>

namespace tessel {
namespace {

/// The C type a scalar parameter is passed as, or "" when the launcher
/// cannot pass it.
std::string scalarCType(const std::string &dtype) {
  if (dtype == "float32")
    return "float";
  if (dtype == "float64")
    return "double";
  if (dtype == "int32")
    return "int32_t";
  if (dtype == "int64")
    return "int64_t";
  if (dtype == "uint32")
    return "uint32_t";
  if (dtype == "uint64")
    return "uint64_t";
  return "";
}

llvm::Type *scalarLLVMType(llvm::LLVMContext &ctx, const std::string &dtype) {
  if (dtype == "float32")
    return llvm::Type::getFloatTy(ctx);
  if (dtype == "float64")
    return llvm::Type::getDoubleTy(ctx);
  if (dtype == "int32" || dtype == "uint32")
    return llvm::Type::getInt32Ty(ctx);
  return llvm::Type::getInt64Ty(ctx);
}

/// A dynamic dimension as a C parameter name: its T.dynamic name, or for
/// one an annotation computes (`mul(seq,4)`) a name made of its letters
/// (`dim_mul_seq_4`); its value is still the caller's to pass.
std::string cIdentifier(const std::string &name) {
  bool plain = !name.empty() && (std::isalpha(static_cast<unsigned char>(name[0])) ||
                                 name[0] == '_');
  for (char c : name)
    plain = plain && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (plain)
    return name;
  std::string id = "dim_";
  for (char c : name) {
    if (std::isalnum(static_cast<unsigned char>(c)))
      id += c;
    else if (id.back() != '_')
      id += '_';
  }
  while (id.back() == '_')
    id.pop_back();
  return id;
}

std::string shapeText(const KernelParam &p) {
  std::string s;
  for (size_t d = 0; d < p.shape.size(); ++d)
    s += "[" + (p.shape[d] < 0 ? p.dynamicNames[d] : std::to_string(p.shape[d])) + "]";
  return s;
}

/// What the runtime reads back (tessel_aot_load's descriptor).
std::string descriptorText(const CUDAKernel &k, const KernelSignature &sig) {
  std::string text;
  llvm::raw_string_ostream os(text);
  // Version 2 adds dynamic dimensions: a name in place of an extent, the
  // names the launch takes after the parameters (`dynamic`), and grid
  // extents computed from them (`grid_expr DIM EXPR`). Version 3 adds the
  // register count ptxas chose (`registers N`), for the emulator. Version 4
  // adds the tensors the kernel writes (`writes NAME`) and those declared
  // in_place (`in_place NAME`), for the launch's aliasing check. The
  // version is the oldest runtime that can read the text.
  bool dynamic = !k.dynamicParams.empty();
  bool writes = llvm::any_of(sig.params, [](const KernelParam &p) {
    return p.isBuffer && (p.isWritten || p.inPlace);
  });
  int version = writes ? 4 : k.registers > 0 ? 3 : dynamic ? 2 : 1;
  os << "tessel-aot " << version << "\nkernel " << k.name << "\nthreads "
     << k.threads << "\nshared " << k.sharedBytes << "\ngrid " << k.grid[0] << " "
     << k.grid[1] << " " << k.grid[2] << "\n";
  if (k.registers > 0)
    os << "registers " << k.registers << "\n";
  for (size_t i = 0; i < k.gridExprs.size(); ++i)
    if (!k.gridExprs[i].empty())
      os << "grid_expr " << i << " " << k.gridExprs[i] << "\n";
  for (const KernelParam &p : sig.params) {
    os << "param " << p.name << (p.isBuffer ? " tensor " : " scalar ") << p.dtype;
    if (p.isBuffer) {
      os << " " << p.shape.size();
      for (size_t d = 0; d < p.shape.size(); ++d) {
        if (p.shape[d] < 0)
          os << " " << p.dynamicNames[d];
        else
          os << " " << p.shape[d];
      }
    }
    os << "\n";
  }
  for (const std::string &name : k.dynamicParams)
    os << "dynamic " << name << "\n";
  for (const KernelParam &p : sig.params) {
    if (p.isBuffer && p.isWritten)
      os << "writes " << p.name << "\n";
    if (p.isBuffer && p.inPlace)
      os << "in_place " << p.name << "\n";
  }
  for (const CUDAKernel::TensorMap &m : k.tensorMaps) {
    os << "tensor_map " << m.param << " " << m.tensor << " " << m.swizzle << " "
       << m.box.size();
    for (int64_t b : m.box)
      os << " " << b;
    os << "\n";
  }
  return text;
}

std::string headerText(const std::string &name, const CUDAKernel &k,
                       const KernelSignature &sig, const std::string &arch,
                       const std::string &image) {
  std::string upper = llvm::StringRef(name).upper();
  std::string guard = "TESSEL_KERNEL_" + upper + "_H";
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "/* " << name << ".h: the launcher of Tessel kernel '" << name
     << "' for " << arch << ",\n * generated by tesselc " << version()
     << ". Link " << name << ".o (or lib" << name
     << ".a) and libtessel_runtime.\n *\n"
     << " * The kernel image inside: " << image << ".\n"
     << " * Nothing here needs the CUDA toolkit or a driver to build and link: "
        "the\n"
     << " * runtime opens libcuda.so.1 when a kernel is loaded, and a machine "
        "without\n"
     << " * one gets TESSEL_NO_DRIVER. Every call returns a status; none exits "
        "the\n * process. */\n"
     << "#ifndef " << guard << "\n#define " << guard << "\n\n"
     << "#include <stdint.h>\n\n"
     << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
     << "#ifndef CUDA_VERSION /* the driver API's handle types, as cuda.h has "
        "them */\n"
     << "typedef struct CUctx_st *CUcontext;\n"
     << "typedef struct CUstream_st *CUstream;\n"
     << "typedef unsigned long long CUdeviceptr;\n#endif\n\n"
     << "#ifndef TESSEL_STATUS_DEFINED /* shared by every Tessel kernel header "
        "*/\n#define TESSEL_STATUS_DEFINED\n"
     << "typedef enum tessel_status {\n"
     << "  TESSEL_SUCCESS = 0,\n"
     << "  TESSEL_NO_DRIVER = 1,        /* libcuda.so.1 not found */\n"
     << "  TESSEL_NO_DEVICE = 2,        /* the driver sees no usable GPU */\n"
     << "  TESSEL_DRIVER_ERROR = 3,     /* a driver call failed */\n"
     << "  TESSEL_INVALID_ARGUMENT = 4, /* an argument failed its check */\n"
     << "  TESSEL_INVALID_IMAGE = 5,    /* the driver rejected the kernel */\n"
     << "  TESSEL_COMPILE_ERROR = 6     /* the kernel did not compile (C API) */\n"
     << "} tessel_status;\n"
     << "/* A fixed description of a status, e.g. \"no CUDA driver found\". */\n"
     << "const char *tessel_status_string(tessel_status status);\n"
     << "/* The calling thread's last failure in detail (\"\" if none). */\n"
     << "const char *tessel_last_error(void);\n#endif\n\n"
     << "/* A loaded kernel: one per CUDA context. */\n"
     << "typedef struct tessel_" << name << "_handle tessel_" << name
     << "_handle;\n\n"
     << "/* Loads the kernel into `ctx` (0: the calling thread's current "
        "context, or\n * device 0's primary context when there is none). */\n"
     << "tessel_status tessel_" << name << "_load(CUcontext ctx, tessel_" << name
     << "_handle **out);\n\n"
     << "/* Launches on `stream` (0: the legacy default stream) in the handle's "
        "context.\n"
     << " * Tensors are contiguous, row-major device memory, 16-byte aligned:\n";
  for (const KernelParam &p : sig.params) {
    if (p.isBuffer)
      os << " *   " << p.name << ": " << p.dtype << shapeText(p)
         << (p.isWorkspace ? ", workspace (T.alloc_global: scratch the caller allocates; "
                             "its contents on entry do not matter)"
             : p.isWritten ? ", written"
                           : ", read")
         << "\n";
    else
      os << " *   " << p.name << ": " << p.dtype << " scalar\n";
  }
  if (!k.dynamicParams.empty()) {
    os << " * then each dynamic dimension's value (tensors that name it must have "
          "it):\n";
    for (const std::string &d : k.dynamicParams)
      os << " *   " << cIdentifier(d) << ": int64_t"
         << (cIdentifier(d) != d ? " (= " + d + ")" : std::string()) << "\n";
  }
  os << " * The handle may be used from many threads at once. */\n"
     << "tessel_status tessel_" << name << "_launch(tessel_" << name
     << "_handle *kernel, CUstream stream";
  for (const KernelParam &p : sig.params)
    os << ",\n    " << (p.isBuffer ? "CUdeviceptr" : scalarCType(p.dtype)) << " "
       << p.name;
  for (const std::string &d : k.dynamicParams)
    os << ",\n    int64_t " << cIdentifier(d);
  os << ");\n\n"
     << "/* Unloads the kernel; the handle is not used again. */\n"
     << "void tessel_" << name << "_unload(tessel_" << name << "_handle *kernel);\n\n"
     << "/* What a launch runs: blocks, threads per block, dynamic shared "
        "bytes. */\n"
     ;
  // An extent computed at launch has no macro; its expression is said.
  for (int i = 0; i < 3; ++i) {
    const char *axis = i == 0 ? "X" : i == 1 ? "Y" : "Z";
    if (size_t(i) < k.gridExprs.size() && !k.gridExprs[i].empty())
      os << "/* TESSEL_" << upper << "_GRID_" << axis << ": " << k.gridExprs[i]
         << ", at launch */\n";
    else
      os << "#define TESSEL_" << upper << "_GRID_" << axis << " " << k.grid[i] << "\n";
  }
  os << "#define TESSEL_" << upper << "_THREADS " << k.threads << "\n"
     << "#define TESSEL_" << upper << "_SHARED_BYTES " << k.sharedBytes << "\n\n"
     << "#ifdef __cplusplus\n}\n#endif\n\n#endif /* " << guard << " */\n";
  return text;
}

/// One kernel of a host object: the name its entry points carry, and what
/// they embed.
struct HostKernel {
  std::string symbol;
  const CUDAKernel *kernel;
  const KernelSignature *signature;
  std::string image, descriptor;
};

/// The launch function's parameter types after (handle, stream), or an error
/// for a scalar the C launcher cannot pass.
bool launchParams(llvm::LLVMContext &ctx, const CUDAKernel &kernel,
                  const KernelSignature &sig,
                  llvm::SmallVectorImpl<llvm::Type *> &params, std::string &error) {
  for (const KernelParam &p : sig.params) {
    if (!p.isBuffer && scalarCType(p.dtype).empty()) {
      error = "parameter '" + p.name + "' is a " + p.dtype +
              " scalar, which the C launcher cannot pass yet (it passes "
              "tensors and float32, float64, int32 and int64 scalars)";
      return false;
    }
    params.push_back(p.isBuffer ? llvm::Type::getInt64Ty(ctx)
                                : scalarLLVMType(ctx, p.dtype));
  }
  for (size_t i = 0; i < kernel.dynamicParams.size(); ++i)
    params.push_back(llvm::Type::getInt64Ty(ctx));
  return true;
}

/// Stores arguments `first..` of `f` and an array of their addresses.
llvm::Value *argumentArray(llvm::IRBuilder<> &b, llvm::Function *f, unsigned first,
                           unsigned n) {
  auto *ptr = llvm::PointerType::get(b.getContext(), 0);
  auto *array = llvm::ArrayType::get(ptr, std::max(n, 1u));
  llvm::Value *addresses = b.CreateAlloca(array, nullptr, "args");
  for (unsigned i = 0; i < n; ++i) {
    llvm::Value *arg = f->getArg(first + i);
    llvm::Value *slot = b.CreateAlloca(arg->getType());
    b.CreateStore(arg, slot);
    b.CreateStore(slot, b.CreateConstInBoundsGEP2_32(array, addresses, 0, i));
  }
  return addresses;
}

/// The host object: per kernel its image, descriptor and three entry points
/// (tessel_SYMBOL_load/launch/unload); with `dispatch`, also
/// tessel_DISPATCH_dispatch_load/launch/unload over all of them, choosing by
/// `keys`.
bool hostObject(llvm::ArrayRef<HostKernel> kernels, const std::string &dispatch,
                llvm::ArrayRef<int64_t> keys, const std::string &keyName, bool ranges,
                std::string &object, std::string &error) {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
  llvm::LLVMContext ctx;
  llvm::Module module("tessel_" + kernels.front().symbol, ctx);
  llvm::Triple triple(llvm::sys::getProcessTriple());
  std::string lookupError;
  const llvm::Target *target = llvm::TargetRegistry::lookupTarget(triple, lookupError);
  if (!target) {
    error = "no code generator for this machine (" + triple.str() + "): " + lookupError;
    return false;
  }
  std::unique_ptr<llvm::TargetMachine> machine(target->createTargetMachine(
      triple, "generic", "", llvm::TargetOptions(), llvm::Reloc::PIC_));
  module.setTargetTriple(triple);
  module.setDataLayout(machine->createDataLayout());

  auto *i32 = llvm::Type::getInt32Ty(ctx);
  auto *i64 = llvm::Type::getInt64Ty(ctx);
  auto *ptr = llvm::PointerType::get(ctx, 0);
  auto *voidTy = llvm::Type::getVoidTy(ctx);
  auto constantBytes = [&](llvm::StringRef bytes, const char *name, unsigned align) {
    auto *init = llvm::ConstantDataArray::getString(ctx, bytes, /*AddNull=*/true);
    auto *global = new llvm::GlobalVariable(module, init->getType(), true,
                                            llvm::GlobalValue::PrivateLinkage, init, name);
    global->setAlignment(llvm::Align(align));
    return global;
  };
  auto define = [&](const std::string &name, llvm::Type *result,
                    llvm::ArrayRef<llvm::Type *> params) {
    auto *f = llvm::Function::Create(llvm::FunctionType::get(result, params, false),
                                     llvm::GlobalValue::ExternalLinkage, name, module);
    f->addFnAttr(llvm::Attribute::NoUnwind);
    return f;
  };
  llvm::FunctionCallee aotLoad = module.getOrInsertFunction(
      "tessel_aot_load", llvm::FunctionType::get(i32, {ptr, ptr, i64, ptr, ptr}, false));
  llvm::FunctionCallee aotLaunch = module.getOrInsertFunction(
      "tessel_aot_launch", llvm::FunctionType::get(i32, {ptr, ptr, ptr, i32}, false));
  llvm::FunctionCallee aotUnload = module.getOrInsertFunction(
      "tessel_aot_unload", llvm::FunctionType::get(voidTy, {ptr}, false));

  llvm::SmallVector<llvm::Constant *> descriptors, images, sizes;
  for (const HostKernel &hk : kernels) {
    llvm::GlobalVariable *imageGlobal = constantBytes(hk.image, "tessel.image", 64);
    llvm::GlobalVariable *descGlobal = constantBytes(hk.descriptor, "tessel.descriptor", 1);
    descriptors.push_back(descGlobal);
    images.push_back(imageGlobal);
    sizes.push_back(llvm::ConstantInt::get(i64, hk.image.size()));
    {
      llvm::Function *f = define("tessel_" + hk.symbol + "_load", i32, {ptr, ptr});
      llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", f));
      b.CreateRet(b.CreateCall(aotLoad, {descGlobal, imageGlobal, b.getInt64(hk.image.size()),
                                         f->getArg(0), f->getArg(1)}));
    }
    {
      llvm::SmallVector<llvm::Type *> params{ptr, ptr};
      if (!launchParams(ctx, *hk.kernel, *hk.signature, params, error))
        return false;
      llvm::Function *f = define("tessel_" + hk.symbol + "_launch", i32, params);
      llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", f));
      unsigned n = params.size() - 2;
      llvm::Value *addresses = argumentArray(b, f, 2, n);
      b.CreateRet(b.CreateCall(aotLaunch, {f->getArg(0), f->getArg(1), addresses,
                                           b.getInt32(n)}));
    }
    {
      llvm::Function *f = define("tessel_" + hk.symbol + "_unload", voidTy, {ptr});
      llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", f));
      b.CreateCall(aotUnload, {f->getArg(0)});
      b.CreateRetVoid();
    }
  }

  if (!dispatch.empty()) {
    // Tables of the variants, and entry points that hand them to the
    // runtime's dispatcher.
    auto table = [&](llvm::Type *elt, llvm::ArrayRef<llvm::Constant *> values,
                     const char *name) {
      auto *type = llvm::ArrayType::get(elt, values.size());
      return new llvm::GlobalVariable(module, type, true, llvm::GlobalValue::PrivateLinkage,
                                      llvm::ConstantArray::get(type, values), name);
    };
    llvm::SmallVector<llvm::Constant *> keyConstants;
    for (int64_t key : keys)
      keyConstants.push_back(llvm::ConstantInt::get(i64, key));
    auto *descTable = table(ptr, descriptors, "tessel.descriptors");
    auto *imageTable = table(ptr, images, "tessel.images");
    auto *sizeTable = table(i64, sizes, "tessel.sizes");
    auto *keyTable = table(i64, keyConstants, "tessel.keys");
    auto *keyNameGlobal = constantBytes(keyName, "tessel.key_name", 1);
    llvm::FunctionCallee dispatchLoad = module.getOrInsertFunction(
        ranges ? "tessel_aot_dispatch_load_ranges" : "tessel_aot_dispatch_load",
        llvm::FunctionType::get(i32, {i32, ptr, ptr, ptr, ptr, ptr, ptr, ptr}, false));
    llvm::FunctionCallee dispatchLaunch =
        ranges ? module.getOrInsertFunction(
                     "tessel_aot_dispatch_launch_ranges",
                     llvm::FunctionType::get(i32, {ptr, ptr, ptr, i32}, false))
               : module.getOrInsertFunction(
                     "tessel_aot_dispatch_launch",
                     llvm::FunctionType::get(i32, {ptr, i64, ptr, ptr, i32}, false));
    llvm::FunctionCallee dispatchUnload = module.getOrInsertFunction(
        "tessel_aot_dispatch_unload", llvm::FunctionType::get(voidTy, {ptr}, false));
    {
      llvm::Function *f = define("tessel_" + dispatch + "_dispatch_load", i32, {ptr, ptr});
      llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", f));
      b.CreateRet(b.CreateCall(dispatchLoad,
                               {b.getInt32(kernels.size()), descTable, imageTable, sizeTable,
                                keyTable, keyNameGlobal, f->getArg(0), f->getArg(1)}));
    }
    {
      // Exact keys: (handle, stream, key, arguments...); ranges: (handle,
      // stream, arguments...), the key among the arguments.
      llvm::SmallVector<llvm::Type *> params{ptr, ptr};
      if (!ranges)
        params.push_back(i64);
      unsigned first = params.size();
      if (!launchParams(ctx, *kernels.front().kernel, *kernels.front().signature, params,
                        error))
        return false;
      llvm::Function *f = define("tessel_" + dispatch + "_dispatch_launch", i32, params);
      llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", f));
      unsigned n = params.size() - first;
      llvm::Value *addresses = argumentArray(b, f, first, n);
      if (ranges)
        b.CreateRet(b.CreateCall(dispatchLaunch,
                                 {f->getArg(0), f->getArg(1), addresses, b.getInt32(n)}));
      else
        b.CreateRet(b.CreateCall(dispatchLaunch, {f->getArg(0), f->getArg(2), f->getArg(1),
                                                  addresses, b.getInt32(n)}));
    }
    {
      llvm::Function *f = define("tessel_" + dispatch + "_dispatch_unload", voidTy, {ptr});
      llvm::IRBuilder<> b(llvm::BasicBlock::Create(ctx, "entry", f));
      b.CreateCall(dispatchUnload, {f->getArg(0)});
      b.CreateRetVoid();
    }
  }

  llvm::SmallString<0> buffer;
  llvm::raw_svector_ostream os(buffer);
  llvm::legacy::PassManager pm;
  if (machine->addPassesToEmitFile(pm, os, nullptr, llvm::CodeGenFileType::ObjectFile)) {
    error = "this machine's code generator cannot write object files";
    return false;
  }
  pm.run(module);
  object.assign(buffer.begin(), buffer.end());
  return true;
}

/// What a launcher embeds for `kernel`, and how its header describes it.
std::pair<std::string, std::string> imageOf(const CUDAKernel &kernel, const std::string &arch) {
  if (!kernel.fatbin.empty())
    return {kernel.fatbin, "a fatbin (the " + arch + " cubin and its PTX, which newer GPUs JIT)"};
  if (!kernel.cubin.empty())
    return {kernel.cubin, "the " + arch + " cubin"};
  return {kernel.ptx, "PTX for " + arch + " (the driver compiles it at load)"};
}

/// JSON string escaping for names and dtypes.
std::string quoted(llvm::StringRef s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    if (static_cast<unsigned char>(c) < 0x20) {
      char escape[8];
      std::snprintf(escape, sizeof(escape), "\\u%04x", unsigned(static_cast<unsigned char>(c)));
      out += escape;
      continue;
    }
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

} // namespace

std::string manifestJSON(const CUDAKernel &k, const KernelSignature &sig,
                         const std::string &arch, const std::string &sourceHash) {
  std::string text;
  llvm::raw_string_ostream os(text);
  os << "{\n  \"name\": " << quoted(k.name) << ",\n  \"arch\": "
     << quoted(arch) << ",\n  \"compiler\": " << quoted(version())
     << ",\n  \"grid\": [" << k.grid[0] << ", " << k.grid[1] << ", "
     << k.grid[2] << "]";
  if (!k.gridExprs.empty()) {
    // Extents the launcher computes from the dynamic dimensions.
    os << ",\n  \"grid_expr\": [";
    for (size_t i = 0; i < k.gridExprs.size(); ++i)
      os << (i ? ", " : "") << quoted(k.gridExprs[i]);
    os << "]";
  }
  if (!k.dynamicParams.empty()) {
    // The kernel takes them (i64) after its parameters.
    os << ",\n  \"dynamic_dims\": [";
    for (size_t i = 0; i < k.dynamicParams.size(); ++i)
      os << (i ? ", " : "") << quoted(k.dynamicParams[i]);
    os << "]";
  }
  os << ",\n  \"threads\": " << k.threads
     << ",\n  \"shared_bytes\": " << k.sharedBytes
     << ",\n  \"registers\": " << k.registers
     << ",\n  \"spill_bytes\": " << k.spillBytes << ",\n  \"params\": [";
  for (size_t i = 0; i < sig.params.size(); ++i) {
    const tessel::KernelParam &p = sig.params[i];
    os << (i ? "," : "") << "\n    {\"name\": " << quoted(p.name)
       << ", \"dtype\": " << quoted(p.dtype) << ", \"shape\": [";
    for (size_t d = 0; d < p.shape.size(); ++d)
      os << (d ? ", " : "") << p.shape[d];
    os << "]";
    if (llvm::any_of(p.dynamicNames, [](const std::string &n) { return !n.empty(); })) {
      os << ", \"dynamic_names\": [";
      for (size_t d = 0; d < p.dynamicNames.size(); ++d)
        os << (d ? ", " : "") << quoted(p.dynamicNames[d]);
      os << "]";
    }
    os << ", \"tensor\": " << (p.isBuffer ? "true" : "false")
       << ", \"written\": " << (p.isWritten ? "true" : "false")
       << (p.isWorkspace ? ", \"workspace\": true" : "")
       << (p.inPlace ? ", \"in_place\": true" : "") << "}";
  }
  os << "\n  ]";
  if (!k.tensorMaps.empty()) {
    // TMA descriptors the launcher encodes and passes after the tensors.
    os << ",\n  \"tensor_maps\": [";
    for (size_t i = 0; i < k.tensorMaps.size(); ++i) {
      const auto &m = k.tensorMaps[i];
      os << (i ? "," : "") << "\n    {\"param\": " << m.param << ", \"tensor\": "
         << quoted(sig.params[m.tensor].name) << ", \"box\": [";
      for (size_t d = 0; d < m.box.size(); ++d)
        os << (d ? ", " : "") << m.box[d];
      os << "], \"swizzle\": " << m.swizzle << "}";
    }
    os << "\n  ]";
  }
  if (k.registerSplit.size() == 3)
    // The producer warpgroup is the last 128 of the threads.
    os << ",\n  \"warp_specialized\": {\"producer_threads\": 128, "
       << "\"registers_at_launch\": " << k.registerSplit[0]
       << ", \"producer_registers\": " << k.registerSplit[1]
       << ", \"consumer_registers\": " << k.registerSplit[2] << "}";
  // What tessel_aot_load reads (the launcher embeds the same text), for
  // tools that launch from the manifest (tessel-emu).
  os << ",\n  \"launch_descriptor\": " << quoted(descriptorText(k, sig));
  if (!sourceHash.empty())
    os << ",\n  \"source_sha256\": " << quoted(sourceHash);
  os << "\n}\n";
  return text;
}


LauncherArtifacts buildLauncher(const CUDAKernel &kernel,
                                const KernelSignature &signature,
                                const std::string &arch) {
  LauncherArtifacts out;
  auto [image, what] = imageOf(kernel, arch);
  out.descriptor = descriptorText(kernel, signature);
  out.header = headerText(kernel.name, kernel, signature, arch, what);
  std::string error;
  HostKernel hk{kernel.name, &kernel, &signature, image, out.descriptor};
  if (!hostObject(hk, "", {}, "", false, out.object, error)) {
    out.diagnostics = "error: " + error + "\n";
    return out;
  }
  out.ok = true;
  return out;
}

LauncherArtifacts buildDispatchLauncher(const std::string &entry,
                                        const std::vector<LauncherVariant> &variants,
                                        const std::string &keyName, const std::string &arch,
                                        bool ranges) {
  LauncherArtifacts out;
  if (variants.empty()) {
    out.diagnostics = "error: no variants to dispatch over\n";
    return out;
  }
  std::vector<HostKernel> kernels;
  std::vector<int64_t> keys;
  std::string upper = llvm::StringRef(entry).upper();
  std::string text;
  llvm::raw_string_ostream os(text);
  for (const LauncherVariant &v : variants) {
    if (v.signature->params.size() != variants.front().signature->params.size() ||
        v.kernel->dynamicParams != variants.front().kernel->dynamicParams) {
      out.diagnostics = "error: the variants of '" + entry + "' take different parameters\n";
      return out;
    }
    auto [image, what] = imageOf(*v.kernel, arch);
    kernels.push_back({v.symbol, v.kernel, v.signature, image,
                       descriptorText(*v.kernel, *v.signature)});
    keys.push_back(v.key);
    os << headerText(v.symbol, *v.kernel, *v.signature, arch, what) << "\n";
  }
  const KernelSignature &sig = *variants.front().signature;
  const std::vector<std::string> &dims = variants.front().kernel->dynamicParams;
  if (ranges && !llvm::is_contained(dims, keyName)) {
    out.diagnostics = "error: --dispatch " + keyName + " with ranges: '" + keyName +
                      "' is not a dynamic dimension of '" + entry + "'\n";
    return out;
  }
  if (!keyName.empty()) {
  os << "#ifndef TESSEL_DISPATCH_" << upper << "_H\n#define TESSEL_DISPATCH_" << upper
     << "_H\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n"
     << "/* Every variant above, loaded together; ";
  if (ranges) {
    os << "a launch runs the one for " << keyName << "'s range:\n";
    for (size_t i = 0; i < keys.size(); ++i) {
      os << " *   ";
      if (i + 1 < keys.size())
        os << keyName << " <= " << keys[i];
      else
        os << "larger";
      os << ": tessel_" << variants[i].symbol << "\n";
    }
    os << " * The dispatcher takes the variants' arguments, " << keyName
       << " among them. */\n";
  } else {
    os << "a launch runs the one compiled for\n"
       << " * the given " << keyName << " (";
    for (size_t i = 0; i < keys.size(); ++i)
      os << (i ? ", " : "") << keys[i];
    os << "). Another value: TESSEL_INVALID_ARGUMENT. */\n";
  }
  os
     << "typedef struct tessel_" << entry << "_dispatch tessel_" << entry << "_dispatch;\n"
     << "tessel_status tessel_" << entry << "_dispatch_load(CUcontext ctx, tessel_" << entry
     << "_dispatch **out);\n"
     << "tessel_status tessel_" << entry << "_dispatch_launch(tessel_" << entry
     << "_dispatch *kernel, CUstream stream";
  if (!ranges)
    os << ",\n    int64_t " << keyName;
  for (const KernelParam &p : sig.params)
    os << ",\n    " << (p.isBuffer ? "CUdeviceptr" : scalarCType(p.dtype)) << " " << p.name;
  for (const std::string &d : variants.front().kernel->dynamicParams)
    os << ",\n    int64_t " << cIdentifier(d);
  os << ");\n"
     << "void tessel_" << entry << "_dispatch_unload(tessel_" << entry << "_dispatch *kernel);\n\n"
     << "#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
  }
  out.header = text;
  std::string error;
  if (!hostObject(kernels, keyName.empty() ? "" : entry, keys, keyName, ranges, out.object,
                  error)) {
    out.diagnostics = "error: " + error + "\n";
    return out;
  }
  out.ok = true;
  return out;
}

std::string sha256Hex(std::string_view text) {
  std::array<uint8_t, 32> digest = llvm::SHA256::hash(llvm::arrayRefFromStringRef(
      llvm::StringRef(text.data(), text.size())));
  return llvm::toHex(digest, /*LowerCase=*/true);
}

std::string archiveOf(const std::string &memberName, const std::string &object,
                      std::string &error) {
  std::vector<llvm::NewArchiveMember> members(1);
  members[0] = llvm::NewArchiveMember(
      llvm::MemoryBufferRef(llvm::StringRef(object), memberName));
  members[0].MemberName = memberName;
  auto buffer = llvm::writeArchiveToBuffer(members, llvm::SymtabWritingMode::NormalSymtab,
                                           llvm::object::Archive::K_GNU,
                                           /*Deterministic=*/true, /*Thin=*/false);
  if (!buffer) {
    error = llvm::toString(buffer.takeError());
    return "";
  }
  return (*buffer)->getBuffer().str();
}

} // namespace tessel
