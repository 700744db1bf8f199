// mma.sync.aligned (PTX ISA 9.7.14.5.14) with the fragment layouts of
// 9.7.14.5.8 (m16n8k16, .f16/.bf16 -> .f32) and 9.7.14.5.10 (m16n8k32,
// .s8 -> .s32 wrapping and .satfinite, .e4m3 -> .f32).  Each kernel is one
// warp: A 16 x K and B 8 x K (row n holds B's column n) row-major in global
// memory, C and D 16 x 8 row-major; the kernel gathers each thread's
// fragment from the row/col formulas of the ISA and scatters D the same way.
#include <cstdint>

namespace {

// Packs `count` elements of `esize` bytes (low element first) into a .b32.
__device__ uint32_t pack(const uint8_t *m, int ld, int esize, const int *rows, const int *cols,
                         int count) {
  uint32_t v = 0;
  for (int e = 0; e < count; ++e)
    for (int b = 0; b < esize; ++b)
      v |= uint32_t(m[(rows[e] * ld + cols[e]) * esize + b]) << (8 * (e * esize + b));
  return v;
}

// groupID = lane >> 2, threadID_in_group = lane % 4.
__device__ int group_id() { return (threadIdx.x % 32) >> 2; }
__device__ int tig() { return threadIdx.x % 4; }

// A fragment: 4 registers.  16-bit (k16): a_i at row g + 8*((i>>1)&1),
// col 2t + (i&1) + 8*(i>=4).  8-bit (k32): a_i at row g + 8*((i>>2)&1),
// col 4t + (i&3) + 16*(i>=8).
__device__ void load_a(uint32_t (&a)[4], const uint8_t *A, int esize) {
  int K = esize == 2 ? 16 : 32, per = 4 / esize, g = group_id(), t = tig();
  for (int j = 0; j < 4; ++j) {
    int rows[4], cols[4];
    for (int e = 0; e < per; ++e) {
      int i = j * per + e;
      if (esize == 2) {
        rows[e] = g + 8 * ((i >> 1) & 1);
        cols[e] = 2 * t + (i & 1) + 8 * (i >= 4);
      } else {
        rows[e] = g + 8 * ((i >> 2) & 1);
        cols[e] = 4 * t + (i & 3) + 16 * (i >= 8);
      }
    }
    a[j] = pack(A, K, esize, rows, cols, per);
  }
}

// B fragment: 2 registers; b_i at k = 2t + (i&1) + 8*(i>=2) (16-bit) or
// 4t + (i&3) + 16*(i>=4) (8-bit), n = g.  Bt holds B transposed (n, k).
__device__ void load_b(uint32_t (&b)[2], const uint8_t *Bt, int esize) {
  int K = esize == 2 ? 16 : 32, per = 4 / esize, g = group_id(), t = tig();
  for (int j = 0; j < 2; ++j) {
    int rows[4], cols[4];
    for (int e = 0; e < per; ++e) {
      int i = j * per + e;
      rows[e] = g;
      cols[e] = esize == 2 ? 2 * t + (i & 1) + 8 * (i >= 2) : 4 * t + (i & 3) + 16 * (i >= 4);
    }
    b[j] = pack(Bt, K, esize, rows, cols, per);
  }
}

// C/D: c_i at row g + 8*(i>=2), col 2t + (i&1).
__device__ int c_index(int i) { return (group_id() + 8 * (i >= 2)) * 8 + 2 * tig() + (i & 1); }

}  // namespace

extern "C" __global__ void mma_f16_f32(const uint8_t *A, const uint8_t *Bt, const float *C,
                                       float *D) {
  uint32_t a[4], b[2];
  load_a(a, A, 2);
  load_b(b, Bt, 2);
  float d[4];
  for (int i = 0; i < 4; ++i) d[i] = C[c_index(i)];
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  for (int i = 0; i < 4; ++i) D[c_index(i)] = d[i];
}

extern "C" __global__ void mma_bf16_f32(const uint8_t *A, const uint8_t *Bt, const float *C,
                                        float *D) {
  uint32_t a[4], b[2];
  load_a(a, A, 2);
  load_b(b, Bt, 2);
  float d[4];
  for (int i = 0; i < 4; ++i) d[i] = C[c_index(i)];
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  for (int i = 0; i < 4; ++i) D[c_index(i)] = d[i];
}

extern "C" __global__ void mma_s8_s32(const uint8_t *A, const uint8_t *Bt, const int *C, int *D) {
  uint32_t a[4], b[2];
  load_a(a, A, 1);
  load_b(b, Bt, 1);
  int d[4];
  for (int i = 0; i < 4; ++i) d[i] = C[c_index(i)];
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.s32.s8.s8.s32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  for (int i = 0; i < 4; ++i) D[c_index(i)] = d[i];
}

extern "C" __global__ void mma_s8_s32_satfinite(const uint8_t *A, const uint8_t *Bt, const int *C,
                                                int *D) {
  uint32_t a[4], b[2];
  load_a(a, A, 1);
  load_b(b, Bt, 1);
  int d[4];
  for (int i = 0; i < 4; ++i) d[i] = C[c_index(i)];
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.satfinite.s32.s8.s8.s32 {%0, %1, %2, %3}, "
      "{%4, %5, %6, %7}, {%8, %9}, {%0, %1, %2, %3};"
      : "+r"(d[0]), "+r"(d[1]), "+r"(d[2]), "+r"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  for (int i = 0; i < 4; ++i) D[c_index(i)] = d[i];
}

extern "C" __global__ void mma_e4m3_f32(const uint8_t *A, const uint8_t *Bt, const float *C,
                                        float *D) {
  uint32_t a[4], b[2];
  load_a(a, A, 1);
  load_b(b, Bt, 1);
  float d[4];
  for (int i = 0; i < 4; ++i) d[i] = C[c_index(i)];
  asm volatile(
      "mma.sync.aligned.m16n8k32.row.col.f32.e4m3.e4m3.f32 {%0, %1, %2, %3}, {%4, %5, %6, %7}, "
      "{%8, %9}, {%0, %1, %2, %3};"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b[0]), "r"(b[1]));
  for (int i = 0; i < 4; ++i) D[c_index(i)] = d[i];
}
