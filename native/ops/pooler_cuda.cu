// CUDA twin of pooler.h: one thread per (row, channel) for pooling, elementwise activations.
#include <cmath>

#include "cuda_util.cuh"
#include "pooler.h"

namespace pkg {

// ---------------------------------------------------------------------------------------------------
// CUDA kernels

namespace {
__global__ void pool_forward_kernel(float* __restrict__ out, const float* __restrict__ inp,
                                    const uint8_t* __restrict__ mask, int B, int T, int C, int mode) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i >= (int64_t)B * C) return;
  const int b = (int)(i / C), c = (int)(i % C);
  const float* x = inp + (int64_t)b * T * C;
  if (mode == (int)PoolMode::Cls) {
    out[i] = x[c];
    return;
  }
  float s = 0.0f;
  int count = 0;
  for (int t = 0; t < T; t++)
    if (mask[(int64_t)b * T + t]) {
      s += x[(int64_t)t * C + c];
      count++;
    }
  out[i] = s * (count > 0 ? 1.0f / count : 0.0f);
}

__global__ void pool_backward_kernel(float* __restrict__ dinp, const float* __restrict__ dout,
                                     const uint8_t* __restrict__ mask, int B, int T, int C, int mode) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i >= (int64_t)B * T * C) return;
  const int64_t bt = i / C;
  const int c = (int)(i % C), b = (int)(bt / T), t = (int)(bt % T);
  if (mode == (int)PoolMode::Cls) {
    dinp[i] = t == 0 ? dout[(int64_t)b * C + c] : 0.0f;
    return;
  }
  int count = 0;
  for (int u = 0; u < T; u++) count += mask[(int64_t)b * T + u] ? 1 : 0;
  dinp[i] = mask[bt] && count > 0 ? dout[(int64_t)b * C + c] * (1.0f / count) : 0.0f;
}

__global__ void act_forward_kernel(float* __restrict__ out, const float* __restrict__ inp, int64_t N, int a) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i < N) out[i] = a == (int)Activation::Tanh ? tanhf(inp[i]) : fmaxf(inp[i], 0.0f);
}

__global__ void act_backward_kernel(float* dinp, const float* dout, const float* __restrict__ out, int64_t N, int a) {
  const int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x;
  if (i < N) dinp[i] = dout[i] * act_grad_from_output((Activation)a, out[i]);
}
}  // namespace

// ---------------------------------------------------------------------------------------------------
// kernel launchers

void pool_forward_cuda(float* out, const float* inp, const uint8_t* mask, int B, int T, int C, PoolMode mode,
                       cudaStream_t stream) {
  PKG_LAUNCH(pool_forward_kernel, (unsigned)(((int64_t)B * C + 255) / 256), 256, 0, stream)(out, inp, mask, B, T, C, (int)mode);
  PKG_LAUNCH_CHECK();
}

void pool_backward_cuda(float* dinp, const float* dout, const uint8_t* mask, int B, int T, int C, PoolMode mode,
                        cudaStream_t stream) {
  PKG_LAUNCH(pool_backward_kernel, (unsigned)(((int64_t)B * T * C + 255) / 256), 256, 0, stream)(dinp, dout, mask, B, T, C,
                                                                                        (int)mode);
  PKG_LAUNCH_CHECK();
}

void act_forward_cuda(float* out, const float* inp, int64_t N, Activation a, cudaStream_t stream) {
  PKG_LAUNCH(act_forward_kernel, (unsigned)((N + 255) / 256), 256, 0, stream)(out, inp, N, (int)a);
  PKG_LAUNCH_CHECK();
}

void act_backward_cuda(float* dinp, const float* dout, const float* out, int64_t N, Activation a, cudaStream_t stream) {
  PKG_LAUNCH(act_backward_kernel, (unsigned)((N + 255) / 256), 256, 0, stream)(dinp, dout, out, N, (int)a);
  PKG_LAUNCH_CHECK();
}

}  // namespace pkg
