// CUDA twin of softmax_xent.h. Thread mapping: one block per row (grid-stride over rows); the block's
// threads stride over the V columns with their own online (max, sum), merged by warp shuffles and then
// across warps through shared memory in warp order (every thread merges the same values in the same
// order, so the result is deterministic). The host checks and counts the targets first (an N-int copy)
// and sums the per-row losses in double after the kernel, in row order, as the CPU twin does.
#include <string>
#include <vector>

#include "cuda_util.cuh"
#include "softmax_xent.h"

namespace pkg {

namespace {
constexpr int kMaxWarps = 32;

__device__ __forceinline__ XentAcc warp_merge(XentAcc a) {
  for (int o = 16; o > 0; o >>= 1) {
    XentAcc b;
    b.m = __shfl_xor_sync(0xffffffffu, a.m, o);
    b.s = __shfl_xor_sync(0xffffffffu, a.s, o);
    a = xent_merge(a, b);
  }
  return a;
}

__global__ void softmax_xent_kernel(float* dlogits, float* __restrict__ losses, const float* logits,
                                    const int32_t* __restrict__ targets, int32_t ignore_index, float g, int64_t N,
                                    int V) {
  __shared__ float sm[kMaxWarps], ss[kMaxWarps];
  const int warps = blockDim.x / 32, lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  for (int64_t n = blockIdx.x; n < N; n += gridDim.x) {
    const float* x = logits + n * V;
    float* d = dlogits + n * V;
    const int32_t t = targets[n];
    if (t == ignore_index) {  // uniform over the block: no barrier is skipped by some threads only
      for (int v = threadIdx.x; v < V; v += blockDim.x) d[v] = 0.0f;
      if (threadIdx.x == 0) losses[n] = 0.0f;
      continue;
    }
    const float xt = threadIdx.x == 0 ? x[t] : 0.0f;  // before the barrier below, so before any store
    XentAcc a = xent_empty();
    for (int v = threadIdx.x; v < V; v += blockDim.x) a = xent_add(a, x[v]);
    a = warp_merge(a);
    if (lane == 0) sm[warp] = a.m, ss[warp] = a.s;
    __syncthreads();
    a = xent_empty();
    for (int w = 0; w < warps; w++) a = xent_merge(a, XentAcc{sm[w], ss[w]});
    const float inv_s = 1.0f / a.s;
    for (int v = threadIdx.x; v < V; v += blockDim.x) d[v] = xent_grad(x[v], a.m, inv_s, v == t, g);
    if (threadIdx.x == 0) losses[n] = xent_loss(a, xt);
    __syncthreads();  // sm/ss are rewritten by the next row
  }
}

int threads_for(int V) { return V >= 256 ? 256 : ((V + 31) / 32) * 32; }
}  // namespace

XentResult softmax_xent_cuda(float* dlogits, float* losses, const float* logits, const int32_t* targets,
                             int32_t ignore_index, Reduction reduction, int64_t N, int V, cudaStream_t stream) {
  XentResult r;
  if (N == 0) return r;
  std::vector<int32_t> host_t((size_t)N);
  PKG_CUDA_CALL(cudaMemcpyAsync(host_t.data(), targets, (size_t)N * sizeof(int32_t), cudaMemcpyDeviceToHost, stream));
  PKG_CUDA_CALL(cudaStreamSynchronize(stream));
  r.count = xent_count_targets(host_t.data(), ignore_index, N, V);
  const float g = reduction == Reduction::Mean ? (r.count > 0 ? (float)(1.0 / (double)r.count) : 0.0f) : 1.0f;
  const unsigned grid = (unsigned)(N < 65535 * 16 ? N : 65535 * 16);
  PKG_LAUNCH(softmax_xent_kernel, grid, threads_for(V), 0, stream)(dlogits, losses, logits, targets, ignore_index, g,
                                                                    N, V);
  PKG_LAUNCH_CHECK();
  std::vector<float> host_l((size_t)N);
  PKG_CUDA_CALL(cudaMemcpyAsync(host_l.data(), losses, (size_t)N * sizeof(float), cudaMemcpyDeviceToHost, stream));
  PKG_CUDA_CALL(cudaStreamSynchronize(stream));
  r.loss = xent_reduce(host_l.data(), N, r.count, reduction);
  return r;
}

}  // namespace pkg
