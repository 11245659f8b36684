// Softmax cross-entropy over a vocabulary (the masked-language-model loss), forward and backward fused:
// each row of logits is read twice (an online max / sum of exponentials, then the gradient) and never
// turned into a separate probability buffer.
//
// logits (N,V) f32; targets (N) int32, each in [0,V) or equal to ignore_index (a row with no target);
// losses (N) = per-row loss, 0 for ignored rows; dlogits (N,V) (=), may alias logits (the row's target
// logit is read before any store). For a row n with target t:
//   m = max_v x[v],  s = Σ_v exp(x[v] − m),  loss_n = (m − x[t]) + log s
//   dlogits[n,v] = g · (exp(x[v] − m) / s − [v = t])                 (ignored rows: dlogits[n,:] = 0)
// with g = 1/count for Reduction::Mean (count = rows with a target) and g = 1 for Sum and None.
// The returned loss is Σ_n loss_n summed in row order in double, divided by count for Mean; Mean over
// zero rows returns 0 with count 0 and all-zero gradients (PyTorch's F.cross_entropy returns NaN there).
// None returns the Sum (the per-row losses are in `losses` for every reduction).
// Logits of any finite magnitude give finite results (exp only ever sees x − m ≤ 0); NaN propagates.
// Targets outside [0,V) that are not ignore_index: RangeError naming the first one, before any output
// is written (the CUDA twin copies the N targets to the host to check them and to count).
#pragma once

#include <cfloat>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "bce.h"  // Reduction, BCE_HD, bce_math::exp_nonpos

#ifdef FML_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace pkg {

// The online (max, sum) pair: the running max and Σ exp(x − max) of the elements seen so far.
// The empty pair is (−FLT_MAX, 0): finite, so merging two empty pairs never computes −inf − −inf.
struct XentAcc {
  float m, s;
};
BCE_HD XentAcc xent_empty() { return XentAcc{-FLT_MAX, 0.0f}; }
BCE_HD XentAcc xent_add(XentAcc a, float x) {
  const float m = a.m > x ? a.m : x;
  return XentAcc{m, a.s * bce_math::exp_nonpos(a.m - m) + bce_math::exp_nonpos(x - m)};
}
BCE_HD XentAcc xent_merge(XentAcc a, XentAcc b) {
  const float m = a.m > b.m ? a.m : b.m;
  return XentAcc{m, a.s * bce_math::exp_nonpos(a.m - m) + b.s * bce_math::exp_nonpos(b.m - m)};
}
// dlogits element: g · (softmax − one-hot), with inv_s = 1/s.
BCE_HD float xent_grad(float x, float m, float inv_s, bool is_target, float g) {
  return g * (bce_math::exp_nonpos(x - m) * inv_s - (is_target ? 1.0f : 0.0f));
}

// loss_n = (m − x[t]) + log s: the difference first, exact for nearby large logits (m + log s would
// round log s away at |m| ~ 1e4).
BCE_HD float xent_loss(XentAcc a, float xt) { return (a.m - xt) + logf(a.s); }

struct XentResult {
  double loss = 0;    // reduced as the header says
  int64_t count = 0;  // rows with a target
};

XentResult softmax_xent_cpu(float* dlogits, float* losses, const float* logits, const int32_t* targets,
                            int32_t ignore_index, Reduction reduction, int64_t N, int V);

// The checks and the reduction both twins share: the first bad target throws; returns the row count.
int64_t xent_count_targets(const int32_t* targets, int32_t ignore_index, int64_t N, int V);
double xent_reduce(const float* losses, int64_t N, int64_t count, Reduction reduction);

#ifdef FML_HAVE_CUDA
XentResult softmax_xent_cuda(float* dlogits, float* losses, const float* logits, const int32_t* targets,
                             int32_t ignore_index, Reduction reduction, int64_t N, int V, cudaStream_t stream);
#endif

}  // namespace pkg
