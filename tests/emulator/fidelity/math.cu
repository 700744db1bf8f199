// Approximate f32 functions against the error bounds of PTX ISA 9.7.3.13
// (rcp), .15 (sqrt), .16 (rsqrt), .18 (sin), .19 (cos), .20 (lg2), .21 (ex2),
// .22 (tanh); min/max with and without .NaN (9.7.3.11-12); and fused
// fma.rn on .f16x2 / .bf16x2 (9.7.4.4, one rounding per lane).
#include <cstdint>

#define FOR_EACH for (int i = threadIdx.x; i < n; i += blockDim.x)

// out[k*n + i] for k = ex2, lg2, rcp, rsqrt, sqrt, sin, cos, tanh.
extern "C" __global__ void approx(const float *x, float *out, int n) {
  FOR_EACH {
    float v = x[i], r[8];
    asm("ex2.approx.f32 %0, %1;" : "=f"(r[0]) : "f"(v));
    asm("lg2.approx.f32 %0, %1;" : "=f"(r[1]) : "f"(v));
    asm("rcp.approx.f32 %0, %1;" : "=f"(r[2]) : "f"(v));
    asm("rsqrt.approx.f32 %0, %1;" : "=f"(r[3]) : "f"(v));
    asm("sqrt.approx.f32 %0, %1;" : "=f"(r[4]) : "f"(v));
    asm("sin.approx.f32 %0, %1;" : "=f"(r[5]) : "f"(v));
    asm("cos.approx.f32 %0, %1;" : "=f"(r[6]) : "f"(v));
    asm("tanh.approx.f32 %0, %1;" : "=f"(r[7]) : "f"(v));
    for (int k = 0; k < 8; ++k) out[k * n + i] = r[k];
  }
}

// out[k*n + i] for k = min, min.NaN, max, max.NaN of (a[i], b[i]).
extern "C" __global__ void minmax(const float *a, const float *b, float *out, int n) {
  FOR_EACH {
    float r[4];
    asm("min.f32 %0, %1, %2;" : "=f"(r[0]) : "f"(a[i]), "f"(b[i]));
    asm("min.NaN.f32 %0, %1, %2;" : "=f"(r[1]) : "f"(a[i]), "f"(b[i]));
    asm("max.f32 %0, %1, %2;" : "=f"(r[2]) : "f"(a[i]), "f"(b[i]));
    asm("max.NaN.f32 %0, %1, %2;" : "=f"(r[3]) : "f"(a[i]), "f"(b[i]));
    for (int k = 0; k < 4; ++k) out[k * n + i] = r[k];
  }
}

extern "C" __global__ void fma_f16x2(const uint32_t *a, const uint32_t *b, const uint32_t *c,
                                     uint32_t *d, int n) {
  FOR_EACH asm("fma.rn.f16x2 %0, %1, %2, %3;" : "=r"(d[i]) : "r"(a[i]), "r"(b[i]), "r"(c[i]));
}

extern "C" __global__ void fma_bf16x2(const uint32_t *a, const uint32_t *b, const uint32_t *c,
                                      uint32_t *d, int n) {
  FOR_EACH asm("fma.rn.bf16x2 %0, %1, %2, %3;" : "=r"(d[i]) : "r"(a[i]), "r"(b[i]), "r"(c[i]));
}
