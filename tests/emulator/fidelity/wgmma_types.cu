// wgmma.mma_async input and accumulator types (PTX ISA 9.7.15.5.2, shapes
// 9.7.15.2): .bf16; .e4m3/.e5m2 (k32, also mixed); .s8 into .s32, wrapping
// and .satfinite; and the RS form with A in registers (9.7.15.5.1.1 A
// fragments) for .f16 (with an N-major B) and .e4m3.
// One warpgroup; A 64 x K and B N x K row-major, C/D 64 x N row-major.
#include "wgmma.cuh"

#define KERNEL extern "C" __global__ void __launch_bounds__(128)
#define SS_PARAMS const void *A, const void *B, const float *C, float *D, int sd

KERNEL wg_bf16_k_sw128(SS_PARAMS) {
  gemm_ss<BF16_N128<1, 1, 0, 0>, 128, 16>(A, B, C, D, sd, 64, 2, 2, Tile{0, 128, 16, 1024},
                                           Tile{0, 128, 16, 1024}, 8192);
}
// fp8: K = 64 bytes per row in a 128B atom, two k32 steps (+32 B).
KERNEL wg_e4m3_k_sw128(SS_PARAMS) {
  gemm_ss<E4M3_N64<1, 1>, 64, 32>(A, B, C, D, sd, 64, 1, 1, Tile{0, 128, 16, 1024},
                                   Tile{0, 128, 16, 1024}, 8192);
}
KERNEL wg_e5m2_k_sw64(SS_PARAMS) {
  gemm_ss<E5M2_N64<1, 1>, 64, 32>(A, B, C, D, sd, 64, 1, 1, Tile{0, 64, 16, 512},
                                   Tile{0, 64, 16, 512}, 4096);
}
KERNEL wg_e4m3_e5m2_k_sw32(SS_PARAMS) {
  gemm_ss<E4M3_E5M2_N64<-1, 1>, 64, 32>(A, B, C, D, sd, 32, 1, 1, Tile{0, 32, 16, 256},
                                         Tile{0, 32, 16, 256}, 4096);
}
// s8 x s8 -> s32 with no swizzle (K = 32 bytes: two 16-byte core matrices).
extern "C" __global__ void __launch_bounds__(128) wg_s8_k_none(const void *A, const void *B,
                                                               const int32_t *C, int32_t *D, int sd) {
  gemm_ss<S8_N64, 64, 32>(A, B, C, D, sd, 32, 1, 1, Tile{0, 0, 128, 256}, Tile{0, 0, 1024, 128}, 4096);
}
extern "C" __global__ void __launch_bounds__(128) wg_s8_sat_k_sw128(const void *A, const void *B,
                                                                    const int32_t *C, int32_t *D,
                                                                    int sd) {
  gemm_ss<S8SAT_N64, 64, 32>(A, B, C, D, sd, 32, 1, 1, Tile{0, 128, 16, 1024},
                             Tile{0, 128, 16, 1024}, 8192);
}
// RS: A from registers.  .f16 with B N-major 64B-swizzled: two MN blocks
// 2048 B apart, four K groups (K = 32) 512 B apart.
KERNEL wg_rs_f16(SS_PARAMS) {
  gemm_rs<RS_F16_N64<1, 1, 1>, 64, 16>(A, B, C, D, sd, 32, 2, 2, Tile{1, 64, 2048, 512});
}
KERNEL wg_rs_e4m3(SS_PARAMS) {
  gemm_rs<RS_E4M3_N64<1, -1>, 64, 32>(A, B, C, D, sd, 64, 1, 1, Tile{0, 64, 16, 512});
}
