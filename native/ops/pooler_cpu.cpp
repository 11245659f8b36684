// CPU twin of pooler.h.
#include <cmath>
#include <cstring>

#include "../core/parallel.h"
#include "pooler.h"

namespace pkg {

void pool_forward_cpu(float* out, const float* inp, const uint8_t* mask, int B, int T, int C, PoolMode mode) {
  for (int b = 0; b < B; b++) {
    float* o = out + (size_t)b * C;
    const float* x = inp + (size_t)b * T * C;
    if (mode == PoolMode::Cls) {
      std::memcpy(o, x, sizeof(float) * C);
      continue;
    }
    std::memset(o, 0, sizeof(float) * C);
    int count = 0;
    for (int t = 0; t < T; t++) {
      if (!mask[(size_t)b * T + t]) continue;
      count++;
      for (int c = 0; c < C; c++) o[c] += x[(size_t)t * C + c];
    }
    const float inv = count > 0 ? 1.0f / count : 0.0f;
    for (int c = 0; c < C; c++) o[c] *= inv;
  }
}

void pool_backward_cpu(float* dinp, const float* dout, const uint8_t* mask, int B, int T, int C, PoolMode mode) {
  std::memset(dinp, 0, sizeof(float) * (size_t)B * T * C);
  for (int b = 0; b < B; b++) {
    const float* d = dout + (size_t)b * C;
    float* di = dinp + (size_t)b * T * C;
    if (mode == PoolMode::Cls) {
      std::memcpy(di, d, sizeof(float) * C);
      continue;
    }
    int count = 0;
    for (int t = 0; t < T; t++) count += mask[(size_t)b * T + t] ? 1 : 0;
    const float inv = count > 0 ? 1.0f / count : 0.0f;
    for (int t = 0; t < T; t++)
      if (mask[(size_t)b * T + t])
        for (int c = 0; c < C; c++) di[(size_t)t * C + c] = d[c] * inv;
  }
}

void act_forward_cpu(float* out, const float* inp, int64_t N, Activation a) {
  for (int64_t i = 0; i < N; i++) out[i] = a == Activation::Tanh ? std::tanh(inp[i]) : (inp[i] > 0.0f ? inp[i] : 0.0f);
}

void act_backward_cpu(float* dinp, const float* dout, const float* out, int64_t N, Activation a) {
  for (int64_t i = 0; i < N; i++) dinp[i] = dout[i] * act_grad_from_output(a, out[i]);
}

}  // namespace pkg
