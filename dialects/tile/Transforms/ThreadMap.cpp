//===- ThreadMap.cpp - which thread holds which fragment element ----------===//

#include "dialects/tile/Transforms/ThreadMap.h"

#include "dialects/tile/Transforms/Layouts.h"

#include "mlir/IR/AffineMap.h"

#include <array>
#include "llvm/Support/MathExtras.h"

using namespace mlir;
using namespace tessel::tile;

std::optional<ThreadMap> ThreadMap::build(tile::FragmentLayoutAttr layout,
                                          ArrayRef<int64_t> shape) {
  ThreadMap m;
  m.numThreads = layout.getThreads();
  m.dims.assign(shape.begin(), shape.end());
  int64_t count = 1;
  for (int64_t s : shape)
    count *= s;
  tile::AffineEvaluator eval(layout.getMap());
  m.holders.resize(count);
  int64_t maxSlot = -1, primaries = 0;
  SmallVector<int64_t> index(shape.size(), 0);
  for (int64_t e = 0; e < count; ++e) {
    int64_t r[2];
    eval.evaluate(index, r);
    if (r[0] < 0 || r[0] >= m.numThreads || r[1] < 0)
      return std::nullopt;
    m.holders[e] = {r[0], r[1]};
    maxSlot = std::max(maxSlot, r[1]);
    primaries |= r[0];
    for (int64_t d = shape.size() - 1; d >= 0; --d) {
      if (++index[d] < shape[d])
        break;
      index[d] = 0;
    }
  }
  m.numSlots = maxSlot + 1;
  // Replicas: the thread bits that no primary holder uses. A replicated
  // layout must account for exactly `replicate` copies that way.
  if (layout.getReplicate() > 1) {
    int64_t bits = llvm::NextPowerOf2(m.numThreads - 1) - 1;
    int64_t unused = bits & ~primaries;
    if ((int64_t(1) << llvm::popcount(uint64_t(unused))) != layout.getReplicate())
      return std::nullopt;
    m.mask = unused;
  }
  m.table.assign(m.numThreads * m.numSlots, -1);
  for (int64_t e = 0; e < count; ++e) {
    auto [t, s] = m.holders[e];
    if (m.table[t * m.numSlots + s] != -1)
      return std::nullopt;
    m.table[t * m.numSlots + s] = e;
  }
  return m;
}

SmallVector<int64_t> ThreadMap::delinearize(int64_t linear) const {
  SmallVector<int64_t> index(dims.size());
  for (int64_t d = dims.size() - 1; d >= 0; --d) {
    index[d] = linear % dims[d];
    linear /= dims[d];
  }
  return index;
}

int64_t ThreadMap::linearize(ArrayRef<int64_t> index) const {
  int64_t linear = 0;
  for (auto [i, d] : llvm::zip(index, dims))
    linear = linear * d + i;
  return linear;
}

std::optional<SlotFormula> ThreadMap::formula(int64_t slot) const {
  SlotFormula f;
  // Threads holding something must be a prefix.
  int64_t valid = 0;
  while (valid < numThreads && elementAt(valid, slot) != -1)
    ++valid;
  for (int64_t t = valid; t < numThreads; ++t)
    if (elementAt(t, slot) != -1)
      return std::nullopt;
  f.validThreads = valid;
  if (valid == 0)
    return f;
  SmallVector<int64_t> base = delinearize(elementAt(0, slot));
  f.base = base;
  int64_t bits = llvm::Log2_64_Ceil(std::max<int64_t>(valid, 2));
  f.delta.assign(dims.size(), SmallVector<int64_t>(bits, 0));
  for (int64_t b = 0; b < bits; ++b) {
    int64_t t = int64_t(1) << b;
    if (t >= valid)
      continue;
    SmallVector<int64_t> at = delinearize(elementAt(t, slot));
    for (size_t d = 0; d < dims.size(); ++d)
      f.delta[d][b] = at[d] - base[d];
  }
  for (int64_t t = 0; t < valid; ++t) {
    SmallVector<int64_t> at = delinearize(elementAt(t, slot));
    for (size_t d = 0; d < dims.size(); ++d) {
      int64_t v = base[d];
      for (int64_t b = 0; b < bits; ++b)
        if (t >> b & 1)
          v += f.delta[d][b];
      if (v != at[d])
        return std::nullopt;
    }
  }
  return f;
}

bool tessel::tile::sameLayout(FragmentLayoutAttr a, FragmentLayoutAttr b,
                              ArrayRef<int64_t> shape) {
  if (a == b)
    return true;
  if (!a || !b || a.getThreads() != b.getThreads() || a.getReplicate() != b.getReplicate())
    return false;
  std::optional<ThreadMap> x = ThreadMap::build(a, shape), y = ThreadMap::build(b, shape);
  if (!x || !y || x->slots() != y->slots() || x->replicaMask() != y->replicaMask())
    return false;
  for (int64_t t = 0; t < x->threads(); ++t)
    for (int64_t s = 0; s < x->slots(); ++s)
      if (x->elementAt(t, s) != y->elementAt(t, s))
        return false;
  return true;
}
