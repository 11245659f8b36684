// AdamW with PyTorch semantics (torch.optim.AdamW, single-tensor path), and global-norm clipping.
//
// For step t (1-based): p ← p · (1 - lr·wd); m ← β1·m + (1-β1)·g; v ← β2·v + (1-β2)·g²;
// p ← p - (lr / (1-β1^t)) · m / (√v / √(1-β2^t) + eps). params, grads, m, v (N).
// Clipping (torch.nn.utils.clip_grad_norm_): norm = ‖g‖₂ over all parameters; when
// maxNorm / (norm + 1e-6) < 1, every gradient is multiplied by it.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../core/half.h"  // PKG_HD

#ifdef FML_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace pkg {

struct AdamWParams {
  float lr = 1e-3f, beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f, weight_decay = 0.0f;
  int64_t t = 1;  // step number, 1-based
  // false: no weight decay on 1-D parameters (biases and LayerNorm weights), as Hugging Face's Trainer
  // groups them; true: every parameter decays (torch.optim.AdamW on all parameters).
  bool decay_bias_and_norm = true;
};

// One element, in PyTorch's operation order. bc1 = 1 - β1^t, bc2_sqrt = √(1 - β2^t).
PKG_HD void adamw_update(float* p, float* m, float* v, float g, float lr, float beta1, float beta2, float eps,
                         float wd, float bc1, float bc2_sqrt) {
  float x = *p * (1.0f - lr * wd);
  float mm = beta1 * *m + (1.0f - beta1) * g;
  float vv = beta2 * *v + (1.0f - beta2) * g * g;
  float denom = sqrtf(vv) / bc2_sqrt + eps;
  x = x - (lr / bc1) * (mm / denom);
  *p = x;
  *m = mm;
  *v = vv;
}

void adamw_cpu(float* params, float* m, float* v, const float* grads, int64_t N, const AdamWParams& a);
// Σ x² in double, in fixed chunks of 8,192 floats (on the pool's threads) added in order: the same bits at any
// thread count and on every ISA.
double sum_squares_cpu(const float* x, int64_t N);
// Σ x² in double on the calling thread: element i into partial sum i mod 8, the 8 added by a fixed tree (each
// square exact in double; the same bits on every ISA). One chunk of sum_squares_cpu; the n-gram model's norm.
double sum_squares_lanes_cpu(const float* x, int64_t n);
void scale_cpu(float* x, int64_t N, float s);

#ifdef FML_HAVE_CUDA
void adamw_cuda(float* params, float* m, float* v, const float* grads, int64_t N, const AdamWParams& a,
                cudaStream_t stream);
// Σ x² in double; synchronises the stream to return the value.
double sum_squares_cuda(const float* x, int64_t N, cudaStream_t stream);
void scale_cuda(float* x, int64_t N, float s, cudaStream_t stream);
#endif

}  // namespace pkg
