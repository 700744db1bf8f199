// wgmma.mma_async with shared-memory A and B (PTX ISA 9.7.15.5.2), K-major
// operands under each swizzle mode (9.7.15.5.1.2, 9.7.15.5.1.2.1 canonical
// layouts), matrix descriptors (9.7.15.5.1.2.2), accumulator fragments
// (9.7.15.5.1.1), scale-d / imm-scale-a / imm-scale-b, N = 8..256, an .f16
// accumulator, a K loop that advances the descriptor start 32 B inside a
// 128B-swizzled atom, and wgmma.fence / commit_group / wait_group with two
// groups in flight (9.7.15.6, 9.7.15.7).
//
// Every kernel: one warpgroup (128 threads), A 64 x K and B N x K row-major
// (K contiguous) in global memory, C and D 64 x N row-major, and dynamic
// shared memory of 1 KB + what the tiles use.
#include "wgmma.cuh"

#define KERNEL extern "C" __global__ void __launch_bounds__(128)
#define SS_PARAMS const void *A, const void *B, const float *C, float *D, int sd

// No swizzle: 8x16-byte core matrices.  A: K-adjacent core matrices 128 B apart
// (LBO), 8-row groups 256 B apart (SBO); B the other way round, so a swapped
// LBO/SBO shows.
KERNEL wg_f16_k_none(SS_PARAMS) {
  gemm_ss<F16_N64<1, 1, 0, 0>, 64, 16>(A, B, C, D, sd, 16, 2, 2, Tile{0, 0, 128, 256},
                                        Tile{0, 0, 1024, 128}, 4096);
}
// 32B: each row is 32 B (the whole k16), atoms of 8 rows; B's atoms 512 B apart.
KERNEL wg_f16_k_sw32(SS_PARAMS) {
  gemm_ss<F16_N64<1, 1, 0, 0>, 64, 16>(A, B, C, D, sd, 16, 2, 2, Tile{0, 32, 16, 256},
                                        Tile{0, 32, 16, 512}, 4096);
}
// 64B: rows of 32 halves, two k16 steps (+32 B) per row.
KERNEL wg_f16_k_sw64(SS_PARAMS) {
  gemm_ss<F16_N64<1, 1, 0, 0>, 64, 16>(A, B, C, D, sd, 32, 2, 2, Tile{0, 64, 16, 512},
                                        Tile{0, 64, 16, 512}, 4096);
}
// 128B: 128-byte rows of which this k16 uses the first 32 B.  With sd = 0 the
// incoming C must be ignored, with sd = 1 added (scale-d).
KERNEL wg_f16_k_sw128(SS_PARAMS) {
  gemm_ss<F16_N64<1, 1, 0, 0>, 64, 16>(A, B, C, D, sd, 16, 2, 2, Tile{0, 128, 16, 1024},
                                        Tile{0, 128, 16, 1024}, 8192);
}
// K = 64 in one 128B atom row: four instructions with start + 0, 32, 64, 96 B
// (the XOR keys on address bits [9:7], not on the offset from the start).
KERNEL wg_f16_kloop_sw128(SS_PARAMS) {
  gemm_ss<F16_N64<1, 1, 0, 0>, 64, 16>(A, B, C, D, sd, 64, 2, 2, Tile{0, 128, 16, 1024},
                                        Tile{0, 128, 16, 1024}, 8192);
}
// imm-scale-a = -1 and imm-scale-b = -1.
KERNEL wg_f16_neg_a(SS_PARAMS) {
  gemm_ss<F16_N64<-1, 1, 0, 0>, 64, 16>(A, B, C, D, sd, 16, 2, 2, Tile{0, 128, 16, 1024},
                                         Tile{0, 128, 16, 1024}, 8192);
}
KERNEL wg_f16_neg_b(SS_PARAMS) {
  gemm_ss<F16_N64<1, -1, 0, 0>, 64, 16>(A, B, C, D, sd, 16, 2, 2, Tile{0, 32, 16, 256},
                                         Tile{0, 32, 16, 256}, 4096);
}
// Other N.
KERNEL wg_f16_n8(SS_PARAMS) {
  gemm_ss<F16_N8<1, 1, 0, 0>, 8, 16>(A, B, C, D, sd, 16, 2, 2, Tile{0, 0, 128, 256},
                                      Tile{0, 0, 128, 256}, 4096);
}
KERNEL wg_f16_n128(SS_PARAMS) {
  gemm_ss<F16_N128<1, 1, 0, 0>, 128, 16>(A, B, C, D, sd, 16, 2, 2, Tile{0, 128, 16, 1024},
                                          Tile{0, 128, 16, 1024}, 8192);
}
KERNEL wg_f16_n256(SS_PARAMS) {
  gemm_ss<F16_N256<1, 1, 0, 0>, 256, 16>(A, B, C, D, sd, 32, 2, 2, Tile{0, 64, 16, 512},
                                          Tile{0, 64, 16, 512}, 4096);
}
// .f16 accumulator: N/4 .f16x2 registers.
KERNEL wg_f16_acc_f16(const void *A, const void *B, const uint16_t *C, uint16_t *D, int sd) {
  gemm_ss<F16ACC_N64<1, 1, 0, 0>, 64, 16>(A, B, C, D, sd, 16, 2, 2, Tile{0, 128, 16, 1024},
                                           Tile{0, 128, 16, 1024}, 8192);
}

// Two commit groups in flight: D0 = A*B0^T in group 1, D1 = A*B1^T in group 2.
// After wait_group 1 only the older group is known complete, so D0 is read
// there and D1 only after wait_group 0.  Shared layout: A at 0, B0 at 8 KB,
// B1 at 16 KB, all 128B-swizzled K-major.
KERNEL wg_groups(const void *A, const void *B0, const void *B1, float *D0, float *D1) {
  constexpr Tile t{0, 128, 16, 1024};
  uint8_t *base = smem_base_1k();
  uint8_t *sA = base, *sB0 = base + 8192, *sB1 = base + 16384;
  store_tile(base, sA, static_cast<const uint8_t *>(A), 64, 16, 2, t);
  store_tile(base, sB0, static_cast<const uint8_t *>(B0), 64, 16, 2, t);
  store_tile(base, sB1, static_cast<const uint8_t *>(B1), 64, 16, 2, t);
  fence_proxy_async_smem();
  __syncthreads();

  float d0[32], d1[32];
  for (int i = 0; i < 32; ++i) d0[i] = d1[i] = 0.f;
  acc_fence(d0);
  acc_fence(d1);
  wg_fence();
  uint64_t da = make_desc(smem_u32(sA), t);
  F16_N64<1, 1, 0, 0>::mma(d0, da, make_desc(smem_u32(sB0), t), 0);
  wg_commit();
  F16_N64<1, 1, 0, 0>::mma(d1, da, make_desc(smem_u32(sB1), t), 0);
  wg_commit();
  wg_wait<1>();
  acc_fence(d0);
  acc_store(d0, D0, 64);
  wg_wait<0>();
  acc_fence(d1);
  acc_store(d1, D1, 64);
}
