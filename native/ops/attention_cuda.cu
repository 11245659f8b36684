// CUDA twin of attention.h, fused per query row: one block of 128 threads per (b, h, t) computes the
// scores of row t against every key (threads over keys), the masked softmax (block reductions), the
// probabilities (saved) and the context (threads over head channels). The row lives in shared memory
// (T floats), so any T up to the model's maxPositions fits for BERT-sized models (T <= 8192).
// Backward: one block per (b, h, t) as well; dq is owned by the block, while dk and dv collect
// contributions from every query row with atomicAdd (their summation order is not fixed).
#include <cfloat>
#include <cmath>

#include "../core/philox.h"
#include "attention.h"
#include "cuda_util.cuh"

namespace pkg {

// ---------------------------------------------------------------------------------------------------
// CUDA kernels

namespace {
constexpr int kThreads = 128;

__device__ float block_sum(float v, float* red) {
  v = warp_sum(v);
  const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
  __syncthreads();
  if (lane == 0) red[w] = v;
  __syncthreads();
  float s = 0.0f;
  for (int i = 0; i < (int)blockDim.x / 32; i++) s += red[i];
  return s;
}

__device__ float block_max(float v, float* red) {
  v = warp_max(v);
  const int lane = threadIdx.x % 32, w = threadIdx.x / 32;
  __syncthreads();
  if (lane == 0) red[w] = v;
  __syncthreads();
  float m = -FLT_MAX;
  for (int i = 0; i < (int)blockDim.x / 32; i++) m = fmaxf(m, red[i]);
  return m;
}

__global__ void attention_forward_kernel(float* __restrict__ out, float* __restrict__ att, const float* __restrict__ q,
                                         const float* __restrict__ k, const float* __restrict__ v,
                                         const uint8_t* __restrict__ mask, int T, int C, int NH, float p,
                                         uint64_t seed, uint64_t offset) {
  PKG_DYNAMIC_SHARED(float, row);  // T scores, then T dropped probabilities
  __shared__ float red[32];
  const int HS = C / NH;
  const int64_t bh = blockIdx.x / T;
  const int t = blockIdx.x % T;
  const int b = (int)(bh / NH), h = (int)(bh % NH);
  const float scale = 1.0f / sqrtf((float)HS);
  const float* qt = q + ((int64_t)b * T + t) * C + h * HS;
  float mx = -FLT_MAX;
  for (int t2 = threadIdx.x; t2 < T; t2 += blockDim.x) {
    float s = -FLT_MAX;
    if (mask[(int64_t)b * T + t2]) {
      const float* kt = k + ((int64_t)b * T + t2) * C + h * HS;
      float dot = 0.0f;
      for (int i = 0; i < HS; i++) dot += qt[i] * kt[i];
      s = dot * scale;
    }
    row[t2] = s;
    mx = fmaxf(mx, s);
  }
  mx = block_max(mx, red);
  float sum = 0.0f;
  for (int t2 = threadIdx.x; t2 < T; t2 += blockDim.x) {
    const float e = expf(row[t2] - mx);
    row[t2] = e;
    sum += e;
  }
  sum = block_sum(sum, red);
  const float inv = 1.0f / sum;
  float* a = att ? att + ((int64_t)bh * T + t) * T : nullptr;  // null: inference, nothing saved
  float* pd = row + T;
  const uint64_t base = ((uint64_t)bh * T + t) * T;
  for (int t2 = threadIdx.x; t2 < T; t2 += blockDim.x) {
    const float pr = row[t2] * inv;
    if (a) a[t2] = pr;
    pd[t2] = pr * dropout_scale(p, seed, offset, base + t2);
  }
  __syncthreads();
  float* o = out + ((int64_t)b * T + t) * C + h * HS;
  for (int i = threadIdx.x; i < HS; i += blockDim.x) {
    float s = 0.0f;
    for (int t2 = 0; t2 < T; t2++) s += pd[t2] * v[((int64_t)b * T + t2) * C + h * HS + i];
    o[i] = s;
  }
}

__global__ void attention_backward_kernel(float* __restrict__ dq, float* __restrict__ dk, float* __restrict__ dv,
                                          const float* __restrict__ dout, const float* __restrict__ q,
                                          const float* __restrict__ k, const float* __restrict__ v,
                                          const float* __restrict__ att, int T, int C, int NH, float p, uint64_t seed,
                                          uint64_t offset) {
  PKG_DYNAMIC_SHARED(float, row);  // T values of d(scores), then T dropout multipliers
  __shared__ float red[32];
  const int HS = C / NH;
  const int64_t bh = blockIdx.x / T;
  const int t = blockIdx.x % T;
  const int b = (int)(bh / NH), h = (int)(bh % NH);
  const float scale = 1.0f / sqrtf((float)HS);
  const float* a = att + ((int64_t)bh * T + t) * T;
  const int64_t rt = ((int64_t)b * T + t) * C + h * HS;
  const float* dot_ = dout + rt;
  const uint64_t base = ((uint64_t)bh * T + t) * T;
  float* ds = row;
  float* keep = row + T;
  float sum_ad = 0.0f;
  for (int t2 = threadIdx.x; t2 < T; t2 += blockDim.x) {
    const float kp = dropout_scale(p, seed, offset, base + t2);
    keep[t2] = kp;
    float da = 0.0f;
    if (a[t2] != 0.0f) {
      const float* vt = v + ((int64_t)b * T + t2) * C + h * HS;
      float dot = 0.0f;
      for (int i = 0; i < HS; i++) dot += dot_[i] * vt[i];
      da = dot * kp;
    }
    ds[t2] = da;
    sum_ad += a[t2] * da;
  }
  sum_ad = block_sum(sum_ad, red);
  for (int t2 = threadIdx.x; t2 < T; t2 += blockDim.x) ds[t2] = a[t2] * (ds[t2] - sum_ad) * scale;
  __syncthreads();
  const float* qt = q + rt;
  for (int i = threadIdx.x; i < HS; i += blockDim.x) {
    float s = 0.0f;
    const float qi = qt[i], gi = dot_[i];
    for (int t2 = 0; t2 < T; t2++) {
      const int64_t r2 = ((int64_t)b * T + t2) * C + h * HS + i;
      const float d = ds[t2];
      s += d * k[r2];
      if (d != 0.0f) atomicAdd(dk + r2, d * qi);
      const float w = a[t2] * keep[t2];
      if (w != 0.0f) atomicAdd(dv + r2, w * gi);
    }
    dq[rt + i] = s;
  }
}
}  // namespace

// ---------------------------------------------------------------------------------------------------
// kernel launchers

void attention_forward_cuda(float* out, float* att, const float* q, const float* k, const float* v,
                            const uint8_t* mask, int B, int T, int C, int NH, float p, uint64_t seed, uint64_t offset,
                            cudaStream_t stream) {
  const size_t shmem = 2 * (size_t)T * sizeof(float);
  if (shmem > 48 * 1024)
    PKG_CUDA_CALL(cudaFuncSetAttribute(attention_forward_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem));
  PKG_LAUNCH(attention_forward_kernel, (unsigned)((int64_t)B * NH * T), kThreads, shmem, stream)(out, att, q, k, v, mask, T, C, NH,
                                                                                       p, seed, offset);
  PKG_LAUNCH_CHECK();
}

void attention_backward_cuda(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k,
                             const float* v, const float* att, int B, int T, int C, int NH, float p, uint64_t seed,
                             uint64_t offset, cudaStream_t stream) {
  // dk and dv are accumulated by atomics from every query row: start from zero (dq is written whole).
  const size_t bytes = (size_t)B * T * C * sizeof(float);
  PKG_CUDA_CALL(cudaMemsetAsync(dk, 0, bytes, stream));
  PKG_CUDA_CALL(cudaMemsetAsync(dv, 0, bytes, stream));
  const size_t shmem = 2 * (size_t)T * sizeof(float);
  if (shmem > 48 * 1024)
    PKG_CUDA_CALL(cudaFuncSetAttribute(attention_backward_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)shmem));
  PKG_LAUNCH(attention_backward_kernel, (unsigned)((int64_t)B * NH * T), kThreads, shmem, stream)(dq, dk, dv, dout, q, k, v, att,
                                                                                        T, C, NH, p, seed, offset);
  PKG_LAUNCH_CHECK();
}

}  // namespace pkg
