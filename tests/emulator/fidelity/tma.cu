// cp.async.bulk.tensor tile loads and stores through a tensor map (PTX ISA
// 9.7.9.25.5.2; tensors, bounding boxes, out-of-bounds fill and traversal
// strides 5.5.3; swizzle modes 5.5.7), completion through mbarrier
// complete_tx (9.7.13.15, 9.7.9.25.1.2) and bulk async-groups (9.7.9.25.6),
// and the non-tensor cp.async.bulk (9.7.9.25.4.1).
//
// Loads copy the shared-memory box out to global memory byte for byte, so
// the test sees the layout the copy engine produced, swizzle included.  The
// destination is 1024-byte aligned (swizzle base offset 0, 5.5.7).
#include <cuda.h>

#include "common.cuh"

namespace {

__device__ uint64_t map_addr(const CUtensorMap &map) { return reinterpret_cast<uint64_t>(&map); }

// One thread arms the barrier for the whole box and issues the copy; every
// thread waits for the phase, then the box is copied out.
template <class Issue>
__device__ void load_box(uint8_t *out, int bytes, Issue issue) {
  __shared__ __align__(8) uint64_t bar_storage;
  uint32_t bar = smem_u32(&bar_storage);
  uint8_t *box = smem_base_1k();
  if (threadIdx.x == 0) {
    mbar_init(bar, 1);
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
  }
  __syncthreads();
  if (threadIdx.x == 0) {
    mbar_arrive_expect_tx(bar, bytes);  // the full box, out-of-bounds part included
    issue(smem_u32(box), bar);
  }
  mbar_wait_parity(bar, 0);
  for (int i = threadIdx.x; i < bytes; i += blockDim.x) out[i] = box[i];
}

}  // namespace

#define LOAD_KERNEL(name, dims, coords, ...)                                                   \
  extern "C" __global__ void name(const __grid_constant__ CUtensorMap map, uint8_t *out,     \
                                  int c0, int c1, int c2, int c3, int c4, int bytes) {       \
    load_box(out, bytes, [&](uint32_t dst, uint32_t bar) {                                    \
      asm volatile("cp.async.bulk.tensor." dims                                               \
                   ".shared::cluster.global.tile.mbarrier::complete_tx::bytes [%0], [%1, " coords \
                   "], [%2];" ::"r"(dst),                                                     \
                   "l"(map_addr(map)), "r"(bar), __VA_ARGS__                                  \
                   : "memory");                                                               \
    });                                                                                       \
  }

LOAD_KERNEL(tma_load_1d, "1d", "{%3}", "r"(c0))
LOAD_KERNEL(tma_load_2d, "2d", "{%3, %4}", "r"(c0), "r"(c1))
LOAD_KERNEL(tma_load_3d, "3d", "{%3, %4, %5}", "r"(c0), "r"(c1), "r"(c2))
LOAD_KERNEL(tma_load_4d, "4d", "{%3, %4, %5, %6}", "r"(c0), "r"(c1), "r"(c2), "r"(c3))
LOAD_KERNEL(tma_load_5d, "5d", "{%3, %4, %5, %6, %7}", "r"(c0), "r"(c1), "r"(c2), "r"(c3),
            "r"(c4))

// The same 2D load with the PTX 8.6 .shared::cta destination spelling.
extern "C" __global__ void tma_load_2d_cta(const __grid_constant__ CUtensorMap map, uint8_t *out,
                                           int c0, int c1, int bytes) {
  load_box(out, bytes, [&](uint32_t dst, uint32_t bar) {
    asm volatile(
        "cp.async.bulk.tensor.2d.shared::cta.global.tile.mbarrier::complete_tx::bytes [%0], "
        "[%1, {%3, %4}], [%2];" ::"r"(dst),
        "l"(map_addr(map)), "r"(bar), "r"(c0), "r"(c1)
        : "memory");
  });
}

// Several boxes through one mbarrier: iteration i waits for phase parity i & 1.
// On odd iterations the copy is issued before arrive.expect_tx, so its
// complete_tx may land first and take the tx-count below zero, which the
// mbarrier allows (9.7.13.15.1: tx-count range is signed).  Box i starts at
// column 8*i of a 2D map; out receives the boxes one after another.
extern "C" __global__ void tma_phases(const __grid_constant__ CUtensorMap map, uint8_t *out,
                                      int iters, int bytes) {
  __shared__ __align__(8) uint64_t bar_storage;
  uint32_t bar = smem_u32(&bar_storage);
  uint8_t *box = smem_base_1k();
  if (threadIdx.x == 0) mbar_init(bar, 1);
  __syncthreads();
  for (int i = 0; i < iters; ++i) {
    if (threadIdx.x == 0) {
      if (i & 1) {
        asm volatile(
            "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes "
            "[%0], [%1, {%2, %3}], [%4];" ::"r"(smem_u32(box)),
            "l"(map_addr(map)), "r"(8 * i), "r"(0), "r"(bar)
            : "memory");
        mbar_arrive_expect_tx(bar, bytes);
      } else {
        mbar_arrive_expect_tx(bar, bytes);
        asm volatile(
            "cp.async.bulk.tensor.2d.shared::cluster.global.tile.mbarrier::complete_tx::bytes "
            "[%0], [%1, {%2, %3}], [%4];" ::"r"(smem_u32(box)),
            "l"(map_addr(map)), "r"(8 * i), "r"(0), "r"(bar)
            : "memory");
      }
    }
    mbar_wait_parity(bar, i & 1);
    for (int j = threadIdx.x; j < bytes; j += blockDim.x) out[i * bytes + j] = box[j];
    __syncthreads();  // every thread is done reading before the next copy overwrites the box
  }
}

// TMA store: the box image is copied verbatim into shared memory with ordinary
// stores (so a swizzled map sees the bytes the test laid out), made visible to
// the async proxy, and stored by one thread; the bulk group is waited on.
extern "C" __global__ void tma_store_2d(const __grid_constant__ CUtensorMap map,
                                        const uint8_t *image, int c0, int c1, int bytes) {
  uint8_t *box = smem_base_1k();
  for (int i = threadIdx.x; i < bytes; i += blockDim.x) box[i] = image[i];
  fence_proxy_async_smem();
  __syncthreads();
  if (threadIdx.x == 0) {
    asm volatile(
        "cp.async.bulk.tensor.2d.global.shared::cta.tile.bulk_group [%0, {%1, %2}], [%3];" ::"l"(
            map_addr(map)),
        "r"(c0), "r"(c1), "r"(smem_u32(box))
        : "memory");
    asm volatile("cp.async.bulk.commit_group;" ::: "memory");
    asm volatile("cp.async.bulk.wait_group 0;" ::: "memory");
  }
}

// Non-tensor bulk copies: three global->shared copies of different sizes and
// offsets completing on one mbarrier (complete_tx counts `size` bytes each),
// then a shared->global copy through a bulk async-group.
// out: the first 2048 bytes of the shared buffer; dst: 512 bytes of which
// [16, 272) are written from shared offset 256.
extern "C" __global__ void bulk_copy(const uint8_t *src, uint8_t *out, uint8_t *dst) {
  __shared__ __align__(8) uint64_t bar_storage;
  uint32_t bar = smem_u32(&bar_storage);
  uint8_t *buf = smem_base_1k();
  for (int i = threadIdx.x; i < 2048; i += blockDim.x) buf[i] = 0;
  if (threadIdx.x == 0) mbar_init(bar, 1);
  fence_proxy_async_smem();  // the zeros (generic proxy) before the copies' writes (async proxy)
  __syncthreads();
  if (threadIdx.x == 0) {
    uint32_t s = smem_u32(buf);
    mbar_arrive_expect_tx(bar, 48 + 256 + 512);
    asm volatile(
        "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], 48, [%2];" ::"r"(s),
        "l"(src), "r"(bar)
        : "memory");
    asm volatile(
        "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], 256, [%2];" ::"r"(
            s + 256),
        "l"(src + 64), "r"(bar)
        : "memory");
    asm volatile(
        "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], 512, [%2];" ::"r"(
            s + 1024),
        "l"(src + 1024), "r"(bar)
        : "memory");
  }
  mbar_wait_parity(bar, 0);
  for (int i = threadIdx.x; i < 2048; i += blockDim.x) out[i] = buf[i];
  if (threadIdx.x == 0) {
    asm volatile("cp.async.bulk.global.shared::cta.bulk_group [%0], [%1], 256;" ::"l"(dst + 16),
                 "r"(smem_u32(buf) + 256)
                 : "memory");
    asm volatile("cp.async.bulk.commit_group;" ::: "memory");
    asm volatile("cp.async.bulk.wait_group 0;" ::: "memory");
  }
}
