// CUDA twin of dropout.h: elementwise, the mask from philox.h (same draws as the CPU twin).
#include "dropout.h"
#include "cuda_util.cuh"

namespace pkg {

// ---------------------------------------------------------------------------------------------------
// CUDA kernels

namespace {
// out may alias inp.
__global__ void dropout_kernel(float* out, const float* inp, int64_t N, float p, uint64_t seed, uint64_t offset) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < N; i += (int64_t)gridDim.x * blockDim.x)
    out[i] = inp[i] * dropout_scale(p, seed, offset, (uint64_t)i);
}

__global__ void dropout_residual_kernel(float* __restrict__ out, const float* __restrict__ res,
                                        const float* __restrict__ inp, int64_t N, float p, uint64_t seed,
                                        uint64_t offset) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < N; i += (int64_t)gridDim.x * blockDim.x)
    out[i] = res[i] + inp[i] * dropout_scale(p, seed, offset, (uint64_t)i);
}
}  // namespace

// ---------------------------------------------------------------------------------------------------
// kernel launchers

void dropout_forward_cuda(float* out, const float* inp, int64_t N, float p, uint64_t seed, uint64_t offset,
                          cudaStream_t stream) {
  if (p <= 0.0f && out == inp) return;
  PKG_LAUNCH(dropout_kernel, grid_for(N, 256), 256, 0, stream)(out, inp, N, p, seed, offset);
  PKG_LAUNCH_CHECK();
}

void dropout_residual_forward_cuda(float* out, const float* res, const float* inp, int64_t N, float p, uint64_t seed,
                                   uint64_t offset, cudaStream_t stream) {
  PKG_LAUNCH(dropout_residual_kernel, grid_for(N, 256), 256, 0, stream)(out, res, inp, N, p, seed, offset);
  PKG_LAUNCH_CHECK();
}

void dropout_backward_cuda(float* dinp, const float* dout, int64_t N, float p, uint64_t seed, uint64_t offset,
                           cudaStream_t stream) {
  dropout_forward_cuda(dinp, dout, N, p, seed, offset, stream);
}

}  // namespace pkg
