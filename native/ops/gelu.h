// GELU, erf form (BERT's "gelu"): out = 0.5 · x · (1 + erf(x / √2)).
//
// inp, out (N); backward dinp (N) = dout · gelu'(inp) (not +=; dinp may alias dout).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "../core/half.h"  // PKG_HD
#include "bce.h"            // bce_math::exp_nonpos

#ifdef FML_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace pkg {

// erf as an odd/even rational function of degree 13/8 on [-4, 4] (±1 outside, where float erf is ±1):
// max absolute error 4.2e-7 against erf in double (libm erff: 5e-8). Branch-free, so the CPU loops
// vectorise; the CUDA twin evaluates the same expression.
PKG_HD float erf_rational(float x) {
  x = x > 4.0f ? 4.0f : x;
  x = x < -4.0f ? -4.0f : x;
  const float x2 = x * x;
  float p = -2.72614225801306e-10f;
  p = p * x2 + 2.77068142495902e-08f;
  p = p * x2 - 2.10102402082508e-06f;
  p = p * x2 - 5.69250639462346e-05f;
  p = p * x2 - 7.34990630326855e-04f;
  p = p * x2 - 2.95459980854025e-03f;
  p = p * x2 - 1.60960333262415e-02f;
  float q = -1.45660718464996e-05f;
  q = q * x2 - 2.13374055278905e-04f;
  q = q * x2 - 1.68282697438203e-03f;
  q = q * x2 - 7.37332916720468e-03f;
  q = q * x2 - 1.42647390514189e-02f;
  return x * p / q;
}

PKG_HD float gelu_value(float x) { return 0.5f * x * (1.0f + erf_rational(x * 0.70710678118654752f)); }

// d/dx [0.5 x (1 + erf(x/√2))] = 0.5 (1 + erf(x/√2)) + x · φ(x), φ the standard normal density;
// exp of a non-positive argument through the vectorisable polynomial of bce.h.
PKG_HD float gelu_grad(float x) {
  return 0.5f * (1.0f + erf_rational(x * 0.70710678118654752f)) +
         x * 0.39894228040143268f * bce_math::exp_nonpos(-0.5f * x * x);
}

void gelu_forward_cpu(float* out, const float* inp, int64_t N);
void gelu_backward_cpu(float* dinp, const float* dout, const float* inp, int64_t N);

#ifdef FML_HAVE_CUDA
void gelu_forward_cuda(float* out, const float* inp, int64_t N, cudaStream_t stream);
void gelu_backward_cuda(float* dinp, const float* dout, const float* inp, int64_t N, cudaStream_t stream);
#endif

}  // namespace pkg
