// wgmma test machinery (PTX ISA 9.7.15): shared-memory tile layouts written
// from the ISA's canonical layouts, matrix descriptors, accumulator fragments,
// and thin wrappers that pin down the exact wgmma.mma_async form.
#pragma once
#include "common.cuh"

// How an operand (64 rows of A, or N rows of B, each K long) sits in shared
// memory: the major-ness (imm-trans), the swizzle span and the two strides of
// 9.7.15.5.1.2.1, in bytes.
struct Tile {
  int mn_major;  // 0: K-major, 1: M/N-major (imm-trans = 1)
  int swz;       // 0, 32, 64 or 128
  uint32_t lbo, sbo;
};

// Byte offset, before swizzling, of element (r, k) (r = m or n) from the tile
// start.  K may run past one instruction; the descriptor for k-step s starts
// at offset(0, s*Kinstr), which is how real kernels advance along K.
//   K-major, none : ((8,m),(T,2k)) : ((1T,SBO),(1,LBO))
//   K-major, S    : ((8,m),(T,2k)) : ((S/16*T,SBO),(1,T))   (LBO unused)
//   MN-major, none: ((T,1,m),(8,k)) : ((1,T,SBO),(1T,LBO))
//   MN-major, S   : ((T,S/16,m),(8,k)) : ((1,T,LBO),(S/16*T,SBO))
__device__ __forceinline__ uint32_t tile_offset(Tile t, int esize, int r, int k) {
  if (!t.mn_major) {
    uint32_t kb = k * esize;
    if (t.swz == 0)
      return (r % 8) * 16 + (r / 8) * t.sbo + (kb / 16) * t.lbo + kb % 16;
    return (r % 8) * t.swz + (r / 8) * t.sbo + kb;
  }
  if (t.swz == 0) {
    int per_chunk = 16 / esize;
    return (r % per_chunk) * esize + (r / per_chunk) * t.sbo + (k % 8) * 16 + (k / 8) * t.lbo;
  }
  int per_row = t.swz / esize;
  return (r % per_row) * esize + (r / per_row) * t.lbo + (k % 8) * t.swz + (k / 8) * t.sbo;
}

// 9.7.15.5.1.2.2: start/LBO/SBO as (x & 0x3FFFF) >> 4 in bits 13-0, 29-16,
// 45-32; base offset (51-49) 0; swizzle mode in 63-62 with 128B=1, 64B=2, 32B=3.
__device__ __forceinline__ uint64_t make_desc(uint32_t addr, Tile t) {
  uint64_t mode = t.swz == 128 ? 1 : t.swz == 64 ? 2 : t.swz == 32 ? 3 : 0;
  return uint64_t((addr & 0x3FFFF) >> 4) | (uint64_t((t.lbo & 0x3FFFF) >> 4) << 16) |
         (uint64_t((t.sbo & 0x3FFFF) >> 4) << 32) | (mode << 62);
}

// Copies a rows x K row-major matrix of esize-byte elements from global memory
// into its shared-memory layout with ordinary stores, swizzling each address.
__device__ inline void store_tile(uint8_t *base, uint8_t *tile, const uint8_t *src, int rows,
                                  int K, int esize, Tile t) {
  for (int i = threadIdx.x % 128; i < rows * K; i += 128) {
    int r = i / K, k = i % K;
    uint32_t addr = swizzle(smem_u32(tile) + tile_offset(t, esize, r, k), t.swz);
    uint8_t *dst = smem_ptr(base, addr);
    for (int b = 0; b < esize; ++b) dst[b] = src[i * esize + b];
  }
}

// Accumulator register i of a thread in the warpgroup holds D(row, col)
// (9.7.15.5.1.1, figures 149/153: the m16n8 accumulator pattern per warp,
// warp w covering rows 16w..16w+15, one 8-column block per 4 registers).
__device__ __forceinline__ void acc_pos(int i, int &row, int &col) {
  int tid = threadIdx.x % 128, lane = tid % 32;
  row = 16 * (tid / 32) + lane / 4 + 8 * ((i >> 1) & 1);
  col = 8 * (i >> 2) + 2 * (lane % 4) + (i & 1);
}

// 32-bit accumulators (f32, s32): element i in register i.
template <int NR, class T>
__device__ inline void acc_load(T (&d)[NR], const T *C, int N) {
#pragma unroll
  for (int i = 0; i < NR; ++i) {
    int r, c;
    acc_pos(i, r, c);
    d[i] = C[r * N + c];
  }
}
template <int NR, class T>
__device__ inline void acc_store(const T (&d)[NR], T *D, int N) {
#pragma unroll
  for (int i = 0; i < NR; ++i) {
    int r, c;
    acc_pos(i, r, c);
    D[r * N + c] = d[i];
  }
}
// f16 accumulators: element i in the low (even i) or high (odd i) half of
// .f16x2 register i/2.
template <int NR>
__device__ inline void acc_load(uint32_t (&d)[NR], const uint16_t *C, int N) {
#pragma unroll
  for (int j = 0; j < NR; ++j) {
    int r0, c0, r1, c1;
    acc_pos(2 * j, r0, c0);
    acc_pos(2 * j + 1, r1, c1);
    d[j] = uint32_t(C[r0 * N + c0]) | (uint32_t(C[r1 * N + c1]) << 16);
  }
}
template <int NR>
__device__ inline void acc_store(const uint32_t (&d)[NR], uint16_t *D, int N) {
#pragma unroll
  for (int j = 0; j < NR; ++j) {
    int r0, c0, r1, c1;
    acc_pos(2 * j, r0, c0);
    acc_pos(2 * j + 1, r1, c1);
    D[r0 * N + c0] = uint16_t(d[j]);
    D[r1 * N + c1] = uint16_t(d[j] >> 16);
  }
}

// Keeps the compiler from moving accumulator accesses across the asynchronous
// section (the registers belong to the wgmma until wait_group covers it).
__device__ __forceinline__ void reg_fence(float &x) { asm volatile("" : "+f"(x)::"memory"); }
__device__ __forceinline__ void reg_fence(uint32_t &x) { asm volatile("" : "+r"(x)::"memory"); }
__device__ __forceinline__ void reg_fence(int32_t &x) { asm volatile("" : "+r"(x)::"memory"); }
template <int NR, class T>
__device__ __forceinline__ void acc_fence(T (&d)[NR]) {
#pragma unroll
  for (int i = 0; i < NR; ++i) reg_fence(d[i]);
}

__device__ __forceinline__ void wg_fence() { asm volatile("wgmma.fence.sync.aligned;" ::: "memory"); }
__device__ __forceinline__ void wg_commit() { asm volatile("wgmma.commit_group.sync.aligned;" ::: "memory"); }
template <int N>
__device__ __forceinline__ void wg_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;" ::"n"(N) : "memory");
}

// ---- operand lists --------------------------------------------------------
// Inline asm has no symbolic operand names in nvcc, so accumulator lists are
// spelled out: R*(p) gives "%p0, %p1, ..." and F*/U*(p) the matching "+f"/"+r"
// operands d[p0], d[p1], ...
#define WG_R2(p) "%" #p "0, %" #p "1"
#define WG_R4(p) WG_R2(p) ", %" #p "2, %" #p "3"
#define WG_R6(p) WG_R4(p) ", %" #p "4, %" #p "5"
#define WG_R8(p) WG_R6(p) ", %" #p "6, %" #p "7"
#define WG_R10(p) WG_R8(p) ", %" #p "8, %" #p "9"
#define WG_O2(c, p) c(d[p##0]), c(d[p##1])
#define WG_O4(c, p) WG_O2(c, p), c(d[p##2]), c(d[p##3])
#define WG_O6(c, p) WG_O4(c, p), c(d[p##4]), c(d[p##5])
#define WG_O8(c, p) WG_O6(c, p), c(d[p##6]), c(d[p##7])
#define WG_O10(c, p) WG_O8(c, p), c(d[p##8]), c(d[p##9])

#define WG_REGS4 "{" WG_R4() "}"
#define WG_REGS16 "{" WG_R10() ", " WG_R6(1) "}"
#define WG_REGS32 "{" WG_R10() ", " WG_R10(1) ", " WG_R10(2) ", " WG_R2(3) "}"
#define WG_REGS64 \
  "{" WG_R10() ", " WG_R10(1) ", " WG_R10(2) ", " WG_R10(3) ", " WG_R10(4) ", " WG_R10(5) ", " WG_R4(6) "}"
#define WG_REGS128                                                                                  \
  "{" WG_R10() ", " WG_R10(1) ", " WG_R10(2) ", " WG_R10(3) ", " WG_R10(4) ", " WG_R10(5) ", " \
      WG_R10(6) ", " WG_R10(7) ", " WG_R10(8) ", " WG_R10(9) ", " WG_R10(10) ", " WG_R10(11) ", " \
      WG_R8(12) "}"
#define WG_OPS4(c) WG_O4(c, )
#define WG_OPS16(c) WG_O10(c, ), WG_O6(c, 1)
#define WG_OPS32(c) WG_O10(c, ), WG_O10(c, 1), WG_O10(c, 2), WG_O2(c, 3)
#define WG_OPS64(c) WG_O10(c, ), WG_O10(c, 1), WG_O10(c, 2), WG_O10(c, 3), WG_O10(c, 4), WG_O10(c, 5), WG_O4(c, 6)
#define WG_OPS128(c)                                                                                \
  WG_O10(c, ), WG_O10(c, 1), WG_O10(c, 2), WG_O10(c, 3), WG_O10(c, 4), WG_O10(c, 5), WG_O10(c, 6), \
      WG_O10(c, 7), WG_O10(c, 8), WG_O10(c, 9), WG_O10(c, 10), WG_O10(c, 11), WG_O8(c, 12)
#define WG_F(x) "+f"(x)
#define WG_U(x) "+r"(x)

// scale-d is a predicate operand: set from an int so one kernel covers 0 and 1.
#define WG_PRED(n) "{\n.reg .pred p;\nsetp.ne.b32 p, %" #n ", 0;\n"

// SS form with imm-scale-a/b and imm-trans-a/b (.f16/.bf16).  Operands after
// the NR accumulators: a-desc, b-desc, scale-d, scale-a, scale-b, trans-a, trans-b.
#define WG_DEFINE_SS_TRANS(NAME, INSTR, NR, T, C, o0, o1, o2, o3, o4, o5, o6)                       \
  template <int SA, int SB, int TA, int TB>                                                         \
  struct NAME {                                                                                     \
    static constexpr int nregs = NR;                                                                \
    using reg_t = T;                                                                                \
    __device__ static void mma(T(&d)[NR], uint64_t da, uint64_t db, int sd) {                      \
      asm volatile(WG_PRED(o2) INSTR " " WG_REGS##NR ", %" #o0 ", %" #o1 ", p, %" #o3 ", %" #o4 \
                               ", %" #o5 ", %" #o6 ";\n}\n"                                         \
                   : WG_OPS##NR(C)                                                                  \
                   : "l"(da), "l"(db), "r"(sd), "n"(SA), "n"(SB), "n"(TA), "n"(TB));               \
    }                                                                                               \
  };
// SS form with imm-scale-a/b only (fp8).
#define WG_DEFINE_SS_SCALE(NAME, INSTR, NR, T, C, o0, o1, o2, o3, o4)                               \
  template <int SA, int SB>                                                                         \
  struct NAME {                                                                                     \
    static constexpr int nregs = NR;                                                                \
    using reg_t = T;                                                                                \
    __device__ static void mma(T(&d)[NR], uint64_t da, uint64_t db, int sd) {                      \
      asm volatile(WG_PRED(o2) INSTR " " WG_REGS##NR ", %" #o0 ", %" #o1 ", p, %" #o3 ", %" #o4  \
                               ";\n}\n"                                                             \
                   : WG_OPS##NR(C)                                                                  \
                   : "l"(da), "l"(db), "r"(sd), "n"(SA), "n"(SB));                                  \
    }                                                                                               \
  };
// SS form with scale-d only (integer).
#define WG_DEFINE_SS_INT(NAME, INSTR, NR, o0, o1, o2)                                               \
  struct NAME {                                                                                     \
    static constexpr int nregs = NR;                                                                \
    using reg_t = int32_t;                                                                          \
    __device__ static void mma(int32_t(&d)[NR], uint64_t da, uint64_t db, int sd) {                \
      asm volatile(WG_PRED(o2) INSTR " " WG_REGS##NR ", %" #o0 ", %" #o1 ", p;\n}\n"               \
                   : WG_OPS##NR(WG_U)                                                               \
                   : "l"(da), "l"(db), "r"(sd));                                                    \
    }                                                                                               \
  };
// RS form: A in four .b32 registers; then b-desc, scale-d, scale-a, scale-b
// and, for .f16/.bf16, trans-b.
#define WG_DEFINE_RS_TRANS(NAME, INSTR, NR, o0, o1, o2, o3, o4, o5, o6, o7, o8)                      \
  template <int SA, int SB, int TB>                                                                 \
  struct NAME {                                                                                     \
    static constexpr int nregs = NR;                                                                \
    using reg_t = float;                                                                            \
    __device__ static void mma(float(&d)[NR], const uint32_t (&a)[4], uint64_t db, int sd) {       \
      asm volatile(WG_PRED(o5) INSTR " " WG_REGS##NR ", {%" #o0 ", %" #o1 ", %" #o2 ", %" #o3      \
                               "}, %" #o4 ", p, %" #o6 ", %" #o7 ", %" #o8 ";\n}\n"                 \
                   : WG_OPS##NR(WG_F)                                                               \
                   : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db), "r"(sd), "n"(SA), "n"(SB), \
                     "n"(TB));                                                                      \
    }                                                                                               \
  };
#define WG_DEFINE_RS_SCALE(NAME, INSTR, NR, o0, o1, o2, o3, o4, o5, o6, o7)                          \
  template <int SA, int SB>                                                                         \
  struct NAME {                                                                                     \
    static constexpr int nregs = NR;                                                                \
    using reg_t = float;                                                                            \
    __device__ static void mma(float(&d)[NR], const uint32_t (&a)[4], uint64_t db, int sd) {       \
      asm volatile(WG_PRED(o5) INSTR " " WG_REGS##NR ", {%" #o0 ", %" #o1 ", %" #o2 ", %" #o3      \
                               "}, %" #o4 ", p, %" #o6 ", %" #o7 ";\n}\n"                           \
                   : WG_OPS##NR(WG_F)                                                               \
                   : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(db), "r"(sd), "n"(SA), "n"(SB)); \
    }                                                                                               \
  };

// ---- the forms under test ---------------------------------------------------
WG_DEFINE_SS_TRANS(F16_N8, "wgmma.mma_async.sync.aligned.m64n8k16.f32.f16.f16", 4, float, WG_F, 4, 5, 6, 7, 8, 9, 10)
WG_DEFINE_SS_TRANS(F16_N64, "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16", 32, float, WG_F, 32, 33, 34, 35, 36, 37, 38)
WG_DEFINE_SS_TRANS(F16_N128, "wgmma.mma_async.sync.aligned.m64n128k16.f32.f16.f16", 64, float, WG_F, 64, 65, 66, 67, 68, 69, 70)
WG_DEFINE_SS_TRANS(F16_N256, "wgmma.mma_async.sync.aligned.m64n256k16.f32.f16.f16", 128, float, WG_F, 128, 129, 130, 131, 132, 133, 134)
WG_DEFINE_SS_TRANS(F16ACC_N64, "wgmma.mma_async.sync.aligned.m64n64k16.f16.f16.f16", 16, uint32_t, WG_U, 16, 17, 18, 19, 20, 21, 22)
WG_DEFINE_SS_TRANS(BF16_N128, "wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16", 64, float, WG_F, 64, 65, 66, 67, 68, 69, 70)
WG_DEFINE_SS_SCALE(E4M3_N64, "wgmma.mma_async.sync.aligned.m64n64k32.f32.e4m3.e4m3", 32, float, WG_F, 32, 33, 34, 35, 36)
WG_DEFINE_SS_SCALE(E5M2_N64, "wgmma.mma_async.sync.aligned.m64n64k32.f32.e5m2.e5m2", 32, float, WG_F, 32, 33, 34, 35, 36)
WG_DEFINE_SS_SCALE(E4M3_E5M2_N64, "wgmma.mma_async.sync.aligned.m64n64k32.f32.e4m3.e5m2", 32, float, WG_F, 32, 33, 34, 35, 36)
WG_DEFINE_SS_INT(S8_N64, "wgmma.mma_async.sync.aligned.m64n64k32.s32.s8.s8", 32, 32, 33, 34)
WG_DEFINE_SS_INT(S8SAT_N64, "wgmma.mma_async.sync.aligned.m64n64k32.satfinite.s32.s8.s8", 32, 32, 33, 34)
WG_DEFINE_RS_TRANS(RS_F16_N64, "wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16", 32, 32, 33, 34, 35, 36, 37, 38, 39, 40)
WG_DEFINE_RS_SCALE(RS_E4M3_N64, "wgmma.mma_async.sync.aligned.m64n64k32.f32.e4m3.e4m3", 32, 32, 33, 34, 35, 36, 37, 38, 39)

// ---- kernel bodies ------------------------------------------------------------

// D(64 x N) = A(64 x K) * B(N x K)^T (+ C when scale-d), A and B read from
// shared memory through descriptors, K covered by K/KI instructions.
// A, B: row-major in global memory; C, D: row-major 64 x N.
template <class Mma, int N, int KI, class T>
__device__ void gemm_ss(const void *A, const void *B, const T *C, T *D, int sd, int K, int ea,
                        int eb, Tile ta, Tile tb, uint32_t b_offset) {
  uint8_t *base = smem_base_1k();
  uint8_t *sA = base, *sB = base + b_offset;
  store_tile(base, sA, static_cast<const uint8_t *>(A), 64, K, ea, ta);
  store_tile(base, sB, static_cast<const uint8_t *>(B), N, K, eb, tb);
  fence_proxy_async_smem();  // generic-proxy stores, async-proxy (wgmma) reads
  __syncthreads();

  typename Mma::reg_t d[Mma::nregs];
  acc_load(d, C, N);
  acc_fence(d);
  wg_fence();
  for (int s = 0; s < K / KI; ++s) {
    uint64_t da = make_desc(smem_u32(sA) + tile_offset(ta, ea, 0, s * KI), ta);
    uint64_t db = make_desc(smem_u32(sB) + tile_offset(tb, eb, 0, s * KI), tb);
    Mma::mma(d, da, db, s == 0 ? sd : 1);
  }
  wg_commit();
  wg_wait<0>();
  acc_fence(d);
  acc_store(d, D, N);
}

// A's register fragment for the RS form (9.7.15.5.1.1, figures 148/152):
// per warp the mma.m16n8k16 / m16n8k32 A pattern, warp w covering rows
// 16w..16w+15.  Register r holds row 16w + g + 8*(r & 1); its elements (low
// first) are K columns  2t + h + 8*(r >> 1) for 16-bit types and
// 4t + j + 16*(r >> 1) for 8-bit types (g = lane / 4, t = lane % 4).
__device__ inline void load_a_fragment(uint32_t (&a)[4], const uint8_t *A, int K, int k0,
                                       int esize) {
  int tid = threadIdx.x % 128, lane = tid % 32, g = lane / 4, t = lane % 4;
  int per_reg = 4 / esize;
  for (int r = 0; r < 4; ++r) {
    int row = 16 * (tid / 32) + g + 8 * (r & 1);
    int kbase = k0 + per_reg * t + 4 * per_reg * (r >> 1);
    uint32_t v = 0;
    for (int b = 0; b < 4; ++b) v |= uint32_t(A[(row * K + kbase) * esize + b]) << (8 * b);
    a[r] = v;
  }
}

// As gemm_ss, with A from registers (RS form).
template <class Mma, int N, int KI>
__device__ void gemm_rs(const void *A, const void *B, const float *C, float *D, int sd, int K,
                        int ea, int eb, Tile tb) {
  uint8_t *base = smem_base_1k();
  store_tile(base, base, static_cast<const uint8_t *>(B), N, K, eb, tb);
  fence_proxy_async_smem();
  __syncthreads();

  float d[Mma::nregs];
  acc_load(d, C, N);
  for (int s = 0; s < K / KI; ++s) {
    uint32_t a[4];
    load_a_fragment(a, static_cast<const uint8_t *>(A), K, s * KI, ea);
    for (int r = 0; r < 4; ++r) reg_fence(a[r]);
    acc_fence(d);
    wg_fence();  // orders the register writes above before the wgmma reads them
    Mma::mma(d, a, make_desc(smem_u32(base) + tile_offset(tb, eb, 0, s * KI), tb), s == 0 ? sd : 1);
    wg_commit();
    wg_wait<0>();  // before a[] is overwritten for the next step
    acc_fence(d);
  }
  acc_store(d, D, N);
}
