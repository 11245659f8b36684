// Launch helpers for the encoder's CUDA twins: a launch check that throws (never exits) and warp sums.
#pragma once

#include <cuda_runtime.h>

#include <string>

#include "../core/common.h"

namespace pkg {

[[noreturn]] inline void throw_launch(cudaError_t err, const char* file, int line) {
  throw Error(ErrorCode::Cuda, ErrorKind::Error,
              std::string("CUDA kernel launch failed (") + file + ":" + std::to_string(line) + "): " + cudaGetErrorString(err));
}

#define PKG_LAUNCH_CHECK()                                                 \
  do {                                                                     \
    cudaError_t e_ = cudaGetLastError();                                   \
    if (e_ != cudaSuccess) ::pkg::throw_launch(e_, __FILE__, __LINE__);    \
  } while (0)

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
