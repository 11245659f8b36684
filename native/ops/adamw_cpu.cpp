// CPU twin of adamw.h. No FMA contraction in this file: AdamW's bits must not depend on the vector width.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <algorithm>
#include <cmath>
#include <vector>

#include "../core/isa.h"
#include "../core/parallel.h"
#include "../core/simd.h"
#include "adamw.h"

#if defined(__SSE2__)
#include "../core/x86_intrin.h"
#endif

namespace pkg {

// The update of elements [b, e), W lanes at a time, vector ops spelled out: GCC will not vectorise sqrtf without
// -fno-math-errno (it keeps a branch to set errno). The same operations in the same order as adamw_update, and
// IEEE division and square root are correctly rounded at any width, so every width gives adamw_update's bits;
// this file is compiled without FMA contraction (the pragma above), which would change them. The tail (< W
// elements) runs adamw_update itself.
#define PKG_ADAMW_RANGE(NAME, TARGET, V, W, SET1, LOAD, STORE, ADD, SUB, MUL, DIV, SQRT)                            \
  TARGET static int64_t NAME(float* params, float* m, float* v, const float* grads, int64_t b, int64_t e,          \
                             const AdamWParams& a, float bc1, float bc2_sqrt) {                                    \
    const V decay = SET1(1.0f - a.lr * a.weight_decay), b1 = SET1(a.beta1), b1c = SET1(1.0f - a.beta1),              \
            b2 = SET1(a.beta2), b2c = SET1(1.0f - a.beta2), c2 = SET1(bc2_sqrt), ep = SET1(a.eps),                  \
            step = SET1(a.lr / bc1);                                                                              \
    int64_t i = b;                                                                                                \
    for (; i + W <= e; i += W) {                                                                                  \
      const V g = LOAD(grads + i);                                                                                \
      const V x = MUL(LOAD(params + i), decay);                                                                   \
      const V mm = ADD(MUL(b1, LOAD(m + i)), MUL(b1c, g));                                                        \
      const V vv = ADD(MUL(b2, LOAD(v + i)), MUL(MUL(b2c, g), g));                                                \
      const V denom = ADD(DIV(SQRT(vv), c2), ep);                                                                 \
      STORE(params + i, SUB(x, MUL(step, DIV(mm, denom))));                                                       \
      STORE(m + i, mm);                                                                                           \
      STORE(v + i, vv);                                                                                           \
    }                                                                                                             \
    return i;                                                                                                     \
  }
#if defined(FML_HAVE_X86_KERNELS)
PKG_ADAMW_RANGE(adamw_avx512, __attribute__((target("avx512f"))), __m512, 16, _mm512_set1_ps, _mm512_loadu_ps,
                _mm512_storeu_ps, _mm512_add_ps, _mm512_sub_ps, _mm512_mul_ps, _mm512_div_ps, _mm512_sqrt_ps)
PKG_ADAMW_RANGE(adamw_avx, __attribute__((target("avx"))), __m256, 8, _mm256_set1_ps, _mm256_loadu_ps,
                _mm256_storeu_ps, _mm256_add_ps, _mm256_sub_ps, _mm256_mul_ps, _mm256_div_ps, _mm256_sqrt_ps)
#endif
#if defined(__SSE2__)
PKG_ADAMW_RANGE(adamw_sse, , __m128, 4, _mm_set1_ps, _mm_loadu_ps, _mm_storeu_ps, _mm_add_ps, _mm_sub_ps, _mm_mul_ps,
                _mm_div_ps, _mm_sqrt_ps)
#endif
#undef PKG_ADAMW_RANGE

void adamw_cpu(float* params, float* m, float* v, const float* grads, int64_t N, const AdamWParams& a) {
  // Bias corrections in double, as PyTorch computes them in Python floats.
  const float bc1 = (float)(1.0 - std::pow((double)a.beta1, (double)a.t));
  const float bc2_sqrt = (float)std::sqrt(1.0 - std::pow((double)a.beta2, (double)a.t));
  parallel_for(N, 8192, [&](int64_t, int64_t b, int64_t e) {
    int64_t i = b;
#if defined(FML_HAVE_X86_KERNELS)
    if (cpu_has_avx512()) i = adamw_avx512(params, m, v, grads, b, e, a, bc1, bc2_sqrt);
    else if (cpu_has_avx2()) i = adamw_avx(params, m, v, grads, b, e, a, bc1, bc2_sqrt);
    else
#endif
#if defined(__SSE2__)
      i = adamw_sse(params, m, v, grads, b, e, a, bc1, bc2_sqrt);
#endif
    for (; i < e; i++)
      adamw_update(params + i, m + i, v + i, grads[i], a.lr, a.beta1, a.beta2, a.eps, a.weight_decay, bc1, bc2_sqrt);
  });
}

// Each partial sum is its own vector lane, so the compiler vectorises at any width without reordering a sum
// (every ISA gives the same bits), and 8 independent chains hide the adds' latency (one chain, as an omp simd
// reduction at SSE2's 2 lanes, was bound by it: a tenth of the tiny preset's training step).
PKG_SIMD_CLONES double sum_squares_lanes_cpu(const float* __restrict x, int64_t n) {
  double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    for (int j = 0; j < 8; j++) acc[j] += (double)x[i + j] * (double)x[i + j];
  for (int j = 0; i < n; i++, j++) acc[j] += (double)x[i] * (double)x[i];
  return ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
}

// In fixed chunks of 8192 elements (not one per thread), added in order: the same bits at any thread count.
double sum_squares_cpu(const float* x, int64_t N) {
  constexpr int64_t kChunk = 8192;
  const int64_t chunks = (N + kChunk - 1) / kChunk;
  std::vector<double> part((size_t)(chunks > 0 ? chunks : 1), 0.0);
  parallel_for(chunks, 4, [&](int64_t, int64_t c0, int64_t c1) {
    for (int64_t c = c0; c < c1; c++) part[(size_t)c] = sum_squares_lanes_cpu(x + c * kChunk, std::min(kChunk, N - c * kChunk));
  });
  double s = 0.0;
  for (double p : part) s += p;
  return s;
}

void scale_cpu(float* x, int64_t N, float s) {
  parallel_for(N, 8192, [&](int64_t, int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) x[i] *= s;
  });
}

}  // namespace pkg
