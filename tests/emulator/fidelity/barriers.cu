// mbarrier arrive counts, phases and tx-counts (PTX ISA 9.7.13.15: arrive
// with a count, test_wait/try_wait with .parity or with the state token of
// an arrive, expect_tx/complete_tx), and named barriers (9.7.13.1: bar.sync
// and bar.arrive with an id and a thread count, bar.red).
#include "common.cuh"

namespace {

__device__ uint64_t mbar_arrive(uint32_t bar) {
  uint64_t state;
  asm volatile("mbarrier.arrive.shared::cta.b64 %0, [%1];" : "=l"(state) : "r"(bar) : "memory");
  return state;
}
__device__ void mbar_arrive_count(uint32_t bar, uint32_t count) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0], %1;" ::"r"(bar), "r"(count) : "memory");
}
__device__ bool mbar_test_state(uint32_t bar, uint64_t state) {
  uint32_t ok;
  asm volatile(
      "{\n.reg .pred p;\nmbarrier.test_wait.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}\n"
      : "=r"(ok)
      : "r"(bar), "l"(state)
      : "memory");
  return ok;
}
__device__ void mbar_wait_state(uint32_t bar, uint64_t state) {
  uint32_t ok;
  do {
    asm volatile(
        "{\n.reg .pred p;\nmbarrier.try_wait.shared::cta.b64 p, [%1], %2;\nselp.u32 %0, 1, 0, p;\n}\n"
        : "=r"(ok)
        : "r"(bar), "l"(state)
        : "memory");
  } while (!ok);
}

}  // namespace

// 128 threads; the barrier expects 64 arrivals per phase.  Phase 0: warp 0
// arrives (32 x count 1) after writing data[], lane 0 of warps 1 and 2 with
// count 16 each; warp 3 waits on parity 0 and reads data[] (seen).  Phase 1:
// warps 2 and 3 write data2[] and arrive, each waiting on its own state
// token; warps 0 and 1 wait on parity 1 and read data2[] (seen2).
extern "C" __global__ void mbar_counts(const int *in, int *seen, int *seen2) {
  __shared__ __align__(8) uint64_t bar_storage;
  __shared__ int data[32], data2[64];
  uint32_t bar = smem_u32(&bar_storage);
  int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  if (tid == 0) mbar_init(bar, 64);
  __syncthreads();

  if (warp == 0) {
    data[lane] = in[lane] * 3 + 1;
    mbar_arrive(bar);  // release: data[] is visible to whoever observes the phase
  }
  if ((warp == 1 || warp == 2) && lane == 0) mbar_arrive_count(bar, 16);
  if (warp == 3) {
    mbar_wait_parity(bar, 0);
    seen[lane] = data[lane];
  }
  __syncthreads();

  if (warp >= 2) {
    data2[tid - 64] = in[lane] - tid;
    mbar_wait_state(bar, mbar_arrive(bar));
  } else {
    mbar_wait_parity(bar, 1);
    seen2[tid] = data2[tid];
  }
}

// test_wait is non-blocking (9.7.13.15.16): it reports whether a phase has
// completed.  128 threads, 64 arrivals per phase.  obs[tid] bits:
//  0 test_wait.parity 0 after only 32 arrivals (false)
//  1 test_wait.parity 0 after all 64 (true)
//  2 test_wait with warp 0's phase-0 state token after completion (true)
//  3 test_wait.parity 1 while phase 1 is in progress (false)
//  4 test_wait.parity 1 after phase 1 completed (true)
//  5 test_wait.parity 0 while phase 2 is in progress (false)
extern "C" __global__ void mbar_test_wait(uint32_t *obs) {
  __shared__ __align__(8) uint64_t bar_storage;
  uint32_t bar = smem_u32(&bar_storage);
  int tid = threadIdx.x, warp = tid / 32, lane = tid % 32;
  if (tid == 0) mbar_init(bar, 64);
  __syncthreads();
  uint64_t state0 = warp == 0 ? mbar_arrive(bar) : 0;
  __syncthreads();
  uint32_t bits = mbar_test_parity(bar, 0) << 0;
  __syncthreads();
  if ((warp == 1 || warp == 2) && lane == 0) mbar_arrive_count(bar, 16);
  __syncthreads();
  bits |= mbar_test_parity(bar, 0) << 1;
  bits |= (warp == 0 ? mbar_test_state(bar, state0) : 1) << 2;
  bits |= mbar_test_parity(bar, 1) << 3;
  __syncthreads();
  if (warp >= 2) mbar_arrive(bar);
  __syncthreads();
  bits |= mbar_test_parity(bar, 1) << 4;
  bits |= mbar_test_parity(bar, 0) << 5;
  obs[tid] = bits;
}

// Transaction counts without a copy engine: the phase completes only when
// both the pending arrivals and the tx-count reach zero.  One thread per
// step, a CTA barrier between steps; obs[step] = test_wait.parity 0 after it.
//  0: expect_tx 100            (2 arrivals pending, tx 100)
//  1: arrive                   (1 pending)
//  2: arrive.expect_tx 28      (0 pending, tx 128)
//  3: complete_tx 100          (tx 28)
//  4: complete_tx 28           (tx 0: complete)
extern "C" __global__ void mbar_tx(uint32_t *obs) {
  __shared__ __align__(8) uint64_t bar_storage;
  uint32_t bar = smem_u32(&bar_storage);
  int tid = threadIdx.x;
  if (tid == 0) mbar_init(bar, 2);
  __syncthreads();
  for (int step = 0; step < 5; ++step) {
    if (tid == step) {
      switch (step) {
        case 0:
          asm volatile("mbarrier.expect_tx.relaxed.cta.shared::cta.b64 [%0], 100;" ::"r"(bar) : "memory");
          break;
        case 1:
          mbar_arrive(bar);
          break;
        case 2:
          mbar_arrive_expect_tx(bar, 28);
          break;
        case 3:
          asm volatile("mbarrier.complete_tx.relaxed.cta.shared::cta.b64 [%0], 100;" ::"r"(bar) : "memory");
          break;
        case 4:
          asm volatile("mbarrier.complete_tx.relaxed.cta.shared::cta.b64 [%0], 28;" ::"r"(bar) : "memory");
          break;
      }
    }
    __syncthreads();
    if (tid == 0) obs[step] = mbar_test_parity(bar, 0);
    __syncthreads();
  }
}

// Producer/consumer warpgroups on named barriers (256 threads).  Round r:
// producers (threads 0-127) write buf and bar.arrive 1; consumers bar.sync 1,
// read a neighbour's value, write it to out and an ack, bar.arrive 2;
// producers bar.sync 2 and read the acks.  Every bar.* names 256 threads.
extern "C" __global__ void named_barriers(const int *in, int *out, int *acks, int rounds) {
  __shared__ int buf[128], ack[128];
  int tid = threadIdx.x;
  for (int r = 0; r < rounds; ++r) {
    if (tid < 128) {
      buf[tid] = in[r * 128 + tid] * 2 + r;
      asm volatile("bar.arrive 1, 256;" ::: "memory");
      asm volatile("bar.sync 2, 256;" ::: "memory");
      acks[r * 128 + tid] = ack[tid];
    } else {
      int c = tid - 128;
      asm volatile("bar.sync 1, 256;" ::: "memory");
      int v = buf[(c + 5) % 128];
      out[r * 128 + c] = v;
      ack[c] = v + 1;
      asm volatile("bar.arrive 2, 256;" ::: "memory");
    }
  }
}

// Two independent pairs of warps (128 threads): warps 0-1 exchange through
// barrier 3, warps 2-3 through barrier 4, 64 threads each.
// out[tid] = the value the other warp of the pair wrote.
extern "C" __global__ void barrier_subsets(const int *in, int *out) {
  __shared__ int buf[128];
  int tid = threadIdx.x;
  buf[tid] = in[tid];
  if (tid < 64) {
    asm volatile("bar.sync 3, 64;" ::: "memory");
  } else {
    asm volatile("bar.sync 4, 64;" ::: "memory");
  }
  out[tid] = buf[tid ^ 32];
}

// bar.red over the CTA (barrier 5): popc, and, or of (in[tid] > 0);
// red[tid*3 + k] = the three results.
extern "C" __global__ void barrier_red(const int *in, uint32_t *red) {
  int tid = threadIdx.x;
  uint32_t popc, all, any;
  asm volatile(
      "{\n.reg .pred p, q;\nsetp.gt.s32 p, %3, 0;\n"
      "bar.red.popc.u32 %0, 5, p;\n"
      "bar.red.and.pred q, 5, p;\nselp.u32 %1, 1, 0, q;\n"
      "bar.red.or.pred q, 5, p;\nselp.u32 %2, 1, 0, q;\n}\n"
      : "=r"(popc), "=r"(all), "=r"(any)
      : "r"(in[tid])
      : "memory");
  red[tid * 3 + 0] = popc, red[tid * 3 + 1] = all, red[tid * 3 + 2] = any;
}
