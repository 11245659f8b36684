// CPU twin of attention.h: one (batch, head) pair per parallel_for item, so the backward's
// accumulations into dk and dv never race (each pair owns its head's channel slice).
#include <cfloat>
#include <cmath>
#include <cstring>
#include <vector>

#include "../core/parallel.h"
#include "../core/philox.h"
#include "attention.h"

namespace pkg {

void attention_forward_cpu(float* out, float* att, const float* q, const float* k, const float* v, const uint8_t* mask,
                           int B, int T, int C, int NH, float p, uint64_t seed, uint64_t offset) {
  const int HS = C / NH;
  const float scale = 1.0f / std::sqrt((float)HS);
  parallel_for((int64_t)B * NH, 1, [&](int64_t, int64_t i0, int64_t i1) {
    for (int64_t bh = i0; bh < i1; bh++) {
      const int b = (int)(bh / NH), h = (int)(bh % NH);
      for (int t = 0; t < T; t++) {
        const float* qt = q + ((size_t)b * T + t) * C + h * HS;
        float* a = att + ((size_t)bh * T + t) * T;
        float maxv = -FLT_MAX;
        for (int t2 = 0; t2 < T; t2++) {
          float s;
          if (mask[(size_t)b * T + t2]) {
            const float* kt = k + ((size_t)b * T + t2) * C + h * HS;
            float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
            for (int i = 0; i < HS; i++) dot += qt[i] * kt[i];
            s = dot * scale;
          } else {
            s = -FLT_MAX;
          }
          a[t2] = s;
          if (s > maxv) maxv = s;
        }
        float sum = 0.0f;
        for (int t2 = 0; t2 < T; t2++) {
          const float e = std::exp(a[t2] - maxv);
          a[t2] = e;
          sum += e;
        }
        const float inv = 1.0f / sum;
        for (int t2 = 0; t2 < T; t2++) a[t2] *= inv;
        float* o = out + ((size_t)b * T + t) * C + h * HS;
        std::memset(o, 0, sizeof(float) * HS);
        const uint64_t base = ((uint64_t)bh * T + t) * T;
        for (int t2 = 0; t2 < T; t2++) {
          const float w = a[t2] * dropout_scale(p, seed, offset, base + t2);
          if (w == 0.0f) continue;
          const float* vt = v + ((size_t)b * T + t2) * C + h * HS;
          for (int i = 0; i < HS; i++) o[i] += w * vt[i];
        }
      }
    }
  });
}

void attention_backward_cpu(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k,
                            const float* v, const float* att, int B, int T, int C, int NH, float p, uint64_t seed,
                            uint64_t offset) {
  const int HS = C / NH;
  const float scale = 1.0f / std::sqrt((float)HS);
  parallel_for((int64_t)B * NH, 1, [&](int64_t, int64_t i0, int64_t i1) {
    std::vector<float> ds((size_t)T);
    for (int64_t bh = i0; bh < i1; bh++) {
      const int b = (int)(bh / NH), h = (int)(bh % NH);
      for (int t = 0; t < T; t++) {
        const size_t row = ((size_t)b * T + t) * C + h * HS;
        std::memset(dq + row, 0, sizeof(float) * HS);
        std::memset(dk + row, 0, sizeof(float) * HS);
        std::memset(dv + row, 0, sizeof(float) * HS);
      }
      for (int t = 0; t < T; t++) {
        const float* a = att + ((size_t)bh * T + t) * T;
        const size_t row = ((size_t)b * T + t) * C + h * HS;
        const float* dot_ = dout + row;
        const uint64_t base = ((uint64_t)bh * T + t) * T;
        // d(att) through dropout, and dv += dropout(att)ᵀ · dout
        float sum_ad = 0.0f;
        for (int t2 = 0; t2 < T; t2++) {
          if (a[t2] == 0.0f) {
            ds[t2] = 0.0f;
            continue;
          }
          const float keep = dropout_scale(p, seed, offset, base + t2);
          const size_t r2 = ((size_t)b * T + t2) * C + h * HS;
          const float* vt = v + r2;
          float dot = 0.0f;
#pragma omp simd reduction(+ : dot)
          for (int i = 0; i < HS; i++) dot += dot_[i] * vt[i];
          const float da = dot * keep;
          ds[t2] = da;
          sum_ad += a[t2] * da;
          const float w = a[t2] * keep;
          if (w != 0.0f) {
            float* dvt = dv + r2;
            for (int i = 0; i < HS; i++) dvt[i] += w * dot_[i];
          }
        }
        // softmax backward, then the scaled dot products
        const float* qt = q + row;
        float* dqt = dq + row;
        for (int t2 = 0; t2 < T; t2++) {
          if (a[t2] == 0.0f) continue;
          const float d = a[t2] * (ds[t2] - sum_ad) * scale;
          const size_t r2 = ((size_t)b * T + t2) * C + h * HS;
          const float* kt = k + r2;
          float* dkt = dk + r2;
          for (int i = 0; i < HS; i++) {
            dqt[i] += d * kt[i];
            dkt[i] += d * qt[i];
          }
        }
      }
    }
  });
}

}  // namespace pkg
