// ldmatrix / stmatrix .m8n8 .b16, .x1/.x2/.x4, with and without .trans
// (PTX ISA 9.7.14.5.15, 9.7.14.5.16).  One warp.  Shared memory holds 64
// rows of 16 bytes ("slots", copied from/to global memory verbatim); lane l
// gives the address of slot rows[l], so matrix j's row r is slot rows[8j+r]
// and the rows need not be contiguous.  Lanes >= 8*num point at valid slots
// too, but the ISA (sm_80+) only uses the first 8*num addresses.
#include <cstdint>

namespace {

constexpr int kSlots = 64;

__device__ uint32_t fill_slots(uint16_t *smem, const uint16_t *src, const int *rows) {
  for (int i = threadIdx.x; i < kSlots * 8; i += 32) smem[i] = src[i];
  __syncwarp();
  return static_cast<uint32_t>(__cvta_generic_to_shared(smem + rows[threadIdx.x] * 8));
}

__device__ void drain_slots(uint16_t *dst, const uint16_t *smem) {
  __syncwarp();
  for (int i = threadIdx.x; i < kSlots * 8; i += 32) dst[i] = smem[i];
}

}  // namespace

// ldmatrix: out[lane * 4 + j] = destination register j of the lane.
#define LDMATRIX_KERNEL(name, shape_num, regs, outs, n)                                  \
  extern "C" __global__ void name(const uint16_t *src, const int *rows, uint32_t *out) { \
    __shared__ __align__(16) uint16_t smem[kSlots * 8];                                  \
    uint32_t addr = fill_slots(smem, src, rows);                                         \
    uint32_t r[4] = {0, 0, 0, 0};                                                        \
    asm volatile("ldmatrix.sync.aligned.m8n8" shape_num ".shared.b16 " regs ", [%" #n "];" \
                 : outs                                                                  \
                 : "r"(addr)                                                             \
                 : "memory");                                                            \
    for (int j = 0; j < 4; ++j) out[threadIdx.x * 4 + j] = r[j];                         \
  }

#define OUT1 "=r"(r[0])
#define OUT2 "=r"(r[0]), "=r"(r[1])
#define OUT4 "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
LDMATRIX_KERNEL(ldmatrix_x1, ".x1", "{%0}", OUT1, 1)
LDMATRIX_KERNEL(ldmatrix_x2, ".x2", "{%0, %1}", OUT2, 2)
LDMATRIX_KERNEL(ldmatrix_x4, ".x4", "{%0, %1, %2, %3}", OUT4, 4)
LDMATRIX_KERNEL(ldmatrix_x1_trans, ".x1.trans", "{%0}", OUT1, 1)
LDMATRIX_KERNEL(ldmatrix_x2_trans, ".x2.trans", "{%0, %1}", OUT2, 2)
LDMATRIX_KERNEL(ldmatrix_x4_trans, ".x4.trans", "{%0, %1, %2, %3}", OUT4, 4)

// stmatrix: register j of each lane is vals[lane * 4 + j]; the slots (pre-filled
// from src, so untouched ones keep their bytes) are copied to dst afterwards.
#define STMATRIX_KERNEL(name, shape_num, regs, ins)                                          \
  extern "C" __global__ void name(const uint16_t *src, const int *rows, const uint32_t *vals, \
                                  uint16_t *dst) {                                           \
    __shared__ __align__(16) uint16_t smem[kSlots * 8];                                      \
    uint32_t addr = fill_slots(smem, src, rows);                                             \
    uint32_t r[4];                                                                           \
    for (int j = 0; j < 4; ++j) r[j] = vals[threadIdx.x * 4 + j];                            \
    asm volatile("stmatrix.sync.aligned.m8n8" shape_num ".shared.b16 [%0], " regs ";"        \
                 :                                                                           \
                 : "r"(addr), ins                                                            \
                 : "memory");                                                                \
    drain_slots(dst, smem);                                                                  \
  }

#define IN1 "r"(r[0])
#define IN2 "r"(r[0]), "r"(r[1])
#define IN4 "r"(r[0]), "r"(r[1]), "r"(r[2]), "r"(r[3])
STMATRIX_KERNEL(stmatrix_x1, ".x1", "{%1}", IN1)
STMATRIX_KERNEL(stmatrix_x2, ".x2", "{%1, %2}", IN2)
STMATRIX_KERNEL(stmatrix_x4, ".x4", "{%1, %2, %3, %4}", IN4)
STMATRIX_KERNEL(stmatrix_x1_trans, ".x1.trans", "{%1}", IN1)
STMATRIX_KERNEL(stmatrix_x4_trans, ".x4.trans", "{%1, %2, %3, %4}", IN4)
