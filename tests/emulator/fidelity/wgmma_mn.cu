// wgmma.mma_async with M-major A and N-major B (imm-trans-a/b = 1; PTX ISA
// 9.7.15.5.2, "transpose ... only ... .f16/.bf16 ... from shared memory"),
// laid out per 9.7.15.5.1.2.1: in the swizzled modes LBO steps between
// S-byte MN blocks and SBO between groups of 8 K rows; with no swizzle SBO
// steps between 8-element MN core matrices and LBO between 8-K groups.
// One warpgroup; A 64 x K and B N x K row-major in global memory (the kernel
// writes them transposed into shared memory), C/D 64 x N row-major.
#include "wgmma.cuh"

#define KERNEL extern "C" __global__ void __launch_bounds__(128)
#define SS_PARAMS const void *A, const void *B, const float *C, float *D, int sd

// 128B: 64 halves per K row.  A (M = 64) is one MN block; B (N = 128) is two,
// 2048 B apart (LBO), K groups 1024 B apart (SBO).
KERNEL wg_f16_mn_sw128(SS_PARAMS) {
  gemm_ss<F16_N128<1, 1, 1, 1>, 128, 16>(A, B, C, D, sd, 16, 2, 2, Tile{1, 128, 2048, 1024},
                                          Tile{1, 128, 2048, 1024}, 4096);
}
KERNEL wg_bf16_mn_sw128(SS_PARAMS) {
  gemm_ss<BF16_N128<1, 1, 1, 1>, 128, 16>(A, B, C, D, sd, 16, 2, 2, Tile{1, 128, 2048, 1024},
                                           Tile{1, 128, 2048, 1024}, 4096);
}
// 64B: 32 halves per K row; 8-row atoms of 512 B; MN blocks 1024 B apart.
KERNEL wg_f16_mn_sw64(SS_PARAMS) {
  gemm_ss<F16_N128<1, 1, 1, 1>, 128, 16>(A, B, C, D, sd, 16, 2, 2, Tile{1, 64, 1024, 512},
                                          Tile{1, 64, 1024, 512}, 4096);
}
KERNEL wg_bf16_mn_sw64(SS_PARAMS) {
  gemm_ss<BF16_N128<1, 1, 1, 1>, 128, 16>(A, B, C, D, sd, 16, 2, 2, Tile{1, 64, 1024, 512},
                                           Tile{1, 64, 1024, 512}, 4096);
}
// No swizzle: core matrices of 8 K rows x 8 MN elements (128 B).  A: MN
// neighbours 256 B apart (SBO), K groups 128 B apart (LBO); B the other way.
KERNEL wg_f16_mn_none(SS_PARAMS) {
  gemm_ss<F16_N128<1, 1, 1, 1>, 128, 16>(A, B, C, D, sd, 16, 2, 2, Tile{1, 0, 128, 256},
                                          Tile{1, 0, 2048, 128}, 4096);
}
KERNEL wg_bf16_mn_none(SS_PARAMS) {
  gemm_ss<BF16_N128<1, 1, 1, 1>, 128, 16>(A, B, C, D, sd, 16, 2, 2, Tile{1, 0, 128, 256},
                                           Tile{1, 0, 2048, 128}, 4096);
}
// The common mix: A K-major, B N-major, both 128B; K = 32 so B's second k16
// step starts 2 x SBO further on.
KERNEL wg_f16_kmn_sw128(SS_PARAMS) {
  gemm_ss<F16_N128<1, 1, 0, 1>, 128, 16>(A, B, C, D, sd, 32, 2, 2, Tile{0, 128, 16, 1024},
                                          Tile{1, 128, 4096, 1024}, 8192);
}
