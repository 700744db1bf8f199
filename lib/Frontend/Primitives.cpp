//===- Primitives.cpp - the T.* primitives ---------------------------------===//

#include "lib/Frontend/Emitter.h"
#include "lib/Frontend/Arguments.h"

#include "dialects/tile/IR/TileOps.h"
#include "lib/Frontend/DTypes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "llvm/ADT/StringSwitch.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace tessel::frontend;
namespace tile = tessel::tile;
using llvm::cast;
using llvm::dyn_cast;
using llvm::isa;

namespace tessel::frontend {

namespace {

/// Matches a call's arguments against a primitive's parameters, Python style.
std::string shapeText(ArrayRef<int64_t> shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? ", " : "") + (shape[i] < 0 ? std::string("?") : std::to_string(shape[i]));
  return s + "]";
}

} // namespace

/// The kernel language's name of an element type, for messages.
static std::string dtypeName(Type t) {
  std::string s;
  llvm::raw_string_ostream os(s);
  t.print(os);
  return s;
}

std::optional<BoundArgs>
bindArgs(const Signature &sig, std::vector<Value> &args,
         std::vector<std::pair<std::string, Value>> &kwargs,
         std::vector<SourceLoc> &argLocs, SourceLoc loc, DiagnosticEngine &diags,
         bool allowUnknownKwargs) {
  // One location per argument; a caller that built the call itself may
  // have fewer: the call's own location stands in.
  if (argLocs.size() < args.size() + kwargs.size())
    argLocs.resize(args.size() + kwargs.size(), loc);
  BoundArgs b;
  b.values.resize(sig.params.size());
  b.locs.resize(sig.params.size(), loc);
  std::string list;
  for (const std::string &p : sig.params)
    list += (list.empty() ? "" : ", ") + p;
  size_t positional = std::min(sig.params.size(), sig.positional);
  std::string positionalList;
  for (size_t i = 0; i < positional; ++i)
    positionalList += (i ? ", " : "") + sig.params[i];
  for (size_t i = 0; i < args.size(); ++i) {
    if (i < positional && !sig.variadic) {
      b.values[i] = args[i];
      b.locs[i] = argLocs[i];
    } else if (sig.variadic) {
      b.rest.push_back(args[i]);
      b.restLocs.push_back(argLocs[i]);
    } else {
      diags.error(argLocs[i], sig.name + "() takes at most " +
                                  llvm::Twine(positional) +
                                  " arguments (" + positionalList + "), got " +
                                  llvm::Twine(args.size()));
      return std::nullopt;
    }
  }
  for (size_t k = 0; k < kwargs.size(); ++k) {
    auto &[name, value] = kwargs[k];
    SourceLoc kl = argLocs[args.size() + k];
    auto it = llvm::find(sig.params, name);
    if (it == sig.params.end()) {
      if (allowUnknownKwargs) {
        b.extraKwargs.emplace_back(name, value);
        continue;
      }
      diags.error(kl, sig.name + "() got an unexpected keyword argument '" +
                          name + "' (it takes " + list + ")");
      return std::nullopt;
    }
    size_t i = it - sig.params.begin();
    if (b.values[i]) {
      diags.error(kl, sig.name + "() got two values for '" + name + "'");
      return std::nullopt;
    }
    b.values[i] = value;
    b.locs[i] = kl;
  }
  for (size_t i = 0; !sig.variadic && i < sig.required; ++i) {
    if (!b.values[i]) {
      diags.error(loc, sig.name + "() is missing its '" + sig.params[i] +
                           "' argument (it takes " + list + ")");
      return std::nullopt;
    }
  }
  if (sig.variadic && b.rest.size() < sig.required) {
    diags.error(loc, sig.name + "() needs at least " + llvm::Twine(sig.required) +
                         " positional arguments");
    return std::nullopt;
  }
  return b;
}

/// One side of a T.copy: a buffer and, per dimension, an offset and size.
struct CopySide {
  Value buffer;
  std::vector<Value> offsets;
  SmallVector<int64_t> sizes;
  bool sizesKnown = true;
};

class PrimitiveEmitter {
public:
  PrimitiveEmitter(Emitter &e, SourceLoc loc) : e(e), loc(loc) {}

  std::nullopt_t error(SourceLoc l, const llvm::Twine &m) { return e.error(l, m); }
  Location at(SourceLoc l) { return e.loc(l); }
  OpBuilder &b() { return e.builder; }

  bool requireDevice(llvm::StringRef what) {
    if (e.insideDevice())
      return true;
    error(loc, what + " can only be used inside a T.Kernel");
    return false;
  }

  std::optional<MemRefType> bufferType(const Value &v, SourceLoc l,
                                       llvm::StringRef role) {
    if (v.kind != Value::Kind::Buffer) {
      error(l, role + " must be a whole buffer, got " + describe(v));
      return std::nullopt;
    }
    return cast<MemRefType>(v.ir.getType());
  }

  std::optional<CopySide> copySide(const Value &v, SourceLoc l) {
    CopySide side;
    if (v.kind == Value::Kind::Buffer) {
      auto type = cast<MemRefType>(v.ir.getType());
      side.buffer = v;
      for (int64_t d = 0; d < type.getRank(); ++d) {
        side.offsets.push_back(Value::integer(0));
        side.sizes.push_back(type.isDynamicDim(d) ? -1 : type.getDimSize(d));
      }
      return side;
    }
    if (v.kind != Value::Kind::Region) {
      error(l, "T.copy copies buffers and buffer regions, not " + describe(v));
      return std::nullopt;
    }
    side.buffer = v;
    side.buffer.kind = Value::Kind::Buffer;
    bool allPoints = true;
    for (const Value::RegionDim &d : v.dims) {
      side.offsets.push_back(*d.offset);
      side.sizes.push_back(d.point ? 1 : d.size);
      allPoints &= d.point;
    }
    // A[i, j] names where the region starts; its extent comes from the
    // other side.
    side.sizesKnown = !allPoints;
    return side;
  }

  /// Gives a region named by its corner (A[i, j]) the extent of the other
  /// side: the other side's non-unit dimensions, along its last dimensions.
  bool inferExtent(CopySide &target, const CopySide &from, SourceLoc l, llvm::StringRef op) {
    size_t rank = target.sizes.size();
    SmallVector<int64_t> shape = nonUnit(from.sizes);
    if (shape.size() > rank) {
      error(l, "this region has rank " + llvm::Twine(rank) + " but the other side of " + op +
                   " has shape " + shapeText(from.sizes));
      return false;
    }
    for (size_t i = 0; i < rank; ++i)
      target.sizes[i] = i + shape.size() >= rank ? shape[i + shape.size() - rank] : 1;
    target.sizesKnown = true;
    return true;
  }

  static SmallVector<int64_t> nonUnit(ArrayRef<int64_t> sizes) {
    SmallVector<int64_t> shape;
    llvm::copy_if(sizes, std::back_inserter(shape), [](int64_t s) { return s != 1; });
    return shape;
  }

  /// The two sides of a copy-like op (T.copy, T.atomic_add of a tile): one
  /// extent given, both static, equal once unit dimensions are dropped.
  bool matchExtents(CopySide &src, SourceLoc srcLoc, CopySide &dst, SourceLoc dstLoc,
                    llvm::StringRef op) {
    if (!src.sizesKnown && !dst.sizesKnown) {
      error(loc, op + " needs the extent of one side: pass a whole buffer or a slice such "
                      "as A[i, 0:64]");
      return false;
    }
    if (!src.sizesKnown && !inferExtent(src, dst, srcLoc, op))
      return false;
    if (!dst.sizesKnown && !inferExtent(dst, src, dstLoc, op))
      return false;
    for (auto [side, l] : {std::make_pair(&src, srcLoc), std::make_pair(&dst, dstLoc)})
      if (llvm::is_contained(side->sizes, -1)) {
        error(l, "the extent of this region is not known at compile time; slice it with "
                 "constant bounds");
        return false;
      }
    if (nonUnit(src.sizes) != nonUnit(dst.sizes)) {
      error(loc, op + " between regions of different shapes: " + shapeText(src.sizes) +
                     " and " + shapeText(dst.sizes));
      return false;
    }
    return true;
  }

  MaybeValue copy(BoundArgs &a) {
    if (!requireDevice("T.copy"))
      return std::nullopt;
    std::optional<CopySide> src = copySide(*a.get(0), a.locs[0]);
    std::optional<CopySide> dst = copySide(*a.get(1), a.locs[1]);
    if (!src || !dst)
      return std::nullopt;
    if (!matchExtents(*src, a.locs[0], *dst, a.locs[1], "T.copy"))
      return std::nullopt;
    if ((src->buffer.isUnsigned || dst->buffer.isUnsigned) &&
        (src->buffer.isUnsigned != dst->buffer.isUnsigned ||
         cast<MemRefType>(src->buffer.ir.getType()).getElementType() !=
             cast<MemRefType>(dst->buffer.ir.getType()).getElementType()))
      return error(a.locs[1], "T.copy between an unsigned and another dtype is not supported "
                              "yet: convert element by element in a T.Parallel loop");
    SmallVector<mlir::Value> srcOffsets, dstOffsets;
    for (const Value &o : src->offsets) {
      std::optional<mlir::Value> v = e.toIndex(o, a.locs[0]);
      if (!v)
        return std::nullopt;
      srcOffsets.push_back(*v);
    }
    for (const Value &o : dst->offsets) {
      std::optional<mlir::Value> v = e.toIndex(o, a.locs[1]);
      if (!v)
        return std::nullopt;
      dstOffsets.push_back(*v);
    }
    // On-chip tiles are static: a region that does not fit is an error here,
    // with the user's line, rather than in the verifier.
    for (auto [side, l] : {std::make_pair(&*src, a.locs[0]), std::make_pair(&*dst, a.locs[1])}) {
      auto type = cast<MemRefType>(side->buffer.ir.getType());
      if (tile::getMemoryScope(type) == tile::MemoryScope::Global)
        continue;
      for (size_t d = 0; d < side->sizes.size(); ++d)
        if (!type.isDynamicDim(d) && side->sizes[d] > type.getDimSize(d))
          return error(l, "region " + shapeText(side->sizes) + " does not fit in '" +
                              side->buffer.s + "' of shape " + shapeText(type.getShape()));
    }
    tile::CopyOp::create(b(), at(loc), src->buffer.ir, srcOffsets,
                         b().getDenseI64ArrayAttr(src->sizes), dst->buffer.ir,
                         dstOffsets, b().getDenseI64ArrayAttr(dst->sizes));
    return Value::none();
  }

  MaybeValue gemm(BoundArgs &a) {
    if (!requireDevice("T.gemm"))
      return std::nullopt;
    std::optional<MemRefType> ta = bufferType(*a.get(0), a.locs[0], "T.gemm's A");
    std::optional<MemRefType> tb = ta ? bufferType(*a.get(1), a.locs[1], "T.gemm's B") : std::nullopt;
    std::optional<MemRefType> tc = tb ? bufferType(*a.get(2), a.locs[2], "T.gemm's C") : std::nullopt;
    if (!tc)
      return std::nullopt;
    auto flag = [&](size_t i, bool &out) -> bool {
      const Value *v = a.get(i);
      if (!v)
        return true;
      if (v->kind != Value::Kind::Bool) {
        error(a.locs[i], "T.gemm's " + llvm::Twine(i == 3 ? "transpose_A" : i == 4 ? "transpose_B" : "clear_accum") +
                             " must be True or False");
        return false;
      }
      out = v->b;
      return true;
    };
    bool transA = false, transB = false, clear = false;
    if (!flag(3, transA) || !flag(4, transB) || !flag(6, clear))
      return std::nullopt;
    tile::GemmWarpPolicy policy = tile::GemmWarpPolicy::Square;
    if (const Value *p = a.get(5)) {
      std::optional<tile::GemmWarpPolicy> parsed =
          p->kind == Value::Kind::String ? tile::symbolizeGemmWarpPolicy(p->s) : std::nullopt;
      if (!parsed)
        return error(a.locs[5], "policy must be T.GemmWarpPolicy.Square, FullRow or FullCol");
      policy = *parsed;
    }
    for (auto [t, i, role] : {std::make_tuple(*ta, 0, "A"), std::make_tuple(*tb, 1, "B"),
                               std::make_tuple(*tc, 2, "C")})
      if (t.getRank() != 2)
        return error(a.locs[i], llvm::Twine("T.gemm's ") + role +
                                    " must be a 2-d tile, got shape " + shapeText(t.getShape()));
    int64_t m = ta->getDimSize(transA ? 1 : 0), kA = ta->getDimSize(transA ? 0 : 1);
    int64_t kB = tb->getDimSize(transB ? 1 : 0), n = tb->getDimSize(transB ? 0 : 1);
    if (kA != kB)
      return error(loc, "T.gemm's K extents differ: A " + shapeText(ta->getShape()) +
                            (transA ? " (transposed)" : "") + " gives K = " + llvm::Twine(kA) +
                            ", B " + shapeText(tb->getShape()) + (transB ? " (transposed)" : "") +
                            " gives K = " + llvm::Twine(kB));
    if (tc->getDimSize(0) != m || tc->getDimSize(1) != n)
      return error(a.locs[2], "T.gemm's C must be " + shapeText({m, n}) +
                                  " for these operands, got " + shapeText(tc->getShape()));
    if (tile::getMemoryScope(*tc) != tile::MemoryScope::Fragment &&
        tile::getMemoryScope(*tc) != tile::MemoryScope::Local)
      return error(a.locs[2], "T.gemm accumulates into a fragment: allocate C with "
                              "T.alloc_fragment");
    for (auto [t, i] : {std::make_pair(*ta, 0), std::make_pair(*tb, 1)})
      if (tile::getMemoryScope(t) == tile::MemoryScope::Global)
        return error(a.locs[i], "T.gemm reads tiles on chip: copy this operand into "
                                "a T.alloc_shared buffer first");
    auto op = tile::GemmOp::create(b(), at(loc), a.get(0)->ir, a.get(1)->ir, a.get(2)->ir);
    op.setTransposeA(transA);
    op.setTransposeB(transB);
    op.setClearAccum(clear);
    op.setPolicy(policy);
    // Leave the remaining checks (dtypes) to the verifier, at this location.
    return Value::none();
  }

  MaybeValue fill(const Value &buf, SourceLoc bl, const Value &value, SourceLoc vl) {
    if (!requireDevice("T.fill"))
      return std::nullopt;
    if (buf.kind == Value::Kind::Region)
      return e.fillRegion(buf, bl, value, vl);
    std::optional<MemRefType> t = bufferType(buf, bl, "the buffer to fill");
    if (!t)
      return std::nullopt;
    if (tile::getMemoryScope(*t) == tile::MemoryScope::Global)
      return error(bl, "T.fill writes on-chip buffers; '" + buf.s + "' is a kernel argument");
    std::optional<mlir::Value> v = e.toIR(value, t->getElementType(), vl);
    if (!v)
      return std::nullopt;
    tile::FillOp::create(b(), at(loc), buf.ir, *v);
    return Value::none();
  }

  MaybeValue reduce(tile::ReduceKind kind, BoundArgs &a) {
    if (!requireDevice("a reduction"))
      return std::nullopt;
    std::optional<MemRefType> src = bufferType(*a.get(0), a.locs[0], "the reduction's source");
    std::optional<MemRefType> dst = src ? bufferType(*a.get(1), a.locs[1], "the reduction's destination") : std::nullopt;
    if (!dst)
      return std::nullopt;
    int64_t dim = -1;
    if (const Value *d = a.get(2)) {
      std::optional<int64_t> v = e.requireInt(*d, a.locs[2], "dim");
      if (!v)
        return std::nullopt;
      dim = *v;
    }
    int64_t rank = src->getRank();
    if (dim < -rank || dim >= rank)
      return error(a.locs[2].isValid() ? a.locs[2] : loc,
                   "dim " + llvm::Twine(dim) + " is out of range for a rank-" +
                       llvm::Twine(rank) + " source");
    if (dim < 0)
      dim += rank;
    bool clear = true;
    if (const Value *c = a.get(3)) {
      if (c->kind != Value::Kind::Bool)
        return error(a.locs[3], "clear must be True or False");
      clear = c->b;
    }
    SmallVector<int64_t> expected(src->getShape());
    expected.erase(expected.begin() + dim);
    bool scalarOk = expected.empty() && (dst->getRank() == 0 ||
                                         dst->getShape() == ArrayRef<int64_t>{1});
    if (!scalarOk && ArrayRef<int64_t>(expected) != dst->getShape())
      return error(a.locs[1], "reducing " + shapeText(src->getShape()) + " along dim " +
                                  llvm::Twine(dim) + " gives " + shapeText(expected) +
                                  ", but the destination has shape " +
                                  shapeText(dst->getShape()));
    if (a.get(0)->isUnsigned || a.get(1)->isUnsigned)
      return error(a.locs[0], "reductions over unsigned integers are not supported yet");
    mlir::Value source = a.get(0)->ir;
    Type from = src->getElementType(), to = dst->getElementType();
    if (from != to) {
      // Reducing into a wider type (bf16 into f32, int8 into int32), as
      // TileLang allows: the source is converted first, so the reduction
      // runs in the destination's type.
      bool widening = (isa<FloatType>(from) && isa<FloatType>(to) &&
                       from.getIntOrFloatBitWidth() <= to.getIntOrFloatBitWidth()) ||
                      (from.isInteger() && to.isInteger() &&
                       from.getIntOrFloatBitWidth() < to.getIntOrFloatBitWidth());
      if (!widening)
        return error(a.locs[1], "a reduction's destination must have the source's dtype or a "
                                "wider one of the same kind (got " + dtypeName(from) + " into " +
                                dtypeName(to) + ")");
      auto wide = MemRefType::get(src->getShape(), to, MemRefLayoutAttrInterface(),
                                  src->getMemorySpace());
      source = tile::AllocOp::create(b(), at(loc), wide, nullptr);
      SmallVector<mlir::Value> zeros(src->getRank(),
                                     arith::ConstantIndexOp::create(b(), at(loc), 0));
      SmallVector<int64_t> sizes(src->getShape());
      tile::CopyOp::create(b(), at(loc), a.get(0)->ir, zeros, b().getDenseI64ArrayAttr(sizes),
                           source, zeros, b().getDenseI64ArrayAttr(sizes));
    }
    tile::ReduceOp::create(b(), at(loc), kind, source, a.get(1)->ir,
                           static_cast<uint64_t>(dim), clear);
    return Value::none();
  }

  /// T.atomic_add: `order` is empty for relaxed; with `returnPrev` the call
  /// is the element's value before the add.
  MaybeValue atomicAdd(BoundArgs &a, const std::string &order, bool returnPrev) {
    if (!requireDevice("T.atomic_add"))
      return std::nullopt;
    const Value &dst = *a.get(0);
    MaybeValue valueM = a.get(1)->kind == Value::Kind::Buffer
                            ? *a.get(1)
                            : e.materialize(*a.get(1), a.locs[1]);
    if (!valueM)
      return std::nullopt;
    const Value &value = *valueM;
    if (dst.kind != Value::Kind::Region && dst.kind != Value::Kind::Buffer)
      return error(a.locs[0], "T.atomic_add's destination must be a buffer element or region");
    auto dstType = cast<MemRefType>(dst.ir.getType());
    StringAttr orderAttr =
        order.empty() || order == "relaxed" ? StringAttr() : b().getStringAttr(order);
    SmallVector<mlir::Value> base;
    for (int64_t d = 0; d < dstType.getRank(); ++d) {
      Value off = dst.kind == Value::Kind::Region ? *dst.dims[d].offset : Value::integer(0);
      std::optional<mlir::Value> v = e.toIndex(off, a.locs[0]);
      if (!v)
        return std::nullopt;
      base.push_back(*v);
    }
    if (value.kind != Value::Kind::Buffer) {
      std::optional<mlir::Value> v = e.toIR(value, dstType.getElementType(), a.locs[1]);
      if (!v)
        return std::nullopt;
      auto op = tile::AtomicAddOp::create(b(), at(loc), returnPrev ? v->getType() : Type(), *v,
                                          dst.ir, base, orderAttr);
      return returnPrev ? Value::scalar(op.getPrevious()) : Value::none();
    }
    if (returnPrev)
      return error(a.locs[3], "T.atomic_add(..., return_prev=True) adds a tile here; "
                              "the previous value is returned only when adding to one element");
    // A tile added into a region starting at dst: one atomic per element,
    // the region's extent and the tile's shape matched as T.copy matches
    // them (O[0:S, h, 0:D] takes an S x D tile; O[b, h, 0] a tile along
    // its last dimensions; unit dimensions on either side are dropped).
    auto srcType = cast<MemRefType>(value.ir.getType());
    std::optional<CopySide> srcSide = copySide(value, a.locs[1]);
    std::optional<CopySide> dstSide = copySide(dst, a.locs[0]);
    if (!srcSide || !dstSide ||
        !matchExtents(*srcSide, a.locs[1], *dstSide, a.locs[0], "T.atomic_add"))
      return std::nullopt;
    // The tile's non-unit dimensions run, in order, along the region's.
    SmallVector<std::pair<int64_t, int64_t>> along; // (tile dim, region dim)
    int64_t d = 0;
    for (int64_t s = 0; s < srcType.getRank(); ++s) {
      if (srcType.getDimSize(s) == 1)
        continue;
      while (dstSide->sizes[d] == 1)
        ++d;
      along.push_back({s, d++});
    }
    OpBuilder::InsertionGuard guard(b());
    SmallVector<mlir::Value> ivs;
    e.openParallel(srcType.getShape(), at(loc), ivs);
    mlir::Value x = memref::LoadOp::create(b(), at(loc), value.ir, ivs);
    x = e.castTo(x, dstType.getElementType(), loc);
    SmallVector<mlir::Value> idx(base);
    for (auto [s, d] : along)
      idx[d] = arith::AddIOp::create(b(), at(loc), base[d], ivs[s]);
    tile::AtomicAddOp::create(b(), at(loc), Type(), x, dst.ir, idx, orderAttr);
    return Value::none();
  }

  /// Elementwise math: constants fold in double precision; device values
  /// become math/arith ops on a float type.
  mlir::Value floatConst(mlir::Value like, double v) {
    return arith::ConstantOp::create(b(), at(loc), b().getFloatAttr(like.getType(), v));
  }

  MaybeValue unaryMath(llvm::StringRef name, const Value &xIn, SourceLoc xl) {
    MaybeValue xm = e.materialize(xIn, xl);
    if (!xm)
      return std::nullopt;
    const Value &x = *xm;
    if (x.isConstant()) {
      double v = x.kind == Value::Kind::Float ? x.f : (double)(x.kind == Value::Kind::Int ? x.i : x.b);
      if (name == "abs" && x.kind == Value::Kind::Int) // abs(-2**63) is 2**63
        return x.i < 0 ? e.binaryOp("-", Value::integer(0), x, xl) : MaybeValue(x);
      double r = llvm::StringSwitch<double>(name)
                     .Case("exp", std::exp(v)).Case("exp2", std::exp2(v))
                     .Case("log", std::log(v)).Case("log2", std::log2(v))
                     .Case("abs", std::fabs(v)).Case("sqrt", std::sqrt(v))
                     .Case("rsqrt", 1.0 / std::sqrt(v)).Case("sin", std::sin(v))
                     .Case("cos", std::cos(v)).Case("tanh", std::tanh(v))
                     .Case("floor", std::floor(v)).Case("ceil", std::ceil(v))
                     .Case("log10", std::log10(v)).Case("log1p", std::log1p(v))
                     .Case("sigmoid", 1.0 / (1.0 + std::exp(-v)))
                     .Case("trunc", std::trunc(v))
                     .Default(NAN);
      return Value::floating(r);
    }
    if (x.kind != Value::Kind::Scalar)
      return error(xl, "T." + name + " takes a number, got " + describe(x));
    Type t = x.ir.getType();
    Location l = at(loc);
    if (name == "abs" && t.isIntOrIndex())
      return makeScalar(math::AbsIOp::create(b(), l, x.ir));
    mlir::Value v = x.ir;
    if (!isa<FloatType>(t))
      v = e.castTo(v, b().getF32Type(), xl);
    mlir::Value r = llvm::StringSwitch<std::function<mlir::Value()>>(name)
        .Case("exp", [&] { return (mlir::Value)math::ExpOp::create(b(), l, v); })
        .Case("exp2", [&] { return (mlir::Value)math::Exp2Op::create(b(), l, v); })
        .Case("log", [&] { return (mlir::Value)math::LogOp::create(b(), l, v); })
        .Case("log2", [&] { return (mlir::Value)math::Log2Op::create(b(), l, v); })
        .Case("abs", [&] { return (mlir::Value)math::AbsFOp::create(b(), l, v); })
        .Case("sqrt", [&] { return (mlir::Value)math::SqrtOp::create(b(), l, v); })
        .Case("rsqrt", [&] { return (mlir::Value)math::RsqrtOp::create(b(), l, v); })
        .Case("sin", [&] { return (mlir::Value)math::SinOp::create(b(), l, v); })
        .Case("cos", [&] { return (mlir::Value)math::CosOp::create(b(), l, v); })
        .Case("tanh", [&] { return (mlir::Value)math::TanhOp::create(b(), l, v); })
        .Case("floor", [&] { return (mlir::Value)math::FloorOp::create(b(), l, v); })
        .Case("ceil", [&] { return (mlir::Value)math::CeilOp::create(b(), l, v); })
        // The rest through those every backend has.
        .Case("log10", [&] {
          return (mlir::Value)arith::MulFOp::create(
              b(), l, math::Log2Op::create(b(), l, v), floatConst(v, 0.30102999566398120));
        })
        .Case("log1p", [&] {
          return (mlir::Value)math::LogOp::create(
              b(), l, arith::AddFOp::create(b(), l, v, floatConst(v, 1.0)));
        })
        .Case("sigmoid", [&] {
          mlir::Value e = math::ExpOp::create(b(), l, arith::NegFOp::create(b(), l, v));
          return (mlir::Value)arith::DivFOp::create(
              b(), l, floatConst(v, 1.0), arith::AddFOp::create(b(), l, e, floatConst(v, 1.0)));
        })
        .Case("trunc", [&] {
          mlir::Value neg = arith::CmpFOp::create(b(), l, arith::CmpFPredicate::OLT, v,
                                                  floatConst(v, 0.0));
          return (mlir::Value)arith::SelectOp::create(b(), l, neg, math::CeilOp::create(b(), l, v),
                                                      math::FloorOp::create(b(), l, v));
        })
        .Default([] { return mlir::Value(); })();
    return makeScalar(r);
  }

  MaybeValue minMax(bool isMax, std::vector<Value> &xs, std::vector<SourceLoc> &ls) {
    if (xs.size() == 1 && xs[0].isSequence()) {
      std::vector<Value> elems = xs[0].elems;
      std::vector<SourceLoc> locs(elems.size(), ls[0]);
      return minMax(isMax, elems, locs);
    }
    if (xs.size() < 2)
      return error(loc, llvm::Twine(isMax ? "max" : "min") + "() needs at least two values");
    MaybeValue acc = e.materialize(xs[0], ls[0]);
    for (size_t i = 1; acc && i < xs.size(); ++i) {
      MaybeValue x = e.materialize(xs[i], ls[i]);
      if (!x)
        return std::nullopt;
      auto known = [](const Value &v) { return v.isConstant() || v.kind == Value::Kind::BigInt; };
      if (known(*acc) && known(*x)) { // exact for integers (`acc - x` may not fit 64 bits)
        double a = acc->kind == Value::Kind::Float ? acc->f : exactIntegerToDouble(*acc);
        double b = x->kind == Value::Kind::Float ? x->f : exactIntegerToDouble(*x);
        int d = isExactInteger(*acc) && isExactInteger(*x) ? compareExactIntegers(*acc, *x)
                                                           : (a > b) - (a < b);
        if ((isMax && d < 0) || (!isMax && d > 0))
          acc = x;
        continue;
      }
      Type t = acc->isConstant() ? e.naturalType(*x)
               : x->isConstant() ? e.naturalType(*acc)
                                 : e.naturalType(*acc);
      if (!acc->isConstant() && !x->isConstant() && e.naturalType(*x) != t &&
          isa<FloatType>(e.naturalType(*x)))
        t = e.naturalType(*x);
      std::optional<mlir::Value> a = e.toIR(*acc, t, ls[0]), c = e.toIR(*x, t, ls[i]);
      if (!a || !c)
        return std::nullopt;
      Location l = at(loc);
      bool u = (acc->isUnsigned || acc->isConstant()) && (x->isUnsigned || x->isConstant()) &&
               (acc->isUnsigned || x->isUnsigned);
      mlir::Value r = isa<FloatType>(t)
          ? (isMax ? (mlir::Value)arith::MaximumFOp::create(b(), l, *a, *c)
                   : (mlir::Value)arith::MinimumFOp::create(b(), l, *a, *c))
          : u ? (isMax ? (mlir::Value)arith::MaxUIOp::create(b(), l, *a, *c)
                       : (mlir::Value)arith::MinUIOp::create(b(), l, *a, *c))
              : (isMax ? (mlir::Value)arith::MaxSIOp::create(b(), l, *a, *c)
                       : (mlir::Value)arith::MinSIOp::create(b(), l, *a, *c));
      acc = makeScalar(r);
      acc->isUnsigned = u && !isa<FloatType>(t);
    }
    return acc;
  }

  MaybeValue alloc(tile::MemoryScope scope, BoundArgs &a, llvm::StringRef name) {
    if (!requireDevice(name))
      return std::nullopt;
    const Value &shapeV = *a.get(0);
    std::vector<Value> dims = shapeV.isSequence() ? shapeV.elems : std::vector<Value>{shapeV};
    SmallVector<int64_t> shape;
    for (const Value &d : dims) {
      std::optional<int64_t> n = e.requireInt(d, a.locs[0], "a buffer dimension");
      if (!n)
        return std::nullopt;
      if (*n <= 0)
        return error(a.locs[0], "buffer dimensions must be positive, got " + llvm::Twine(*n));
      shape.push_back(*n);
    }
    Type elt = e.requireDType(*a.get(1), a.locs[1]);
    if (!elt)
      return std::nullopt;
    auto type = MemRefType::get(shape, elt, MemRefLayoutAttrInterface(),
                                tile::MemoryScopeAttr::get(b().getContext(), scope));
    Value buf = scope == tile::MemoryScope::Local && !e.threadExtents.empty()
                    ? e.perThreadBuffer(type, loc)
                    : Value::buffer(tile::AllocOp::create(b(), at(loc), type, nullptr), "");
    buf.isUnsigned = e.dtypeIsUnsigned(*a.get(1));
    return buf;
  }

  Emitter &e;
  SourceLoc loc;
};

static Value spec(SpecKind kind, std::vector<Value> args,
                  std::vector<std::pair<std::string, Value>> kwargs = {}) {
  Value v = Value::tuple(std::move(args));
  v.kind = Value::Kind::Spec;
  v.spec = kind;
  v.kwargs = std::move(kwargs);
  return v;
}

MaybeValue Emitter::callBuiltin(const std::string &name, std::vector<Value> &args,
                                std::vector<std::pair<std::string, Value>> &kwargs,
                                std::vector<SourceLoc> &argLocs, SourceLoc l) {
  if (refusedPerThread(name, args, l))
    return std::nullopt;
  PrimitiveEmitter p(*this, l);
  auto bind = [&](Signature sig, bool allowUnknown = false) {
    return bindArgs(sig, args, kwargs, argLocs, l, diags, allowUnknown);
  };
  auto materializeAll = [&]() -> bool {
    for (size_t i = 0; i < args.size(); ++i) {
      MaybeValue v = materialize(args[i], argLocs[i]);
      if (!v)
        return false;
      args[i] = *v;
    }
    return true;
  };

  // A discovery run of an eager kernel: arithmetic on a T.const not known
  // yet gives another unknown.
  if (discovering() && (name == "T.ceildiv" || name == "T.max" || name == "T.min" ||
                        name == "max" || name == "min" || name == "tessel.cdiv") &&
      llvm::any_of(args, [](const Value &v) { return isConstPlaceholder(v); }))
    return constPlaceholder("");

  // T.reshape views: filled through their buffer; read whole through a copy
  // of their elements.
  if ((name == "T.fill" || name == "T.clear") && !args.empty() &&
      args[0].kind == Value::Kind::View) {
    args[0].kind = Value::Kind::Buffer;
    args[0].viewShape.clear();
  }
  if (name == "T.copy" || name == "T.gemm" || llvm::StringRef(name).starts_with("T.reduce_")) {
    size_t reads = name == "T.gemm" ? 2 : 1;
    for (size_t i = 0; i < reads && i < args.size(); ++i)
      if (args[i].kind == Value::Kind::View) {
        MaybeValue whole = viewAsBuffer(args[i], argLocs[i]);
        if (!whole)
          return std::nullopt;
        args[i] = *whole;
      }
  }

  // TileLang's other spellings of Tessel's primitives.
  static const std::pair<const char *, const char *> kAliases[] = {
      {"T.Serial", "T.serial"}, {"T.Unroll", "T.unroll"}, {"T.fabs", "T.abs"},
      {"T.cdiv", "T.ceildiv"}, {"T.Select", "T.if_then_else"}};
  for (auto [alias, canonical] : kAliases)
    if (name == alias)
      return callBuiltin(canonical, args, kwargs, argLocs, l);

  //===-- structure -------------------------------------------------------===//
  if (name == "T.Kernel") {
    auto a = bind({name, {}, 1, true}, /*allowUnknown=*/true);
    if (!a)
      return std::nullopt;
    if (a->rest.size() > 3)
      return error(a->restLocs[3], "T.Kernel takes 1 to 3 grid extents");
    for (auto &[k, v] : a->extraKwargs)
      if (k != "threads" && k != "cluster" && k != "cluster_dims" && k != "prelude")
        return error(l, "T.Kernel() got an unexpected keyword argument '" + k +
                            "' (it takes grid extents, threads, cluster)");
    for (size_t i = 0; i < a->rest.size(); ++i) {
      MaybeValue v = materialize(a->rest[i], a->restLocs[i]);
      if (!v)
        return std::nullopt;
      a->rest[i] = *v;
    }
    return spec(SpecKind::Kernel, a->rest, a->extraKwargs);
  }
  if (name == "T.Tensor" || name == "T.Buffer") {
    auto a = bind({name, {"shape", "dtype", "in_place"}, 2});
    if (!a)
      return std::nullopt;
    Value shape = *a->get(0);
    if (!shape.isSequence())
      shape = Value::tuple({shape});
    Value dtype = *a->get(1);
    if (!requireDType(dtype, a->locs[1]))
      return std::nullopt;
    return spec(SpecKind::Tensor, {shape, dtype, a->get(2) ? *a->get(2) : Value::boolean(false)});
  }
  if (name == "T.Pipelined" || name == "T.Parallel" || name == "T.serial" ||
      name == "T.unroll" || name == "range") {
    if (!materializeAll())
      return std::nullopt;
    SpecKind kind = name == "T.Pipelined" ? SpecKind::Pipelined
                    : name == "T.Parallel" ? SpecKind::Parallel
                    : name == "T.serial"   ? SpecKind::Serial
                    : name == "T.unroll"   ? SpecKind::Unroll
                                           : SpecKind::Range;
    if (args.empty())
      return error(l, name + "() needs at least one extent");
    for (size_t k = 0; k < kwargs.size(); ++k) {
      const std::string &kw = kwargs[k].first;
      // TileLang's scheduling hints Tessel decides itself are accepted.
      bool ok = (kind == SpecKind::Pipelined &&
                 (kw == "num_stages" || kw == "order" || kw == "stage" ||
                  kw == "group" || kw == "sync" || kw == "annotations")) ||
                (kind == SpecKind::Parallel &&
                 (kw == "coalesced_width" || kw == "loop_layout" || kw == "prefer_async" ||
                  kw == "annotations")) ||
                ((kind == SpecKind::Serial || kind == SpecKind::Unroll) &&
                 (kw == "annotations" || kw == "explicit" || kw == "unroll_factor"));
      if (!ok)
        return error(argLocs[args.size() + k], name + "() got an unexpected keyword argument '" + kw + "'");
    }
    return spec(kind, args, kwargs);
  }
  if (name == "T.thread_binding")
    return spec(SpecKind::ThreadBinding, args, kwargs);
  if (name == "T.Persistent") {
    auto a = bind({name, {"domain", "wave_size", "index", "group_size", "num_stages",
                          "annotations"}, 3});
    if (!a)
      return std::nullopt;
    for (int i = 1; i <= 2; ++i) {
      MaybeValue v = materialize(*a->get(i), a->locs[i]);
      if (!v)
        return std::nullopt;
      a->values[i] = *v;
    }
    Value domain = *a->get(0);
    if (!domain.isSequence())
      domain = Value::tuple({domain});
    return spec(SpecKind::Persistent, {domain, *a->get(1), *a->get(2)});
  }
  if (name == "T.dynamic" || name == "T.symbolic") {
    auto a = bind({name, {"name", "dtype"}, 1});
    if (!a)
      return std::nullopt;
    if (a->get(0)->kind != Value::Kind::String)
      return error(a->locs[0], name + "() takes the dimension's name as a string");
    // "M, N" (or "M N") names several: a tuple of them.
    SmallVector<StringRef> parts;
    StringRef(a->get(0)->s).split(parts, ",", -1, false);
    std::vector<Value> dims;
    for (StringRef part : parts) {
      SmallVector<StringRef> words;
      part.split(words, " ", -1, false);
      for (StringRef w : words)
        dims.push_back(Value::named(Value::Kind::Dynamic, w.trim().str()));
    }
    if (dims.empty())
      return error(a->locs[0], name + "() needs a dimension name");
    return dims.size() == 1 ? dims[0] : Value::tuple(std::move(dims));
  }
  if (name == "tessel.jit" || name == "tessel.autotune")
    return spec(SpecKind::JitDecorator, {}, {});
  if (name == "T.prim_func" || name == "T.macro")
    return error(l, name + " is a decorator: write @" + name + " above a def");

  //===-- buffers ---------------------------------------------------------===//
  if (name == "T.alloc_shared" || name == "T.alloc_fragment" || name == "T.alloc_local") {
    auto a = bind({name, {"shape", "dtype", "scope"}, 2});
    if (!a)
      return std::nullopt;
    tile::MemoryScope scope = name == "T.alloc_shared" ? tile::MemoryScope::Shared
                              : name == "T.alloc_fragment" ? tile::MemoryScope::Fragment
                                                           : tile::MemoryScope::Local;
    return p.alloc(scope, *a, name);
  }
  if (name == "T.copy") {
    // TileLang's copy hints (vector width, cache policy, instruction) are
    // Tessel's own decisions: accepted and not used.
    auto a = bind({name, {"src", "dst", "coalesced_width", "disable_tma", "eviction_policy",
                          "prefer_instruction", "annotations", "loop_layout"}, 2,
                   /*variadic=*/false, /*positional=*/2});
    return a ? p.copy(*a) : std::nullopt;
  }
  if (name == "T.gemm") {
    auto a = bind({name, {"A", "B", "C", "transpose_A", "transpose_B", "policy",
                          "clear_accum", "k_pack", "wg_wait"}, 3});
    if (!a)
      return std::nullopt;
    // An operand that is a region of an on-chip tile (Q[:, 0:D]) is copied
    // into a tile of its own first.
    for (int i = 0; i < 2; ++i)
      if (a->get(i)->kind == Value::Kind::Region) {
        MaybeValue own = regionAsTile(*a->get(i), a->locs[i]);
        if (!own)
          return std::nullopt;
        a->values[i] = *own;
      }
    return p.gemm(*a);
  }
  if (name == "T.fill") {
    auto a = bind({name, {"buffer", "value"}, 2});
    if (!a)
      return std::nullopt;
    MaybeValue v = materialize(*a->get(1), a->locs[1]);
    return v ? p.fill(*a->get(0), a->locs[0], *v, a->locs[1]) : std::nullopt;
  }
  if (name == "T.clear") {
    auto a = bind({name, {"buffer"}, 1});
    return a ? p.fill(*a->get(0), a->locs[0], Value::integer(0), l) : std::nullopt;
  }
  if (llvm::StringRef(name).starts_with("T.reduce_")) {
    std::optional<tile::ReduceKind> kind =
        tile::symbolizeReduceKind(llvm::StringRef(name).drop_front(9));
    if (!kind)
      return error(l, "unknown reduction " + name +
                          " (reduce_max, reduce_min, reduce_sum, reduce_abssum, reduce_absmax)");
    auto a = bind({name, {"buffer", "out", "dim", "clear", "batch", "nan_propagate",
                          "annotations"}, 2});
    return a ? p.reduce(*kind, *a) : std::nullopt;
  }
  if (name == "T.atomic_add") {
    auto a = bind({name, {"dst", "value", "memory_order", "return_prev", "use_tma"}, 2});
    if (!a)
      return std::nullopt;
    // TileLang's orders, as C++'s; a consume is an acquire (as compilers
    // implement it).
    std::string order;
    if (const Value *o = a->get(2); o && o->kind != Value::Kind::None) {
      static const char *const kOrders[] = {"relaxed", "consume", "acquire",
                                            "release", "acq_rel", "seq_cst"};
      if (o->kind != Value::Kind::String || !llvm::is_contained(kOrders, o->s))
        return error(a->locs[2], "T.atomic_add's memory_order is " +
                                     (o->kind == Value::Kind::String ? "'" + o->s + "'"
                                                                     : describe(*o)) +
                                     "; expected 'relaxed', 'consume', 'acquire', "
                                     "'release', 'acq_rel' or 'seq_cst'");
      order = o->s == "consume" ? "acquire" : o->s;
    }
    bool returnPrev = false;
    if (const Value *prev = a->get(3); prev && prev->kind != Value::Kind::None) {
      std::optional<bool> t = truthValue(*prev);
      if (!t)
        return error(a->locs[3], "return_prev must be True or False, got " + describe(*prev));
      returnPrev = *t;
    }
    return p.atomicAdd(*a, order, returnPrev);
  }
  //===-- scalars ---------------------------------------------------------===//
  static const char *const kUnary[] = {"exp",  "exp2", "log",   "log2",  "abs",
                                       "sqrt", "rsqrt", "sin",  "cos",   "tanh",
                                       "floor", "ceil", "log10", "log1p", "sigmoid",
                                       "trunc"};
  llvm::StringRef bare = llvm::StringRef(name).starts_with("T.")
                             ? llvm::StringRef(name).drop_front(2)
                             : llvm::StringRef(name);
  if ((name.rfind("T.", 0) == 0 || name == "abs") && llvm::is_contained(kUnary, bare)) {
    auto a = bind({name, {"x"}, 1});
    return a ? p.unaryMath(bare, *a->get(0), a->locs[0]) : std::nullopt;
  }
  if (name == "T.max" || name == "T.min" || name == "max" || name == "min") {
    if (!kwargs.empty())
      return error(l, name + "() takes no keyword arguments");
    return p.minMax(bare == "max", args, argLocs);
  }
  if (name == "T.ceildiv") {
    auto a = bind({name, {"a", "b"}, 2});
    if (!a || !materializeAll())
      return std::nullopt;
    MaybeValue x = materialize(*a->get(0), a->locs[0]), y = materialize(*a->get(1), a->locs[1]);
    if (!x || !y)
      return std::nullopt;
    if (isExactInteger(*x) && isExactInteger(*y)) { // -(-x // y), exactly
      MaybeValue q = integerOp("-", Value::integer(0), *x, a->locs[0]);
      if (q)
        q = integerOp("//", *q, *y, a->locs[1]);
      return q ? integerOp("-", Value::integer(0), *q, a->locs[1]) : q;
    }
    if (std::optional<Value> symbolic = dynamicExpression("ceildiv", *x, *y))
      return *symbolic;
    std::optional<mlir::Value> xv = toIndex(*x, a->locs[0]), yv = toIndex(*y, a->locs[1]);
    if (!xv || !yv)
      return std::nullopt;
    return makeScalar(arith::CeilDivSIOp::create(builder, loc(l), *xv, *yv));
  }
  if (name == "T.if_then_else") {
    auto a = bind({name, {"cond", "then_value", "else_value"}, 3});
    if (!a)
      return std::nullopt;
    MaybeValue c = materialize(*a->get(0), a->locs[0]);
    MaybeValue x = materialize(*a->get(1), a->locs[1]);
    MaybeValue y = materialize(*a->get(2), a->locs[2]);
    if (!c || !x || !y)
      return std::nullopt;
    if (c->kind == Value::Kind::Bool)
      return c->b ? *x : *y;
    // The branches' type: a device value's, else the literals' (a float
    // literal on either side makes it f32, as `-T.infinity(t)` or `0`).
    Type t = x->isConstant() ? naturalType(*y) : naturalType(*x);
    if (!x->isConstant() && !y->isConstant() && isa<FloatType>(naturalType(*y)) &&
        !isa<FloatType>(t))
      t = naturalType(*y);
    if (!isa<FloatType>(t) && ((x->isConstant() && x->kind == Value::Kind::Float) ||
                               (y->isConstant() && y->kind == Value::Kind::Float)))
      t = builder.getF32Type();
    std::optional<mlir::Value> cv = toIR(*c, builder.getI1Type(), a->locs[0]);
    std::optional<mlir::Value> xv = toIR(*x, t, a->locs[1]), yv = toIR(*y, t, a->locs[2]);
    if (!cv || !xv || !yv)
      return std::nullopt;
    return makeScalar(arith::SelectOp::create(builder, loc(l), *cv, *xv, *yv));
  }
  if (name == "T.infinity") {
    auto a = bind({name, {"dtype"}, 1});
    if (!a || !requireDType(*a->get(0), a->locs[0]))
      return std::nullopt;
    return Value::floating(std::numeric_limits<double>::infinity());
  }
  if (name == "T.cast") {
    auto a = bind({name, {"value", "dtype"}, 2});
    if (!a)
      return std::nullopt;
    Type t = requireDType(*a->get(1), a->locs[1]);
    MaybeValue x = materialize(*a->get(0), a->locs[0]);
    if (!t || !x)
      return std::nullopt;
    if (x->isConstant() && !insidePrimFunc()) {
      if (isa<FloatType>(t))
        return Value::floating(x->kind == Value::Kind::Float ? x->f : (double)x->i);
      return Value::integer(x->kind == Value::Kind::Float ? (int64_t)x->f : x->i);
    }
    bool toUnsigned = dtypeIsUnsigned(*a->get(1));
    std::optional<mlir::Value> v =
        x->isConstant() ? toIR(*x, t, a->locs[0])
                        : std::optional<mlir::Value>(convert(x->ir, t, x->isUnsigned,
                                                             toUnsigned, l));
    if (!v)
      return std::nullopt;
    Value result = makeScalar(*v);
    result.isUnsigned = toUnsigned;
    return result;
  }
  //===-- the rest: TileLang's further names (TileLangNames.cpp) and
  //     compile-time Python (HostBuiltins.cpp) ---------------------------===//
  if (llvm::StringRef(name).starts_with("T."))
    return callTileLangName(name, args, kwargs, argLocs, l);
  return callHostBuiltin(name, args, kwargs, argLocs, l);
}

} // namespace tessel::frontend
