// Dropout with Philox masks (core/philox.h), fused with the residual add of the post-LN block.
//
// Element i of a site is kept when philox_uniform(seed, offset, i) >= p and then scaled by 1/(1-p).
//   dropout_forward:          out (N) = inp · scale_i                  (out may alias inp)
//   dropout_residual_forward: out (N) = res + inp · scale_i            (the residual stream joins here)
//   dropout_backward:         dinp (N) = dout · scale_i  (=, may alias dout)
// p == 0 is the identity (no random draws).
#pragma once

#include <cstddef>
#include <cstdint>

#include "../core/philox.h"

#ifdef FML_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace pkg {

// CPU helper shared by the CPU twins: keep[j] = dropout_scale(p, seed, offset, first + j) for j < n, with
// the Philox rounds vectorised across counters.
void dropout_keep_cpu(float* keep, int64_t n, float p, uint64_t seed, uint64_t offset, uint64_t first);

void dropout_forward_cpu(float* out, const float* inp, int64_t N, float p, uint64_t seed, uint64_t offset);
void dropout_residual_forward_cpu(float* out, const float* res, const float* inp, int64_t N, float p, uint64_t seed,
                                  uint64_t offset);
void dropout_backward_cpu(float* dinp, const float* dout, int64_t N, float p, uint64_t seed, uint64_t offset);

#ifdef FML_HAVE_CUDA
void dropout_forward_cuda(float* out, const float* inp, int64_t N, float p, uint64_t seed, uint64_t offset,
                          cudaStream_t stream);
void dropout_residual_forward_cuda(float* out, const float* res, const float* inp, int64_t N, float p, uint64_t seed,
                                   uint64_t offset, cudaStream_t stream);
void dropout_backward_cuda(float* dinp, const float* dout, int64_t N, float p, uint64_t seed, uint64_t offset,
                           cudaStream_t stream);
#endif

}  // namespace pkg
