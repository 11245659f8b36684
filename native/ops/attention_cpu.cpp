// CPU twin of attention.h ("no-trapping-math": lets GCC vectorise the softmax clamps; changes no result).
// Forward: one blocked pass per (batch, head): for each block of kQB query rows, the scores (kQB, T) =
// scale · Q Kᵀ go straight into att's rows (or, for inference, into a per-thread block that stays in
// L1/L2), are masked and soft-maxed in place, dropped out into a second block of the same size, and
// multiplied by V into out. No T×T buffer besides the saved att exists, and none at all for inference.
// The products read q, k, v in place (leading dimension C) through sgemm_cpu, which runs on the calling
// thread here: the (batch, head) pairs themselves are spread over parallel_for.
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

constexpr int kQB = 32;  // query rows per block: (kQB, T) scores stay in L1/L2 for BERT lengths

// Σ a[0, T) in 16 lanes (key t2 in lane t2 mod 16) added up by a fixed tree. Padded keys hold exact zeros,
// which leave a lane unchanged, so a row's sum does not depend on how far its batch pads it: a text gets
// the same bits alone and merged with longer ones (lib/encoder_batching.ts). The compiler vectorises the
// lanes without reordering any sum.
static float lane_sum(const float* a, int T) {
  float acc[16] = {};
  int t0 = 0;
  for (; t0 + 16 <= T; t0 += 16)
    for (int l = 0; l < 16; l++) acc[l] += a[t0 + l];
  for (int l = 0; t0 + l < T; l++) acc[l] += a[t0 + l];
  for (int w = 8; w > 0; w /= 2)
    for (int l = 0; l < w; l++) acc[l] += acc[l + w];
  return acc[0];
}

// Masked softmax of one row of scores in place; finfo.min for padded keys, as Hugging Face, so a fully
// padded row stays finite (uniform).
static void softmax_row(float* a, const uint8_t* m, int T) {
  for (int t2 = 0; t2 < T; t2++) a[t2] = m[t2] ? a[t2] : -FLT_MAX;
  float maxv = -FLT_MAX;
#pragma omp simd reduction(max : maxv)
  for (int t2 = 0; t2 < T; t2++) maxv = a[t2] > maxv ? a[t2] : maxv;
  for (int t2 = 0; t2 < T; t2++) a[t2] = bce_math::exp_nonpos(a[t2] - maxv);  // vectorisable, ~1 ulp
  const float inv = 1.0f / lane_sum(a, T);
  for (int t2 = 0; t2 < T; t2++) a[t2] *= inv;
}

void attention_forward_cpu(float* out, float* att, const float* q, const float* k, const float* v, const uint8_t* mask,
                           int B, int T, int C, int NH, float p, uint64_t seed, uint64_t offset) {
  const int HS = C / NH;
  const float scale = 1.0f / std::sqrt((float)HS);
  parallel_for((int64_t)B * NH, 1, [&](int64_t, int64_t i0, int64_t i1) {
    std::vector<float> scores(att ? 0 : (size_t)kQB * T);     // inference: one block of probabilities
    std::vector<float> dropped(p > 0.0f ? (size_t)kQB * T : 0);  // dropout(att) of one block
    for (int64_t bh = i0; bh < i1; bh++) {
      const int b = (int)(bh / NH), h = (int)(bh % NH);
      const size_t base_qkv = (size_t)b * T * C + (size_t)h * HS;
      const uint8_t* m = mask + (size_t)b * T;
      for (int t0 = 0; t0 < T; t0 += kQB) {
        const int rows = T - t0 < kQB ? T - t0 : kQB;
        float* A = att ? att + ((size_t)bh * T + t0) * T : scores.data();
        const size_t row0 = base_qkv + (size_t)t0 * C;
        sgemm_cpu(false, true, rows, T, HS, scale, q + row0, C, k + base_qkv, C, 0.0f, A, T);
        for (int r = 0; r < rows; r++) {
          float* a = A + (size_t)r * T;
          softmax_row(a, m, T);
          if (p > 0.0f) {
            float* d = dropped.data() + (size_t)r * T;
            dropout_keep_cpu(d, T, p, seed, offset, ((uint64_t)bh * T + t0 + r) * T);
            for (int t2 = 0; t2 < T; t2++) d[t2] *= a[t2];
          }
        }
        // out rows (rows, HS) = dropout(att rows) V
        sgemm_cpu(false, false, rows, HS, T, 1.0f, p > 0.0f ? dropped.data() : A, T, v + base_qkv, C, 0.0f,
                  out + row0, C);
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
