// GELU, erf form (BERT's "gelu"): out = 0.5 · x · (1 + erf(x / √2)).
//
// inp, out (N); backward dinp (N) = dout · gelu'(inp) (not +=; dinp may alias dout).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../core/half.h"  // PKG_HD

#ifdef FML_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace pkg {

PKG_HD float gelu_value(float x) { return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f)); }

// d/dx [0.5 x (1 + erf(x/√2))] = 0.5 (1 + erf(x/√2)) + x · φ(x), φ the standard normal density.
PKG_HD float gelu_grad(float x) {
  return 0.5f * (1.0f + erff(x * 0.70710678118654752f)) + x * 0.39894228040143268f * expf(-0.5f * x * x);
}

void gelu_forward_cpu(float* out, const float* inp, int64_t N);
void gelu_backward_cpu(float* dinp, const float* dout, const float* inp, int64_t N);

#ifdef FML_HAVE_CUDA
void gelu_forward_cuda(float* out, const float* inp, int64_t N, cudaStream_t stream);
void gelu_backward_cuda(float* dinp, const float* dout, const float* inp, int64_t N, cudaStream_t stream);
#endif

}  // namespace pkg
