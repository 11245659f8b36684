// The benchmark-only entry points, compiled only into fused_multilabel_bench.node (npm run build:bench;
// bench/run.mjs builds it on demand), never into the addon users load:
//   _copyBytes(dst, src)          the memory-copy reference of the loss benchmarks
//   _benchSgemm(...), _fmaPeak(n) the CPU matrix-product benchmark (bench/encoder.bench.mjs)
//   _benchEncoderKernels(options) the per-kernel GPU benchmark (bench/gpu/encoder_gpu.mjs)
//   _sgemm(...)                   sgemm_cpu with its epilogue, for test/encoder/sgemm.test.js
//   _dropoutKeep(...)             dropout_keep_cpu's mask values, for test/encoder/dropout.test.js
//
// _benchEncoderKernels(options): the per-kernel GPU benchmark behind bench/gpu/encoder_gpu.mjs.
//
// Allocates device buffers for BERT-base shapes (B 32, T 128, C 768, NH 12, FF 3072 by default) and
// times every encoder kernel through the same CUDA launchers the model calls, with cudaEvents on the
// default stream: `warmup` untimed runs, then the median of `reps` timed ones. Memory-bound kernels are
// reported in GB/s of compulsory traffic (each input read once, each output written once; gathers count
// the rows they touch) next to a device-to-device cudaMemcpy moving the same traffic (bytes/2 copied =
// bytes/2 read + bytes/2 written). Matrix products are timed on the raw sgemm launcher (no bias) with
// the transposes matmul_forward/backward_cuda use, and reported in TFLOP/s (2·M·N·K).
//
// CUDA only: without FML_HAVE_CUDA, or with no usable device, it throws ERR_CUDA. Synchronous (it is a
// benchmark, not an API): the caller's thread waits. Every allocation is owned by an RAII holder, so an
// error on any path frees what was allocated.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "../core/device.h"
#include "../core/parallel.h"
#include "../ops/dropout.h"
#include "../ops/matmul.h"
#include "addon_data.h"
#include "tensor_binding.h"

#ifdef FML_HAVE_CUDA
#include <cuda_runtime.h>

#include "../core/cuda_check.h"

#include "../model/encoder.h"
#include "../ops/adamw.h"
#include "../ops/attention.h"
#include "../ops/bce.h"
#include "../ops/embedding.h"
#include "../ops/gelu.h"
#include "../ops/layernorm.h"
#endif

namespace pkg {

namespace {

struct BenchOptions {
  int B = 32, T = 128, C = 768, NH = 12, FF = 3072, L = 12, V = 30522, K = 20;
  int reps = 20, warmup = 3;
  int bce_rows = 4096, bce_cols = 1536;
  int64_t bce_large = 64ll << 20;  // elements of the second BCE run
};

BenchOptions parse_options(const Napi::Value& v) {
  BenchOptions o;
  if (v.IsUndefined() || v.IsNull()) return o;
  if (!v.IsObject() || v.IsArray() || v.IsFunction())
    throw_type("Expected an options object for options but received " + js_type_name(v));
  Napi::Object obj = v.As<Napi::Object>();
  static const char* const known[] = {"batch", "seqLen", "hidden", "heads", "ffn", "layers", "vocab", "numLabels",
                                      "reps", "warmup", "bceRows", "bceCols", "bceLargeElements"};
  Napi::Array keys = obj.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); i++) {
    const std::string k = keys.Get(i).ToString().Utf8Value();
    if (std::find_if(std::begin(known), std::end(known), [&](const char* s) { return k == s; }) == std::end(known)) {
      std::string list;
      for (const char* s : known) list += (list.empty() ? "" : ", ") + std::string(s);
      throw_range("Unknown option \"" + k + "\" for options (known: " + list + ")");
    }
  }
  auto opt = [&](const char* key, int64_t def, int64_t lo, int64_t hi) -> int64_t {
    Napi::Value x = obj.Get(key);
    if (x.IsUndefined() || x.IsNull()) return def;
    return require_int(x, key, lo, hi);
  };
  o.B = (int)opt("batch", o.B, 1, 4096);
  o.T = (int)opt("seqLen", o.T, 1, 512);  // the fused attention kernel's range
  o.C = (int)opt("hidden", o.C, 1, 16384);
  o.NH = (int)opt("heads", o.NH, 1, 1024);
  o.FF = (int)opt("ffn", o.FF, 1, 65536);
  o.L = (int)opt("layers", o.L, 0, 128);
  o.V = (int)opt("vocab", o.V, 2, 1 << 22);
  o.K = (int)opt("numLabels", o.K, 1, 1 << 20);
  o.reps = (int)opt("reps", o.reps, 1, 10000);
  o.warmup = (int)opt("warmup", o.warmup, 0, 10000);
  o.bce_rows = (int)opt("bceRows", o.bce_rows, 1, 1 << 24);
  o.bce_cols = (int)opt("bceCols", o.bce_cols, 1, 1 << 24);
  o.bce_large = opt("bceLargeElements", o.bce_large, 1, 1ll << 32);
  if (o.C % o.NH != 0)
    throw_range("Expected hidden (" + std::to_string(o.C) + ") divisible by heads (" + std::to_string(o.NH) + ")");
  return o;
}

#ifdef FML_HAVE_CUDA

// Device memory owned for the duration of the benchmark (freed on every path).
class DeviceMem {
 public:
  explicit DeviceMem(size_t bytes) : p_(device_alloc(Device::Cuda, bytes < 4 ? 4 : bytes)) {}
  ~DeviceMem() { device_free(Device::Cuda, p_); }
  DeviceMem(const DeviceMem&) = delete;
  DeviceMem& operator=(const DeviceMem&) = delete;
  float* f() const { return static_cast<float*>(p_); }
  template <typename T>
  T* as() const { return static_cast<T*>(p_); }
  void* raw() const { return p_; }

 private:
  void* p_;
};

class Event {
 public:
  Event() { PKG_CUDA_CALL(cudaEventCreate(&e_)); }
  ~Event() { (void)cudaEventDestroy(e_); }  // a destructor never throws
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;
  cudaEvent_t get() const { return e_; }

 private:
  cudaEvent_t e_ = nullptr;
};

// Deterministic fill through a bounded host staging buffer: values in [lo, hi), or 0/1 when `binary`.
// Real data rather than zeros, so no kernel takes an unrepresentative shortcut.
void fill(float* dst, int64_t n, float lo, float hi, bool binary = false) {
  const int64_t chunk = std::min<int64_t>(n, 1 << 20);
  std::vector<float> host((size_t)std::max<int64_t>(chunk, 1));
  uint32_t s = 0x9e3779b9u;
  for (auto& x : host) {
    s = s * 1664525u + 1013904223u;
    const float u = (float)(s >> 8) * (1.0f / 16777216.0f);
    x = binary ? (u < 0.15f ? 1.0f : 0.0f) : lo + (hi - lo) * u;
  }
  for (int64_t off = 0; off < n; off += chunk) {
    const int64_t m = std::min(chunk, n - off);
    PKG_CUDA_CALL(cudaMemcpy(dst + off, host.data(), (size_t)m * sizeof(float), cudaMemcpyHostToDevice));
  }
}

struct Timer {
  int warmup, reps;
  Event a, b;
  // Median milliseconds of fn() over `reps` runs on the default stream, after `warmup` untimed runs.
  double operator()(const std::function<void()>& fn) {
    for (int i = 0; i < warmup; i++) fn();
    PKG_CUDA_CALL(cudaDeviceSynchronize());
    std::vector<float> t;
    t.reserve((size_t)reps);
    for (int i = 0; i < reps; i++) {
      PKG_CUDA_CALL(cudaEventRecord(a.get(), 0));
      fn();
      PKG_CUDA_CALL(cudaEventRecord(b.get(), 0));
      PKG_CUDA_CALL(cudaEventSynchronize(b.get()));
      float ms = 0.0f;
      PKG_CUDA_CALL(cudaEventElapsedTime(&ms, a.get(), b.get()));
      t.push_back(ms);
    }
    PKG_CUDA_CALL(cudaGetLastError());
    std::sort(t.begin(), t.end());
    const size_t n = t.size();
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
  }
};

std::string dims(std::initializer_list<int64_t> d) {
  std::string s;
  for (int64_t x : d) s += (s.empty() ? "" : "×") + std::to_string(x);
  return s;
}

struct KernelRow {
  std::string kernel, shape;
  double ms, bytes, copy_ms;
};
struct GemmRow {
  std::string gemm;
  int64_t M, N, K;
  bool ta, tb;  // op(A) = Aᵀ / op(B) = Bᵀ, so a reference library can run the same product
  double ms;
};

struct BenchResult {
  std::vector<KernelRow> kernels;
  std::vector<GemmRow> gemms;
  std::string device;
  int64_t nparams = 0;
};

BenchResult run_bench(const BenchOptions& o) {
  require_cuda();
  BenchResult r;
  {
    int dev = 0;
    cudaDeviceProp prop;
    PKG_CUDA_CALL(cudaGetDevice(&dev));
    PKG_CUDA_CALL(cudaGetDeviceProperties(&prop, dev));
    r.device = prop.name;
  }
  const int B = o.B, T = o.T, C = o.C, NH = o.NH, FF = o.FF, TV = 2;
  const int64_t BT = (int64_t)B * T, BTC = BT * C, BTF = BT * FF, ATT = (int64_t)B * NH * T * T;
  const int P = std::max(T, 512);
  const float p_drop = 0.1f;
  const uint64_t seed = 1234, offset = 0;
  const double f4 = sizeof(float);

  // BERT-base parameter count from the model's own table (same layout as the encoder's arena).
  EncoderConfig cfg;
  cfg.arch = Arch::Bert;
  cfg.V = o.V; cfg.C = C; cfg.L = o.L; cfg.NH = NH; cfg.FF = FF; cfg.P = P; cfg.TV = TV; cfg.K = o.K;
  for (const ParamEntry& e : param_entries(cfg)) r.nparams += (int64_t)e.numel;
  const int64_t NP = r.nparams;

  // Inputs: token ids spread over the vocabulary, alternating token types, a full attention mask.
  std::vector<int32_t> h_ids((size_t)BT), h_tt((size_t)BT);
  std::vector<uint8_t> h_mask((size_t)BT, 1);
  for (int64_t i = 0; i < BT; i++) {
    h_ids[(size_t)i] = (int32_t)(1 + (i * 7919) % (o.V - 1));
    h_tt[(size_t)i] = (int32_t)((i / std::max(1, T / 2)) % TV);
  }
  DeviceMem ids(BT * 4), tt(BT * 4), mask(BT);
  PKG_CUDA_CALL(cudaMemcpy(ids.raw(), h_ids.data(), BT * 4, cudaMemcpyHostToDevice));
  PKG_CUDA_CALL(cudaMemcpy(tt.raw(), h_tt.data(), BT * 4, cudaMemcpyHostToDevice));
  PKG_CUDA_CALL(cudaMemcpy(mask.raw(), h_mask.data(), BT, cudaMemcpyHostToDevice));

  Timer time{o.warmup, o.reps, {}, {}};
  // The copy reference: one D2D copy buffer pair of the largest size asked for, timed once per size.
  std::vector<std::pair<double, double>> copy_cache;  // (bytes, ms)
  auto add = [&](const char* name, const std::string& shape, double bytes, const std::function<void()>& fn) {
    KernelRow row{name, shape, time(fn), bytes, 0.0};
    r.kernels.push_back(row);
  };

  // ---- embeddings, LayerNorm, residual/dropout, GELU, attention: activation-sized buffers
  {
    DeviceMem wte((int64_t)o.V * C * 4), wpe((int64_t)P * C * 4), wtt((int64_t)TV * C * 4);
    DeviceMem x(BTC * 4), y(BTC * 4), z(BTC * 4), w(BTC * 4);
    DeviceMem lnw(C * 4), lnb(C * 4), dlnw(C * 4), dlnb(C * 4), mean(BT * 4), rstd(BT * 4);
    DeviceMem f1(BTF * 4), f2(BTF * 4), f3(BTF * 4);
    DeviceMem q(BTC * 4), k(BTC * 4), v(BTC * 4), dq(BTC * 4), dk(BTC * 4), dv(BTC * 4), att(ATT * 4);
    fill(wte.f(), (int64_t)o.V * C, -0.05f, 0.05f);
    fill(wpe.f(), (int64_t)P * C, -0.05f, 0.05f);
    fill(wtt.f(), (int64_t)TV * C, -0.05f, 0.05f);
    for (const DeviceMem* m : {&x, &y, &z, &w, &q, &k, &v}) fill(m->f(), BTC, -1.0f, 1.0f);
    for (const DeviceMem* m : {&f1, &f2, &f3}) fill(m->f(), BTF, -2.0f, 2.0f);
    fill(lnw.f(), C, 0.9f, 1.1f);
    fill(lnb.f(), C, -0.1f, 0.1f);
    fill(dlnw.f(), C, 0.0f, 0.0f);
    fill(dlnb.f(), C, 0.0f, 0.0f);
    const std::string btc = dims({B, T, C}), btf = dims({B, T, FF});

    add("embedding forward (word + position + type)", btc,
        f4 * (BTC /* gathered word rows */ + (double)T * C + (double)TV * C + BTC /* out */) + 8.0 * BT,
        [&] { embedding_forward_cuda(x.f(), ids.as<int32_t>(), tt.as<int32_t>(), wte.f(), wpe.f(), wtt.f(), B, T, C, 0); });
    // Scatter-add: dout read, and the touched rows of each table read and written.
    add("embedding backward (scatter-add)", btc,
        f4 * (BTC + 2.0 * BTC + 2.0 * T * C + 2.0 * TV * C) + 8.0 * BT,
        [&] { embedding_backward_cuda(wte.f(), wpe.f(), wtt.f(), y.f(), ids.as<int32_t>(), tt.as<int32_t>(), B, T, C, 0, 0); });
    // (The backward accumulates into the tables on every repetition; nothing below reads them.)
    add("layernorm forward", btc, f4 * (2.0 * BTC + 2.0 * C + 2.0 * BT),
        [&] { layernorm_forward_cuda(z.f(), mean.f(), rstd.f(), x.f(), lnw.f(), lnb.f(), BT, C, 1e-12f, 0); });
    add("layernorm backward", btc, f4 * (3.0 * BTC + C + 2.0 * BT + 4.0 * C),
        [&] { layernorm_backward_cuda(w.f(), dlnw.f(), dlnb.f(), y.f(), x.f(), lnw.f(), mean.f(), rstd.f(), BT, C, 0); });
    add("residual add (dropout p 0)", btc, f4 * 3.0 * BTC,
        [&] { dropout_residual_forward_cuda(z.f(), x.f(), y.f(), BTC, 0.0f, seed, offset, 0); });
    add("residual add + dropout p 0.1", btc, f4 * 3.0 * BTC,
        [&] { dropout_residual_forward_cuda(z.f(), x.f(), y.f(), BTC, p_drop, seed, offset, 0); });
    add("dropout forward p 0.1", btc, f4 * 2.0 * BTC,
        [&] { dropout_forward_cuda(z.f(), x.f(), BTC, p_drop, seed, offset, 0); });
    add("dropout backward p 0.1", btc, f4 * 2.0 * BTC,
        [&] { dropout_backward_cuda(w.f(), y.f(), BTC, p_drop, seed, offset, 0); });
    add("gelu forward (erf)", btf, f4 * 2.0 * BTF, [&] { gelu_forward_cuda(f2.f(), f1.f(), BTF, 0); });
    add("gelu backward", btf, f4 * 3.0 * BTF, [&] { gelu_backward_cuda(f3.f(), f2.f(), f1.f(), BTF, 0); });
    // Fused attention: scores, masked softmax and ·V in one kernel; the probabilities are saved (written
    // once) for backward, which reads them back with q, k, v and dout.
    const std::string attn = dims({B, NH, T, T}) + " (HS " + std::to_string(C / NH) + ")";
    add("attention forward (QKᵀ, masked softmax, dropout p 0.1, ·V; fused)", attn, f4 * (4.0 * BTC + ATT) + (double)BT,
        [&] { attention_forward_cuda(z.f(), att.f(), q.f(), k.f(), v.f(), mask.as<uint8_t>(), B, T, C, NH, p_drop, seed, offset, 0); });
    add("attention backward (fused, dropout p 0.1)", attn, f4 * (7.0 * BTC + ATT),
        [&] { attention_backward_cuda(dq.f(), dk.f(), dv.f(), y.f(), q.f(), k.f(), v.f(), att.f(), B, T, C, NH, p_drop, seed, offset, 0); });
  }

  // ---- optimizer over every BERT-base parameter: AdamW, the gradient norm, the clipping scale
  {
    DeviceMem p(NP * 4), g(NP * 4), m(NP * 4), v(NP * 4);
    fill(p.f(), NP, -0.05f, 0.05f);
    fill(g.f(), NP, -1e-3f, 1e-3f);
    fill(m.f(), NP, -1e-4f, 1e-4f);
    fill(v.f(), NP, 0.0f, 1e-6f);
    const std::string np = std::to_string(NP) + " params";
    AdamWParams a;
    a.lr = 1e-5f;
    a.weight_decay = 0.01f;
    a.t = 10;
    add("AdamW (all parameters)", np, f4 * 7.0 * NP, [&] { adamw_cuda(p.f(), m.f(), v.f(), g.f(), NP, a, 0); });
    // sum_squares_cuda returns the value to the host, so this includes the (tiny) read back.
    add("gradient norm (Σg², all parameters)", np, f4 * NP, [&] { (void)sum_squares_cuda(g.f(), NP, 0); });
    // 1.0 keeps the gradients unchanged across repetitions; the kernel still reads and writes all of them.
    add("gradient clip scale", np, f4 * 2.0 * NP, [&] { scale_cuda(g.f(), NP, 1.0f, 0); });
  }

  // ---- the fused BCE loss (fp32 logits and targets, gradient written): 12 B per element
  for (int64_t n_elem : {(int64_t)o.bce_rows * o.bce_cols, o.bce_large}) {
    const int64_t cols = n_elem == (int64_t)o.bce_rows * o.bce_cols ? o.bce_cols : std::min<int64_t>(1024, n_elem);
    const int64_t rows = std::max<int64_t>(1, n_elem / cols);
    const int64_t n = rows * cols;
    DeviceMem logits(n * 4), targets(n * 4), grad(n * 4);
    fill(logits.f(), n, -8.0f, 8.0f);
    fill(targets.f(), n, 0.0f, 1.0f, true);
    BceArgs args;
    args.N = rows;
    args.K = cols;
    args.logits = logits.raw();
    args.logits_dtype = DType::F32;
    args.targets = targets.raw();
    args.targets_dtype = DType::F32;
    args.dlogits = grad.raw();
    args.reduction = Reduction::Mean;
    // bce_fused_cuda returns the reduced loss to the host (it synchronises): included in the time.
    add("BCE with logits fused (loss + gradient)", dims({rows, cols}), 12.0 * n, [&] { (void)bce_fused_cuda(args); });
  }

  // ---- the copy reference for each byte count (bytes/2 copied: bytes/2 read + bytes/2 written)
  {
    double most = 0;
    for (const KernelRow& k : r.kernels) most = std::max(most, k.bytes);
    const size_t half_max = (size_t)(most / 2) + 16;
    DeviceMem src(half_max), dst(half_max);
    PKG_CUDA_CALL(cudaMemset(src.raw(), 1, half_max));
    for (KernelRow& k : r.kernels) {
      const size_t half = (size_t)(k.bytes / 2);
      double ms = -1;
      for (const auto& c : copy_cache)
        if (c.first == (double)half) ms = c.second;
      if (ms < 0) {
        ms = time([&] { PKG_CUDA_CALL(cudaMemcpyAsync(dst.raw(), src.raw(), half, cudaMemcpyDeviceToDevice, 0)); });
        copy_cache.emplace_back((double)half, ms);
      }
      k.copy_ms = ms;
    }
  }

  // ---- matrix products at the encoder's shapes (rows = B·T), with matmul_*_cuda's transposes
  {
    const int64_t N = BT;
    const int64_t widest = std::max<int64_t>(C, FF);
    DeviceMem A(N * widest * 4), W(widest * widest * 4), Out(N * widest * 4), dW(widest * widest * 4);
    fill(A.f(), N * widest, -1.0f, 1.0f);
    fill(W.f(), widest * widest, -0.05f, 0.05f);
    fill(dW.f(), widest * widest, 0.0f, 0.0f);
    struct Shape { const char* name; int64_t in, out; };
    const Shape shapes[] = {{"q/k/v projection (each)", C, C}, {"attention output", C, C},
                            {"FFN1 (intermediate)", C, FF}, {"FFN2 (output)", FF, C}};
    for (const Shape& s : shapes) {
      const int64_t IC = s.in, OC = s.out;
      const std::string base = s.name;
      // forward: out (N,OC) = inp (N,IC) · weightᵀ
      r.gemms.push_back({base + " forward", N, OC, IC, false, true, time([&] {
                           sgemm_cuda(false, true, N, OC, IC, 1.0f, A.f(), IC, W.f(), IC, 0.0f, Out.f(), OC, 0);
                         })});
      // backward, input gradient: dinp (N,IC) = dout (N,OC) · weight
      r.gemms.push_back({base + " backward dinp", N, IC, OC, false, false, time([&] {
                           sgemm_cuda(false, false, N, IC, OC, 1.0f, A.f(), OC, W.f(), IC, 0.0f, Out.f(), IC, 0);
                         })});
      // backward, weight gradient: dweight (OC,IC) += doutᵀ (OC,N) · inp (N,IC)
      r.gemms.push_back({base + " backward dweight", OC, IC, N, true, false, time([&] {
                           sgemm_cuda(true, false, OC, IC, N, 1.0f, A.f(), OC, Out.f(), IC, 1.0f, dW.f(), IC, 0);
                         })});
    }
  }
  PKG_CUDA_CALL(cudaDeviceSynchronize());
  return r;
}

#endif  // FML_HAVE_CUDA

Napi::Value BenchEncoderKernels(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const BenchOptions o = parse_options(info[0]);
#ifndef FML_HAVE_CUDA
    (void)o;
    throw Error(ErrorCode::Cuda, ErrorKind::Error,
                "_benchEncoderKernels needs CUDA: this build of fused-multilabel was compiled without CUDA "
                "(rebuild with nvcc available and FUSED_MULTILABEL_CUDA unset)");
#else
    const BenchResult r = run_bench(o);
    Napi::Array kernels = Napi::Array::New(env, r.kernels.size());
    for (size_t i = 0; i < r.kernels.size(); i++) {
      const KernelRow& k = r.kernels[i];
      const double gbps = k.ms > 0 ? k.bytes / (k.ms * 1e-3) / 1e9 : 0.0;
      const double copy = k.copy_ms > 0 ? k.bytes / (k.copy_ms * 1e-3) / 1e9 : 0.0;
      Napi::Object row = Napi::Object::New(env);
      row.Set("kernel", k.kernel);
      row.Set("shape", k.shape);
      row.Set("ms", k.ms);
      row.Set("bytes", k.bytes);
      row.Set("gbps", gbps);
      row.Set("copyGbps", copy);
      row.Set("pctOfCopy", copy > 0 ? 100.0 * gbps / copy : 0.0);
      kernels.Set((uint32_t)i, row);
    }
    Napi::Array gemms = Napi::Array::New(env, r.gemms.size());
    for (size_t i = 0; i < r.gemms.size(); i++) {
      const GemmRow& g = r.gemms[i];
      Napi::Object row = Napi::Object::New(env);
      row.Set("gemm", g.gemm);
      row.Set("M", (double)g.M);
      row.Set("N", (double)g.N);
      row.Set("K", (double)g.K);
      row.Set("transA", g.ta);
      row.Set("transB", g.tb);
      row.Set("ms", g.ms);
      row.Set("tflops", g.ms > 0 ? 2.0 * (double)g.M * (double)g.N * (double)g.K / (g.ms * 1e-3) / 1e12 : 0.0);
      gemms.Set((uint32_t)i, row);
    }
    Napi::Object config = Napi::Object::New(env);
    config.Set("batch", o.B);
    config.Set("seqLen", o.T);
    config.Set("hidden", o.C);
    config.Set("heads", o.NH);
    config.Set("ffn", o.FF);
    config.Set("layers", o.L);
    config.Set("vocab", o.V);
    config.Set("parameters", (double)r.nparams);
    config.Set("reps", o.reps);
    config.Set("warmup", o.warmup);
    Napi::Object out = Napi::Object::New(env);
    out.Set("device", r.device);
    out.Set("config", config);
    out.Set("kernels", kernels);
    out.Set("gemms", gemms);
    return out;
#endif
  });
}

// _copyBytes(dst, src): copies src's bytes into dst (typed arrays, or tensors on the same device).
// The memory-copy reference of bench/losses.bench.mjs and bench/gpu/losses_gpu.mjs.
Napi::Value CopyBytes(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (AddonTensor::Is(env, info[0])) {
      Buffer& d = AddonTensor::From(env, info[0], "dst")->buffer();
      Buffer& s = AddonTensor::From(env, info[1], "src")->buffer();
      if (d.device != s.device || d.bytes() < s.bytes()) throw_range("dst must be on src's device and at least as large");
      if (d.device == Device::Cpu) std::memcpy(d.data, s.data, s.bytes());
#ifdef FML_HAVE_CUDA
      else {
        PKG_CUDA_CALL(cudaMemcpy(d.data, s.data, s.bytes(), cudaMemcpyDeviceToDevice));
        PKG_CUDA_CALL(cudaDeviceSynchronize());
      }
#endif
      return env.Undefined();
    }
    if (!info[0].IsTypedArray() || !info[1].IsTypedArray()) throw_type("Expected two typed arrays or two tensors");
    Napi::TypedArray d = info[0].As<Napi::TypedArray>(), s = info[1].As<Napi::TypedArray>();
    if (d.ByteLength() < s.ByteLength()) throw_range("dst is smaller than src");
    std::memcpy(static_cast<uint8_t*>(d.ArrayBuffer().Data()) + d.ByteOffset(),
                static_cast<const uint8_t*>(s.ArrayBuffer().Data()) + s.ByteOffset(), s.ByteLength());
    return env.Undefined();
  });
}

// _benchSgemm(transA, transB, M, N, K, iters, library): { seconds, cpuSeconds } for `iters` products C (M,N) =
// op(A)·op(B) through sgemm_cpu (library false: ours) or OpenBLAS with its own threads (library true; null
// when the build has no OpenBLAS): wall time, and the CPU time of the whole process over the same calls
// (Linux; equal to the wall time elsewhere), which other processes sharing the cores do not inflate.
// For bench/encoder.bench.mjs only.
Napi::Value BenchSgemm(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const bool ta = info[0].ToBoolean().Value(), tb = info[1].ToBoolean().Value();
    const int64_t M = require_int(info[2], "M", 1, 1 << 16), N = require_int(info[3], "N", 1, 1 << 16);
    const int64_t K = require_int(info[4], "K", 1, 1 << 16), iters = require_int(info[5], "iters", 1, 1 << 20);
    const bool lib = info[6].ToBoolean().Value();
    std::vector<float> a((size_t)(M * K), 0.5f), b((size_t)(K * N), 0.25f), c((size_t)(M * N));
    const int64_t lda = ta ? M : K, ldb = tb ? K : N;
    const auto t0 = std::chrono::steady_clock::now();
    const double c0 = cpu_seconds(true);
    for (int64_t i = 0; i < iters; i++) {
      if (!lib) sgemm_cpu(ta, tb, M, N, K, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), N);
      else if (!sgemm_openblas_cpu(ta, tb, M, N, K, 1.0f, a.data(), lda, b.data(), ldb, 0.0f, c.data(), N))
        return info.Env().Null();
    }
    const double cpu = cpu_seconds(true) - c0;
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    Napi::Object r = Napi::Object::New(info.Env());
    r.Set("seconds", s);
    r.Set("cpuSeconds", cpu < 0 ? s : cpu);
    return r;
  });
}

// _dropoutKeep(n, p, seed, offset, first): dropout_keep_cpu's keep values (0 or 1 / (1 − p)) of elements first ..
// first + n − 1 of a site: the test entry point of test/encoder/dropout.test.js.
Napi::Value DropoutKeep(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const int64_t n = require_int(info[0], "n", 0, 1 << 24);
    const float p = (float)info[1].ToNumber().DoubleValue();
    if (!(p > 0.0f && p < 1.0f)) throw_range("_dropoutKeep: p must be in (0, 1)");
    const int64_t big = (int64_t)1 << 53;
    const uint64_t seed = (uint64_t)require_int(info[2], "seed", 0, big);
    const uint64_t offset = (uint64_t)require_int(info[3], "offset", 0, big);
    const uint64_t first = (uint64_t)require_int(info[4], "first", 0, big);
    Napi::Float32Array out = Napi::Float32Array::New(info.Env(), (size_t)n);
    dropout_keep_cpu(out.Data(), n, p, seed, offset, first);
    return out;
  });
}

// _sgemm(transA, transB, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, bias, gelu, residual, ldr): sgemm_cpu
// in place on C with the epilogue, on the calling thread: the test entry point of test/encoder/sgemm.test.js.
Napi::Value Sgemm(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const bool ta = info[0].ToBoolean().Value(), tb = info[1].ToBoolean().Value();
    const int64_t M = require_int(info[2], "M", 1, 1 << 16), N = require_int(info[3], "N", 1, 1 << 16);
    const int64_t K = require_int(info[4], "K", 0, 1 << 16);
    const float alpha = (float)info[5].ToNumber().DoubleValue(), beta = (float)info[10].ToNumber().DoubleValue();
    const int64_t lda = require_int(info[7], "lda", 0, 1 << 20), ldb = require_int(info[9], "ldb", 0, 1 << 20);
    const int64_t ldc = require_int(info[12], "ldc", N, 1 << 20);
    if (lda < (ta ? M : K) || ldb < (tb ? K : N)) throw_range("_sgemm: lda/ldb smaller than a row");
    const float* A = require_typed<float>(info[6], napi_float32_array, "Float32Array", "A", (ta ? K : M) * lda);
    const float* B = require_typed<float>(info[8], napi_float32_array, "Float32Array", "B", (tb ? N : K) * ldb);
    float* C = const_cast<float*>(require_typed<float>(info[11], napi_float32_array, "Float32Array", "C", M * ldc));
    SgemmEpilogue e;
    if (!info[13].IsNull()) e.bias = require_typed<float>(info[13], napi_float32_array, "Float32Array", "bias", N);
    e.gelu = info[14].ToBoolean().Value();
    if (!info[15].IsNull()) {
      e.ldr = require_int(info[16], "ldr", N, 1 << 20);
      e.residual = require_typed<float>(info[15], napi_float32_array, "Float32Array", "residual", M * e.ldr);
    }
    sgemm_cpu(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, &e);
    return info.Env().Undefined();
  });
}

}  // namespace

void init_bench(Napi::Env env, Napi::Object exports) {
  exports.Set("_benchEncoderKernels", Napi::Function::New(env, BenchEncoderKernels));
  exports.Set("_copyBytes", Napi::Function::New(env, CopyBytes, "_copyBytes"));
  exports.Set("_benchSgemm", Napi::Function::New(env, BenchSgemm));
  exports.Set("_sgemm", Napi::Function::New(env, Sgemm, "_sgemm"));
  exports.Set("_dropoutKeep", Napi::Function::New(env, DropoutKeep, "_dropoutKeep"));
  exports.Set("_fmaPeak", Napi::Function::New(env, [](const Napi::CallbackInfo& info) -> Napi::Value {
                return guarded(info.Env(), [&]() -> Napi::Value {
                  const int64_t rounds = require_int(info[0], "rounds", 1, (int64_t)1 << 40);
                  return Napi::Number::New(info.Env(), sgemm_fma_peak_gflops(rounds));
                });
              }));
}

}  // namespace pkg
