// CPU twin of dropout.h.
#include "../core/parallel.h"
#include "dropout.h"

namespace pkg {

void dropout_forward_cpu(float* out, const float* inp, int64_t N, float p, uint64_t seed, uint64_t offset) {
  parallel_for(N, 4096, [&](int64_t, int64_t b, int64_t e) {
    DropoutStream ds(p, seed, offset);
    for (int64_t i = b; i < e; i++) out[i] = inp[i] * ds.scale((uint64_t)i);
  });
}

void dropout_residual_forward_cpu(float* out, const float* res, const float* inp, int64_t N, float p, uint64_t seed,
                                  uint64_t offset) {
  parallel_for(N, 4096, [&](int64_t, int64_t b, int64_t e) {
    if (p <= 0.0f) {
      for (int64_t i = b; i < e; i++) out[i] = res[i] + inp[i];
    } else {
      DropoutStream ds(p, seed, offset);
      for (int64_t i = b; i < e; i++) out[i] = res[i] + inp[i] * ds.scale((uint64_t)i);
    }
  });
}

void dropout_backward_cpu(float* dinp, const float* dout, int64_t N, float p, uint64_t seed, uint64_t offset) {
  if (p <= 0.0f && dinp == dout) return;
  dropout_forward_cpu(dinp, dout, N, p, seed, offset);
}

}  // namespace pkg
