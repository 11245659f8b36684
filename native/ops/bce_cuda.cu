// CUDA twin of the fused BCE-family loss (see bce.h and shared/LOSS_SPEC.md). Same per-element math as
// the CPU twin (the inline functions of bce.h, including the exp/log polynomials).
//
// Launches per call: one fused forward+backward kernel and one single-block finalize that adds the
// per-block loss partials in a fixed order (deterministic; no float atomics). A small pre-pass kernel
// over the mask/targets runs only when the mean needs a mask count or when the gradient goes to
// caller-visible memory (gradOut/inPlace), where a bad target must leave it untouched.
//   - BCE/focal/ASL: grid-stride over groups of 4 elements, 128-bit loads/stores of fp32 logits, targets
//     and gradients (64-bit for fp16/bf16, 32-bit for int8/uint8 targets: read as bytes), int64 indexing;
//     when a pointer is not aligned for that (an offset view), the same kernel runs element by element.
//     Grids are as large as what is resident at once (occupancy), the loops stride over the rest.
//   - DB: one block per row; the block first reduces R_n = Σ_k y/n_k over the row, then runs the element
//     pass over the same row (still one launch).
// Template flags: the logits type, the targets type, the variant, OPTS (any weight/mask/ignore/
// smoothing: plain BCE compiles without a single optional load) and VEC (aligned 4-element access).
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <type_traits>
#include <cmath>
#include <mutex>
#include <string>
#include <vector>

#include "../core/common.h"
#include "cuda_util.cuh"
#include "bce.h"

namespace pkg {

namespace {

constexpr int kThreads = 256;

struct F16Tag {};
struct BF16Tag {};

// ---- logits/gradient storage ----
template <typename LT>
struct LTraits;
template <>
struct LTraits<float> {
  static __device__ __forceinline__ float load1(const void* p, int64_t i) { return static_cast<const float*>(p)[i]; }
  static __device__ __forceinline__ void load4(const void* p, int64_t i0, float* v) {
    float4 q = reinterpret_cast<const float4*>(static_cast<const float*>(p) + i0)[0];
    v[0] = q.x; v[1] = q.y; v[2] = q.z; v[3] = q.w;
  }
  static __device__ __forceinline__ void store1(void* p, int64_t i, float v) { static_cast<float*>(p)[i] = v; }
  static __device__ __forceinline__ void store4(void* p, int64_t i0, const float* v) {
    reinterpret_cast<float4*>(static_cast<float*>(p) + i0)[0] = make_float4(v[0], v[1], v[2], v[3]);
  }
};
template <typename Tag>
struct L16 {
  static __device__ __forceinline__ float cvt(uint16_t h) {
    return std::is_same<Tag, F16Tag>::value ? f16_to_f32(h) : bf16_to_f32(h);
  }
  static __device__ __forceinline__ uint16_t back(float f) {  // the one rounding, at the store
    return std::is_same<Tag, F16Tag>::value ? f32_to_f16(f) : f32_to_bf16(f);
  }
  static __device__ __forceinline__ float load1(const void* p, int64_t i) { return cvt(static_cast<const uint16_t*>(p)[i]); }
  static __device__ __forceinline__ void load4(const void* p, int64_t i0, float* v) {
    ushort4 q = reinterpret_cast<const ushort4*>(static_cast<const uint16_t*>(p) + i0)[0];
    v[0] = cvt(q.x); v[1] = cvt(q.y); v[2] = cvt(q.z); v[3] = cvt(q.w);
  }
  static __device__ __forceinline__ void store1(void* p, int64_t i, float v) { static_cast<uint16_t*>(p)[i] = back(v); }
  static __device__ __forceinline__ void store4(void* p, int64_t i0, const float* v) {
    reinterpret_cast<ushort4*>(static_cast<uint16_t*>(p) + i0)[0] = make_ushort4(back(v[0]), back(v[1]), back(v[2]), back(v[3]));
  }
};
template <>
struct LTraits<F16Tag> : L16<F16Tag> {};
template <>
struct LTraits<BF16Tag> : L16<BF16Tag> {};

// ---- targets ----
// int8/uint8 targets are read as bytes (4 at a time: char4/uchar4), float targets as float4.
template <typename TT> struct Vec4;
template <> struct Vec4<float> { using type = float4; };
template <> struct Vec4<int8_t> { using type = char4; };
template <> struct Vec4<uint8_t> { using type = uchar4; };
template <typename TT>
struct TTraits {
  static __device__ __forceinline__ float load1(const void* p, int64_t i) { return (float)static_cast<const TT*>(p)[i]; }
  static __device__ __forceinline__ void load4(const void* p, int64_t i0, float* v) {
    const typename Vec4<TT>::type q = reinterpret_cast<const typename Vec4<TT>::type*>(static_cast<const TT*>(p) + i0)[0];
    v[0] = q.x; v[1] = q.y; v[2] = q.z; v[3] = q.w;
  }
};

struct DevArgs {
  int64_t N, K, NK;
  const void* logits;
  const void* targets;
  const float *pw, *sw, *cw, *ew;
  const uint8_t* mask;
  int has_ign;
  float ign;
  float eps;
  const float *nu, *inv_n;
  void* dl;
  float* loss_out;
  float gs;
  int hard;
  float* partials;               // one per block
  unsigned long long* count;     // pre-pass
  long long* first_bad;          // LLONG_MAX when none
  double* result;                // finalize output
  bce_math::Params P;
};

// Unmasked?  Smoothed target, element weight, pos weight. Bad targets set the error flag (int atomic).
template <bool OPTS>
__device__ __forceinline__ bool prep_elem(const DevArgs& a, float yraw, int64_t i, int64_t n, int64_t k, float& y,
                                          float& w, float& p) {
  bool use = true;
  if (OPTS) {
    if (a.mask) use = a.mask[i] != 0;
    if (a.has_ign && yraw == a.ign) use = false;
  }
  if (use && !bce_math::target_ok(yraw)) {
    atomicMin(a.first_bad, (long long)i);
    use = false;
  }
  y = use ? yraw : 0.0f;
  w = 1.0f;
  p = 1.0f;
  if (OPTS) {
    if (a.eps != 0.0f) y = use ? yraw * (1.0f - a.eps) + 0.5f * a.eps : 0.0f;
    if (a.sw || a.cw || a.ew) {
      float sw = a.sw ? a.sw[n] : 1.0f;
      w = a.cw ? sw * a.cw[k] : sw;
      if (a.ew) w *= a.ew[i];
    }
    if (a.pw) p = a.pw[k];
  }
  return use;
}

template <LossVariant V>
__device__ __forceinline__ void elem_math(float x, float y, float w, float p, const bce_math::Params& P, float& l, float& g) {
  if (V == LossVariant::Bce) bce_math::bce_focal_elem<false>(x, y, w, p, P, l, g);
  else if (V == LossVariant::Focal) {
    // γ = 2 as a square, like the CPU twin (a warp-uniform branch)
    if (P.focal_pow && P.gamma == 2.0f) bce_math::bce_focal_elem<true, true>(x, y, w, p, P, l, g);
    else bce_math::bce_focal_elem<true>(x, y, w, p, P, l, g);
  }
  else bce_math::asl_elem(x, y, w, p, P, l, g);
}

// Block sum in a fixed order; the result is valid in every thread. `sh` holds 32 floats.
__device__ __forceinline__ float block_sum(float v, float* sh) {
  const int lane = threadIdx.x & 31, wid = threadIdx.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // sh may still be read from a previous call
  if (lane == 0) sh[wid] = v;
  __syncthreads();
  const int nw = (blockDim.x + 31) >> 5;
  float t = threadIdx.x < nw ? sh[threadIdx.x] : 0.0f;
  if (wid == 0) t = warp_sum(t);
  if (threadIdx.x == 0) sh[0] = t;
  __syncthreads();
  return sh[0];
}

// One element's outputs, selected by use (a masked NaN/Inf never leaks): the loss into acc and loss_out, the
// gradient scaled by gs into dl.
template <typename LT>
__device__ __forceinline__ void put_elem(const DevArgs& a, int64_t i, bool use, float l, float g, float& acc) {
  l = use ? l : 0.0f;
  acc += l;
  if (a.dl) LTraits<LT>::store1(a.dl, i, use ? g * a.gs : 0.0f);
  if (a.loss_out) a.loss_out[i] = l;
}

// VEC: every vector-loaded pointer is aligned for 4-element loads and stores (the launcher checks); without
// it every element takes the scalar loop below.
template <typename LT, typename TT, LossVariant V, bool OPTS, bool VEC>
__global__ void __launch_bounds__(kThreads) bce_elementwise_kernel(DevArgs a) {
  __shared__ float sh[32];
  const bce_math::Params P = a.P;
  float acc = 0.0f;
  const int64_t groups = VEC ? a.NK >> 2 : 0;
  const int64_t stride = (int64_t)gridDim.x * blockDim.x;
  const int64_t tid = (int64_t)blockIdx.x * blockDim.x + threadIdx.x;
  for (int64_t gi = tid; gi < groups; gi += stride) {
    const int64_t i0 = gi << 2;
    float xs[4], ys[4], ls[4], gs[4];
    LTraits<LT>::load4(a.logits, i0, xs);
    TTraits<TT>::load4(a.targets, i0, ys);
    int64_t n = i0 / a.K, k = i0 - n * a.K;
#pragma unroll
    for (int j = 0; j < 4; j++) {
      float y, w, p, l, g;
      const bool use = prep_elem<OPTS>(a, ys[j], i0 + j, n, k, y, w, p);
      elem_math<V>(xs[j], y, w, p, P, l, g);
      ls[j] = use ? l : 0.0f;  // selection: masked NaN/Inf never leak
      gs[j] = use ? g * a.gs : 0.0f;
      acc += ls[j];
      if (++k == a.K) {
        k = 0;
        n++;
      }
    }
    if (a.dl) LTraits<LT>::store4(a.dl, i0, gs);
    if (a.loss_out) reinterpret_cast<float4*>(a.loss_out + i0)[0] = make_float4(ls[0], ls[1], ls[2], ls[3]);
  }
  // the tail (NK not a multiple of 4: at most 3 elements), or every element when the pointers are unaligned
  for (int64_t i = (groups << 2) + tid; i < a.NK; i += stride) {
    const int64_t n = i / a.K, k = i - n * a.K;
    float y, w, p, l, g;
    const bool use = prep_elem<OPTS>(a, TTraits<TT>::load1(a.targets, i), i, n, k, y, w, p);
    elem_math<V>(LTraits<LT>::load1(a.logits, i), y, w, p, P, l, g);
    put_elem<LT>(a, i, use, l, g, acc);
  }
  const float s = block_sum(acc, sh);
  if (threadIdx.x == 0) a.partials[blockIdx.x] = s;
}

// DB: one block per row (grid-stride over rows); R_n first, then the elements of the same row.
template <typename LT, typename TT, bool OPTS>
__global__ void __launch_bounds__(kThreads) bce_db_kernel(DevArgs a) {
  __shared__ float sh[32];
  const bce_math::Params P = a.P;
  float acc = 0.0f;
  for (int64_t n = blockIdx.x; n < a.N; n += gridDim.x) {
    const int64_t row = n * a.K;
    float r = 0.0f;
    for (int64_t k = threadIdx.x; k < a.K; k += blockDim.x) {
      float y, w, p;
      const int64_t i = row + k;
      if (prep_elem<OPTS>(a, TTraits<TT>::load1(a.targets, i), i, n, k, y, w, p)) r += y * a.inv_n[k];
    }
    const float R = block_sum(r, sh);
    for (int64_t k = threadIdx.x; k < a.K; k += blockDim.x) {
      const int64_t i = row + k;
      float y, w, p, l, g;
      const bool use = prep_elem<OPTS>(a, TTraits<TT>::load1(a.targets, i), i, n, k, y, w, p);
      const float rr = bce_math::db_rebalance(a.inv_n[k], R, P);
      const float x = LTraits<LT>::load1(a.logits, i);
      // the CPU twin also takes the one-sided path for float targets that are exactly 0/1: same values
      const bool g2 = P.focal_pow && P.gamma == 2.0f;
      const bool h = a.hard || y == 0.0f || y == 1.0f;
      if (h) {
        if (g2) bce_math::db_elem<true, true>(x, y, w, p, a.nu[k], rr, P, l, g);
        else bce_math::db_elem<true>(x, y, w, p, a.nu[k], rr, P, l, g);
      } else {
        if (g2) bce_math::db_elem<false, true>(x, y, w, p, a.nu[k], rr, P, l, g);
        else bce_math::db_elem<false>(x, y, w, p, a.nu[k], rr, P, l, g);
      }
      put_elem<LT>(a, i, use, l, g, acc);
    }
  }
  const float s = block_sum(acc, sh);
  if (threadIdx.x == 0) a.partials[blockIdx.x] = s;
}

// Pre-pass: unmasked count (int atomics: order-free) and the first bad target.
template <typename TT>
__global__ void __launch_bounds__(kThreads) bce_count_kernel(DevArgs a) {
  __shared__ float sh[32];
  unsigned long long c = 0;
  const int64_t stride = (int64_t)gridDim.x * blockDim.x;
  for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < a.NK; i += stride) {
    const float yraw = TTraits<TT>::load1(a.targets, i);
    bool use = a.mask ? a.mask[i] != 0 : true;
    if (a.has_ign && yraw == a.ign) use = false;
    if (use && !bce_math::target_ok(yraw)) atomicMin(a.first_bad, (long long)i);
    c += use ? 1 : 0;
  }
  (void)sh;
  for (int o = 16; o > 0; o >>= 1) c += __shfl_down_sync(0xffffffffu, c, o);
  if ((threadIdx.x & 31) == 0 && c) atomicAdd(a.count, c);
}

// Finalize: one block adds the partials in a fixed order, in double.
__global__ void __launch_bounds__(1024) bce_finalize_kernel(const float* partials, int n, double* out) {
  __shared__ double sh[1024];
  double s = 0;
  for (int i = threadIdx.x; i < n; i += blockDim.x) s += (double)partials[i];
  sh[threadIdx.x] = s;
  __syncthreads();
  for (int w = blockDim.x / 2; w > 0; w >>= 1) {
    if ((int)threadIdx.x < w) sh[threadIdx.x] += sh[threadIdx.x + w];
    __syncthreads();
  }
  if (threadIdx.x == 0) out[0] = sh[0];
}

// Per-thread scratch (async calls run on several libuv threads): header + DB class terms + partials.
struct Scratch {
  void* p = nullptr;
  size_t bytes = 0;
  int device = -1;
  ~Scratch() {
    if (p) (void)cudaFree(p);  // a destructor never throws
  }
  void* get(size_t need, int dev) {
    if (p && (need > bytes || dev != device)) {
      void* old = p;
      p = nullptr;
      PKG_CUDA_CALL(cudaFree(old));
    }
    if (!p) {
      PKG_CUDA_CALL(cudaMalloc(&p, need));
      bytes = need;
      device = dev;
    }
    return p;
  }
};
thread_local Scratch tl_scratch;

struct Header {
  unsigned long long count;
  long long first_bad;
  double result;
  double pad;
};

int sm_count() {
  int dev = 0, sms = 0;
  PKG_CUDA_CALL(cudaGetDevice(&dev));
  PKG_CUDA_CALL(cudaDeviceGetAttribute(&sms, cudaDevAttrMultiProcessorCount, dev));
  return sms > 0 ? sms : 1;
}

// Grid of a kernel: as many blocks as fit on the device at once (a grid-stride loop does the rest, so a
// second, partial wave of blocks would only add a tail), no more than the work or `cap` (the partials' size).
template <typename Kern>
int resident_grid(Kern kernel, int sms, int64_t work_blocks, int cap) {
  int per_sm = 0;
  PKG_CUDA_CALL(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kThreads, 0));
  const int64_t g = (int64_t)sms * std::max(per_sm, 1);
  return (int)std::max<int64_t>(1, std::min<int64_t>(std::min<int64_t>(g, work_blocks), cap));
}

// Launches the main kernel of a variant; returns its grid (the number of loss partials).
template <typename LT, typename TT, LossVariant V, bool O, bool VEC>
int launch_one(int sms, int cap, const DevArgs& d) {
  if constexpr (V == LossVariant::DistributionBalanced) {
    auto kern = bce_db_kernel<LT, TT, O>;
    const int grid = resident_grid(kern, sms, d.N, cap);  // one block per row, grid-stride over rows
    PKG_LAUNCH(kern, grid, kThreads, 0, 0)(d);
    return grid;
  } else {
    auto kern = bce_elementwise_kernel<LT, TT, V, O, VEC>;
    const int grid = resident_grid(kern, sms, CEIL_DIV((VEC ? d.NK / 4 : d.NK) + 1, kThreads), cap);
    PKG_LAUNCH(kern, grid, kThreads, 0, 0)(d);
    return grid;
  }
}

template <typename LT, typename TT, bool VEC, bool O>
int launch_variant(LossVariant v, int sms, int cap, const DevArgs& d) {
  switch (v) {
    case LossVariant::Bce: return launch_one<LT, TT, LossVariant::Bce, O, VEC>(sms, cap, d);
    case LossVariant::Focal: return launch_one<LT, TT, LossVariant::Focal, O, VEC>(sms, cap, d);
    case LossVariant::Asymmetric: return launch_one<LT, TT, LossVariant::Asymmetric, O, VEC>(sms, cap, d);
    case LossVariant::DistributionBalanced: break;
  }
  return launch_one<LT, TT, LossVariant::DistributionBalanced, O, VEC>(sms, cap, d);
}

template <typename LT, typename TT, bool VEC>
int launch_main(LossVariant kind, bool opts, int sms, int cap, const DevArgs& d) {
  return opts ? launch_variant<LT, TT, VEC, true>(kind, sms, cap, d) : launch_variant<LT, TT, VEC, false>(kind, sms, cap, d);
}

template <typename LT>
int launch_by_targets(DType tt, bool vec, LossVariant kind, bool opts, int sms, int cap, const DevArgs& d) {
  switch (tt) {
    case DType::I8:
      return vec ? launch_main<LT, int8_t, true>(kind, opts, sms, cap, d) : launch_main<LT, int8_t, false>(kind, opts, sms, cap, d);
    case DType::U8:
      return vec ? launch_main<LT, uint8_t, true>(kind, opts, sms, cap, d) : launch_main<LT, uint8_t, false>(kind, opts, sms, cap, d);
    default:
      return vec ? launch_main<LT, float, true>(kind, opts, sms, cap, d) : launch_main<LT, float, false>(kind, opts, sms, cap, d);
  }
}

bool aligned(const void* p, size_t a) { return p == nullptr || reinterpret_cast<uintptr_t>(p) % a == 0; }

std::string fmt_num(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

[[noreturn]] void throw_bad_target_dev(const BceArgs& a, int64_t idx) {
  double v = 0;
  const size_t es = a.targets_dtype == DType::F32 ? 4 : 1;
  unsigned char raw[4] = {0, 0, 0, 0};
  if (cudaMemcpy(raw, static_cast<const unsigned char*>(a.targets) + idx * es, es, cudaMemcpyDeviceToHost) != cudaSuccess) {
    (void)cudaGetLastError();
    throw_range("Expected targets in [0, 1] but the target at row " + std::to_string(idx / a.K) + ", column " +
                std::to_string(idx % a.K) + " is not (its value could not be read back); nothing was computed");
  }
  if (a.targets_dtype == DType::F32) {
    float f;
    std::memcpy(&f, raw, 4);
    v = f;
  } else if (a.targets_dtype == DType::I8) {
    v = (double)(int8_t)raw[0];
  } else {
    v = (double)raw[0];
  }
  throw_range("Expected targets in [0, 1]" +
              std::string(a.has_ignore_value ? " (or the ignore value " + fmt_num(a.ignore_value) + ")" : "") +
              " but received " + fmt_num(v) + " at row " + std::to_string(idx / a.K) + ", column " +
              std::to_string(idx % a.K) + " (class indices given where a multi-hot matrix belongs?); nothing was computed");
}

}  // namespace

BceResult bce_fused_cuda(const BceArgs& a) {
  const BcePrepared prep = bce_prepare(a);
  if (a.logits_dtype != DType::F32 && a.logits_dtype != DType::F16 && a.logits_dtype != DType::BF16)
    throw_type(std::string("Expected float32, float16 or bfloat16 logits but received ") + dtype_name(a.logits_dtype));
  if (a.targets_dtype != DType::F32 && a.targets_dtype != DType::I8 && a.targets_dtype != DType::U8)
    throw_type(std::string("Expected float32, int8 or uint8 targets but received ") + dtype_name(a.targets_dtype));
  BceResult res;
  const int64_t N = a.N, K = a.K, NK = N * K;
  if (N == 0) return res;
  if (!a.logits || !a.targets) throw_type("logits and targets are required");
  if (a.reduction == Reduction::None && !a.loss_out) throw_type("reduction 'none' needs loss_out");
  int dev = 0;
  PKG_CUDA_CALL(cudaGetDevice(&dev));
  const int sms = sm_count();
  const LossVariant kind = prep.kernel;
  // partials: at most one per resident block (2048 threads per SM at most: 8 blocks of kThreads)
  const int cap = sms * (2048 / kThreads);

  const size_t hdr = sizeof(Header);
  const size_t db_bytes = kind == LossVariant::DistributionBalanced ? (size_t)K * 8 : 0;
  const size_t need = hdr + db_bytes + (size_t)cap * 4 + 256;
  char* base = static_cast<char*>(tl_scratch.get(need, dev));
  Header h0{0ull, LLONG_MAX, 0.0, 0.0};
  PKG_CUDA_CALL(cudaMemcpy(base, &h0, hdr, cudaMemcpyHostToDevice));

  DevArgs d{};
  d.N = N;
  d.K = K;
  d.NK = NK;
  d.logits = a.logits;
  d.targets = a.targets;
  d.pw = a.pos_weight;
  d.sw = a.sample_weight;
  d.cw = a.class_weight;
  d.ew = a.element_weight;
  d.mask = a.mask;
  d.has_ign = a.has_ignore_value ? 1 : 0;
  d.ign = a.ignore_value;
  d.eps = a.label_smoothing;
  d.hard = (a.targets_dtype != DType::F32 && a.label_smoothing == 0.0f) ? 1 : 0;
  d.count = reinterpret_cast<unsigned long long*>(base);
  d.first_bad = reinterpret_cast<long long*>(base + 8);
  d.result = reinterpret_cast<double*>(base + 16);
  d.partials = reinterpret_cast<float*>(base + hdr + db_bytes);
  d.P = prep.P;
  if (kind == LossVariant::DistributionBalanced) {
    std::vector<float> terms((size_t)K * 2);
    bce_db_class_terms(a, terms.data(), terms.data() + K);
    PKG_CUDA_CALL(cudaMemcpy(base + hdr, terms.data(), db_bytes, cudaMemcpyHostToDevice));
    d.nu = reinterpret_cast<const float*>(base + hdr);
    d.inv_n = d.nu + K;
  }

  const bool masked = a.mask != nullptr || a.has_ignore_value;
  int64_t count = NK;
  if (masked || a.validate_first) {
    const int cgrid = (int)std::max<int64_t>(1, std::min<int64_t>(CEIL_DIV(NK, kThreads), (int64_t)sms * 8));
    switch (a.targets_dtype) {
      case DType::I8: PKG_LAUNCH(bce_count_kernel<int8_t>, cgrid, kThreads, 0, 0)(d); break;
      case DType::U8: PKG_LAUNCH(bce_count_kernel<uint8_t>, cgrid, kThreads, 0, 0)(d); break;
      default: PKG_LAUNCH(bce_count_kernel<float>, cgrid, kThreads, 0, 0)(d); break;
    }
    PKG_CUDA_CALL(cudaGetLastError());
    Header h;
    PKG_CUDA_CALL(cudaMemcpy(&h, base, hdr, cudaMemcpyDeviceToHost));
    if (h.first_bad != LLONG_MAX) throw_bad_target_dev(a, h.first_bad);
    if (masked) count = (int64_t)h.count;
  }
  res.count = count;
  d.gs = a.reduction == Reduction::Mean ? (count > 0 ? (float)(1.0 / (double)count) : 0.0f) : 1.0f;
  d.dl = a.dlogits;
  d.loss_out = a.reduction == Reduction::None ? a.loss_out : nullptr;
  const bool opts = a.pos_weight || a.sample_weight || a.class_weight || a.element_weight || masked ||
                    a.label_smoothing != 0.0f;
  // 4-element loads and stores need aligned pointers (tensors start aligned; a caller's offset pointer may not)
  const size_t lsz = a.logits_dtype == DType::F32 ? 16 : 8, tsz = a.targets_dtype == DType::F32 ? 16 : 4;
  const bool vec = aligned(a.logits, lsz) && aligned(a.dlogits, lsz) && aligned(a.targets, tsz) && aligned(d.loss_out, 16);
  int grid;
  switch (a.logits_dtype) {
    case DType::F16: grid = launch_by_targets<F16Tag>(a.targets_dtype, vec, kind, opts, sms, cap, d); break;
    case DType::BF16: grid = launch_by_targets<BF16Tag>(a.targets_dtype, vec, kind, opts, sms, cap, d); break;
    default: grid = launch_by_targets<float>(a.targets_dtype, vec, kind, opts, sms, cap, d); break;
  }
  PKG_CUDA_CALL(cudaGetLastError());
  PKG_LAUNCH(bce_finalize_kernel, 1, 1024, 0, 0)(d.partials, grid, d.result);
  PKG_CUDA_CALL(cudaGetLastError());
  Header h;
  PKG_CUDA_CALL(cudaMemcpy(&h, base, hdr, cudaMemcpyDeviceToHost));  // synchronises
  if (h.first_bad != LLONG_MAX) throw_bad_target_dev(a, h.first_bad);
  if (a.reduction != Reduction::None) res.loss = a.reduction == Reduction::Mean ? (count > 0 ? h.result / (double)count : 0.0) : h.result;
  return res;
}

}  // namespace pkg
