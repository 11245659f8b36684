// Test-only CUDA simulator: lets the real kernel sources (native/ops/*_cuda.cu) compile with the host C++
// compiler and run on the CPU with CUDA semantics, checked like compute-sanitizer. Never part of the addon:
// scripts/build-cuda-sim.mjs builds it into a separate test binary (native/testing/cuda_sim_test.cpp).
//
// How it works (details in native/README.md, "The CUDA simulator"):
//   - every block of a launch runs in turn; every thread of a block is a fibre (ucontext) scheduled
//     round-robin: a thread runs until it reaches __syncthreads(), a warp primitive or its end;
//   - __syncthreads() releases only when every thread of the block waits at the same barrier (an exited or
//     diverged thread is a synccheck error); warp primitives rendezvous the lanes named by the mask and
//     check that the mask names exactly the lanes that arrived;
//   - the kernel translation units are compiled with -fsanitize=thread, but without the TSan runtime: the
//     simulator implements the __tsan_read*/__tsan_write* hooks itself and checks every load and store of
//     kernel code against device allocations (memcheck), static/dynamic shared arrays (memcheck), shadow
//     state of shared and global bytes (initcheck) and who touched a shared byte since the last barrier
//     (racecheck);
//   - static __shared__ arrays are function statics in the ELF section fml_sim_shared (bounds from the
//     symbol table); dynamic shared memory is declared with PKG_DYNAMIC_SHARED (cuda_util.cuh).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>

#define FML_CUDA_SIM 1

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline __attribute__((always_inline))
#define __launch_bounds__(...)
#define __shared__ __attribute__((section("fml_sim_shared"), aligned(16))) static

// ---- vector and index types (alignment of a vector load/store is checked like the GPU does) ----
namespace fml_sim {
void check_vector_access(const void* p, size_t align, const char* type);
}

struct uint3 {
  unsigned x, y, z;
};
struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned a = 1, unsigned b = 1, unsigned c = 1) : x(a), y(b), z(c) {}
};

#define FML_SIM_VEC4(name, T, A)                                                         \
  struct alignas(A) name {                                                               \
    T x, y, z, w;                                                                        \
    name() = default;                                                                    \
    constexpr name(T a, T b, T c, T d) : x(a), y(b), z(c), w(d) {}                       \
    name(const name& o) : x(o.x), y(o.y), z(o.z), w(o.w) {                               \
      ::fml_sim::check_vector_access(&o, A, #name);                                      \
    }                                                                                    \
    name& operator=(const name& o) {                                                     \
      ::fml_sim::check_vector_access(this, A, #name);                                    \
      x = o.x, y = o.y, z = o.z, w = o.w;                                                \
      return *this;                                                                      \
    }                                                                                    \
  };                                                                                     \
  inline name make_##name(T a, T b, T c, T d) { return name(a, b, c, d); }
#define FML_SIM_VEC2(name, T, A)                                                          \
  struct alignas(A) name {                                                                \
    T x, y;                                                                               \
    name() = default;                                                                     \
    constexpr name(T a, T b) : x(a), y(b) {}                                              \
    name(const name& o) : x(o.x), y(o.y) { ::fml_sim::check_vector_access(&o, A, #name); } \
    name& operator=(const name& o) {                                                      \
      ::fml_sim::check_vector_access(this, A, #name);                                     \
      x = o.x, y = o.y;                                                                   \
      return *this;                                                                       \
    }                                                                                     \
  };                                                                                      \
  inline name make_##name(T a, T b) { return name(a, b); }
FML_SIM_VEC4(float4, float, 16)
FML_SIM_VEC4(int4, int, 16)
FML_SIM_VEC4(uint4, unsigned, 16)
FML_SIM_VEC4(ushort4, unsigned short, 8)
FML_SIM_VEC4(short4, short, 8)
FML_SIM_VEC4(char4, signed char, 4)
FML_SIM_VEC4(uchar4, unsigned char, 4)
FML_SIM_VEC2(float2, float, 8)
FML_SIM_VEC2(double2, double, 16)
FML_SIM_VEC2(int2, int, 8)
#undef FML_SIM_VEC4
#undef FML_SIM_VEC2

// ---- the runtime API (host memory stands in for device memory) ----
enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidDevicePointer = 17,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorInvalidResourceHandle = 400,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorIllegalAddress = 700,
  cudaErrorLaunchOutOfResources = 701,
  cudaErrorMisalignedAddress = 716,
  cudaErrorLaunchFailure = 719,
};
typedef cudaError_t cudaError;
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};
enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };
enum cudaDeviceAttr {
  cudaDevAttrMaxThreadsPerBlock = 1,
  cudaDevAttrMaxSharedMemoryPerBlock = 8,
  cudaDevAttrWarpSize = 10,
  cudaDevAttrMultiProcessorCount = 16,
  cudaDevAttrMaxThreadsPerMultiProcessor = 39,
  cudaDevAttrComputeCapabilityMajor = 75,
  cudaDevAttrComputeCapabilityMinor = 76,
  cudaDevAttrMaxSharedMemoryPerMultiprocessor = 81,
  cudaDevAttrMaxSharedMemoryPerBlockOptin = 97,
};
struct CUstream_st;
struct CUevent_st;
typedef CUstream_st* cudaStream_t;
typedef CUevent_st* cudaEvent_t;
struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem, sharedMemPerBlock, sharedMemPerMultiprocessor, sharedMemPerBlockOptin;
  int warpSize, maxThreadsPerBlock, maxThreadsDim[3], maxGridSize[3], major, minor, multiProcessorCount,
      maxThreadsPerMultiProcessor, maxBlocksPerMultiProcessor, regsPerBlock, l2CacheSize;
  int clockRate, memoryClockRate, memoryBusWidth;
};

cudaError_t cudaMalloc(void** p, size_t bytes);
cudaError_t cudaMallocAsync(void** p, size_t bytes, cudaStream_t s);
template <class T>
cudaError_t cudaMalloc(T** p, size_t bytes) { return cudaMalloc(reinterpret_cast<void**>(p), bytes); }
template <class T>
cudaError_t cudaMallocAsync(T** p, size_t bytes, cudaStream_t s) {
  return cudaMallocAsync(reinterpret_cast<void**>(p), bytes, s);
}
cudaError_t cudaFree(void* p);
cudaError_t cudaFreeAsync(void* p, cudaStream_t s);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cudaMemcpyKind kind, cudaStream_t s = 0);
cudaError_t cudaMemset(void* p, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void* p, int value, size_t bytes, cudaStream_t s = 0);
cudaError_t cudaMemGetInfo(size_t* free_bytes, size_t* total_bytes);
cudaError_t cudaStreamCreate(cudaStream_t* s);
cudaError_t cudaStreamDestroy(cudaStream_t s);
cudaError_t cudaStreamSynchronize(cudaStream_t s);
cudaError_t cudaDeviceSynchronize();
cudaError_t cudaEventCreate(cudaEvent_t* e);
cudaError_t cudaEventDestroy(cudaEvent_t e);
cudaError_t cudaEventRecord(cudaEvent_t e, cudaStream_t s = 0);
cudaError_t cudaEventSynchronize(cudaEvent_t e);
cudaError_t cudaEventElapsedTime(float* ms, cudaEvent_t a, cudaEvent_t b);
cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
const char* cudaGetErrorString(cudaError_t e);
const char* cudaGetErrorName(cudaError_t e);
cudaError_t cudaGetDeviceCount(int* n);
cudaError_t cudaGetDevice(int* d);
cudaError_t cudaSetDevice(int d);
cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int d);
cudaError_t cudaDeviceGetAttribute(int* v, cudaDeviceAttr a, int d);
cudaError_t cudaRuntimeGetVersion(int* v);
cudaError_t cudaDriverGetVersion(int* v);

namespace fml_sim {
cudaError_t func_set_attribute(const void* kernel, cudaFuncAttribute attr, int value);
cudaError_t occupancy(int* blocks, const void* kernel, int threads, size_t dynamic_smem);
}  // namespace fml_sim
template <class F>
cudaError_t cudaFuncSetAttribute(F* kernel, cudaFuncAttribute attr, int value) {
  return fml_sim::func_set_attribute(reinterpret_cast<const void*>(kernel), attr, value);
}
template <class F>
cudaError_t cudaOccupancyMaxActiveBlocksPerMultiprocessor(int* blocks, F* kernel, int threads, size_t smem) {
  return fml_sim::occupancy(blocks, reinterpret_cast<const void*>(kernel), threads, smem);
}

// ---- the device side ----
namespace fml_sim {

struct Thread;  // one simulated thread (cuda_sim.cpp)
struct Coords {
  uint3 thread, block;
  dim3 block_dim, grid_dim;
};
extern Coords* g_coords;  // the running thread's coordinates (null outside a kernel)

void sync_threads(const char* file, int line);
void* dynamic_shared();
// Warp primitives: one rendezvous of the lanes in `mask`; `bits` is the lane's value (up to 8 bytes).
enum class WarpOp { Idx, Up, Down, Xor, Ballot, Any, All, Sync };
uint64_t warp_op(WarpOp op, unsigned mask, uint64_t bits, int arg, int width, const char* file, int line);

template <class T>
inline T shfl(WarpOp op, unsigned mask, T v, int arg, int width, const char* file, int line) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable<T>::value, "shuffle of a type wider than 8 bytes");
  uint64_t bits = 0;
  std::memcpy(&bits, &v, sizeof(T));
  bits = warp_op(op, mask, bits, arg, width, file, line);
  T r;
  std::memcpy(&r, &bits, sizeof(T));
  return r;
}

// The launch: PKG_LAUNCH(kernel, grid, block, smem, stream)(args...) in cuda_util.cuh.
void run_kernel(const void* kernel, const char* name, dim3 grid, dim3 block, size_t smem, cudaStream_t s,
                void (*body)(void*), void* ctx);

template <class... P>
struct Launch {
  void (*kernel)(P...);
  const char* name;
  dim3 grid, block;
  size_t smem;
  cudaStream_t stream;
  template <class... A>
  void operator()(A&&... a) const {
    std::tuple<std::decay_t<P>...> args(std::forward<A>(a)...);
    struct Ctx {
      void (*k)(P...);
      std::tuple<std::decay_t<P>...>* args;
    } ctx{kernel, &args};
    run_kernel(reinterpret_cast<const void*>(kernel), name, grid, block, smem, stream,
               [](void* c) {
                 Ctx* x = static_cast<Ctx*>(c);
                 std::apply(x->k, *x->args);
               },
               &ctx);
  }
};
template <class... P>
Launch<P...> launch(void (*kernel)(P...), const char* name, dim3 grid, dim3 block, size_t smem, cudaStream_t s) {
  return Launch<P...>{kernel, name, grid, block, smem, s};
}

}  // namespace fml_sim

#define threadIdx (::fml_sim::g_coords->thread)
#define blockIdx (::fml_sim::g_coords->block)
#define blockDim (::fml_sim::g_coords->block_dim)
#define gridDim (::fml_sim::g_coords->grid_dim)
constexpr int warpSize = 32;

inline void __syncthreads(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  fml_sim::sync_threads(file, line);
}
inline void __syncwarp(unsigned mask = 0xffffffffu, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  fml_sim::warp_op(fml_sim::WarpOp::Sync, mask, 0, 0, 32, file, line);
}
template <class T>
inline T __shfl_sync(unsigned mask, T v, int src, int width = 32, const char* file = __builtin_FILE(),
                     int line = __builtin_LINE()) {
  return fml_sim::shfl(fml_sim::WarpOp::Idx, mask, v, src, width, file, line);
}
template <class T>
inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32, const char* file = __builtin_FILE(),
                        int line = __builtin_LINE()) {
  return fml_sim::shfl(fml_sim::WarpOp::Up, mask, v, (int)delta, width, file, line);
}
template <class T>
inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32, const char* file = __builtin_FILE(),
                          int line = __builtin_LINE()) {
  return fml_sim::shfl(fml_sim::WarpOp::Down, mask, v, (int)delta, width, file, line);
}
template <class T>
inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32, const char* file = __builtin_FILE(),
                         int line = __builtin_LINE()) {
  return fml_sim::shfl(fml_sim::WarpOp::Xor, mask, v, lane_mask, width, file, line);
}
inline unsigned __ballot_sync(unsigned mask, int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return (unsigned)fml_sim::warp_op(fml_sim::WarpOp::Ballot, mask, pred != 0, 0, 32, file, line);
}
inline int __any_sync(unsigned mask, int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return (int)fml_sim::warp_op(fml_sim::WarpOp::Any, mask, pred != 0, 0, 32, file, line);
}
inline int __all_sync(unsigned mask, int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return (int)fml_sim::warp_op(fml_sim::WarpOp::All, mask, pred != 0, 0, 32, file, line);
}

// Atomics: implemented in cuda_sim.cpp (not instrumented), bounds-checked there; never a race.
float atomicAdd(float* p, float v);
double atomicAdd(double* p, double v);
int atomicAdd(int* p, int v);
unsigned atomicAdd(unsigned* p, unsigned v);
unsigned long long atomicAdd(unsigned long long* p, unsigned long long v);
int atomicMax(int* p, int v);
int atomicMin(int* p, int v);
long long atomicMin(long long* p, long long v);
long long atomicMax(long long* p, long long v);
int atomicCAS(int* p, int expected, int desired);
unsigned long long atomicCAS(unsigned long long* p, unsigned long long expected, unsigned long long desired);
int atomicExch(int* p, int v);
float atomicExch(float* p, float v);

// Math intrinsics: the host functions (the GPU's fast approximations are not modelled; see README).
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline float __fdividef(float a, float b) { return a / b; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline double rsqrt(double x) { return 1.0 / sqrt(x); }
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }
inline int __float_as_int(float f) { int i; std::memcpy(&i, &f, 4); return i; }
inline unsigned __float_as_uint(float f) { unsigned i; std::memcpy(&i, &f, 4); return i; }
inline float __int_as_float(int i) { float f; std::memcpy(&f, &i, 4); return f; }
inline float __uint_as_float(unsigned i) { float f; std::memcpy(&f, &i, 4); return f; }
inline long long __double_as_longlong(double d) { long long i; std::memcpy(&i, &d, 8); return i; }
inline double __longlong_as_double(long long i) { double d; std::memcpy(&d, &i, 8); return d; }
template <class T>
inline T __ldg(const T* p) { return *p; }
