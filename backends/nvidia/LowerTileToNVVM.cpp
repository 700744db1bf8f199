//===- LowerTileToNVVM.cpp - tile programs on the threads of a Hopper block ===//
//
// A tile program describes what a whole block computes. This pass decides
// what each thread does and writes it down with upstream ops: arith and scf
// for the arithmetic and control flow, the LLVM dialect for memory, NVVM for
// thread indices, barriers, shuffles and warpgroup MMA.
//
// The lowering walks each kernel body once, emitting code as it goes (like a
// code generator rather than a set of patterns), because what an op becomes
// depends on context: a load from a fragment inside `tile.parallel` becomes a
// register read whose slot is known only once the iteration is known.
// KernelEmitter.h declares the emitter and lists the file of each op family;
// this file holds the kernel function, its parameters and the pass.
//
//===----------------------------------------------------------------------===//

#include "backends/nvidia/KernelEmitter.h"

namespace tessel::nvidia {
#define GEN_PASS_DEF_TILELOWERTONVVMPASS
#include "backends/nvidia/Passes.h.inc"
} // namespace tessel::nvidia

#define DEBUG_TYPE "tile-lower-to-nvvm"

namespace tessel::nvidia::lowering {

//===----------------------------------------------------------------------===//
// The kernel function
//===----------------------------------------------------------------------===//

/// The T.dynamic name of dimension `dim` of argument `arg` of `func`
/// (tessel.dynamic_dims), or "".
static std::string dynamicName(func::FuncOp func, unsigned arg, int64_t dim) {
  auto all = func->getAttrOfType<ArrayAttr>("tessel.dynamic_dims");
  if (!all || arg >= all.size())
    return "";
  auto dims = dyn_cast<ArrayAttr>(all[arg]);
  if (!dims || dim >= int64_t(dims.size()))
    return "";
  auto name = dyn_cast<StringAttr>(dims[dim]);
  return name ? name.str() : "";
}

/// A grid extent the launcher computes from the dynamic dimensions, in the
/// manifest's expression form: integers, dimension names, and add, sub,
/// mul, floordiv, ceildiv, rem, min, max of two; nothing when `v` is built
/// from anything else.
static std::optional<std::string> gridExpression(func::FuncOp func, Value v,
                                                 int depth = 0) {
  if (depth > 64)
    return std::nullopt;
  if (auto c = evalConstant(v))
    return std::to_string(*c);
  Operation *def = v.getDefiningOp();
  if (!def)
    return std::nullopt;
  if (auto dim = dyn_cast<memref::DimOp>(def)) {
    auto arg = dyn_cast<BlockArgument>(dim.getSource());
    auto index = evalConstant(dim.getIndex());
    if (!arg || !index || arg.getOwner()->getParentOp() != func.getOperation())
      return std::nullopt;
    std::string name = dynamicName(func, arg.getArgNumber(), *index);
    if (name.empty())
      return std::nullopt;
    return name;
  }
  if (isa<arith::IndexCastOp, arith::IndexCastUIOp>(def))
    return gridExpression(func, def->getOperand(0), depth + 1);
  StringRef name =
      llvm::TypeSwitch<Operation *, StringRef>(def)
          .Case<arith::AddIOp>([](auto) { return "add"; })
          .Case<arith::SubIOp>([](auto) { return "sub"; })
          .Case<arith::MulIOp>([](auto) { return "mul"; })
          .Case<arith::DivUIOp, arith::DivSIOp, arith::FloorDivSIOp>(
              [](auto) { return "floordiv"; })
          .Case<arith::CeilDivUIOp, arith::CeilDivSIOp>([](auto) { return "ceildiv"; })
          .Case<arith::RemUIOp, arith::RemSIOp>([](auto) { return "rem"; })
          .Case<arith::MinSIOp, arith::MinUIOp>([](auto) { return "min"; })
          .Case<arith::MaxSIOp, arith::MaxUIOp>([](auto) { return "max"; })
          .Default([](Operation *) { return ""; });
  if (name.empty() || def->getNumOperands() != 2)
    return std::nullopt;
  auto lhs = gridExpression(func, def->getOperand(0), depth + 1);
  auto rhs = gridExpression(func, def->getOperand(1), depth + 1);
  if (!lhs || !rhs)
    return std::nullopt;
  return (name + "(" + *lhs + ", " + *rhs + ")").str();
}

LogicalResult KernelEmitter::run() {
  threads = kernel.getThreads();
  barriersPlaced = kernel->hasAttr("tessel.barriers_placed");
  waitsPlaced = kernel->hasAttr("tessel.waits_placed");
  if (threads <= 0 || threads > 1024)
    return kernel.emitError("a block has 1 to 1024 threads on the cuda target");
  // The signature: a global pointer per tensor, scalars as themselves, then
  // the launch's value of each T.dynamic dimension (i64, in order of first
  // appearance).
  SmallVector<Type> params;
  SmallVector<std::string> dynamicNames;
  for (BlockArgument arg : oldFunc.getArguments()) {
    if (auto type = dyn_cast<MemRefType>(arg.getType())) {
      for (int64_t d = 0; d < type.getRank(); ++d) {
        if (!type.isDynamicDim(d))
          continue;
        std::string name = dynamicName(oldFunc, arg.getArgNumber(), d);
        if (name.empty())
          return oldFunc.emitError("argument ")
                 << arg.getArgNumber() << "'s dimension " << d
                 << " is dynamic without a T.dynamic name; the cuda target "
                    "passes dynamic dimensions by name";
        if (!llvm::is_contained(dynamicNames, name))
          dynamicNames.push_back(name);
      }
      params.push_back(ptrType(kGlobalSpace));
      continue;
    }
    params.push_back(arg.getType().isIndex() ? b.getI64Type() : arg.getType());
  }
  for (size_t i = 0; i < dynamicNames.size(); ++i)
    params.push_back(b.getI64Type());
  // A grid extent is a constant, or an expression the launcher evaluates
  // over the dynamic dimensions (then 0 here).
  SmallVector<int32_t> grid;
  SmallVector<std::string> gridExprs;
  for (Value extent : kernel.getGrid()) {
    if (auto v = evalConstant(extent)) {
      grid.push_back(*v);
      gridExprs.push_back("");
      blockRanges[kernel.getBody().front().getArgument(grid.size() - 1)] =
          IndexRange{0, int64_t(*v) - 1};
      continue;
    }
    std::optional<std::string> expr = gridExpression(oldFunc, extent);
    if (!expr)
      return kernel.emitError("the cuda target computes a grid extent at launch "
                              "only from constants and T.dynamic dimensions "
                              "(with + - * // ceildiv % min max)");
    grid.push_back(0);
    gridExprs.push_back(*expr);
  }
  while (grid.size() < 3) {
    grid.push_back(1);
    gridExprs.push_back("");
  }

  b.setInsertionPoint(oldFunc);
  newFunc = func::FuncOp::create(b, oldFunc.getLoc(),
                                 (oldFunc.getName() + ".cuda").str(),
                                 b.getFunctionType(params, {}));
  entry = newFunc.addEntryBlock();
  b.setInsertionPointToStart(entry);
  loc = kernel.getLoc();
  SmallVector<Value> dynamicValues;
  for (size_t i = 0; i < dynamicNames.size(); ++i)
    dynamicValues.push_back(arith::IndexCastOp::create(
        b, loc, b.getIndexType(),
        entry->getArgument(oldFunc.getNumArguments() + i)));
  for (auto [old, param] : llvm::zip(oldFunc.getArguments(), entry->getArguments())) {
    if (auto type = dyn_cast<MemRefType>(old.getType())) {
      Buffer buf;
      buf.space = Space::Global;
      buf.type = type;
      buf.ptr = param;
      buf.dynamicExtents.assign(type.getRank(), Value());
      for (int64_t d = 0; d < type.getRank(); ++d)
        if (type.isDynamicDim(d)) {
          std::string name = dynamicName(oldFunc, old.getArgNumber(), d);
          buf.dynamicExtents[d] =
              dynamicValues[llvm::find(dynamicNames, name) - dynamicNames.begin()];
        }
      buffers[old] = std::make_unique<Buffer>(std::move(buf));
      continue;
    }
    Value v = param;
    if (old.getType().isIndex())
      v = arith::IndexCastOp::create(b, loc, b.getIndexType(), param);
    map.map(old, v);
  }
  auto threadId = NVVM::ThreadIdXOp::create(b, loc, b.getI32Type());
  prologueEnd = threadId;
  tid = arith::IndexCastOp::create(b, loc, b.getIndexType(), threadId);
  Block &body = kernel.getBody().front();
  for (auto [d, arg] : llvm::enumerate(body.getArguments())) {
    Value id = d == 0   ? (Value)NVVM::BlockIdXOp::create(b, loc, b.getI32Type())
               : d == 1 ? (Value)NVVM::BlockIdYOp::create(b, loc, b.getI32Type())
                        : (Value)NVVM::BlockIdZOp::create(b, loc, b.getI32Type());
    map.map(arg, arith::IndexCastOp::create(b, loc, b.getIndexType(), id));
  }
  smemBase = LLVM::AddressOfOp::create(b, loc, ptrType(kSharedSpace), kSharedSymbol);

  int64_t sharedBytes = 0;
  if (auto attr = kernel->getAttrOfType<IntegerAttr>("tessel.shared_bytes"))
    sharedBytes = attr.getInt();
  scratchBase = llvm::alignTo(sharedBytes, 1024);
  stageTop = scratchBase;
  if (failed(placeSharedTiles()) || failed(warpSpecialize(body)) ||
      failed(emitBlock(body)))
    return failure();
  waitForWgmma();
  if (roleSplit)
    b.setInsertionPointAfter(roleSplit);
  func::ReturnOp::create(b, loc);
  if (stageTop > scratchBase)
    sharedBytes = stageTop;
  if (scratchBytes) {
    int64_t base = llvm::alignTo(sharedBytes, 16);
    reductionBase.setValueAttr(b.getIndexAttr(base));
    sharedBytes = base + scratchBytes;
  }
  {
    constexpr int64_t kMaxShared = 232448; // 227 KB per block on sm_90
    if (sharedBytes > kMaxShared)
      return kernel.emitError("the kernel's shared tiles, pipeline stages and ")
             << scratchBytes << " bytes of reduction scratch need "
             << sharedBytes << " bytes of shared memory; a block has at most "
             << kMaxShared;
  }
  // nvvm.kernel and nvvm.maxntid go on once the function is an llvm.func.
  if (unplannedError)
    return failure();
  if (unplannedBarriers)
    newFunc->setAttr("tessel.unplanned_barriers", b.getI64IntegerAttr(unplannedBarriers));
  if (unplannedWaits)
    newFunc->setAttr("tessel.unplanned_waits", b.getI64IntegerAttr(unplannedWaits));
  newFunc->setAttr("tessel.grid", b.getDenseI32ArrayAttr(grid));
  if (llvm::any_of(gridExprs, [](auto &e) { return !e.empty(); })) {
    SmallVector<StringRef> exprs(gridExprs.begin(), gridExprs.end());
    newFunc->setAttr("tessel.grid_exprs", b.getStrArrayAttr(exprs));
  }
  if (!dynamicNames.empty()) {
    SmallVector<StringRef> names(dynamicNames.begin(), dynamicNames.end());
    newFunc->setAttr("tessel.dynamic_params", b.getStrArrayAttr(names));
  }
  // A warp-specialized block has the producer warpgroup after the threads
  // the kernel asked for.
  newFunc->setAttr("tessel.threads",
                   b.getI64IntegerAttr(specialized ? threads + 128 : threads));
  if (specialized)
    newFunc->setAttr("tessel.warp_specialized",
                     b.getDenseI64ArrayAttr(registerSplit));
  newFunc->setAttr("tessel.shared_bytes", b.getI64IntegerAttr(sharedBytes));
  if (minPtxVersion)
    newFunc->setAttr("tessel.min_ptx", b.getI64IntegerAttr(minPtxVersion));
  if (Attribute names = oldFunc->getAttr("tessel.arg_names"))
    newFunc->setAttr("tessel.arg_names", names);
  // The TMA descriptors the kernel takes after the tensors: which tensor,
  // the box (row-major) and the swizzle, for the launcher to encode.
  if (!tensorMaps.empty()) {
    SmallVector<Attribute> maps;
    for (auto &[tensor, box, swizzle, param] : tensorMaps)
      maps.push_back(b.getDictionaryAttr({
          b.getNamedAttr("param", b.getI64IntegerAttr(cast<BlockArgument>(param).getArgNumber())),
          b.getNamedAttr("tensor", b.getI64IntegerAttr(tensor)),
          b.getNamedAttr("box", b.getDenseI64ArrayAttr(box)),
          b.getNamedAttr("swizzle", b.getI64IntegerAttr(swizzle))}));
    newFunc->setAttr("tessel.tensor_maps", b.getArrayAttr(maps));
  }
  return success();
}

} // namespace tessel::nvidia::lowering

namespace {

using namespace tessel::nvidia::lowering;

struct TileLowerToNVVMPass
    : public nvidia::impl::TileLowerToNVVMPassBase<TileLowerToNVVMPass> {
  using TileLowerToNVVMPassBase::TileLowerToNVVMPassBase;
  void runOnOperation() override {
    ModuleOp module = getOperation();
    OpBuilder b(&getContext());
    SmallVector<func::FuncOp> funcs(module.getOps<func::FuncOp>());
    bool any = false;
    for (func::FuncOp func : funcs) {
      SmallVector<KernelOp> kernels;
      func.walk([&](KernelOp k) { kernels.push_back(k); });
      if (kernels.empty())
        continue;
      if (kernels.size() > 1) {
        kernels[1].emitError("tile-lower-to-nvvm lowers one T.Kernel per "
                             "prim_func; tessel.jit compiles a prim_func with "
                             "several one kernel at a time and launches them in "
                             "order (tesselc and the AOT launchers do not yet: "
                             "write a prim_func per T.Kernel)");
        return signalPassFailure();
      }
      if (!any) {
        b.setInsertionPointToStart(module.getBody());
        LLVM::GlobalOp::create(
            b, module.getLoc(), LLVM::LLVMArrayType::get(b.getI8Type(), 0),
            /*isConstant=*/false, LLVM::Linkage::External, kSharedSymbol,
            Attribute(), /*alignment=*/1024, /*addrSpace=*/kSharedSpace);
        any = true;
      }
      KernelEmitter emitter(func, kernels[0]);
      emitter.asyncCopiesEnabled = asyncCopies;
      emitter.tmaEnabled = tma;
      emitter.warpSpecializeEnabled = warpSpecialize;
      emitter.strictSync = strictSync;
      if (failed(emitter.run()))
        return signalPassFailure();
      std::string name = func.getName().str();
      func.erase();
      for (func::FuncOp f : module.getOps<func::FuncOp>())
        if (f.getName() == name + ".cuda") {
          f.setName(name);
          break;
        }
    }
  }
};

} // namespace
