// CUDA twin of gelu.h: elementwise, grid-stride; the math is gelu_value/gelu_grad from the header.
#include "cuda_util.cuh"
#include "gelu.h"

namespace pkg {

// ---------------------------------------------------------------------------------------------------
// CUDA kernels

namespace {
__global__ void gelu_forward_kernel(float* __restrict__ out, const float* __restrict__ inp, int64_t N) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < N; i += (int64_t)gridDim.x * blockDim.x)
    out[i] = gelu_value(inp[i]);
}

// dinp may alias dout: each element is read, then written, by one thread.
__global__ void gelu_backward_kernel(float* dinp, const float* dout, const float* __restrict__ inp, int64_t N) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < N; i += (int64_t)gridDim.x * blockDim.x)
    dinp[i] = dout[i] * gelu_grad(inp[i]);
}
}  // namespace

// ---------------------------------------------------------------------------------------------------
// kernel launchers

void gelu_forward_cuda(float* out, const float* inp, int64_t N, cudaStream_t stream) {
  PKG_LAUNCH(gelu_forward_kernel, grid_for(N, 256), 256, 0, stream)(out, inp, N);
  PKG_LAUNCH_CHECK();
}

void gelu_backward_cuda(float* dinp, const float* dout, const float* inp, int64_t N, cudaStream_t stream) {
  PKG_LAUNCH(gelu_backward_kernel, grid_for(N, 256), 256, 0, stream)(dinp, dout, inp, N);
  PKG_LAUNCH_CHECK();
}

}  // namespace pkg
