// setmaxnreg.dec / .inc (PTX ISA 9.7.19.5) in a kernel with a register cap at
// entry (__launch_bounds__(256, 1)), one branch per warpgroup: the producer
// warpgroup gives registers back, the consumer asks for more and keeps 64
// live accumulators.  The data path must be unaffected.
#include <cstdint>

extern "C" __global__ void __launch_bounds__(256, 1) setmaxnreg_roles(const float *in, float *out) {
  __shared__ float stage[128];
  int tid = threadIdx.x;
  if (tid < 128) {
    asm volatile("setmaxnreg.dec.sync.aligned.u32 40;" ::: "memory");
    stage[tid] = in[tid] * 2.0f;
    asm volatile("bar.arrive 1, 256;" ::: "memory");
  } else {
    asm volatile("setmaxnreg.inc.sync.aligned.u32 232;" ::: "memory");
    int c = tid - 128;
    float acc[64];
#pragma unroll
    for (int k = 0; k < 64; ++k) acc[k] = in[(c + k) % 128];
    asm volatile("bar.sync 1, 256;" ::: "memory");
    float sum = stage[c];
#pragma unroll
    for (int k = 0; k < 64; ++k) sum += acc[k] * float(k + 1);
    out[c] = sum;
  }
}
