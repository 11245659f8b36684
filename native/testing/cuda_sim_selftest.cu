// Self-tests of the CUDA simulator: small kernels with known answers (warp primitives, barriers, atomics,
// launch limits) and kernels with planted bugs that each check must report. Compiled like the real kernels
// (instrumented), run by cuda_sim_test.cpp as the "sim:" cases.
#include <string>
#include <vector>

#include "../ops/cuda_util.cuh"
#include "cuda_sim_report.h"

namespace {

using fml_sim::Check;

struct SelfTestFailure {
  std::string why;
};
void require(bool ok, const std::string& why) {
  if (!ok) throw SelfTestFailure{why};
}

// The one report a launch must have made, of check `c`.
void expect_report(Check c, const char* what) {
  const auto r = fml_sim::take_reports();
  require(!r.empty(), std::string(what) + ": no report");
  require(r[0].check == c, std::string(what) + ": expected " + fml_sim::check_name(c) + ", got [" +
                               fml_sim::check_name(r[0].check) + "] " + r[0].message);
}
void expect_clean(const char* what) {
  const auto r = fml_sim::take_reports();
  require(r.empty(), std::string(what) + ": unexpected [" + (r.empty() ? "" : fml_sim::check_name(r[0].check)) + "] " +
                         (r.empty() ? "" : r[0].message));
}

// out[i] for each lane: every shuffle flavour, widths 32 and 8, ballot/any/all.
__global__ void warp_kernel(int* out) {
  const int lane = threadIdx.x & 31;
  int* o = out + threadIdx.x * 9;
  o[0] = __shfl_sync(0xffffffffu, lane * 10, 3);
  o[1] = __shfl_up_sync(0xffffffffu, lane, 2);
  o[2] = __shfl_down_sync(0xffffffffu, lane, 5);
  o[3] = __shfl_xor_sync(0xffffffffu, lane, 1);
  o[4] = __shfl_down_sync(0xffffffffu, lane, 3, 8);
  o[5] = __shfl_xor_sync(0xffffffffu, lane, 8, 8);
  o[6] = (int)__ballot_sync(0xffffffffu, lane % 3 == 0);
  o[7] = __any_sync(0xffffffffu, lane == 7) + 2 * __all_sync(0xffffffffu, lane < 40);
  double d = __shfl_xor_sync(0xffffffffu, (double)lane + 0.5, 16);
  o[8] = (int)(d * 2);
}

__global__ void block_sum_kernel(float* out, const float* in, int n) {
  __shared__ float sh[256];
  float s = 0.0f;
  for (int i = threadIdx.x; i < n; i += blockDim.x) s += in[i];
  sh[threadIdx.x] = s;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w >>= 1) {
    if ((int)threadIdx.x < w) sh[threadIdx.x] += sh[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) atomicAdd(out, sh[0]);
}

__global__ void oob_kernel(float* p, int n) { p[threadIdx.x] = 1.0f; (void)n; }
__global__ void race_kernel(float* out) {
  __shared__ float sh[64];
  sh[threadIdx.x] = (float)threadIdx.x;
  out[threadIdx.x] = sh[(threadIdx.x + 1) % blockDim.x];  // no barrier between the write and the read
}
__global__ void warp_race_kernel(float* out) {  // lanes of one warp: ordered by __syncwarp, so no race
  __shared__ float sh[32];
  sh[threadIdx.x] = (float)threadIdx.x;
  __syncwarp();
  out[threadIdx.x] = sh[threadIdx.x ^ 1];
}
__global__ void uninit_kernel(float* out) {
  __shared__ float sh[32];
  if (threadIdx.x < 16) sh[threadIdx.x] = 1.0f;
  __syncthreads();
  out[threadIdx.x] = sh[threadIdx.x];
}
__global__ void early_exit_kernel(float* out) {
  __shared__ float sh[64];
  if (threadIdx.x >= 40) return;
  sh[threadIdx.x] = 1.0f;
  __syncthreads();
  out[threadIdx.x] = sh[0];
}
__global__ void partial_warp_kernel(float* out) {  // a 48-thread block: the second warp has 16 lanes
  out[threadIdx.x] = pkg::warp_sum(1.0f);
}
__global__ void global_add_kernel(float* p, int atomic) {  // one accumulator for every thread of the grid
  if (atomic) atomicAdd(p, 1.0f);
  else p[0] += 1.0f;
}
__global__ void dyn_kernel(float* out, int n) {
  PKG_DYNAMIC_SHARED(float, buf);
  buf[threadIdx.x] = 2.0f;
  __syncthreads();
  out[threadIdx.x] = buf[(threadIdx.x + 1) % n];
}

}  // namespace

// Returns "" or what failed.
std::string cuda_sim_selftest(const std::string& which) {
  try {
    fml_sim::take_reports();
    if (which == "warp") {
      int* d = nullptr;
      cudaMalloc(&d, 64 * 9 * sizeof(int));
      PKG_LAUNCH(warp_kernel, 1, 64, 0, 0)(d);
      expect_clean("warp primitives");
      std::vector<int> h(64 * 9);
      cudaMemcpy(h.data(), d, h.size() * sizeof(int), cudaMemcpyDeviceToHost);
      cudaFree(d);
      unsigned ballot = 0;
      for (int l = 0; l < 32; l++)
        if (l % 3 == 0) ballot |= 1u << l;
      for (int t = 0; t < 64; t++) {
        const int l = t & 31;
        const int* o = &h[t * 9];
        const int want[9] = {30, l < 2 ? l : l - 2, l + 5 < 32 ? l + 5 : l, l ^ 1, (l & 7) + 3 < 8 ? l + 3 : l, l,
                             (int)ballot, 1 + 2, 2 * (l ^ 16) + 1};
        for (int k = 0; k < 9; k++)
          require(o[k] == want[k], "warp primitive " + std::to_string(k) + " lane " + std::to_string(t) + ": got " +
                                       std::to_string(o[k]) + ", want " + std::to_string(want[k]));
      }
    } else if (which == "barrier") {
      std::vector<float> in(1000);
      double want = 0;
      for (int i = 0; i < 1000; i++) in[i] = (float)(i % 17), want += in[i];
      float *din = nullptr, *dout = nullptr;
      cudaMalloc(&din, 1000 * sizeof(float));
      cudaMalloc(&dout, sizeof(float));
      cudaMemcpy(din, in.data(), 1000 * sizeof(float), cudaMemcpyHostToDevice);
      cudaMemset(dout, 0, sizeof(float));
      PKG_LAUNCH(block_sum_kernel, 3, 256, 0, 0)(dout, din, 1000);
      expect_clean("block sum");
      float got = 0;
      cudaMemcpy(&got, dout, sizeof(float), cudaMemcpyDeviceToHost);
      require(got == (float)(3 * want), "block sum: got " + std::to_string(got));
      cudaFree(din);
      cudaFree(dout);
    } else if (which == "checks") {
      float* d = nullptr;
      cudaMalloc(&d, 64 * sizeof(float));
      PKG_LAUNCH(oob_kernel, 1, 65, 0, 0)(d, 64);
      expect_report(Check::Memcheck, "write past the allocation");
      PKG_LAUNCH(race_kernel, 1, 64, 0, 0)(d);
      expect_report(Check::Racecheck, "shared write then read without a barrier");
      PKG_LAUNCH(warp_race_kernel, 1, 32, 0, 0)(d);
      expect_clean("shared write, __syncwarp, read in one warp");
      PKG_LAUNCH(uninit_kernel, 1, 32, 0, 0)(d);
      expect_report(Check::Initcheck, "uninitialised shared read");
      PKG_LAUNCH(early_exit_kernel, 1, 64, 0, 0)(d);
      expect_report(Check::Synccheck, "exit before a barrier");
      PKG_LAUNCH(partial_warp_kernel, 1, 48, 0, 0)(d);
      expect_report(Check::Synccheck, "full mask in a 16-lane warp");
      PKG_LAUNCH(dyn_kernel, 1, 32, 32 * sizeof(float), 0)(d, 32);
      expect_clean("dynamic shared memory of the launch's size");
      PKG_LAUNCH(dyn_kernel, 1, 32, 31 * sizeof(float), 0)(d, 32);
      expect_report(Check::Memcheck, "dynamic shared memory one float short");
      float* fresh = nullptr;
      cudaMalloc(&fresh, 64 * sizeof(float));
      PKG_LAUNCH(partial_warp_kernel, 1, 32, 0, 0)(fresh);
      expect_clean("a full warp");
      cudaFree(fresh);
      PKG_LAUNCH(oob_kernel, 1, 32, 0, 0)(fresh, 64);
      expect_report(Check::Memcheck, "use after free");
      cudaMemset(d, 0, 64 * sizeof(float));
      PKG_LAUNCH(global_add_kernel, 2, 1, 0, 0)(d, 0);
      expect_report(Check::Racecheck, "two blocks adding to one global float without an atomic");
      PKG_LAUNCH(global_add_kernel, 1, 2, 0, 0)(d, 0);
      expect_report(Check::Racecheck, "two threads adding to one global float without an atomic");
      cudaMemset(d, 0, 64 * sizeof(float));
      PKG_LAUNCH(global_add_kernel, 3, 64, 0, 0)(d, 1);
      expect_clean("atomicAdd from every thread");
      float h = 0;
      cudaMemcpy(&h, d, sizeof(float), cudaMemcpyDeviceToHost);
      require(h == 192.0f, "atomicAdd total " + std::to_string(h));
      require(cudaMemcpy(&h, d + 64, sizeof(float), cudaMemcpyDeviceToHost) != cudaSuccess, "cudaMemcpy past the end succeeded");
      fml_sim::take_reports();
      cudaFree(d);
    } else if (which == "launch limits") {
      float* d = nullptr;
      cudaMalloc(&d, 2048 * sizeof(float));
      PKG_LAUNCH(oob_kernel, 1, 1025, 0, 0)(d, 2048);
      require(cudaGetLastError() == cudaErrorInvalidConfiguration, "1025 threads per block launched");
      expect_report(Check::Launch, "1025 threads");
      PKG_LAUNCH(oob_kernel, dim3(1, 65536), 32, 0, 0)(d, 2048);
      expect_report(Check::Launch, "grid y of 65536");
      PKG_LAUNCH(dyn_kernel, 1, 32, 49 * 1024, 0)(d, 32);
      require(cudaGetLastError() == cudaErrorInvalidValue, "49 KB of dynamic shared memory without the attribute");
      expect_report(Check::Launch, "49 KB without the attribute");
      require(cudaFuncSetAttribute(dyn_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 49 * 1024) == cudaSuccess,
              "attribute to 49 KB refused");
      PKG_LAUNCH(dyn_kernel, 1, 32, 49 * 1024, 0)(d, 32);
      expect_clean("49 KB with the attribute");
      require(cudaFuncSetAttribute(dyn_kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, 228 * 1024) != cudaSuccess,
              "attribute above 227 KB accepted");
      cudaGetLastError();
      int blocks = 0;
      cudaOccupancyMaxActiveBlocksPerMultiprocessor(&blocks, block_sum_kernel, 256, 0);
      require(blocks == 8, "occupancy of 256-thread blocks: " + std::to_string(blocks));
      cudaFree(d);
    } else {
      return "unknown self-test " + which;
    }
  } catch (const SelfTestFailure& f) {
    return f.why;
  }
  return "";
}
