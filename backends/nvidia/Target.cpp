//===- Target.cpp - Hopper (sm_90a) for the tile passes -------------------===//
//
// What the core passes ask of the NVIDIA backend: its MMA kinds, in order of
// preference (warpgroup MMA where a gemm fits it, warp MMA otherwise: an
// accumulator of fewer than 64 rows per warpgroup, a block of fewer than 128
// threads), their accumulator layouts, and the register budget.
//
//===----------------------------------------------------------------------===//

#include "backends/nvidia/Target.h"

#include "dialects/tile/Transforms/Target.h"

#include <numeric>

using namespace mlir;
using namespace tessel::tile;

int64_t tessel::nvidia::mmaUnitThreads(MmaKind kind) {
  return kind == MmaKind::Wgmma ? 128 : 32;
}

WarpgroupGrid tessel::nvidia::mmaGrid(MmaAttr mma) {
  return WarpgroupGrid{mma.getGridM(), mma.getGridN(), mmaUnitThreads(mma.getKind())};
}

int64_t tessel::nvidia::mnMajorGranuleBytes(GemmOp gemm, int operand) {
  // wgmmas start every 64 rows of A, every 256 columns of B, and where each
  // warpgroup's share starts when the MMA is split along that side.
  int64_t step = operand == 0 ? 64 : 256;
  if (MmaAttr mma = gemm.getMmaAttr()) {
    auto cType = cast<MemRefType>(gemm.getC().getType());
    int64_t parts = operand == 0 ? mma.getGridM() : mma.getGridN();
    int64_t extent = cType.getDimSize(operand == 0 ? 0 : 1);
    if (parts > 1 && extent % parts == 0)
      step = std::gcd(step, extent / parts);
  }
  Value v = operand == 0 ? gemm.getA() : gemm.getB();
  auto type = cast<MemRefType>(v.getType());
  int64_t bits = type.getElementTypeBitWidth();
  return step * bits / 8;
}

bool tessel::nvidia::gemmOperandStoredTransposed(GemmOp gemm, int operand) {
  bool kFirst = operand == 0 ? gemm.getTransposeA() : !gemm.getTransposeB();
  if (!kFirst)
    return false;
  Value v = operand == 0 ? gemm.getA() : gemm.getB();
  auto type = cast<MemRefType>(v.getType());
  Type elt = type.getElementType();
  bool sixteenBit = elt.isF16() || elt.isBF16();
  MmaAttr mma = gemm.getMmaAttr();
  bool wgmma = !mma || mma.getKind() == MmaKind::Wgmma;
  if (!sixteenBit || !wgmma || type.getRank() != 2 || !type.hasStaticShape())
    return true;
  // In place only in whole swizzle atoms (32, 64 or 128 bytes of the M/N
  // extent) that every warpgroup's part starts on; else K-major, as before.
  int64_t rowBytes = type.getDimSize(1) * 2, granule = mnMajorGranuleBytes(gemm, operand);
  for (int64_t swizzle : {128, 64, 32})
    if (rowBytes % swizzle == 0 && granule % swizzle == 0)
      return false;
  return true;
}

namespace {

class HopperTarget final : public TargetInfo {
public:
  StringRef name() const override { return "sm_90a"; }
  int64_t warpSize() const override { return 32; }

  SmallVector<MmaKind> mmaKinds(Type, Type) const override {
    // Both kinds take f16, bf16, fp8 and int8 operands (tf32 is refused when
    // the gemm is lowered, with its reason).
    return {MmaKind::Wgmma, MmaKind::MmaSync};
  }

  std::optional<MmaAttr> splitMma(MLIRContext *ctx, MmaKind kind,
                                  GemmWarpPolicy policy, int64_t threads,
                                  int64_t m, int64_t n) const override {
    int64_t unit = tessel::nvidia::mmaUnitThreads(kind);
    if (threads <= 0 || threads % unit)
      return std::nullopt;
    std::optional<WarpgroupGrid> grid = splitMmaUnits(policy, threads / unit, unit, m, n);
    if (!grid)
      return std::nullopt;
    return MmaAttr::get(ctx, kind, grid->alongM, grid->alongN);
  }

  std::string mmaRequirement(MmaKind kind) const override {
    if (kind == MmaKind::Wgmma)
      return "wgmma needs warpgroups of 128 threads, each holding whole 64-row "
             "slabs and 8-column groups of the accumulator";
    return "mma.sync needs warps of 32 threads, each holding whole 16-row "
           "slabs and 8-column groups of the accumulator";
  }

  FragmentLayoutAttr registerOperandLayout(MmaAttr mma, Type elt, int64_t m,
                                           int64_t k) const override {
    // 16-bit A only, in the accumulator layout of an M x K tile under the
    // same split along M; a split along N would need A whole in every
    // warp(group).
    if (!(elt.isF16() || elt.isBF16()) || mma.getGridN() != 1)
      return nullptr;
    return accumulatorLayout(mma, m, k);
  }

  FragmentLayoutAttr accumulatorLayout(MmaAttr mma, int64_t m, int64_t n) const override {
    return tessel::tile::accumulatorLayout(mma.getContext(), tessel::nvidia::mmaGrid(mma), m, n);
  }

  FragmentLayoutAttr accumulatorRowLayout(MmaAttr mma, int64_t m, int64_t n) const override {
    return tessel::tile::accumulatorRowLayout(mma.getContext(), tessel::nvidia::mmaGrid(mma), m, n);
  }

  // sm_90: 255 registers a thread can address, 64K in the SM's file.
  int64_t registersPerThread() const override { return 255; }
  int64_t registersPerBlock() const override { return 65536; }
};

} // namespace

void tessel::nvidia::registerNVIDIATargets() {
  registerTarget("sm_90a", [] { return std::make_unique<HopperTarget>(); });
}

int64_t tessel::nvidia::reductionResult(const tile::ThreadMap &S, const tile::ThreadMap &D,
                                        int64_t dim, int64_t e) {
  SmallVector<int64_t> idx = S.delinearize(e);
  idx.erase(idx.begin() + dim);
  if (idx.empty())
    idx.push_back(0);
  return D.linearize(idx);
}

bool tessel::nvidia::reductionStaysInWarps(const tile::ThreadMap &S,
                                           const tile::ThreadMap &D, int64_t dim,
                                           int64_t threads) {
  auto dstLinear = [&](int64_t e) { return reductionResult(S, D, dim, e); };
  // Each thread holds the result of every element it holds, one slot per
  // source slot, and every thread holds that slot's element or none does.
  for (int64_t s = 0; s < S.slots(); ++s) {
    int64_t dSlot = -1;
    bool any = false, all = true;
    for (int64_t t = 0; t < threads; ++t) {
      int64_t e = S.elementAt(t, s);
      if (e < 0) {
        all = false;
        continue;
      }
      any = true;
      int64_t de = dstLinear(e);
      if (!D.holds(t, de))
        return false;
      int64_t ds = D.holderOf(de).second;
      if (dSlot >= 0 && ds != dSlot)
        return false;
      dSlot = ds;
    }
    if (any && !all)
      return false;
  }
  // The threads sharing a result are exactly its replicas; they combine
  // with butterfly shuffles, which must stay within a warp.
  int64_t count = 1;
  for (int64_t extent : S.shape())
    count *= extent;
  for (int64_t e = 0; e < count; ++e)
    if (!D.holds(S.holderOf(e).first, dstLinear(e)))
      return false;
  return !(D.replicaMask() >> 5);
}
