// CPU twin of attention.h ("no-trapping-math": lets GCC vectorise the softmax clamps; changes no result). Each (batch, head) pair is a few small matrix products through sgemm_cpu
// around a masked softmax; the products read q, k, v in place (leading dimension C), so nothing is
// transposed or copied. The pairs run in parallel over parallel_for with the BLAS library held to one
// thread meanwhile: many small independent products parallelise better than each product alone.
#if defined(__GNUC__) && !defined(__clang__)  // Clang if-converts without it (and has no such pragma)
#pragma GCC optimize("no-trapping-math")
#endif
#include <cfloat>
#include <cmath>
#include <vector>

#include "../core/parallel.h"
#include "../core/philox.h"
#include "attention.h"
#include "bce.h"  // bce_math::exp_nonpos
#include "dropout.h"
#include "matmul.h"

namespace pkg {

void attention_forward_cpu(float* out, float* att, const float* q, const float* k, const float* v, const uint8_t* mask,
                           int B, int T, int C, int NH, float p, uint64_t seed, uint64_t offset) {
  const int HS = C / NH;
  const float scale = 1.0f / std::sqrt((float)HS);
  parallel_for((int64_t)B * NH, 1, [&](int64_t, int64_t i0, int64_t i1) {
    std::vector<float> dropped(p > 0.0f ? (size_t)T * T : 0);  // dropout(att) of one (b, h)
    for (int64_t bh = i0; bh < i1; bh++) {
      const int b = (int)(bh / NH), h = (int)(bh % NH);
      const size_t base_qkv = (size_t)b * T * C + (size_t)h * HS;
      float* A = att + (size_t)bh * T * T;
      // scores (T, T) = scale · Q Kᵀ
      sgemm_cpu(false, true, T, T, HS, scale, q + base_qkv, C, k + base_qkv, C, 0.0f, A, T);
      const uint8_t* m = mask + (size_t)b * T;
      for (int t = 0; t < T; t++) {
        float* a = A + (size_t)t * T;
        // finfo.min for padded keys, as Hugging Face: a fully padded row stays finite (uniform)
        for (int t2 = 0; t2 < T; t2++) a[t2] = m[t2] ? a[t2] : -FLT_MAX;
        float maxv = -FLT_MAX;
#pragma omp simd reduction(max : maxv)
        for (int t2 = 0; t2 < T; t2++) maxv = a[t2] > maxv ? a[t2] : maxv;
        for (int t2 = 0; t2 < T; t2++) a[t2] = bce_math::exp_nonpos(a[t2] - maxv);  // vectorisable, ~1 ulp
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int t2 = 0; t2 < T; t2++) sum += a[t2];
        const float inv = 1.0f / sum;
        for (int t2 = 0; t2 < T; t2++) a[t2] *= inv;
        if (p > 0.0f) {
          float* d = dropped.data() + (size_t)t * T;
          dropout_keep_cpu(d, T, p, seed, offset, ((uint64_t)bh * T + t) * T);
          for (int t2 = 0; t2 < T; t2++) d[t2] *= a[t2];
        }
      }
      // out (T, HS) = dropout(att) V
      sgemm_cpu(false, false, T, HS, T, 1.0f, p > 0.0f ? dropped.data() : A, T, v + base_qkv, C, 0.0f, out + base_qkv,
                C);
    }
  });
}

void attention_backward_cpu(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k,
                            const float* v, const float* att, int B, int T, int C, int NH, float p, uint64_t seed,
                            uint64_t offset) {
  const int HS = C / NH;
  const float scale = 1.0f / std::sqrt((float)HS);
  parallel_for((int64_t)B * NH, 1, [&](int64_t, int64_t i0, int64_t i1) {
    std::vector<float> dropped(p > 0.0f ? (size_t)T * T : 0);  // keep multipliers, then dropout(att)
    std::vector<float> keep(p > 0.0f ? (size_t)T * T : 0);
    std::vector<float> ds((size_t)T * T);
    for (int64_t bh = i0; bh < i1; bh++) {
      const int b = (int)(bh / NH), h = (int)(bh % NH);
      const size_t base_qkv = (size_t)b * T * C + (size_t)h * HS;
      const float* A = att + (size_t)bh * T * T;
      if (p > 0.0f) {
        dropout_keep_cpu(keep.data(), (int64_t)T * T, p, seed, offset, (uint64_t)bh * T * T);
        for (size_t i = 0; i < (size_t)T * T; i++) dropped[i] = A[i] * keep[i];
      }
      // dv (T, HS) = dropout(att)ᵀ · dout
      sgemm_cpu(true, false, T, HS, T, 1.0f, p > 0.0f ? dropped.data() : A, T, dout + base_qkv, C, 0.0f,
                dv + base_qkv, C);
      // d(dropout(att)) (T, T) = dout · Vᵀ
      sgemm_cpu(false, true, T, T, HS, 1.0f, dout + base_qkv, C, v + base_qkv, C, 0.0f, ds.data(), T);
      // through dropout and softmax: ds = att ⊙ (da - Σ att ⊙ da) · scale, with da = d(dropout(att)) ⊙ keep
      for (int t = 0; t < T; t++) {
        const float* a = A + (size_t)t * T;
        float* d = ds.data() + (size_t)t * T;
        if (p > 0.0f) {
          const float* kp = keep.data() + (size_t)t * T;
          for (int t2 = 0; t2 < T; t2++) d[t2] *= kp[t2];
        }
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int t2 = 0; t2 < T; t2++) sum += a[t2] * d[t2];
        for (int t2 = 0; t2 < T; t2++) d[t2] = a[t2] * (d[t2] - sum) * scale;
      }
      // dq (T, HS) = ds · K;  dk (T, HS) = dsᵀ · Q
      sgemm_cpu(false, false, T, HS, T, 1.0f, ds.data(), T, k + base_qkv, C, 0.0f, dq + base_qkv, C);
      sgemm_cpu(true, false, T, HS, T, 1.0f, ds.data(), T, q + base_qkv, C, 0.0f, dk + base_qkv, C);
    }
  });
}

}  // namespace pkg
