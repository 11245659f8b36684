// Shared pieces of the CUDA twins: warp reductions, a grid size for grid-stride loops, and (through
// core/cuda_check.h) the launch check that throws ERR_CUDA instead of exiting.
#pragma once

#include <cuda_runtime.h>

#include "../core/common.h"
#include "../core/cuda_check.h"

// Launches and dynamic shared memory go through these two macros so that the same source also compiles
// with the host compiler in the test-only CUDA simulator (native/testing/cuda_sim.h), which runs every
// thread of every block on the CPU with memcheck/racecheck/initcheck/synccheck-like checking:
//   PKG_LAUNCH(kernel, grid, block, shared_bytes, stream)(args...)   is  kernel<<<grid, block, shared_bytes, stream>>>(args...)
//   PKG_DYNAMIC_SHARED(float, row);                                   is  extern __shared__ float row[];
#ifdef FML_CUDA_SIM
#define PKG_LAUNCH(kernel, grid, block, smem, stream) ::fml_sim::launch(kernel, #kernel, grid, block, smem, stream)
#define PKG_DYNAMIC_SHARED(type, name) type* name = static_cast<type*>(::fml_sim::dynamic_shared())
#else
#define PKG_LAUNCH(kernel, grid, block, smem, stream) kernel<<<grid, block, smem, stream>>>
#define PKG_DYNAMIC_SHARED(type, name) extern __shared__ type name[]
#endif

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
