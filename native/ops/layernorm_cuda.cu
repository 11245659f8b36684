// CUDA twin of layernorm.h: one warp per row for the statistics and dinp (two-pass mean and variance,
// as the CPU twin); dweight/dbias by a second kernel with one thread per channel summing rows in order.
#include "cuda_util.cuh"
#include "layernorm.h"

namespace pkg {

// ---------------------------------------------------------------------------------------------------
// CUDA kernels

namespace {
__global__ void layernorm_forward_kernel(float* __restrict__ out, float* __restrict__ mean, float* __restrict__ rstd,
                                         const float* __restrict__ inp, const float* __restrict__ weight,
                                         const float* __restrict__ bias, int64_t N, int C, float eps) {
  const int lane = threadIdx.x % 32;
  const int64_t n = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  if (n >= N) return;
  const float* x = inp + n * C;
  float s = 0.0f;
  for (int c = lane; c < C; c += 32) s += x[c];
  const float m = warp_sum(s) / C;
  float v = 0.0f;
  for (int c = lane; c < C; c += 32) v += (x[c] - m) * (x[c] - m);
  const float r = rsqrtf(warp_sum(v) / C + eps);
  float* o = out + n * C;
  for (int c = lane; c < C; c += 32) o[c] = (x[c] - m) * r * weight[c] + bias[c];
  if (lane == 0) {
    mean[n] = m;
    rstd[n] = r;
  }
}

__global__ void layernorm_backward_dinp_kernel(float* __restrict__ dinp, const float* __restrict__ dout,
                                               const float* __restrict__ inp, const float* __restrict__ weight,
                                               const float* __restrict__ mean, const float* __restrict__ rstd,
                                               int64_t N, int C) {
  const int lane = threadIdx.x % 32;
  const int64_t n = (int64_t)blockIdx.x * (blockDim.x / 32) + threadIdx.x / 32;
  if (n >= N) return;
  const float* x = inp + n * C;
  const float* d = dout + n * C;
  const float m = mean[n], r = rstd[n];
  float s1 = 0.0f, s2 = 0.0f;
  for (int c = lane; c < C; c += 32) {
    const float dn = d[c] * weight[c];
    s1 += dn;
    s2 += dn * (x[c] - m) * r;
  }
  s1 = warp_sum(s1) / C;
  s2 = warp_sum(s2) / C;
  float* di = dinp + n * C;
  for (int c = lane; c < C; c += 32) di[c] = layernorm_dinp(d[c] * weight[c], (x[c] - m) * r, s1, s2, r);
}

__global__ void layernorm_backward_params_kernel(float* __restrict__ dweight, float* __restrict__ dbias,
                                                 const float* __restrict__ dout, const float* __restrict__ inp,
                                                 const float* __restrict__ mean, const float* __restrict__ rstd,
                                                 int64_t N, int C) {
  const int c = blockIdx.x * blockDim.x + threadIdx.x;
  if (c >= C) return;
  float sw = 0.0f, sb = 0.0f;
  for (int64_t n = 0; n < N; n++) {
    const float d = dout[n * C + c];
    sw += d * (inp[n * C + c] - mean[n]) * rstd[n];
    sb += d;
  }
  dweight[c] += sw;
  dbias[c] += sb;
}
}  // namespace

// ---------------------------------------------------------------------------------------------------
// kernel launchers

void layernorm_forward_cuda(float* out, float* mean, float* rstd, const float* inp, const float* weight,
                            const float* bias, int64_t N, int C, float eps, cudaStream_t stream) {
  const int warps = 8;
  PKG_LAUNCH(layernorm_forward_kernel, (unsigned)((N + warps - 1) / warps), warps * 32, 0, stream)(out, mean, rstd, inp, weight,
                                                                                           bias, N, C, eps);
  PKG_LAUNCH_CHECK();
}

void layernorm_backward_cuda(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                             const float* weight, const float* mean, const float* rstd, int64_t N, int C,
                             cudaStream_t stream) {
  const int warps = 8;
  PKG_LAUNCH(layernorm_backward_dinp_kernel, (unsigned)((N + warps - 1) / warps), warps * 32, 0, stream)(dinp, dout, inp, weight,
                                                                                                 mean, rstd, N, C);
  PKG_LAUNCH_CHECK();
  PKG_LAUNCH(layernorm_backward_params_kernel, (C + 127) / 128, 128, 0, stream)(dweight, dbias, dout, inp, mean, rstd, N, C);
  PKG_LAUNCH_CHECK();
}

}  // namespace pkg
