// Warp-level collectives: shfl.sync up/down/bfly/idx with clamp and segment
// mask operand c and the predicate output (PTX ISA 9.7.9.6), vote.sync
// all/any/uni/ballot (9.7.13.9), match.any/all.sync (9.7.13.10),
// redux.sync (9.7.13.12) and elect.sync (9.7.13.14).
// Only lanes in membermask execute the instruction (the ISA makes it
// undefined for others); the other lanes leave their outputs untouched.
#include <cstdint>

namespace {
__device__ bool in_mask(uint32_t mask) { return (mask >> (threadIdx.x % 32)) & 1; }
}  // namespace

// d[tid] and p[tid] from shfl.sync.<mode>.b32 d|p, val[tid], b[tid], c, mask.
#define SHFL_KERNEL(name, mode)                                                               \
  extern "C" __global__ void name(const uint32_t *val, const uint32_t *b, uint32_t c,       \
                                  uint32_t mask, uint32_t *d, uint32_t *p) {               \
    int t = threadIdx.x;                                                                    \
    if (!in_mask(mask)) return;                                                             \
    uint32_t r, ok;                                                                         \
    asm volatile("{\n.reg .pred q;\nshfl.sync." mode ".b32 %0|q, %2, %3, %4, %5;\n"         \
                 "selp.u32 %1, 1, 0, q;\n}\n"                                               \
                 : "=r"(r), "=r"(ok)                                                        \
                 : "r"(val[t]), "r"(b[t]), "r"(c), "r"(mask));                              \
    d[t] = r;                                                                               \
    p[t] = ok;                                                                              \
  }

SHFL_KERNEL(shfl_up, "up")
SHFL_KERNEL(shfl_down, "down")
SHFL_KERNEL(shfl_bfly, "bfly")
SHFL_KERNEL(shfl_idx, "idx")

// out[tid*4 + k]: vote.sync.all, .any, .uni (as 0/1) and .ballot.b32 of pred[tid] != 0.
extern "C" __global__ void vote(const int *pred, uint32_t mask, uint32_t *out) {
  int t = threadIdx.x;
  if (!in_mask(mask)) return;
  uint32_t all, any, uni, ballot;
  asm volatile(
      "{\n.reg .pred a, r;\nsetp.ne.s32 a, %4, 0;\n"
      "vote.sync.all.pred r, a, %5;\nselp.u32 %0, 1, 0, r;\n"
      "vote.sync.any.pred r, a, %5;\nselp.u32 %1, 1, 0, r;\n"
      "vote.sync.uni.pred r, a, %5;\nselp.u32 %2, 1, 0, r;\n"
      "vote.sync.ballot.b32 %3, a, %5;\n}\n"
      : "=r"(all), "=r"(any), "=r"(uni), "=r"(ballot)
      : "r"(pred[t]), "r"(mask));
  out[t * 4 + 0] = all, out[t * 4 + 1] = any, out[t * 4 + 2] = uni, out[t * 4 + 3] = ballot;
}

// out[tid*8 + k]: redux.sync add.u32, min.u32, max.u32, min.s32, max.s32,
// and.b32, or.b32, xor.b32 of val[tid].
extern "C" __global__ void redux(const uint32_t *val, uint32_t mask, uint32_t *out) {
  int t = threadIdx.x;
  if (!in_mask(mask)) return;
  uint32_t v = val[t], r[8];
  asm volatile("redux.sync.add.u32 %0, %1, %2;" : "=r"(r[0]) : "r"(v), "r"(mask));
  asm volatile("redux.sync.min.u32 %0, %1, %2;" : "=r"(r[1]) : "r"(v), "r"(mask));
  asm volatile("redux.sync.max.u32 %0, %1, %2;" : "=r"(r[2]) : "r"(v), "r"(mask));
  asm volatile("redux.sync.min.s32 %0, %1, %2;" : "=r"(r[3]) : "r"(v), "r"(mask));
  asm volatile("redux.sync.max.s32 %0, %1, %2;" : "=r"(r[4]) : "r"(v), "r"(mask));
  asm volatile("redux.sync.and.b32 %0, %1, %2;" : "=r"(r[5]) : "r"(v), "r"(mask));
  asm volatile("redux.sync.or.b32 %0, %1, %2;" : "=r"(r[6]) : "r"(v), "r"(mask));
  asm volatile("redux.sync.xor.b32 %0, %1, %2;" : "=r"(r[7]) : "r"(v), "r"(mask));
  for (int k = 0; k < 8; ++k) out[t * 8 + k] = r[k];
}

// out[tid*6 + k]: match.any.sync.b32, match.all.sync.b32 (d and p),
// match.any.sync.b64, match.all.sync.b64 (d and p).
extern "C" __global__ void match(const uint32_t *v32, const uint64_t *v64, uint32_t mask,
                                 uint32_t *out) {
  int t = threadIdx.x;
  if (!in_mask(mask)) return;
  uint32_t r[6];
  asm volatile("match.any.sync.b32 %0, %1, %2;" : "=r"(r[0]) : "r"(v32[t]), "r"(mask));
  asm volatile(
      "{\n.reg .pred q;\nmatch.all.sync.b32 %0|q, %2, %3;\nselp.u32 %1, 1, 0, q;\n}\n"
      : "=r"(r[1]), "=r"(r[2])
      : "r"(v32[t]), "r"(mask));
  asm volatile("match.any.sync.b64 %0, %1, %2;" : "=r"(r[3]) : "l"(v64[t]), "r"(mask));
  asm volatile(
      "{\n.reg .pred q;\nmatch.all.sync.b64 %0|q, %2, %3;\nselp.u32 %1, 1, 0, q;\n}\n"
      : "=r"(r[4]), "=r"(r[5])
      : "l"(v64[t]), "r"(mask));
  for (int k = 0; k < 6; ++k) out[t * 6 + k] = r[k];
}

// out[tid*4 + k]: d and p of elect.sync, twice (the ISA promises the same
// leader for the same membermask every time).
extern "C" __global__ void elect(uint32_t mask, uint32_t *out) {
  int t = threadIdx.x;
  if (!in_mask(mask)) return;
  uint32_t d0, p0, d1, p1;
  asm volatile("{\n.reg .pred q;\nelect.sync %0|q, %2;\nselp.u32 %1, 1, 0, q;\n}\n"
               : "=r"(d0), "=r"(p0)
               : "r"(mask));
  asm volatile("{\n.reg .pred q;\nelect.sync %0|q, %2;\nselp.u32 %1, 1, 0, q;\n}\n"
               : "=r"(d1), "=r"(p1)
               : "r"(mask));
  out[t * 4 + 0] = d0, out[t * 4 + 1] = p0, out[t * 4 + 2] = d1, out[t * 4 + 3] = p1;
}
