// Shared pieces of the CUDA twins: warp reductions, a grid size for grid-stride loops, and (through
// core/cuda_check.h) the launch check that throws ERR_CUDA instead of exiting.
#pragma once

#include <cuda_runtime.h>

#include "../core/common.h"
#include "../core/cuda_check.h"

namespace pkg {

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

inline unsigned grid_for(int64_t n, int block) {
  int64_t g = (n + block - 1) / block;
  return (unsigned)(g > 65535 * 16 ? 65535 * 16 : (g < 1 ? 1 : g));
}

}  // namespace pkg
