// CPU twin of layernorm.h: rows over parallel_for (the forward in an AVX2 clone where the CPU has one); dweight/dbias reduced per block of 64 rows, then the blocks summed in order (the same bits at any thread count).
#include <algorithm>
#include <cmath>
#include <vector>

#include "../core/parallel.h"
#include "../core/simd.h"
#include "layernorm.h"

namespace pkg {

// Rows [b, e) of the forward; AVX2 clone where the CPU has it (the baseline SSE2 loops cost 6 % of the tiny
// preset's inference forward).
PKG_SIMD_CLONES static void layernorm_rows(float* __restrict out, float* mean, float* rstd, const float* __restrict inp,
                                           const float* __restrict weight, const float* __restrict bias, int64_t b,
                                           int64_t e, int C, float eps) {
  for (int64_t n = b; n < e; n++) {
    const float* x = inp + n * C;
    float s = 0.0f;
#pragma omp simd reduction(+ : s)
    for (int c = 0; c < C; c++) s += x[c];
    const float m = s / C;
    float v = 0.0f;
#pragma omp simd reduction(+ : v)
    for (int c = 0; c < C; c++) v += (x[c] - m) * (x[c] - m);
    const float r = 1.0f / std::sqrt(v / C + eps);
    float* o = out + n * C;
    for (int c = 0; c < C; c++) o[c] = (x[c] - m) * r * weight[c] + bias[c];
    mean[n] = m;
    rstd[n] = r;
  }
}

void layernorm_forward_cpu(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                           const float* bias, int64_t N, int C, float eps) {
  parallel_for(N, 16, [&](int64_t, int64_t b, int64_t e) { layernorm_rows(out, mean, rstd, inp, weight, bias, b, e, C, eps); });
}

// dweight and dbias are summed per block of kRows rows (fixed, not one block per thread), then the blocks in
// order: the same bits at any thread count.
void layernorm_backward_cpu(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                            const float* weight, const float* mean, const float* rstd, int64_t N, int C) {
  constexpr int64_t kRows = 64;
  const int64_t blocks = (N + kRows - 1) / kRows;
  std::vector<float> part((size_t)blocks * 2 * C, 0.0f);  // per block: dweight then dbias partials
  auto block = [&](int64_t blk) {
    float* pw = part.data() + (size_t)blk * 2 * C;
    float* pb = pw + C;
    const int64_t b = blk * kRows, e = std::min(N, b + kRows);
    for (int64_t n = b; n < e; n++) {
      const float* x = inp + n * C;
      const float* d = dout + n * C;
      const float m = mean[n], r = rstd[n];
      float s1 = 0.0f, s2 = 0.0f;
#pragma omp simd reduction(+ : s1, s2)
      for (int c = 0; c < C; c++) {
        const float norm = (x[c] - m) * r;
        const float dn = d[c] * weight[c];
        s1 += dn;
        s2 += dn * norm;
      }
      s1 /= C;
      s2 /= C;
      float* di = dinp + n * C;
#pragma omp simd
      for (int c = 0; c < C; c++) {
        const float norm = (x[c] - m) * r;
        pw[c] += d[c] * norm;
        pb[c] += d[c];
        di[c] = layernorm_dinp(d[c] * weight[c], norm, s1, s2, r);
      }
    }
  };
  parallel_for(blocks, 1, [&](int64_t, int64_t k0, int64_t k1) {
    for (int64_t blk = k0; blk < k1; blk++) block(blk);
  });
  for (int64_t k = 0; k < blocks; k++) {
    const float* pw = part.data() + (size_t)k * 2 * C;
    for (int c = 0; c < C; c++) {
      dweight[c] += pw[c];
      dbias[c] += pw[C + c];
    }
  }
}

}  // namespace pkg
