// LayerNorm over the last dimension (post-LN BERT): out = (inp - mean) · rstd · weight + bias.
//
// N rows (= B·T), C channels. inp, out (N,C); mean, rstd (N) saved for backward; weight, bias (C).
// Statistics are two-pass in float (mean, then the biased variance, as PyTorch), rstd = 1/sqrt(var + eps).
// Backward: dinp (N,C) = (not +=); dweight, dbias (C) +=.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../core/half.h"  // PKG_HD

#ifdef FML_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace pkg {

// dinp for one element, given the row sums dnorm_mean = mean(dnorm), dnorm_norm_mean = mean(dnorm · norm),
// where norm = (x - mean) · rstd and dnorm = dout · weight.
PKG_HD float layernorm_dinp(float dnorm, float norm, float dnorm_mean, float dnorm_norm_mean, float rstd) {
  return (dnorm - dnorm_mean - norm * dnorm_norm_mean) * rstd;
}

void layernorm_forward_cpu(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                           const float* bias, int64_t N, int C, float eps);
void layernorm_backward_cpu(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                            const float* weight, const float* mean, const float* rstd, int64_t N, int C);

#ifdef FML_HAVE_CUDA
void layernorm_forward_cuda(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                            const float* bias, int64_t N, int C, float eps, cudaStream_t stream);
void layernorm_backward_cuda(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                             const float* weight, const float* mean, const float* rstd, int64_t N, int C,
                             cudaStream_t stream);
#endif

}  // namespace pkg
