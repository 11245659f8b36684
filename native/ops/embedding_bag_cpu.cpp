// CPU twin of embedding_bag.h: bags, distinct rows and updated rows split over threads in contiguous
// chunks (each output row is written by one thread, so results do not depend on the thread count).
#include <cmath>

#include "../core/parallel.h"
#include "embedding_bag.h"

namespace pkg {

void embedding_bag_forward_cpu(float* out, float* scale, const float* weight, const int32_t* ids,
                               const int32_t* offsets, BagMode mode, int B, int C) {
  parallel_for(B, 16, [&](int64_t, int64_t b0, int64_t b1) {
    for (int64_t b = b0; b < b1; b++) {
      float* o = out + b * C;
      for (int c = 0; c < C; c++) o[c] = 0.0f;
      for (int32_t i = offsets[b]; i < offsets[b + 1]; i++) {
        const float* w = weight + (int64_t)ids[i] * C;
        for (int c = 0; c < C; c++) o[c] += w[c];
      }
      const float s = bag_scale(offsets[b + 1] - offsets[b], mode);
      scale[b] = s;
      for (int c = 0; c < C; c++) o[c] *= s;
    }
  });
}

void embedding_bag_backward_cpu(float* drows, const float* dout, const float* scale, const int32_t* occ_bag,
                                const int32_t* row_ptr, int U, int C) {
  parallel_for(U, 64, [&](int64_t, int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; u++) {
      float* d = drows + u * C;
      for (int c = 0; c < C; c++) d[c] = 0.0f;
      for (int32_t i = row_ptr[u]; i < row_ptr[u + 1]; i++) {
        const int32_t b = occ_bag[i];
        const float s = scale[b];
        const float* g = dout + (int64_t)b * C;
        for (int c = 0; c < C; c++) d[c] += s * g[c];
      }
    }
  });
}

void sparse_adamw_cpu(float* weight, float* m, float* v, const float* drows, const int32_t* rows,
                      const AdamWParams& a, int U, int C) {
  const float bc1 = (float)(1.0 - std::pow((double)a.beta1, (double)a.t));
  const float bc2_sqrt = (float)std::sqrt(1.0 - std::pow((double)a.beta2, (double)a.t));
  parallel_for(U, 64, [&](int64_t, int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; u++) {
      const int64_t r = (int64_t)rows[u] * C;
      for (int c = 0; c < C; c++)
        adamw_update(weight + r + c, m + r + c, v + r + c, drows[u * C + c], a.lr, a.beta1, a.beta2, a.eps,
                     a.weight_decay, bc1, bc2_sqrt);
    }
  });
}

}  // namespace pkg
