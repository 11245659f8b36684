// CPU twin of adamw.h.
#include <cmath>
#include <vector>

#include "../core/parallel.h"
#include "adamw.h"

namespace pkg {

void adamw_cpu(float* params, float* m, float* v, const float* grads, int64_t N, const AdamWParams& a) {
  // Bias corrections in double, as PyTorch computes them in Python floats.
  const float bc1 = (float)(1.0 - std::pow((double)a.beta1, (double)a.t));
  const float bc2_sqrt = (float)std::sqrt(1.0 - std::pow((double)a.beta2, (double)a.t));
  parallel_for(N, 8192, [&](int64_t, int64_t b, int64_t e) {
    // The four arrays never overlap (separate arenas): tell the vectoriser so.
#pragma omp simd
    for (int64_t i = b; i < e; i++)
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
