// cp.async (PTX ISA 9.7.9.25.3.1) with src-size < cp-size (the rest of the
// destination is zero-filled) and with ignore-src, completed through
// cp.async.commit_group / cp.async.wait_group (9.7.9.25.3.2-3).
#include "common.cuh"

// 128 threads.  Group 0: thread t copies 16 bytes from src + 16t into
// smem + 16t with src-size t % 16 (.cg).  Group 1: thread t copies 8 bytes
// (.ca, src-size t % 8) into smem + 2048 + 8t and 4 bytes with ignore-src =
// (t % 3 == 0) into smem + 3072 + 4t.  After wait_group 1 only group 0 is
// known complete and is copied to out[0, 2048); after wait_group 0 the rest
// to out[2048, 3584).  The shared buffer is first filled with 0xEE.
extern "C" __global__ void cp_async_zfill(const uint8_t *src, uint8_t *out) {
  __shared__ __align__(16) uint8_t smem[3584];
  int t = threadIdx.x;
  for (int i = t; i < 3584; i += blockDim.x) smem[i] = 0xEE;
  __syncthreads();
  uint32_t s = smem_u32(smem);
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;" ::"r"(s + 16 * t),
               "l"(src + 16 * t), "r"(t % 16)
               : "memory");
  asm volatile("cp.async.commit_group;" ::: "memory");
  asm volatile("cp.async.ca.shared.global [%0], [%1], 8, %2;" ::"r"(s + 2048 + 8 * t),
               "l"(src + 2048 + 8 * t), "r"(t % 8)
               : "memory");
  asm volatile(
      "{\n.reg .pred p;\nsetp.eq.u32 p, %2, 0;\ncp.async.ca.shared.global [%0], [%1], 4, p;\n}\n" ::"r"(
          s + 3072 + 4 * t),
      "l"(src + 3072 + 4 * t), "r"(t % 3)
      : "memory");
  asm volatile("cp.async.commit_group;" ::: "memory");
  asm volatile("cp.async.wait_group 1;" ::: "memory");
  __syncthreads();
  for (int i = t; i < 2048; i += blockDim.x) out[i] = smem[i];
  asm volatile("cp.async.wait_group 0;" ::: "memory");
  __syncthreads();
  for (int i = 2048 + t; i < 3584; i += blockDim.x) out[i] = smem[i];
}
