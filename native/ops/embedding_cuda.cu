// CUDA twin of embedding.h: one thread per (token, channel); the backward scatter-adds with atomicAdd
// (repeated token ids collide), so its summation order is not fixed.
#include "embedding.h"
#include "cuda_util.cuh"

namespace pkg {

// ---------------------------------------------------------------------------------------------------
// CUDA kernels

namespace {
__global__ void embedding_forward_kernel(float* __restrict__ out, const int32_t* __restrict__ ids,
                                         const int32_t* __restrict__ tt, const float* __restrict__ wte,
                                         const float* __restrict__ wpe, const float* __restrict__ wtt, int B, int T,
                                         int C) {
  const int64_t n = (int64_t)B * T * C;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t bt = i / C;
    const int c = (int)(i % C), t = (int)(bt % T);
    float v = wte[(int64_t)ids[bt] * C + c] + wpe[(int64_t)t * C + c];
    if (wtt) v += wtt[(int64_t)(tt ? tt[bt] : 0) * C + c];
    out[i] = v;
  }
}

__global__ void embedding_backward_kernel(float* __restrict__ dwte, float* __restrict__ dwpe, float* __restrict__ dwtt,
                                          const float* __restrict__ dout, const int32_t* __restrict__ ids,
                                          const int32_t* __restrict__ tt, int B, int T, int C, int pad_id) {
  const int64_t n = (int64_t)B * T * C;
  for (int64_t i = blockIdx.x * (int64_t)blockDim.x + threadIdx.x; i < n; i += (int64_t)gridDim.x * blockDim.x) {
    const int64_t bt = i / C;
    const int c = (int)(i % C), t = (int)(bt % T);
    const float d = dout[i];
    if (ids[bt] != pad_id) atomicAdd(dwte + (int64_t)ids[bt] * C + c, d);
    if (dwpe) atomicAdd(dwpe + (int64_t)t * C + c, d);
    if (dwtt) atomicAdd(dwtt + (int64_t)(tt ? tt[bt] : 0) * C + c, d);
  }
}
}  // namespace

// ---------------------------------------------------------------------------------------------------
// kernel launchers

void embedding_forward_cuda(float* out, const int32_t* ids, const int32_t* tt, const float* wte, const float* wpe,
                            const float* wtt, int B, int T, int C, cudaStream_t stream) {
  PKG_LAUNCH(embedding_forward_kernel, grid_for((int64_t)B * T * C, 256), 256, 0, stream)(out, ids, tt, wte, wpe, wtt, B, T, C);
  PKG_LAUNCH_CHECK();
}

void embedding_backward_cuda(float* dwte, float* dwpe, float* dwtt, const float* dout, const int32_t* ids,
                             const int32_t* tt, int B, int T, int C, int pad_id, cudaStream_t stream) {
  PKG_LAUNCH(embedding_backward_kernel, grid_for((int64_t)B * T * C, 256), 256, 0, stream)(dwte, dwpe, dwtt, dout, ids, tt, B,
                                                                                    T, C, pad_id);
  PKG_LAUNCH_CHECK();
}

}  // namespace pkg
