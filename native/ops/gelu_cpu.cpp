// CPU twin of gelu.h.
#include "../core/parallel.h"
#include "gelu.h"

namespace pkg {

void gelu_forward_cpu(float* out, const float* inp, int64_t N) {
  parallel_for(N, 4096, [&](int64_t, int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) out[i] = gelu_value(inp[i]);
  });
}

void gelu_backward_cpu(float* dinp, const float* dout, const float* inp, int64_t N) {
  parallel_for(N, 4096, [&](int64_t, int64_t b, int64_t e) {
    for (int64_t i = b; i < e; i++) dinp[i] = dout[i] * gelu_grad(inp[i]);
  });
}

}  // namespace pkg
