// CPU twin of softmax_xent.h. Rows split over threads in contiguous chunks; within a row the online
// (max, sum) runs in 16 independent lanes, merged in a fixed order. As in gelu_cpu.cpp, "no-trapping-math"
// lets GCC turn the exp polynomial's clamp into a select so both row loops vectorise (it changes no
// result), and an AVX2 clone is picked at load time.
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("no-trapping-math")
#endif
#include <string>

#include "../core/common.h"
#include "../core/parallel.h"
#include "../core/simd.h"
#include "softmax_xent.h"

namespace pkg {

int64_t xent_count_targets(const int32_t* targets, int32_t ignore_index, int64_t N, int V) {
  int64_t count = 0;
  for (int64_t n = 0; n < N; n++) {
    const int32_t t = targets[n];
    if (t == ignore_index) continue;
    if (t < 0 || t >= V)
      throw_range("Expected targets[" + std::to_string(n) + "] in [0, " + std::to_string(V) + ") or ignoreIndex (" +
                  std::to_string(ignore_index) + ") but received " + std::to_string(t));
    count++;
  }
  return count;
}

double xent_reduce(const float* losses, int64_t N, int64_t count, Reduction reduction) {
  double sum = 0;
  for (int64_t n = 0; n < N; n++) sum += (double)losses[n];
  if (reduction != Reduction::Mean) return sum;
  return count > 0 ? sum / (double)count : 0.0;
}

namespace {
constexpr int kLanes = 16;

PKG_SIMD_CLONES XentAcc row_stats(const float* __restrict x, int V) {
  float m[kLanes], s[kLanes];
  for (int l = 0; l < kLanes; l++) m[l] = -FLT_MAX, s[l] = 0.0f;
  int v = 0;
  for (; v + kLanes <= V; v += kLanes)
    for (int l = 0; l < kLanes; l++) {
      const float xv = x[v + l];
      const float mn = m[l] > xv ? m[l] : xv;
      s[l] = s[l] * bce_math::exp_nonpos(m[l] - mn) + bce_math::exp_nonpos(xv - mn);
      m[l] = mn;
    }
  XentAcc acc = xent_empty();
  for (int l = 0; l < kLanes; l++) acc = xent_merge(acc, XentAcc{m[l], s[l]});
  for (; v < V; v++) acc = xent_add(acc, x[v]);
  return acc;
}
// d may alias x (element v is read before it is written, by the same iteration).
PKG_SIMD_CLONES void row_grad(float* d, const float* x, float m, float inv_s, int32_t t, float g, int V) {
  for (int v = 0; v < V; v++) d[v] = xent_grad(x[v], m, inv_s, v == t, g);
}
}  // namespace

XentResult softmax_xent_cpu(float* dlogits, float* losses, const float* logits, const int32_t* targets,
                            int32_t ignore_index, Reduction reduction, int64_t N, int V) {
  XentResult r;
  r.count = xent_count_targets(targets, ignore_index, N, V);
  const float g = reduction == Reduction::Mean ? (r.count > 0 ? (float)(1.0 / (double)r.count) : 0.0f) : 1.0f;
  parallel_for(N, 1, [&](int64_t, int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++) {
      const float* x = logits + n * V;
      float* d = dlogits + n * V;
      const int32_t t = targets[n];
      if (t == ignore_index) {
        for (int v = 0; v < V; v++) d[v] = 0.0f;
        losses[n] = 0.0f;
        continue;
      }
      const float xt = x[t];  // before any store: dlogits may alias logits
      const XentAcc a = row_stats(x, V);
      const float inv_s = 1.0f / a.s;
      row_grad(d, x, a.m, inv_s, t, g, V);
      losses[n] = xent_loss(a, xt);
    }
  });
  r.loss = xent_reduce(losses, N, r.count, reduction);
  return r;
}

}  // namespace pkg
