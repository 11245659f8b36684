// The CPU SGEMM of matmul.h, written the BLIS/GotoBLAS way (no BLAS library needed):
//   for each thread's rectangle of C (a 2-D split of M×N over parallel_for)
//     for jc in steps of NC columns
//       for pc in steps of KC:  pack op(B)[pc, jc] into KC×NR micro-panels (KC×NC: 512 KB, stays in L2), while
//                               the kernels below fetch the next block's source lines into L2 (BlockPrefetch)
//         for ic in steps of MC rows: pack op(A)[ic, pc] into MR×KC micro-panels
//           for each MR-tall, then each NR-wide micro-tile: the register-blocked micro-kernel
//           (MR×NR accumulators in registers, one broadcast of A and NR/width loads of B per k),
//           and after the last pc block the epilogue: a full tile's kernel adds the bias and the residual to its
//           registers before the store (TileAdd), and GELU (with a residual after it) runs on the tile in L1.
// The A micro-panel (MR×KC, 14 KB on AVX-512) stays in L1 across the row of tiles and the B micro-panels
// stream from L2: the other order (a 32 KB B panel kept in the 48 KB L1 while A streams) lost 10-15
// points of the FMA peak to L1 evictions at the encoder's wide products (fc1, dinp, BERT-base).
// Packing makes every micro-kernel read contiguous, aligned memory whatever the transposes, and pads
// edges with zeros, so the kernels have no edge cases; partial tiles go through a small buffer. The AVX-512
// path packs the two transposing cases (A row-major, B given transposed: the encoder's forward) through
// 16×16 in-register transposes; the others copy element-wise.
// Micro-kernels (picked once per process, see core/isa.h):
//   AVX-512: 14×32 (28 zmm accumulators, 2 loads + 14 broadcast-FMA pairs per k; edge tiles of up to 8 rows
//   through its 4- and 8-row variants);
//   AVX2+FMA: 6×16 (12 ymm accumulators, the classic Haswell shape);
//   both also read A in place (kernel_direct) when op(A) = A fits one k block, or when its rows are not a
//   multiple of 512 floats apart (see gemm_rect), skipping its packing;
//   portable: 4×8 (8×8 on AArch64) in 128-bit GCC/Clang vector extensions, which the compiler maps to the
//   baseline ISA (SSE2 on x86-64, NEON on AArch64).
// "no-trapping-math" lets GCC vectorise GELU's clamps in the epilogue (as in gelu_cpu.cpp; no result changes).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <cmath>
#include <memory>

#include "../core/isa.h"
#include "../core/parallel.h"
#include "gelu.h"
#include "matmul.h"

#ifdef FML_HAVE_X86_KERNELS
#include "../core/x86_intrin.h"

#include "transpose16_avx512.h"
#endif

namespace pkg {

namespace {

// Packed buffers of one thread, 64-byte aligned, grown on demand and kept for the thread's lifetime.
struct PackBuf {
  struct Free {
    void operator()(float* p) const { std::free(p); }
  };
  std::unique_ptr<float, Free> p;
  size_t cap = 0;
  float* get(size_t n) {
    if (n > cap) {
      p.reset(static_cast<float*>(std::aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64)));
      if (!p) throw std::bad_alloc();
      cap = n;
    }
    return p.get();
  }
};
thread_local PackBuf t_pack_a, t_pack_b;

constexpr int64_t kPackAhead = 4;  // rows of A or B fetched ahead by the packing of the k-major cases

// op(A) rows [i0, i0+mc) × k [p0, p0+kc) into ceil(mc/MR) micro-panels of MR×kc, k-major (MR floats per k).
// (panel_k, k_at): the panels are panel_k long and these k land from position k_at (a tail after vector packing).
template <int MR>
void pack_a(bool ta, const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* out,
            int64_t panel_k = -1, int64_t k_at = 0) {
  if (panel_k < 0) panel_k = kc;
  out += k_at * MR;
  if (ta) {  // op(A)(i, k) = A[k, i]: row k of A holds MR contiguous floats of every panel; read it once
    for (int64_t k = 0; k < kc; k++) {
      const float* src = A + (p0 + k) * lda + i0;
      // rows lda apart are in different pages, which the hardware prefetchers do not cross: fetch ahead
      if (k + kPackAhead < kc)
        for (int64_t s = 0; s < mc; s += 16) __builtin_prefetch(src + kPackAhead * lda + s);
      for (int64_t s = 0; s < mc; s += MR) {
        float* dst = out + (s / MR) * MR * panel_k + k * MR;
        const int rows = (int)std::min<int64_t>(MR, mc - s);
        if (rows == MR) {
          std::memcpy(dst, src + s, sizeof(float) * MR);
        } else {
          for (int r = 0; r < rows; r++) dst[r] = src[s + r];
          for (int r = rows; r < MR; r++) dst[r] = 0.0f;
        }
      }
    }
    return;
  }
  for (int64_t s = 0; s < mc; s += MR, out += MR * panel_k) {  // op(A)(i, k) = A[i, k]: each row of A in turn
    const int rows = (int)std::min<int64_t>(MR, mc - s);
    for (int r = 0; r < rows; r++) {
      const float* src = A + (i0 + s + r) * lda + p0;
      for (int64_t k = 0; k < kc; k++) out[k * MR + r] = src[k];
    }
    for (int r = rows; r < MR; r++)
      for (int64_t k = 0; k < kc; k++) out[k * MR + r] = 0.0f;
  }
}

// op(B) k [p0, p0+kc) × columns [j0, j0+nc) into ceil(nc/NR) micro-panels of kc×NR (NR floats per k);
// (panel_k, k_at) as for pack_a.
template <int NR>
void pack_b(bool tb, const float* B, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* out,
            int64_t panel_k = -1, int64_t k_at = 0) {
  if (panel_k < 0) panel_k = kc;
  out += k_at * NR;
  if (!tb) {  // op(B)(k, j) = B[k, j]: row k of B holds NR contiguous floats of every panel; read it once
    for (int64_t k = 0; k < kc; k++) {
      const float* src = B + (p0 + k) * ldb + j0;
      if (k + kPackAhead < kc)
        for (int64_t s = 0; s < nc; s += 16) __builtin_prefetch(src + kPackAhead * ldb + s);
      for (int64_t s = 0; s < nc; s += NR) {
        float* dst = out + (s / NR) * NR * panel_k + k * NR;
        const int cols = (int)std::min<int64_t>(NR, nc - s);
        if (cols == NR) {
          std::memcpy(dst, src + s, sizeof(float) * NR);
        } else {
          for (int c = 0; c < cols; c++) dst[c] = src[s + c];
          for (int c = cols; c < NR; c++) dst[c] = 0.0f;
        }
      }
    }
    return;
  }
  for (int64_t s = 0; s < nc; s += NR, out += NR * panel_k) {  // op(B)(k, j) = B[j, k]: each row of B in turn
    const int cols = (int)std::min<int64_t>(NR, nc - s);
    for (int c = 0; c < cols; c++) {
      const float* src = B + (j0 + s + c) * ldb + p0;
      for (int64_t k = 0; k < kc; k++) out[k * NR + c] = src[k];
    }
    for (int c = cols; c < NR; c++)
      for (int64_t k = 0; k < kc; k++) out[k * NR + c] = 0.0f;
  }
}

// The epilogue on rows × cols of C whose top-left element is C(i0, j0): + bias[j], GELU, + residual(i, j).
// Inlined into each micro-kernel's ISA (Kr::epilogue), so GELU's polynomial runs at the kernel's width.
__attribute__((always_inline)) inline void epilogue_body(float* C, int64_t ldc, int rows, int cols, int64_t i0,
                                                         int64_t j0, const SgemmEpilogue& e) {
  for (int r = 0; r < rows; r++) {
    float* __restrict c = C + r * ldc;
    const float* __restrict bias = e.bias ? e.bias + j0 : nullptr;
    const float* __restrict res = e.residual ? e.residual + (i0 + r) * e.ldr + j0 : nullptr;
    if (bias)
      for (int j = 0; j < cols; j++) c[j] += bias[j];
    if (e.gelu)
      for (int j = 0; j < cols; j++) c[j] = gelu_value(c[j]);
    if (res)
      for (int j = 0; j < cols; j++) c[j] += res[j];
  }
}

// The part of the epilogue a full tile's kernel adds in registers before its store, each value rounded once as
// epilogue_body rounds it: + bias[j] (this tile's columns), then + residual(i, j) (this tile's rows, ldr apart)
// unless GELU comes between them (then epilogue_body does GELU and the residual on the stored tile).
struct TileAdd {
  const float* bias;
  const float* res;
  int64_t ldr;
};

// ---------------------------------------------------------------------------------------------------
// micro-kernels: C (MR×NR, leading dimension ldc) = alpha · Ap·Bp + (beta == 0 ? 0 : beta · C)
// Every loop over the accumulators is unrolled in full, so that each accumulator is a named register: with a
// loop left, GCC kept a copy of the AVX2 kernel's 12 accumulators on the stack and stored all of them on every
// k (12 stores per 12 FMAs), which cost a third of the AVX2 path's speed.

// 128-bit vectors through GCC/Clang vector extensions: SSE2 on x86-64, NEON on AArch64 (which has 32
// registers, so twice the rows).
typedef float V4 __attribute__((vector_size(16)));
inline V4 v4_set1(float v) { return V4{v, v, v, v}; }
inline V4 v4_loadu(const float* p) {
  V4 v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

// The packing every kernel can use (scalar copies; the AVX-512 kernel transposes in registers instead).
template <int MR, int NR>
struct GenericPack {
  static void pack_a(bool ta, const float* A, int64_t lda, int64_t i0, int64_t mc, int64_t p0, int64_t kc, float* out) {
    pkg::pack_a<MR>(ta, A, lda, i0, mc, p0, kc, out);
  }
  static void pack_b(bool tb, const float* B, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t nc, float* out) {
    pkg::pack_b<NR>(tb, B, ldb, p0, kc, j0, nc, out);
  }
};

struct Portable : GenericPack<
#if defined(__aarch64__)
                      8,
#else
                      4,
#endif
                      8> {
  static void epilogue(float* C, int64_t ldc, int rows, int cols, int64_t i0, int64_t j0, const SgemmEpilogue& e) {
    epilogue_body(C, ldc, rows, cols, i0, j0, e);
  }
#if defined(__aarch64__)
  static constexpr int MR = 8;
  static constexpr const char* name = "portable 8x8";
#else
  static constexpr int MR = 4;
  static constexpr const char* name = "portable 4x8";
#endif
  static constexpr int NR = 8, KC = 256, MC = 128, NC = 512;
  static constexpr bool kDirectA = false, kShortTiles = false;
  static void kernel(int64_t kc, const float* __restrict Ap, const float* __restrict Bp, float* __restrict C,
                     int64_t ldc, float alpha, float beta, const TileAdd* add) {
    V4 c[MR][2];
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) c[i][0] = c[i][1] = v4_set1(0.0f);
    for (int64_t k = 0; k < kc; k++, Ap += MR, Bp += NR) {
      const V4 b0 = *(const V4*)Bp, b1 = *(const V4*)(Bp + 4);  // packed panels are 64-byte aligned
      _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {
        const V4 a = v4_set1(Ap[i]);
        c[i][0] += a * b0;
        c[i][1] += a * b1;
      }
    }
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)
      _Pragma("GCC unroll 2") for (int h = 0; h < 2; h++) {
        float* p = C + i * ldc + 4 * h;
        V4 v = alpha * c[i][h];
        if (beta != 0.0f) v += beta * v4_loadu(p);
        if (add && add->bias) v += v4_loadu(add->bias + 4 * h);
        if (add && add->res) v += v4_loadu(add->res + i * add->ldr + 4 * h);
        std::memcpy(p, &v, sizeof v);
      }
  }
};

#ifdef FML_HAVE_X86_KERNELS
struct Avx2 : GenericPack<6, 16> {
  // KC 512: the 12 KB A micro-panel still fits L1, and fc2 (K 1024) reads and writes its C tiles half as
  // often (57 → 72 % of the peak at 1 thread; the other encoder shapes unchanged within the noise).
  static constexpr int MR = 6, NR = 16, KC = 512, MC = 144, NC = 512;
  // A read in place when op(A) = A and K <= KC (see Avx512::kDirectA): tiny's products are 64 deep.
  static constexpr bool kDirectA = true, kShortTiles = false;
  __attribute__((target("avx2,fma"), noinline)) static void epilogue(float* C, int64_t ldc, int rows, int cols,
                                                                      int64_t i0, int64_t j0, const SgemmEpilogue& e) {
    epilogue_body(C, ldc, rows, cols, i0, j0, e);
  }
  // Direct: A is MR rows lda apart (row i at A + i·lda); else a packed micro-panel (MR floats per k). The
  // same multiply-adds in the same order either way, so both give the same bits.
  template <bool Direct>
  __attribute__((target("avx2,fma"), always_inline)) static inline void body(int64_t kc, const float* __restrict A,
                                                                             int64_t lda, const float* __restrict Bp,
                                                                             float* __restrict C, int64_t ldc,
                                                                             float alpha, float beta,
                                                                             const TileAdd* add) {
    __m256 c[MR][2];
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) c[i][0] = c[i][1] = _mm256_setzero_ps();
    // Four k per iteration: the loop's pointer and counter updates otherwise take issue slots from the FMAs
    // (the 6×16 tile has only 12 FMAs per k): 7-10 % faster at the encoder's K-256 products.
    _Pragma("GCC unroll 4") for (int64_t k = 0; k < kc; k++, Bp += NR) {
      const __m256 b0 = _mm256_load_ps(Bp), b1 = _mm256_load_ps(Bp + 8);
      _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++) {
        const __m256 a = _mm256_broadcast_ss(Direct ? A + i * lda + k : A + k * MR + i);
        c[i][0] = _mm256_fmadd_ps(a, b0, c[i][0]);
        c[i][1] = _mm256_fmadd_ps(a, b1, c[i][1]);
      }
    }
    const __m256 va = _mm256_set1_ps(alpha), vb = _mm256_set1_ps(beta);
    const float* bias = add ? add->bias : nullptr;
    const float* res = add ? add->res : nullptr;
    _Pragma("GCC unroll 16") for (int i = 0; i < MR; i++)
      _Pragma("GCC unroll 2") for (int h = 0; h < 2; h++) {
        float* p = C + i * ldc + 8 * h;
        __m256 v = _mm256_mul_ps(va, c[i][h]);
        if (beta != 0.0f) v = _mm256_fmadd_ps(vb, _mm256_loadu_ps(p), v);
        if (bias) v = _mm256_add_ps(v, _mm256_loadu_ps(bias + 8 * h));
        if (res) v = _mm256_add_ps(v, _mm256_loadu_ps(res + i * add->ldr + 8 * h));
        _mm256_storeu_ps(p, v);
      }
  }
  __attribute__((target("avx2,fma"), noinline)) static void kernel(int64_t kc, const float* __restrict Ap,
                                                                     const float* __restrict Bp, float* __restrict C,
                                                                     int64_t ldc, float alpha, float beta,
                                                                     const TileAdd* add) {
    body<false>(kc, Ap, 0, Bp, C, ldc, alpha, beta, add);
  }
  __attribute__((target("avx2,fma"), noinline)) static void kernel_direct(int64_t kc, const float* __restrict A,
                                                                            int64_t lda, const float* __restrict Bp,
                                                                            float* __restrict C, int64_t ldc,
                                                                            float alpha, float beta,
                                                                            const TileAdd* add) {
    body<true>(kc, A, lda, Bp, C, ldc, alpha, beta, add);
  }
};

struct Avx512 {
  static constexpr int MR = 14, NR = 32, KC = 256, MC = 336, NC = 512;
  // op(A) = A (rows contiguous in k) and op(B) = Bᵀ (columns contiguous in k) need a transpose into the
  // k-major panels: 16 k at a time through transpose16, the k tail by the scalar packing.
  __attribute__((target("avx512f"), noinline)) static void pack_a(bool ta, const float* A, int64_t lda, int64_t i0,
                                                                    int64_t mc, int64_t p0, int64_t kc, float* out) {
    const int64_t k16 = ta ? 0 : kc / 16 * 16;
    if (k16 < kc) pkg::pack_a<MR>(ta, A, lda, i0, mc, p0 + k16, kc - k16, out, kc, k16);
    for (int64_t s = 0; s < mc; s += MR) {
      const int rows = (int)std::min<int64_t>(MR, mc - s);
      float* o = out + (s / MR) * MR * kc;
      for (int64_t k = 0; k < k16; k += 16)
        transpose16(A + (i0 + s) * lda + p0 + k, lda, rows, o + k * MR, MR, (__mmask16)((1u << MR) - 1));
    }
  }
  __attribute__((target("avx512f"), noinline)) static void pack_b(bool tb, const float* B, int64_t ldb, int64_t p0,
                                                                    int64_t kc, int64_t j0, int64_t nc, float* out) {
    const int64_t k16 = tb ? kc / 16 * 16 : 0;
    if (k16 < kc) pkg::pack_b<NR>(tb, B, ldb, p0 + k16, kc - k16, j0, nc, out, kc, k16);
    for (int64_t s = 0; s < nc; s += NR) {
      float* o = out + (s / NR) * NR * kc;
      for (int h = 0; h < NR / 16; h++) {
        const int cols = (int)std::max<int64_t>(0, std::min<int64_t>(16, nc - s - 16 * h));
        for (int64_t k = 0; k < k16; k += 16)
          transpose16(B + (j0 + s + 16 * h) * ldb + p0 + k, ldb, cols, o + k * NR + 16 * h, NR, (__mmask16)0xFFFF);
      }
    }
  }
  __attribute__((target("avx512f,avx2,fma"), noinline)) static void epilogue(float* C, int64_t ldc, int rows,
                                                                              int cols, int64_t i0, int64_t j0,
                                                                              const SgemmEpilogue& e) {
    epilogue_body(C, ldc, rows, cols, i0, j0, e);
  }
  // A read in place: op(A) = A with one k block (K <= KC) needs no packing, since the kernel's broadcasts
  // read one float of each of the MR rows per k whatever the layout (row i at A + i·lda). At the small
  // encoders' products (K 64, N 64) packing A cost a third as much as the kernel itself.
  static constexpr bool kDirectA = true;
  // Direct: A is MR rows lda apart (row i at A + i·lda, addressed from rows 0 and 7 to keep the offsets small);
  // else a packed micro-panel (MR floats per k, the next ones prefetched). The same multiply-adds in the same
  // order either way, so both give the same bits.
  // Rows < MR computes only the first Rows rows of a packed micro-panel (its other rows are the zeros of an edge).
  template <bool Direct, int Rows = MR>
  __attribute__((target("avx512f,avx2,fma"), always_inline)) static inline void body(int64_t kc,
                                                                                     const float* __restrict A,
                                                                                     int64_t lda,
                                                                                     const float* __restrict Bp,
                                                                                     float* __restrict C, int64_t ldc,
                                                                                     float alpha, float beta,
                                                                                     const TileAdd* add) {
    __m512 c[Rows][2];
    _Pragma("GCC unroll 16") for (int i = 0; i < Rows; i++) c[i][0] = c[i][1] = _mm512_setzero_ps();
    const float* a7 = A + 7 * lda;
    // Two k per iteration: half the loop's pointer and counter updates, which otherwise take issue slots from
    // the FMAs now and then (2-5 % faster at the encoder's products; four k gained nothing more).
    _Pragma("GCC unroll 2") for (int64_t k = 0; k < kc; k++, Bp += NR) {
      const __m512 b0 = _mm512_load_ps(Bp), b1 = _mm512_load_ps(Bp + 16);
      if (!Direct) _mm_prefetch((const char*)(A + (k + 8) * MR), _MM_HINT_T0);
      _Pragma("GCC unroll 16") for (int i = 0; i < Rows; i++) {
        const __m512 a = _mm512_set1_ps(Direct ? (i < 7 ? A[i * lda + k] : a7[(i - 7) * lda + k]) : A[k * MR + i]);
        c[i][0] = _mm512_fmadd_ps(a, b0, c[i][0]);
        c[i][1] = _mm512_fmadd_ps(a, b1, c[i][1]);
      }
    }
    const __m512 va = _mm512_set1_ps(alpha), vb = _mm512_set1_ps(beta);
    const float* bias = add ? add->bias : nullptr;
    const float* res = add ? add->res : nullptr;
    _Pragma("GCC unroll 16") for (int i = 0; i < Rows; i++)
      _Pragma("GCC unroll 2") for (int h = 0; h < 2; h++) {
        float* p = C + i * ldc + 16 * h;
        __m512 v = _mm512_mul_ps(va, c[i][h]);
        if (beta != 0.0f) v = _mm512_fmadd_ps(vb, _mm512_loadu_ps(p), v);
        if (bias) v = _mm512_add_ps(v, _mm512_loadu_ps(bias + 16 * h));
        if (res) v = _mm512_add_ps(v, _mm512_loadu_ps(res + i * add->ldr + 16 * h));
        _mm512_storeu_ps(p, v);
      }
  }
  __attribute__((target("avx512f,avx2,fma"), noinline)) static void kernel(int64_t kc, const float* __restrict Ap,
                                                                             const float* __restrict Bp,
                                                                             float* __restrict C, int64_t ldc,
                                                                             float alpha, float beta,
                                                                             const TileAdd* add) {
    body<false>(kc, Ap, 0, Bp, C, ldc, alpha, beta, add);
  }
  __attribute__((target("avx512f,avx2,fma"), noinline)) static void kernel_direct(int64_t kc, const float* __restrict A,
                                                                                    int64_t lda,
                                                                                    const float* __restrict Bp,
                                                                                    float* __restrict C, int64_t ldc,
                                                                                    float alpha, float beta,
                                                                                    const TileAdd* add) {
    body<true>(kc, A, lda, Bp, C, ldc, alpha, beta, add);
  }
  // An edge tile of at most 8 rows (a batch's last rows, a few texts' first tokens) computes 4 or 8 rows, not 14.
  static constexpr bool kShortTiles = true;
  __attribute__((target("avx512f,avx2,fma"), noinline)) static void kernel_short(int rows, int64_t kc,
                                                                                   const float* __restrict Ap,
                                                                                   const float* __restrict Bp,
                                                                                   float* __restrict C, int64_t ldc,
                                                                                   float alpha, float beta) {
    if (rows <= 4) body<false, 4>(kc, Ap, 0, Bp, C, ldc, alpha, beta, nullptr);
    else body<false, 8>(kc, Ap, 0, Bp, C, ldc, alpha, beta, nullptr);
  }
};
#endif

// ---------------------------------------------------------------------------------------------------
// the blocked loops over one rectangle of C: rows [m0, m1), columns [n0, n1)

struct Problem {
  bool ta, tb;
  int64_t M, N, K;
  float alpha;
  const float* A;
  int64_t lda;
  const float* B;
  int64_t ldb;
  float beta;
  float* C;
  int64_t ldc;
  const SgemmEpilogue* epi;
};

// Fetches the source lines of the next B block (op(B) k [p0, p0+kc) × columns [j0, j0+nc)) into L2 a few at a
// time while the kernels run on the current one, so that its packing reads L2 instead of memory (the weights of
// a large model's forward come from memory: BERT-base's 340 MB on every forward).
struct BlockPrefetch {
  const float* row = nullptr;  // the row being fetched
  int64_t ld = 0, rows_left = 0, lines_per_row = 0, line = 0, per_call = 0;
  void start(bool tb, const float* B, int64_t ldb, int64_t p0, int64_t kc, int64_t j0, int64_t nc, int64_t calls) {
    // tb: op(B)(k, j) = B[j, k], nc rows of kc floats; else kc rows of nc floats
    row = tb ? B + j0 * ldb + p0 : B + p0 * ldb + j0;
    ld = ldb;
    rows_left = tb ? nc : kc;
    lines_per_row = ((tb ? kc : nc) + 15) / 16;
    line = 0;
    per_call = calls > 0 ? (rows_left * lines_per_row + calls - 1) / calls : rows_left * lines_per_row;
  }
  void step() {
    for (int64_t n = per_call; n > 0 && rows_left > 0; n--) {
      __builtin_prefetch(row + line * 16, 0, 2);  // prefetcht1 on x86: into L2
      if (++line == lines_per_row) line = 0, row += ld, rows_left--;
    }
  }
};

template <class Kr>
void gemm_rect(const Problem& P, int64_t m0, int64_t m1, int64_t n0, int64_t n1) {
  constexpr int MR = Kr::MR, NR = Kr::NR;
  const int64_t kc_max = std::min<int64_t>(Kr::KC, P.K);
  const int64_t nc_max = std::min<int64_t>(Kr::NC, (n1 - n0 + NR - 1) / NR * NR);
  const int64_t mc_max = std::min<int64_t>(Kr::MC, (m1 - m0 + MR - 1) / MR * MR);
  float* bp = t_pack_b.get((size_t)(kc_max * nc_max));
  float* ap = t_pack_a.get((size_t)(kc_max * mc_max));
  // A read in place (not packed) when op(A) = A and either one k block covers K, or the MR rows read together
  // fall into several L1 sets: rows a multiple of 512 floats (2 KB) apart share one or two of the 64 sets, and
  // 14 rows of one k block then evict each other from the 12-way L1 (BERT's FF 1024 and 3072 in training, where
  // packing stays; the inference forward pads those rows by a line, encoder.cpp gel_stride); BERT-base's K 768
  // rows (3 KB apart: four sets) are read in place, 1.8 % off its forward.
  const bool direct = Kr::kDirectA && !P.ta && (P.K <= Kr::KC || P.lda % 512 != 0);
  alignas(64) float tile[MR * NR];
  BlockPrefetch pf;
  for (int64_t jc = n0; jc < n1; jc += Kr::NC) {
    const int64_t nc = std::min<int64_t>(Kr::NC, n1 - jc);
    for (int64_t pc = 0; pc < P.K; pc += Kr::KC) {
      const int64_t kc = std::min<int64_t>(Kr::KC, P.K - pc);
      const float beta = pc == 0 ? P.beta : 1.0f;
      const bool last = pc + kc >= P.K;
      Kr::pack_b(P.tb, P.B, P.ldb, pc, kc, jc, nc, bp);
      {  // the block packed after this one: the next k block, or the first of the next column block
        const int64_t calls = (m1 - m0 + MR - 1) / MR * ((nc + NR - 1) / NR);
        if (pc + kc < P.K) pf.start(P.tb, P.B, P.ldb, pc + kc, std::min<int64_t>(Kr::KC, P.K - pc - kc), jc, nc, calls);
        else if (jc + nc < n1) pf.start(P.tb, P.B, P.ldb, 0, kc_max, jc + nc, std::min<int64_t>(Kr::NC, n1 - jc - nc), calls);
        else pf = BlockPrefetch{};
      }
      for (int64_t ic = m0; ic < m1; ic += Kr::MC) {
        const int64_t mc = std::min<int64_t>(Kr::MC, m1 - ic);
        // rows [0, mdirect) of this block are read in place (Kr::kernel_direct), the rest packed
        const int64_t mdirect = direct ? mc / MR * MR : 0;
        if (mdirect < mc) Kr::pack_a(P.ta, P.A, P.lda, ic + mdirect, mc - mdirect, pc, kc, ap);
        for (int64_t ir = 0; ir < mc; ir += MR) {
          const int rows = (int)std::min<int64_t>(MR, mc - ir);
          const float* a = ap + ((ir - mdirect) / MR) * MR * kc;  // used only when ir >= mdirect
          const float* a_in_place = P.A + (ic + ir) * P.lda + pc;
          for (int64_t jr = 0; jr < nc; jr += NR) {
            const int cols = (int)std::min<int64_t>(NR, nc - jr);
            const float* b = bp + (jr / NR) * NR * kc;
            float* c = P.C + (ic + ir) * P.ldc + jc + jr;
            auto kernel = [&](float* cc, int64_t ldc, const TileAdd* add) {
              if constexpr (Kr::kDirectA) {
                if (ir < mdirect) return Kr::kernel_direct(kc, a_in_place, P.lda, b, cc, ldc, P.alpha, beta, add);
              }
              if constexpr (Kr::kShortTiles) {
                if (rows <= 8) return Kr::kernel_short(rows, kc, a, b, cc, ldc, P.alpha, beta);
              }
              Kr::kernel(kc, a, b, cc, ldc, P.alpha, beta, add);
            };
            pf.step();
            if (rows == MR && cols == NR) {
              // a full tile adds the bias and the residual (when no GELU comes between) before its store;
              // epilogue_body then has only GELU and what follows it left to do, if anything
              const SgemmEpilogue* e = last ? P.epi : nullptr;
              TileAdd add{nullptr, nullptr, 0};
              if (e) {
                add.bias = e->bias ? e->bias + jc + jr : nullptr;
                if (!e->gelu && e->residual) add.res = e->residual + (ic + ir) * e->ldr + jc + jr, add.ldr = e->ldr;
              }
              kernel(c, P.ldc, e ? &add : nullptr);
              if (e && e->gelu) {
                const SgemmEpilogue rest{nullptr, true, e->residual, e->ldr};
                Kr::epilogue(c, P.ldc, rows, cols, ic + ir, jc + jr, rest);
              }
            } else {  // edge tile: through the buffer, only the valid part of C is read and written
              if (beta != 0.0f)
                for (int r = 0; r < rows; r++) std::memcpy(tile + r * NR, c + r * P.ldc, sizeof(float) * cols);
              kernel(tile, NR, nullptr);
              for (int r = 0; r < rows; r++) std::memcpy(c + r * P.ldc, tile + r * NR, sizeof(float) * cols);
              if (last && P.epi) Kr::epilogue(c, P.ldc, rows, cols, ic + ir, jc + jr, *P.epi);
            }
          }
        }
      }
    }
  }
}

// K == 0: C = beta · C, then the epilogue.
template <class Kr>
void scale_only(const Problem& P) {
  parallel_for(P.M, 16, [&](int64_t, int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; i++) {
      float* c = P.C + i * P.ldc;
      for (int64_t j = 0; j < P.N; j++) c[j] = P.beta == 0.0f ? 0.0f : P.beta * c[j];
      if (P.epi) Kr::epilogue(c, P.ldc, 1, (int)P.N, i, 0, *P.epi);
    }
  });
}

// Splits M×N into tm × tn rectangles for `threads` threads, choosing the split whose largest rectangle
// costs least: its multiply-adds plus the packing it repeats (A once per NC block, B once).
template <class Kr>
void run_threads(const Problem& P) {
  if (P.K <= 0) return scale_only<Kr>(P);
  int threads = num_threads();
  if (in_parallel()) threads = 1;  // already inside a parallel_for chunk (e.g. attention's heads)
  if ((double)P.M * P.N * P.K < 2e5) threads = 1;  // too small to pay for a fork
  int best_tm = 1;
  double best = -1;
  for (int tm = 1; tm <= threads; tm++) {
    if (threads % tm) continue;
    const int tn = threads / tm;
    const double rows = (double)((P.M + tm - 1) / tm + Kr::MR - 1) / Kr::MR * Kr::MR;
    const double cols = (double)((P.N + tn - 1) / tn + Kr::NR - 1) / Kr::NR * Kr::NR;
    if ((tm > 1 && rows * (tm - 1) >= P.M) || (tn > 1 && cols * (tn - 1) >= P.N)) continue;  // an empty part
    const double cost = rows * cols + 8.0 * (rows * std::ceil(cols / Kr::NC) + cols);
    if (best < 0 || cost < best) best = cost, best_tm = tm;
  }
  if (best < 0) threads = 1, best_tm = 1;
  const int tm = best_tm, tn = threads / tm;
  const int64_t rstep = ((P.M + tm - 1) / tm + Kr::MR - 1) / Kr::MR * Kr::MR;
  const int64_t cstep = ((P.N + tn - 1) / tn + Kr::NR - 1) / Kr::NR * Kr::NR;
  if (threads == 1) return gemm_rect<Kr>(P, 0, P.M, 0, P.N);
  parallel_for(threads, 1, [&](int64_t, int64_t t0, int64_t t1) {
    for (int64_t t = t0; t < t1; t++) {
      const int64_t m0 = (t / tn) * rstep, n0 = (t % tn) * cstep;
      if (m0 < P.M && n0 < P.N) gemm_rect<Kr>(P, m0, std::min(P.M, m0 + rstep), n0, std::min(P.N, n0 + cstep));
    }
  });
}

using RunFn = void (*)(const Problem&);
using PeakFn = double (*)(int64_t);
struct Path {
  RunFn run;
  const char* name;
  PeakFn peak;
};

// Seconds this thread has run on a core, so that the peak below is the core's, not a share of it, when other
// processes take turns on the core; the wall clock where there is no thread CPU clock.
double thread_seconds() {
  const double s = cpu_seconds(false);
  return s >= 0 ? s : std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// Single-thread FMA throughput (GFLOP/s) of a path's vector width: NACC independent accumulators, n
// rounds. NACC must exceed FMA latency × FMA ports (8 on current cores) and fit the register file: 24 of
// AVX-512's 32 registers, 12 of the 16 that AVX2 and SSE2 have (24 there spilled to the stack and measured
// a peak 20% below what the AVX2 micro-kernel itself reaches). For the benchmark's per-core peak.
#define FML_FMA_PEAK(V, NACC, LANES, SET1, FMA, FIRST)                                             \
  V acc[NACC];                                                                                   \
  for (int i = 0; i < NACC; i++) acc[i] = SET1(1.0f + 1e-7f * (float)i);                        \
  const V m = SET1(0.9999999f), c = SET1(1e-7f);                                                 \
  const double t0 = thread_seconds();                                                            \
  for (int64_t r = 0; r < n; r++) _Pragma("GCC unroll 24")                                        \
    for (int i = 0; i < NACC; i++) acc[i] = FMA(acc[i], m, c);                                   \
  const double s = thread_seconds() - t0;                                                        \
  float sink = 0;                                                                                \
  for (int i = 0; i < NACC; i++) sink += FIRST(acc[i]);                                          \
  volatile float keep = sink;                                                                    \
  (void)keep;                                                                                    \
  return 2.0 * LANES * NACC * (double)n / s / 1e9;

#ifdef FML_HAVE_X86_KERNELS
__attribute__((target("avx512f,avx2,fma"))) double peak_avx512(int64_t n) {
  FML_FMA_PEAK(__m512, 24, 16, _mm512_set1_ps, _mm512_fmadd_ps, _mm512_cvtss_f32)
}
__attribute__((target("avx2,fma"))) double peak_avx2(int64_t n) {
  FML_FMA_PEAK(__m256, 12, 8, _mm256_set1_ps, _mm256_fmadd_ps, _mm256_cvtss_f32)
}
#endif
// The portable path: 128-bit multiply-adds (SSE2 has no FMA; NEON contracts them into vfmaq).
inline V4 v4_madd(V4 a, V4 b, V4 c) { return a * b + c; }
inline float v4_first(V4 v) { return v[0]; }
double peak_portable(int64_t n) {
  FML_FMA_PEAK(V4, 12, 4, v4_set1, v4_madd, v4_first)
}
#undef FML_FMA_PEAK

Path pick_path() {
#ifdef FML_HAVE_X86_KERNELS
  if (cpu_has_avx512()) return {&run_threads<Avx512>, "avx512 14x32", &peak_avx512};
  if (cpu_has_avx2()) return {&run_threads<Avx2>, "avx2 6x16", &peak_avx2};
#endif
  return {&run_threads<Portable>, Portable::name, &peak_portable};
}

const Path& path() {
  static const Path p = pick_path();
  return p;
}

}  // namespace

void sgemm_cpu(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* C, int64_t ldc, const SgemmEpilogue* epi) {
  if (M <= 0 || N <= 0) return;
  const Problem P{ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, epi};
  path().run(P);
}

const char* sgemm_path() { return path().name; }

double sgemm_fma_peak_gflops(int64_t rounds) { return path().peak(rounds); }

}  // namespace pkg
