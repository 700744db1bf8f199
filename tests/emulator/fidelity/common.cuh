// Helpers shared by the fidelity kernels: shared-memory addressing and the
// 16-byte-chunk swizzle of PTX ISA 5.5.7 (TMA) / 9.7.15.5.1.2 (wgmma).
#pragma once
#include <cstdint>

__device__ __forceinline__ uint32_t smem_u32(const void *p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

// The swizzle permutes 16-byte chunks inside each 128-byte line: chunk bits
// [6:4] of the shared::cta address are XORed with the line bits above them,
// [7] (32B span), [8:7] (64B) or [9:7] (128B).  It is a function of the
// absolute address, which is why a descriptor can start 32 B into an atom.
__device__ __forceinline__ uint32_t swizzle(uint32_t addr, int span_bytes) {
  if (span_bytes == 0) return addr;
  uint32_t mask = span_bytes / 16 - 1;
  return addr ^ (((addr >> 7) & mask) << 4);
}

// Generic pointer to a shared::cta address inside the block's dynamic smem.
__device__ __forceinline__ uint8_t *smem_ptr(uint8_t *base, uint32_t addr) {
  return base + (addr - smem_u32(base));
}

// Dynamic shared memory, rounded up to 1024 B so every swizzle pattern starts
// on its repeat boundary (descriptor base offset 0; ISA 9.7.15.5.1.2.2).
// Cases ask for 1 KB more than they use.
__device__ __forceinline__ uint8_t *smem_base_1k() {
  extern __shared__ __align__(16) uint8_t dyn_smem[];
  uint32_t a = smem_u32(dyn_smem);
  return smem_ptr(dyn_smem, (a + 1023u) & ~1023u);
}

__device__ __forceinline__ void fence_proxy_async_smem() {
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
}

// ---- mbarrier (PTX ISA 9.7.13.15) -----------------------------------------
__device__ __forceinline__ void mbar_init(uint32_t bar, uint32_t count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(bar), "r"(count) : "memory");
}
__device__ __forceinline__ void mbar_arrive_expect_tx(uint32_t bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar), "r"(bytes)
               : "memory");
}
__device__ __forceinline__ bool mbar_test_parity(uint32_t bar, uint32_t parity) {
  uint32_t ok;
  asm volatile(
      "{\n.reg .pred p;\nmbarrier.test_wait.parity.shared::cta.b64 p, [%1], %2;\n"
      "selp.u32 %0, 1, 0, p;\n}\n"
      : "=r"(ok)
      : "r"(bar), "r"(parity)
      : "memory");
  return ok;
}
// try_wait may return false spuriously or on a time limit, so it is retried.
__device__ __forceinline__ void mbar_wait_parity(uint32_t bar, uint32_t parity) {
  uint32_t ok;
  do {
    asm volatile(
        "{\n.reg .pred p;\nmbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2;\n"
        "selp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(ok)
        : "r"(bar), "r"(parity)
        : "memory");
  } while (!ok);
}
