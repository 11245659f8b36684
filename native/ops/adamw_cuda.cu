// CUDA twin of adamw.h: elementwise AdamW (adamw_update from the header), Σx² in double, scaling.
#include <algorithm>
#include <cmath>

#include "adamw.h"
#include "cuda_util.cuh"

namespace pkg {

// ---------------------------------------------------------------------------------------------------
// CUDA kernels

namespace {
__global__ void adamw_kernel(float* __restrict__ params, float* __restrict__ m, float* __restrict__ v,
                             const float* __restrict__ grads, int64_t N, float lr, float beta1, float beta2, float eps,
                             float wd, float bc1, float bc2_sqrt) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < N; i += (int64_t)gridDim.x * blockDim.x)
    adamw_update(params + i, m + i, v + i, grads[i], lr, beta1, beta2, eps, wd, bc1, bc2_sqrt);
}

// Block partial sums in double, combined with one atomicAdd per block.
__global__ void sum_squares_kernel(double* __restrict__ out, const float* __restrict__ x, int64_t N) {
  __shared__ double part[256];
  double s = 0.0;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < N; i += (int64_t)gridDim.x * blockDim.x)
    s += (double)x[i] * (double)x[i];
  part[threadIdx.x] = s;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w >>= 1) {
    if ((int)threadIdx.x < w) part[threadIdx.x] += part[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) atomicAdd(out, part[0]);
}

__global__ void scale_kernel(float* __restrict__ x, int64_t N, float s) {
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < N; i += (int64_t)gridDim.x * blockDim.x)
    x[i] *= s;
}
}  // namespace

// ---------------------------------------------------------------------------------------------------
// kernel launchers

void adamw_cuda(float* params, float* m, float* v, const float* grads, int64_t N, const AdamWParams& a,
                cudaStream_t stream) {
  const float bc1 = (float)(1.0 - std::pow((double)a.beta1, (double)a.t));
  const float bc2_sqrt = (float)std::sqrt(1.0 - std::pow((double)a.beta2, (double)a.t));
  PKG_LAUNCH(adamw_kernel, grid_for(N, 256), 256, 0, stream)(params, m, v, grads, N, a.lr, a.beta1, a.beta2, a.eps,
                                                     a.weight_decay, bc1, bc2_sqrt);
  PKG_LAUNCH_CHECK();
}

double sum_squares_cuda(const float* x, int64_t N, cudaStream_t stream) {
  double* d = nullptr;
  cudaError_t err = cudaMallocAsync(&d, sizeof(double), stream);
  if (err != cudaSuccess) throw_cuda(err, "cudaMallocAsync", __FILE__, __LINE__);
  // Every step runs and its status is kept, so the scratch double is freed before any error is thrown.
  cudaError_t zero = cudaMemsetAsync(d, 0, sizeof(double), stream);
  const unsigned grid = (unsigned)std::min<int64_t>((N + 255) / 256, 1024);
  PKG_LAUNCH(sum_squares_kernel, grid < 1 ? 1 : grid, 256, 0, stream)(d, x, N);
  cudaError_t launch = cudaGetLastError();
  double h = 0.0;
  cudaError_t copy = cudaMemcpyAsync(&h, d, sizeof(double), cudaMemcpyDeviceToHost, stream);
  cudaError_t sync = cudaStreamSynchronize(stream);
  cudaError_t freed = cudaFreeAsync(d, stream);
  if (zero != cudaSuccess) throw_cuda(zero, "cudaMemsetAsync", __FILE__, __LINE__);
  if (launch != cudaSuccess) throw_cuda(launch, "a kernel launch", __FILE__, __LINE__);
  if (copy != cudaSuccess) throw_cuda(copy, "cudaMemcpyAsync", __FILE__, __LINE__);
  if (sync != cudaSuccess) throw_cuda(sync, "cudaStreamSynchronize", __FILE__, __LINE__);
  if (freed != cudaSuccess) throw_cuda(freed, "cudaFreeAsync", __FILE__, __LINE__);
  return h;
}

void scale_cuda(float* x, int64_t N, float s, cudaStream_t stream) {
  PKG_LAUNCH(scale_kernel, grid_for(N, 256), 256, 0, stream)(x, N, s);
  PKG_LAUNCH_CHECK();
}

}  // namespace pkg
