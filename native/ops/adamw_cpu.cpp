// CPU twin of adamw.h.
#include <cmath>
#include <vector>

#include "../core/parallel.h"
#include "adamw.h"

#if defined(__SSE2__)
#include <immintrin.h>
#endif

namespace pkg {

void adamw_cpu(float* params, float* m, float* v, const float* grads, int64_t N, const AdamWParams& a) {
  // Bias corrections in double, as PyTorch computes them in Python floats.
  const float bc1 = (float)(1.0 - std::pow((double)a.beta1, (double)a.t));
  const float bc2_sqrt = (float)std::sqrt(1.0 - std::pow((double)a.beta2, (double)a.t));
  parallel_for(N, 8192, [&](int64_t, int64_t b, int64_t e) {
    int64_t i = b;
#if defined(__SSE2__)
    // GCC will not vectorise sqrtf without -fno-math-errno (it keeps a branch to set errno), so the update
    // is spelled out with SSE: the same operations in the same order as adamw_update, 4 lanes at a time.
    const __m128 decay = _mm_set1_ps(1.0f - a.lr * a.weight_decay), b1 = _mm_set1_ps(a.beta1),
                 b1c = _mm_set1_ps(1.0f - a.beta1), b2 = _mm_set1_ps(a.beta2), b2c = _mm_set1_ps(1.0f - a.beta2),
                 c2 = _mm_set1_ps(bc2_sqrt), ep = _mm_set1_ps(a.eps), step = _mm_set1_ps(a.lr / bc1);
    for (; i + 4 <= e; i += 4) {
      const __m128 g = _mm_loadu_ps(grads + i);
      const __m128 x = _mm_mul_ps(_mm_loadu_ps(params + i), decay);
      const __m128 mm = _mm_add_ps(_mm_mul_ps(b1, _mm_loadu_ps(m + i)), _mm_mul_ps(b1c, g));
      const __m128 vv = _mm_add_ps(_mm_mul_ps(b2, _mm_loadu_ps(v + i)), _mm_mul_ps(_mm_mul_ps(b2c, g), g));
      const __m128 denom = _mm_add_ps(_mm_div_ps(_mm_sqrt_ps(vv), c2), ep);
      _mm_storeu_ps(params + i, _mm_sub_ps(x, _mm_mul_ps(step, _mm_div_ps(mm, denom))));
      _mm_storeu_ps(m + i, mm);
      _mm_storeu_ps(v + i, vv);
    }
#endif
    for (; i < e; i++)
      adamw_update(params + i, m + i, v + i, grads[i], a.lr, a.beta1, a.beta2, a.eps, a.weight_decay, bc1, bc2_sqrt);
  });
}

double sum_squares_cpu(const float* x, int64_t N) {
  const int64_t chunks = parallel_chunks(N, 8192);
  std::vector<double> part((size_t)(chunks > 0 ? chunks : 1), 0.0);
  parallel_for(N, 8192, [&](int64_t c, int64_t b, int64_t e) {
    double s = 0.0;
#pragma omp simd reduction(+ : s)
    for (int64_t i = b; i < e; i++) s += (double)x[i] * (double)x[i];
    part[(size_t)c] = s;
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
