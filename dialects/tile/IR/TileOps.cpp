//===- TileOps.cpp - verifiers of the tile dialect's operations -----------===//

#include "dialects/tile/IR/TileOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/OpImplementation.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallBitVector.h"

using namespace mlir;
using namespace tessel::tile;

//===----------------------------------------------------------------------===//
// Helpers shared by the verifiers
//===----------------------------------------------------------------------===//

static std::string scopeList(ArrayRef<MemoryScope> scopes) {
  std::string out;
  for (auto [i, scope] : llvm::enumerate(scopes)) {
    if (i)
      out += i + 1 == scopes.size() ? " or " : ", ";
    out += stringifyMemoryScope(scope).str();
  }
  return out;
}

/// Checks that `type` lives in one of `allowed`; `role` names the operand.
static LogicalResult verifyScope(Operation *op, StringRef role, MemRefType type,
                                 ArrayRef<MemoryScope> allowed) {
  std::optional<MemoryScope> scope = getMemoryScope(type);
  if (!scope)
    return op->emitOpError() << role << " has memory space "
                             << type.getMemorySpace()
                             << ", which is not a #tile.scope";
  if (!llvm::is_contained(allowed, *scope))
    return op->emitOpError()
           << role << " must be in " << scopeList(allowed) << " memory, not "
           << stringifyMemoryScope(*scope);
  return success();
}

static LogicalResult verifyInsideKernel(Operation *op) {
  if (!op->getParentOfType<KernelOp>())
    return op->emitOpError("must be inside a tile.kernel");
  return success();
}

static constexpr MemoryScope kAllScopes[] = {
    MemoryScope::Global, MemoryScope::Shared, MemoryScope::Fragment,
    MemoryScope::Local};
static constexpr MemoryScope kOnChipScopes[] = {
    MemoryScope::Shared, MemoryScope::Fragment, MemoryScope::Local};

static bool isScalar(Type type) {
  return type.isIntOrIndexOrFloat();
}

static std::string shapeString(ArrayRef<int64_t> shape) {
  std::string out = "[";
  for (auto [i, dim] : llvm::enumerate(shape)) {
    if (i)
      out += ", ";
    out += ShapedType::isDynamic(dim) ? "?" : std::to_string(dim);
  }
  return out + "]";
}

//===----------------------------------------------------------------------===//
// KernelOp
//===----------------------------------------------------------------------===//

LogicalResult KernelOp::verify() {
  size_t rank = getGrid().size();
  if (rank < 1 || rank > 3)
    return emitOpError("needs 1 to 3 grid extents, got ") << rank;
  int64_t threads = getThreads();
  if (threads < 1 || threads > 1024)
    return emitOpError("threads must be in [1, 1024], got ") << threads;
  if (std::optional<ArrayRef<int64_t>> cluster = getCluster()) {
    if (cluster->empty() || cluster->size() > 3)
      return emitOpError("cluster needs 1 to 3 extents, got ")
             << cluster->size();
    if (llvm::any_of(*cluster, [](int64_t c) { return c < 1; }))
      return emitOpError("cluster extents must be positive");
  }
  if ((*this)->getParentOfType<KernelOp>())
    return emitOpError("cannot be nested inside another tile.kernel");
  return success();
}

LogicalResult KernelOp::verifyRegions() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getGrid().size())
    return emitOpError("body must take one block index per grid extent (")
           << getGrid().size() << "), got " << body.getNumArguments();
  if (!llvm::all_of(body.getArgumentTypes(),
                    [](Type t) { return t.isIndex(); }))
    return emitOpError("block indices must have type index");
  return success();
}

//===----------------------------------------------------------------------===//
// BarrierOp
//===----------------------------------------------------------------------===//

LogicalResult BarrierOp::verify() { return verifyInsideKernel(*this); }

//===----------------------------------------------------------------------===//
// AllocOp
//===----------------------------------------------------------------------===//

LogicalResult AllocOp::verify() {
  MemRefType type = getType();
  if (failed(verifyScope(*this, "result", type, kOnChipScopes)))
    return failure();
  if (!isScalar(type.getElementType()))
    return emitOpError("element type must be a scalar, got ")
           << type.getElementType();
  if (failed(verifyInsideKernel(*this)))
    return failure();
  if (std::optional<FragmentLayoutAttr> layout = getLayout()) {
    if (getMemoryScope(type) != MemoryScope::Fragment)
      return emitOpError("only fragments take a layout");
    if (layout->getMap().getNumDims() != type.getRank())
      return emitOpError("layout map takes ")
             << layout->getMap().getNumDims()
             << " indices but the fragment has rank " << type.getRank();
  }
  return success();
}

//===----------------------------------------------------------------------===//
// CopyOp
//===----------------------------------------------------------------------===//

/// Checks one side of a copy: offsets and sizes per dimension, sizes positive
/// and, for on-chip buffers, within the buffer.
static LogicalResult verifyCopyRegion(CopyOp op, StringRef role,
                                      MemRefType type, ValueRange offsets,
                                      ArrayRef<int64_t> sizes) {
  if (failed(verifyScope(op, role, type, kAllScopes)))
    return failure();
  int64_t rank = type.getRank();
  if (static_cast<int64_t>(offsets.size()) != rank)
    return op.emitOpError()
           << role << " takes " << rank << " offsets, got " << offsets.size();
  if (static_cast<int64_t>(sizes.size()) != rank)
    return op.emitOpError()
           << role << " takes " << rank << " sizes, got " << sizes.size();
  for (auto [i, size] : llvm::enumerate(sizes)) {
    if (size < 1)
      return op.emitOpError() << role << " size " << i
                              << " must be positive, got " << size;
    bool global = getMemoryScope(type) == MemoryScope::Global;
    int64_t dim = type.getDimSize(i);
    if (!global && !ShapedType::isDynamic(dim) && size > dim)
      return op.emitOpError() << role << " region " << shapeString(sizes)
                              << " does not fit in its buffer "
                              << shapeString(type.getShape());
  }
  return success();
}

static SmallVector<int64_t> dropUnitDims(ArrayRef<int64_t> sizes) {
  SmallVector<int64_t> out;
  llvm::copy_if(sizes, std::back_inserter(out),
                [](int64_t s) { return s != 1; });
  return out;
}

LogicalResult CopyOp::verify() {
  MemRefType srcType = getSrc().getType(), dstType = getDst().getType();
  if (failed(verifyCopyRegion(*this, "source", srcType, getSrcOffsets(),
                              getSrcSizes())) ||
      failed(verifyCopyRegion(*this, "destination", dstType, getDstOffsets(),
                              getDstSizes())))
    return failure();
  if (dropUnitDims(getSrcSizes()) != dropUnitDims(getDstSizes()))
    return emitOpError("source region ")
           << shapeString(getSrcSizes())
           << " and destination region " << shapeString(getDstSizes())
           << " differ in shape";
  if (!isScalar(srcType.getElementType()) ||
      !isScalar(dstType.getElementType()))
    return emitOpError("copies scalar elements only");
  return success();
}

//===----------------------------------------------------------------------===//
// FillOp
//===----------------------------------------------------------------------===//

LogicalResult FillOp::verify() {
  return verifyScope(*this, "destination", getDst().getType(), kOnChipScopes);
}

//===----------------------------------------------------------------------===//
// GemmOp
//===----------------------------------------------------------------------===//

static bool isFP8(Type t) {
  return isa<Float8E4M3FNType, Float8E5M2Type>(t);
}

/// The gemm input types a tensor core takes, and the CPU backend computes.
static bool isGemmInputType(Type t) {
  return t.isF16() || t.isBF16() || t.isF32() || isFP8(t) ||
         t.isSignlessInteger(8);
}

LogicalResult GemmOp::verify() {
  MemRefType aType = getA().getType(), bType = getB().getType(),
             cType = getC().getType();
  if (aType.getRank() != 2 || bType.getRank() != 2 || cType.getRank() != 2)
    return emitOpError("operands must be 2-d tiles, got ranks ")
           << aType.getRank() << ", " << bType.getRank() << ", "
           << cType.getRank();
  if (failed(verifyScope(*this, "A", aType, kOnChipScopes)) ||
      failed(verifyScope(*this, "B", bType, kOnChipScopes)) ||
      failed(verifyScope(*this, "C", cType,
                         {MemoryScope::Fragment, MemoryScope::Local})))
    return failure();

  int64_t m = aType.getDimSize(getTransposeA() ? 1 : 0);
  int64_t kA = aType.getDimSize(getTransposeA() ? 0 : 1);
  int64_t kB = bType.getDimSize(getTransposeB() ? 1 : 0);
  int64_t n = bType.getDimSize(getTransposeB() ? 0 : 1);
  if (kA != kB)
    return emitOpError("K extents differ: A gives ")
           << kA << ", B gives " << kB;
  if (cType.getDimSize(0) != m || cType.getDimSize(1) != n)
    return emitOpError("C must be ")
           << m << "x" << n << " for these operands, got "
           << shapeString(cType.getShape());

  Type aElt = aType.getElementType(), bElt = bType.getElementType(),
       cElt = cType.getElementType();
  if (!isGemmInputType(aElt) || !isGemmInputType(bElt))
    return emitOpError("inputs must be f16, bf16, f32, f8E4M3FN, f8E5M2 or "
                       "i8, got ")
           << aElt << " and " << bElt;
  if (aElt != bElt && !(isFP8(aElt) && isFP8(bElt)))
    return emitOpError("A and B element types differ: ")
           << aElt << " and " << bElt;
  bool accumOk = aElt.isSignlessInteger(8)
                     ? cElt.isSignlessInteger(32)
                     : (cElt.isF32() || (aElt.isF16() && cElt.isF16()));
  if (!accumOk)
    return emitOpError("accumulator type ")
           << cElt << " cannot hold products of " << aElt;
  return success();
}

//===----------------------------------------------------------------------===//
// ReduceOp
//===----------------------------------------------------------------------===//

LogicalResult ReduceOp::verify() {
  MemRefType srcType = getSrc().getType(), dstType = getDst().getType();
  if (failed(verifyScope(*this, "source", srcType, kOnChipScopes)) ||
      failed(verifyScope(*this, "destination", dstType, kOnChipScopes)))
    return failure();
  int64_t dim = getDim();
  if (srcType.getRank() < 1 || dim < 0 || dim >= srcType.getRank())
    return emitOpError("dim ") << dim << " is out of range for a rank-"
                               << srcType.getRank() << " source";
  SmallVector<int64_t> expected(srcType.getShape());
  expected.erase(expected.begin() + dim);
  ArrayRef<int64_t> got = dstType.getShape();
  bool scalarOk = expected.empty() && (got.empty() || got == ArrayRef<int64_t>{1});
  if (!scalarOk && ArrayRef<int64_t>(expected) != got)
    return emitOpError("destination must have shape ")
           << shapeString(expected) << ", got " << shapeString(got);
  if (srcType.getElementType() != dstType.getElementType())
    return emitOpError("source and destination element types differ: ")
           << srcType.getElementType() << " and " << dstType.getElementType();
  return success();
}

//===----------------------------------------------------------------------===//
// ParallelOp
//===----------------------------------------------------------------------===//

LogicalResult ParallelOp::verify() {
  if (getExtents().empty())
    return emitOpError("needs at least one extent");
  if (llvm::any_of(getExtents(), [](int64_t e) { return e < 0; }))
    return emitOpError("extents must not be negative");
  return verifyInsideKernel(*this);
}

LogicalResult ParallelOp::verifyRegions() {
  Block &body = getBody().front();
  if (body.getNumArguments() != getExtents().size())
    return emitOpError("body must take one index per extent (")
           << getExtents().size() << "), got " << body.getNumArguments();
  if (!llvm::all_of(body.getArgumentTypes(),
                    [](Type t) { return t.isIndex(); }))
    return emitOpError("loop indices must have type index");
  return success();
}

//===----------------------------------------------------------------------===//
// PipelinedOp
//===----------------------------------------------------------------------===//

LogicalResult PipelinedOp::verify() {
  int64_t stages = getNumStages();
  if (stages < 0)
    return emitOpError("num_stages must not be negative, got ") << stages;
  APInt step;
  if (matchPattern(getStep(), m_ConstantInt(&step)) && !step.isStrictlyPositive())
    return emitOpError("step must be positive, got ") << step.getSExtValue();
  if (std::optional<ArrayRef<int64_t>> order = getOrder()) {
    llvm::SmallBitVector seen(order->size());
    for (int64_t pos : *order) {
      if (pos < 0 || pos >= static_cast<int64_t>(order->size()) || seen[pos])
        return emitOpError("order must be a permutation of 0..")
               << order->size() - 1;
      seen.set(pos);
    }
  }
  if (std::optional<ArrayRef<int64_t>> stage = getStage()) {
    int64_t last = std::max<int64_t>(stages - 1, 0);
    for (int64_t s : *stage)
      if (s < 0 || s > last)
        return emitOpError("stage ") << s << " is out of range [0, " << last
                                     << "] for " << stages << " stages";
  }
  return success();
}

LogicalResult PipelinedOp::verifyRegions() {
  Block &body = getBody().front();
  if (body.getNumArguments() != 1 || !body.getArgument(0).getType().isIndex())
    return emitOpError("body must take exactly one index argument");
  // order= and stage= describe the body's statements: the operations that
  // do something (copies, gemms, stores, loops), not the pure scalar
  // arithmetic that computes their operands.
  size_t numStatements = llvm::count_if(body.without_terminator(),
                                        [](Operation &op) { return !isPure(&op); });
  for (auto [name, list] : {std::make_pair("order", getOrder()),
                            std::make_pair("stage", getStage())}) {
    if (list && list->size() != numStatements)
      return emitOpError() << name << " has " << list->size()
                           << " entries but the body has " << numStatements
                           << " statements";
  }
  return success();
}

//===----------------------------------------------------------------------===//
// AtomicAddOp
//===----------------------------------------------------------------------===//

LogicalResult AtomicAddOp::verify() {
  MemRefType type = getDst().getType();
  if (failed(verifyScope(*this, "destination", type,
                         {MemoryScope::Global, MemoryScope::Shared})))
    return failure();
  if (static_cast<int64_t>(getIndices().size()) != type.getRank())
    return emitOpError("takes ") << type.getRank() << " indices, got "
                                 << getIndices().size();
  Type elt = type.getElementType();
  if (!(elt.isF16() || elt.isBF16() || elt.isF32() || elt.isF64() ||
        elt.isSignlessInteger(32) || elt.isSignlessInteger(64)))
    return emitOpError("cannot add atomically to ") << elt << " elements";
  if (Value prev = getPrevious(); prev && prev.getType() != elt)
    return emitOpError("yields the previous element, of type ") << elt << ", not "
                                                                 << prev.getType();
  if (std::optional<StringRef> order = getMemoryOrder();
      order && !llvm::is_contained({"relaxed", "acquire", "release", "acq_rel", "seq_cst"}, *order))
    return emitOpError("has memory_order '")
           << *order << "'; expected relaxed, acquire, release, acq_rel or seq_cst";
  return success();
}

//===----------------------------------------------------------------------===//
// PrintOp
//===----------------------------------------------------------------------===//

LogicalResult PrintOp::verify() {
  for (Value v : getValues())
    if (!isScalar(v.getType()) && !isa<MemRefType>(v.getType()))
      return emitOpError("prints scalars and buffers, not ") << v.getType();
  return success();
}

#define GET_OP_CLASSES
#include "dialects/tile/IR/TileOps.cpp.inc"
