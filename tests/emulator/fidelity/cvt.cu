// cvt (PTX ISA 9.7.9.21): float narrowing under .rn/.rz/.rm/.rp and
// .satfinite; packed .f16x2/.bf16x2 (a -> upper half, b -> lower half);
// .e4m3x2/.e5m2x2 from f32 (.satfinite mandatory) and back to .f16x2;
// float -> integer (.rni/.rzi/.rmi/.rpi, saturating, NaN -> 0 or 1 << (w-1));
// integer -> float; integer narrowing with and without .sat, sign/zero
// extension into a wider destination register ("Notes"); and the same-size
// float rounding to an integral value (cvt.rni.f32.f32).
// Each thread converts elements i = tid, tid + blockDim.x, ... < n.
#include <cstdint>

#define FOR_EACH for (int i = threadIdx.x; i < n; i += blockDim.x)

extern "C" __global__ void cvt_f32_f16(const float *x, uint16_t *out, int n) {
  FOR_EACH {
    uint16_t rn, rz, rm, rp, sat;
    asm("cvt.rn.f16.f32 %0, %1;" : "=h"(rn) : "f"(x[i]));
    asm("cvt.rz.f16.f32 %0, %1;" : "=h"(rz) : "f"(x[i]));
    asm("cvt.rm.f16.f32 %0, %1;" : "=h"(rm) : "f"(x[i]));
    asm("cvt.rp.f16.f32 %0, %1;" : "=h"(rp) : "f"(x[i]));
    asm("cvt.rn.satfinite.f16.f32 %0, %1;" : "=h"(sat) : "f"(x[i]));
    out[0 * n + i] = rn, out[1 * n + i] = rz, out[2 * n + i] = rm, out[3 * n + i] = rp;
    out[4 * n + i] = sat;
  }
}

extern "C" __global__ void cvt_f32_bf16(const float *x, uint16_t *out, int n) {
  FOR_EACH {
    uint16_t rn, rz, rm, rp, sat;
    asm("cvt.rn.bf16.f32 %0, %1;" : "=h"(rn) : "f"(x[i]));
    asm("cvt.rz.bf16.f32 %0, %1;" : "=h"(rz) : "f"(x[i]));
    asm("cvt.rm.bf16.f32 %0, %1;" : "=h"(rm) : "f"(x[i]));
    asm("cvt.rp.bf16.f32 %0, %1;" : "=h"(rp) : "f"(x[i]));
    asm("cvt.rn.satfinite.bf16.f32 %0, %1;" : "=h"(sat) : "f"(x[i]));
    out[0 * n + i] = rn, out[1 * n + i] = rz, out[2 * n + i] = rm, out[3 * n + i] = rp;
    out[4 * n + i] = sat;
  }
}

// cvt.rn.f16x2.f32 d, a, b; cvt.rz.relu.f16x2.f32; cvt.rn.bf16x2.f32;
// cvt.rn.satfinite.bf16x2.f32.
extern "C" __global__ void cvt_x2(const float *a, const float *b, uint32_t *h_rn,
                                  uint32_t *h_rz_relu, uint32_t *bf_rn, uint32_t *bf_sat, int n) {
  FOR_EACH {
    uint32_t r[4];
    asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(r[0]) : "f"(a[i]), "f"(b[i]));
    asm("cvt.rz.relu.f16x2.f32 %0, %1, %2;" : "=r"(r[1]) : "f"(a[i]), "f"(b[i]));
    asm("cvt.rn.bf16x2.f32 %0, %1, %2;" : "=r"(r[2]) : "f"(a[i]), "f"(b[i]));
    asm("cvt.rn.satfinite.bf16x2.f32 %0, %1, %2;" : "=r"(r[3]) : "f"(a[i]), "f"(b[i]));
    h_rn[i] = r[0], h_rz_relu[i] = r[1], bf_rn[i] = r[2], bf_sat[i] = r[3];
  }
}

// cvt.rn.satfinite.e4m3x2.f32 d, a, b; the same with .relu;
// cvt.rn.satfinite.e4m3x2.f16x2 of cvt.rn.f16x2.f32(a, b);
// cvt.rn.satfinite.e5m2x2.f32 d, a, b.
extern "C" __global__ void cvt_fp8x2(const float *a, const float *b, uint16_t *e4, uint16_t *e4_relu,
                                     uint16_t *e4_via_f16, uint16_t *e5, int n) {
  FOR_EACH {
    uint16_t r[4];
    uint32_t h;
    asm("cvt.rn.satfinite.e4m3x2.f32 %0, %1, %2;" : "=h"(r[0]) : "f"(a[i]), "f"(b[i]));
    asm("cvt.rn.satfinite.relu.e4m3x2.f32 %0, %1, %2;" : "=h"(r[1]) : "f"(a[i]), "f"(b[i]));
    asm("cvt.rn.f16x2.f32 %0, %1, %2;" : "=r"(h) : "f"(a[i]), "f"(b[i]));
    asm("cvt.rn.satfinite.e4m3x2.f16x2 %0, %1;" : "=h"(r[2]) : "r"(h));
    asm("cvt.rn.satfinite.e5m2x2.f32 %0, %1, %2;" : "=h"(r[3]) : "f"(a[i]), "f"(b[i]));
    e4[i] = r[0], e4_relu[i] = r[1], e4_via_f16[i] = r[2], e5[i] = r[3];
  }
}

// out[0]: cvt.rn.f16x2.e4m3x2   out[1]: cvt.rn.f16x2.e5m2x2
extern "C" __global__ void cvt_fp8x2_f16x2(const uint16_t *x, uint32_t *out, int n) {
  FOR_EACH {
    uint32_t a, b;
    asm("cvt.rn.f16x2.e4m3x2 %0, %1;" : "=r"(a) : "h"(x[i]));
    asm("cvt.rn.f16x2.e5m2x2 %0, %1;" : "=r"(b) : "h"(x[i]));
    out[0 * n + i] = a, out[1 * n + i] = b;
  }
}

// Float -> integer.  32-bit and narrower results land in a 32-bit register
// (sign-extended for signed types, zero-extended for unsigned ones); out is
// the destination register, zero-extended to 64 bits.  The last one converts
// from .f64, where NaN gives 1 << 31 instead of 0.
extern "C" __global__ void cvt_f2i(const float *x, uint64_t *out, int n) {
  FOR_EACH {
    float v = x[i];
    uint32_t r[12];
    uint64_t q[4];
    asm("cvt.rni.s32.f32 %0, %1;" : "=r"(r[0]) : "f"(v));
    asm("cvt.rzi.s32.f32 %0, %1;" : "=r"(r[1]) : "f"(v));
    asm("cvt.rmi.s32.f32 %0, %1;" : "=r"(r[2]) : "f"(v));
    asm("cvt.rpi.s32.f32 %0, %1;" : "=r"(r[3]) : "f"(v));
    asm("cvt.rni.u32.f32 %0, %1;" : "=r"(r[4]) : "f"(v));
    asm("cvt.rzi.u32.f32 %0, %1;" : "=r"(r[5]) : "f"(v));
    asm("cvt.rmi.u32.f32 %0, %1;" : "=r"(r[6]) : "f"(v));
    asm("cvt.rpi.u32.f32 %0, %1;" : "=r"(r[7]) : "f"(v));
    asm("cvt.rni.s8.f32 %0, %1;" : "=r"(r[8]) : "f"(v));
    asm("cvt.rzi.u8.f32 %0, %1;" : "=r"(r[9]) : "f"(v));
    asm("cvt.rni.s16.f32 %0, %1;" : "=r"(r[10]) : "f"(v));
    asm("cvt.rmi.u16.f32 %0, %1;" : "=r"(r[11]) : "f"(v));
    asm("cvt.rzi.s64.f32 %0, %1;" : "=l"(q[0]) : "f"(v));
    asm("cvt.rni.s64.f32 %0, %1;" : "=l"(q[1]) : "f"(v));
    asm("cvt.rpi.u64.f32 %0, %1;" : "=l"(q[2]) : "f"(v));
    uint32_t from_f64;
    asm("cvt.rzi.s32.f64 %0, %1;" : "=r"(from_f64) : "d"(double(v)));
    q[3] = from_f64;
    for (int k = 0; k < 12; ++k) out[k * n + i] = r[k];
    for (int k = 0; k < 4; ++k) out[(12 + k) * n + i] = q[k];
  }
}

// Integer -> float.  out: the destination's bits zero-extended to 32.
extern "C" __global__ void cvt_i2f(const int64_t *x, uint32_t *out, int n) {
  FOR_EACH {
    int64_t v = x[i];
    int32_t w = int32_t(v);
    float f[10];
    uint16_t h[2];
    asm("cvt.rn.f32.s32 %0, %1;" : "=f"(f[0]) : "r"(w));
    asm("cvt.rz.f32.s32 %0, %1;" : "=f"(f[1]) : "r"(w));
    asm("cvt.rm.f32.s32 %0, %1;" : "=f"(f[2]) : "r"(w));
    asm("cvt.rp.f32.s32 %0, %1;" : "=f"(f[3]) : "r"(w));
    asm("cvt.rn.f32.u32 %0, %1;" : "=f"(f[4]) : "r"(w));
    asm("cvt.rn.f32.s64 %0, %1;" : "=f"(f[5]) : "l"(v));
    asm("cvt.rz.f32.s64 %0, %1;" : "=f"(f[6]) : "l"(v));
    asm("cvt.rm.f32.s64 %0, %1;" : "=f"(f[7]) : "l"(v));
    asm("cvt.rp.f32.s64 %0, %1;" : "=f"(f[8]) : "l"(v));
    asm("cvt.rn.f32.u64 %0, %1;" : "=f"(f[9]) : "l"(v));
    asm("cvt.rn.f16.s32 %0, %1;" : "=h"(h[0]) : "r"(w));
    asm("cvt.rz.f16.u32 %0, %1;" : "=h"(h[1]) : "r"(w));
    for (int k = 0; k < 10; ++k) out[k * n + i] = __float_as_uint(f[k]);
    out[10 * n + i] = h[0], out[11 * n + i] = h[1];
  }
}

// Integer narrowing: .sat clamps to the destination range, without .sat the
// low bits are kept; the 32-bit destination register is sign-/zero-extended.
extern "C" __global__ void cvt_int(const int64_t *x, uint32_t *out, int n) {
  FOR_EACH {
    int64_t v = x[i];
    int32_t w = int32_t(v);
    uint32_t r[10];
    asm("cvt.sat.s8.s32 %0, %1;" : "=r"(r[0]) : "r"(w));
    asm("cvt.s8.s32 %0, %1;" : "=r"(r[1]) : "r"(w));
    asm("cvt.sat.u8.s32 %0, %1;" : "=r"(r[2]) : "r"(w));
    asm("cvt.u8.s32 %0, %1;" : "=r"(r[3]) : "r"(w));
    asm("cvt.sat.s16.s32 %0, %1;" : "=r"(r[4]) : "r"(w));
    asm("cvt.sat.u16.u32 %0, %1;" : "=r"(r[5]) : "r"(w));
    asm("cvt.sat.u32.s32 %0, %1;" : "=r"(r[6]) : "r"(w));
    asm("cvt.sat.s32.u32 %0, %1;" : "=r"(r[7]) : "r"(w));
    asm("cvt.sat.s32.s64 %0, %1;" : "=r"(r[8]) : "l"(v));
    asm("cvt.sat.u32.s64 %0, %1;" : "=r"(r[9]) : "l"(v));
    for (int k = 0; k < 10; ++k) out[k * n + i] = r[k];
  }
}

// Rounding to an integral value in the same format.
extern "C" __global__ void cvt_round_f32(const float *x, float *out, int n) {
  FOR_EACH {
    float r[4];
    asm("cvt.rni.f32.f32 %0, %1;" : "=f"(r[0]) : "f"(x[i]));
    asm("cvt.rzi.f32.f32 %0, %1;" : "=f"(r[1]) : "f"(x[i]));
    asm("cvt.rmi.f32.f32 %0, %1;" : "=f"(r[2]) : "f"(x[i]));
    asm("cvt.rpi.f32.f32 %0, %1;" : "=f"(r[3]) : "f"(x[i]));
    for (int k = 0; k < 4; ++k) out[k * n + i] = r[k];
  }
}
