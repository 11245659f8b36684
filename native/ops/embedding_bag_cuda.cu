// CUDA twin of embedding_bag.h. Thread mapping: one block per bag (forward), per distinct row (backward,
// sparse AdamW), grid-strided over them; the block's threads stride over the C columns. Each output
// element is summed by one thread in the header's order (deterministic, no atomics).
#include <cmath>

#include "embedding_bag.h"
#include "cuda_util.cuh"

namespace pkg {

namespace {
__global__ void embedding_bag_forward_kernel(float* __restrict__ out, float* __restrict__ scale,
                                             const float* __restrict__ weight, const int32_t* __restrict__ ids,
                                             const int32_t* __restrict__ offsets, BagMode mode, int B, int C) {
  for (int64_t b = blockIdx.x; b < B; b += gridDim.x) {
    const float s = bag_scale(offsets[b + 1] - offsets[b], mode);
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
      float acc = 0.0f;
      for (int32_t i = offsets[b]; i < offsets[b + 1]; i++) acc += weight[(int64_t)ids[i] * C + c];
      out[b * C + c] = acc * s;
    }
    if (threadIdx.x == 0) scale[b] = s;
  }
}

__global__ void embedding_bag_backward_kernel(float* __restrict__ drows, const float* __restrict__ dout,
                                              const float* __restrict__ scale, const int32_t* __restrict__ occ_bag,
                                              const int32_t* __restrict__ row_ptr, int U, int C) {
  for (int64_t u = blockIdx.x; u < U; u += gridDim.x) {
    for (int c = threadIdx.x; c < C; c += blockDim.x) {
      float acc = 0.0f;
      for (int32_t i = row_ptr[u]; i < row_ptr[u + 1]; i++) {
        const int32_t b = occ_bag[i];
        acc += scale[b] * dout[(int64_t)b * C + c];
      }
      drows[u * C + c] = acc;
    }
  }
}

__global__ void sparse_adamw_kernel(float* __restrict__ weight, float* __restrict__ m, float* __restrict__ v,
                                    const float* __restrict__ drows, const int32_t* __restrict__ rows, float lr,
                                    float beta1, float beta2, float eps, float wd, float bc1, float bc2_sqrt, int U,
                                    int C) {
  for (int64_t u = blockIdx.x; u < U; u += gridDim.x) {
    const int64_t r = (int64_t)rows[u] * C;
    for (int c = threadIdx.x; c < C; c += blockDim.x)
      adamw_update(weight + r + c, m + r + c, v + r + c, drows[u * C + c], lr, beta1, beta2, eps, wd, bc1, bc2_sqrt);
  }
}

unsigned blocks_for(int n) { return (unsigned)(n < 1 ? 1 : (n < 65535 ? n : 65535)); }
int threads_for(int C) { return C >= 128 ? 128 : (C <= 32 ? 32 : ((C + 31) / 32) * 32); }
}  // namespace

void embedding_bag_forward_cuda(float* out, float* scale, const float* weight, const int32_t* ids,
                                const int32_t* offsets, BagMode mode, int B, int C, cudaStream_t stream) {
  if (B == 0) return;
  PKG_LAUNCH(embedding_bag_forward_kernel, blocks_for(B), threads_for(C), 0, stream)(out, scale, weight, ids, offsets,
                                                                                     mode, B, C);
  PKG_LAUNCH_CHECK();
}

void embedding_bag_backward_cuda(float* drows, const float* dout, const float* scale, const int32_t* occ_bag,
                                 const int32_t* row_ptr, int U, int C, cudaStream_t stream) {
  if (U == 0) return;
  PKG_LAUNCH(embedding_bag_backward_kernel, blocks_for(U), threads_for(C), 0, stream)(drows, dout, scale, occ_bag,
                                                                                      row_ptr, U, C);
  PKG_LAUNCH_CHECK();
}

void sparse_adamw_cuda(float* weight, float* m, float* v, const float* drows, const int32_t* rows,
                       const AdamWParams& a, int U, int C, cudaStream_t stream) {
  if (U == 0) return;
  const float bc1 = (float)(1.0 - std::pow((double)a.beta1, (double)a.t));
  const float bc2_sqrt = (float)std::sqrt(1.0 - std::pow((double)a.beta2, (double)a.t));
  PKG_LAUNCH(sparse_adamw_kernel, blocks_for(U), threads_for(C), 0, stream)(weight, m, v, drows, rows, a.lr, a.beta1,
                                                                            a.beta2, a.eps, a.weight_decay, bc1,
                                                                            bc2_sqrt, U, C);
  PKG_LAUNCH_CHECK();
}

}  // namespace pkg
