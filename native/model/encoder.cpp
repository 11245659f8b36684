// The encoder: parameter table → arenas, forward, backward, AdamW, and the fused training step.
// Every op call goes through OP(), the one CPU/CUDA switch: the model code is written once.
#include "encoder.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "../core/common.h"
#include "../core/parallel.h"
#include "../core/philox.h"
#include "../ops/attention.h"
#include "../ops/dropout.h"
#include "../ops/embedding.h"
#include "../ops/gelu.h"
#include "../ops/layernorm.h"
#include "../ops/matmul.h"
#include "../ops/softmax_xent.h"

#ifdef FML_HAVE_CUDA
#include <cuda_runtime.h>

#include "../core/cuda_check.h"
#define OP(name, ...) (cuda_ ? name##_cuda(__VA_ARGS__, (cudaStream_t)0) : name##_cpu(__VA_ARGS__))
#else
#define OP(name, ...) name##_cpu(__VA_ARGS__)
#endif

namespace pkg {

// ---------------------------------------------------------------------------------------------------
// configuration and the parameter table

void validate_config(const EncoderConfig& c) {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw_range("Invalid encoder config: " + what);
  };
  need(c.V >= 1 && c.V <= (1 << 24), "vocabSize must be in [1, 16777216], got " + std::to_string(c.V));
  need(c.C >= 1 && c.C <= 16384, "hiddenSize must be in [1, 16384], got " + std::to_string(c.C));
  need(c.L >= 0 && c.L <= 64, "numLayers must be in [0, 64], got " + std::to_string(c.L));
  need(c.NH >= 1 && c.C % c.NH == 0, "hiddenSize (" + std::to_string(c.C) + ") must be a multiple of numHeads (" +
                                          std::to_string(c.NH) + ")");
  need(c.FF >= 1 && c.FF <= 65536, "intermediateSize must be in [1, 65536], got " + std::to_string(c.FF));
  need(c.P >= 1 && c.P <= 65536, "maxPositions must be in [1, 65536], got " + std::to_string(c.P));
  need(c.K >= 1 && c.K <= 1 << 20, "numLabels must be in [1, 1048576], got " + std::to_string(c.K));
  need(c.arch == Arch::DistilBert ? c.TV == 0 : (c.TV >= 1 && c.TV <= 1024), "typeVocabSize out of range");
  need(c.eps > 0 && c.eps < 1, "layerNormEps must be in (0, 1)");
  for (float p : {c.hidden_dropout, c.attention_dropout, c.classifier_dropout})
    need(p >= 0 && p < 1, "dropout probabilities must be in [0, 1)");
  need(c.pad_id >= -1 && c.pad_id < c.V, "padTokenId must be -1 or a token id");
}

std::vector<ParamEntry> param_entries(const EncoderConfig& c) {
  std::vector<ParamEntry> out;
  size_t offset = 0;
  const bool bert = c.arch == Arch::Bert;
#define PKG_X(field, per_layer, bn, dn, rows, cols)                                                  \
  {                                                                                                  \
    const char* fmt = bert ? bn : dn;                                                                \
    const int64_t r = (rows), k = (cols);                                                            \
    if (fmt && r > 0) {                                                                              \
      const size_t numel = (size_t)r * (size_t)(k > 0 ? k : 1);                                      \
      for (int l = 0; l < (per_layer ? c.L : 1); l++) {                                              \
        ParamEntry e;                                                                                \
        char name[160];                                                                              \
        std::snprintf(name, sizeof name, fmt, l);                                                    \
        e.name = name;                                                                               \
        e.shape = k > 0 ? std::vector<int64_t>{r, k} : std::vector<int64_t>{r};                      \
        e.offset = offset;                                                                           \
        e.numel = numel;                                                                             \
        e.trainable = !(c.sinusoidal && std::string(#field) == "wpe");                               \
        out.push_back(e);                                                                            \
        offset += numel;                                                                             \
      }                                                                                              \
    }                                                                                                \
  }
  PKG_ENCODER_PARAMS(PKG_X)
#undef PKG_X
  return out;
}

// Points every field of `t` into `base` in table order (null for tensors the architecture lacks).
static void point_params(ParamTensors& t, float* base, const EncoderConfig& c) {
  size_t offset = 0;
  const bool bert = c.arch == Arch::Bert;
#define PKG_X(field, per_layer, bn, dn, rows, cols)                                \
  {                                                                                \
    const char* fmt = bert ? bn : dn;                                              \
    const size_t r = (size_t)(rows), k = (size_t)(cols);                           \
    const size_t numel = (fmt && r > 0) ? r * (k > 0 ? k : 1) * (per_layer ? c.L : 1) : 0; \
    t.field = numel ? base + offset : nullptr;                                     \
    offset += numel;                                                               \
  }
  PKG_ENCODER_PARAMS(PKG_X)
#undef PKG_X
}

// ---------------------------------------------------------------------------------------------------
// activations: one table of (name, floats for training, floats for inference) for a given B×T; inputs
// are stored in float-sized slots. The inference arena holds one layer's worth of the few buffers a
// forward without saved activations needs; the others alias into it (see infer_view) or are null.

#define PKG_ENCODER_ACTS(X)                                                                                      \
  X(ids, BT, BT) X(tt, BT, BT) X(mask, (BT + 3) / 4, (BT + 3) / 4)                                                  \
  X(emb, BTC, 0) X(emb_mean, BT, BT) X(emb_rstd, BT, BT) X(x0, BTC, BTC)                                          \
  X(q, L * BTC, BTC) X(k, L * BTC, BTC) X(v, L * BTC, BTC) X(ctx, L * BTC, BTC) X(att, L * B * NH * T * T, 0)     \
  X(res1, L * BTC, 0) X(ln1, L * BTC, BTC) X(ln1_mean, L * BT, 0) X(ln1_rstd, L * BT, 0)                          \
  X(fc1, L * BTF, 0) X(gel, L * BTF, BTG) X(res2, L * BTC, 0) X(ln2, L * BTC, 0) X(ln2_mean, L * BT, 0)           \
  X(ln2_rstd, L * BT, 0) X(scratch, BTC, 0) X(pooled, BC, BC) X(pool_pre, BC, BC) X(pool_act, BC, BC)             \
  X(cls_in, BC, 0) X(logits, BK, BK) X(dy, BTC, 0) X(dres, BTC, 0) X(dtmp, BTC, 0) X(dff, BTF, 0) X(dq, BTC, 0)   \
  X(dk, BTC, 0) X(dv, BTC, 0) X(dpool, BC, 0) X(dpool2, BC, 0) X(dlogits, BK, 0)

struct Encoder::Acts {
#define PKG_X(name, count, infer_count) float* name;
  PKG_ENCODER_ACTS(PKG_X)
#undef PKG_X
};

// The row stride of the inference arena's GELU buffer, fc2's input. The SGEMM reads a product's left operand in
// place (no packing) unless its rows are a multiple of 512 floats apart, where the micro-kernel's rows would
// share L1 sets (sgemm_cpu.cpp gemm_rect): FF 1024 or 3072 rows get 16 floats (one cache line) of padding,
// so that fc2 reads them in place as the other products do.
static int64_t gel_stride(const EncoderConfig& c) { return c.FF % 512 == 0 ? c.FF + 16 : c.FF; }

static size_t acts_floats(const EncoderConfig& c, int B_, int T_, bool infer, Encoder::Acts* a, float* base) {
  const size_t B = (size_t)B_, T = (size_t)T_, L = (size_t)c.L, NH = (size_t)c.NH;
  const size_t BT = B * T, BTC = BT * c.C, BTF = BT * c.FF, BC = B * c.C, BK = B * c.K;
  const size_t BTG = BT * (size_t)gel_stride(c);  // the inference arena's GELU buffer
  size_t off = 0;
#define PKG_X(name, count, infer_count)                            \
  {                                                                \
    const size_t n = infer ? (size_t)(infer_count) : (size_t)(count); \
    if (a) a->name = n ? base + off : nullptr;                     \
    off += (n + 15) / 16 * 16; /* 64-byte aligned slices */        \
  }
  PKG_ENCODER_ACTS(PKG_X)
#undef PKG_X
  return off;
}

// The inference arena as an Acts whose per-layer buffers are read with a layer stride of 0: the layer
// input and output share x0, the residual sums reuse q (attention) and k (feed-forward), the embedding
// sum uses ctx, and every LayerNorm writes its (unused) statistics to emb_mean/emb_rstd. fc1, att,
// scratch and cls_in stay null: GELU is fused into fc1's product, nothing is saved, no dropout runs.
static void infer_view(Encoder::Acts& a) {
  a.emb = a.ctx;
  a.res1 = a.q;
  a.res2 = a.k;
  a.ln2 = a.x0;
  a.ln1_mean = a.ln2_mean = a.emb_mean;
  a.ln1_rstd = a.ln2_rstd = a.emb_rstd;
}

// The masked-LM head's buffers for M gathered rows (its own arena: M is known only per step).
struct Encoder::MlmActs {
  float *in, *fc, *gel, *ln, *mean, *rstd, *losses, *targets, *dln, *dgel, *din, *logits;  // logits (M,V) doubles as dlogits
};

// Lays the buffers out from `base` (a null base only measures); returns the floats needed.
static size_t mlm_acts_floats(const EncoderConfig& c, int64_t M, Encoder::MlmActs& m, float* base) {
  const size_t MC = (size_t)M * c.C;
  size_t off = 0;
  auto take = [&](float*& p, size_t n) {
    p = base ? base + off : nullptr;
    off += (n + 15) / 16 * 16;  // 64-byte aligned slices
  };
  take(m.in, MC), take(m.fc, MC), take(m.gel, MC), take(m.ln, MC), take(m.mean, M), take(m.rstd, M);
  take(m.losses, M), take(m.targets, M), take(m.dln, MC), take(m.dgel, MC), take(m.din, MC);
  take(m.logits, (size_t)M * c.V);
  return off;
}

// ---------------------------------------------------------------------------------------------------
// construction, memory

Encoder::Encoder(const EncoderConfig& config, Device device, uint64_t seed) : cfg_(config), dev_(device), seed_(seed) {
  validate_config(cfg_);
#ifndef FML_HAVE_CUDA
  if (dev_ == Device::Cuda) require_cuda();
#endif
  entries_ = param_entries(cfg_);
  for (const ParamEntry& e : entries_) nparams_ += e.numel;
  params_mem_ = (float*)device_alloc(dev_, nparams_ * sizeof(float));
  point_params(p_, params_mem_, cfg_);
  a_ = new Acts();
  ia_ = new Acts();
  ma_ = new MlmActs();
  init_parameters(seed);
}

// The gradient arena is allocated (zeroed) by the first call that writes gradients: an encoder that only
// runs inference never holds it.
void Encoder::ensure_grads() {
  if (grads_mem_) return;
  grads_mem_ = (float*)device_alloc(dev_, nparams_ * sizeof(float));
  point_params(g_, grads_mem_, cfg_);
  zero(grads_mem_, nparams_);
}

Encoder::~Encoder() {
  device_free(dev_, params_mem_);
  if (grads_mem_) device_free(dev_, grads_mem_);
  if (m_) device_free(dev_, m_);
  if (v_) device_free(dev_, v_);
  if (act_mem_) device_free(dev_, act_mem_);
  if (inf_mem_) device_free(dev_, inf_mem_);
  if (mlm_mem_) device_free(dev_, mlm_mem_);
  for (GroupArena& g : groups_) {
    if (g.mem) device_free(dev_, g.mem);
    delete g.acts;
  }
  delete a_;
  delete ia_;
  delete ma_;
}

void Encoder::zero(float* p, size_t n) {
#ifdef FML_HAVE_CUDA
  if (dev_ == Device::Cuda) {
    PKG_CUDA_CALL(cudaMemsetAsync(p, 0, n * sizeof(float), 0));
    return;
  }
#endif
  std::memset(p, 0, n * sizeof(float));
}

void Encoder::copy(float* dst, const float* src, size_t n) {
#ifdef FML_HAVE_CUDA
  if (dev_ == Device::Cuda) {
    PKG_CUDA_CALL(cudaMemcpyAsync(dst, src, n * sizeof(float), cudaMemcpyDeviceToDevice, 0));
    return;
  }
#endif
  std::memcpy(dst, src, n * sizeof(float));
}

void Encoder::layout_arena(float*& mem, size_t& cap, Acts& acts, int B, int T, bool infer, bool* held) {
  const size_t need = acts_floats(cfg_, B, T, infer, nullptr, nullptr);
  if (need > cap) {
    if (held) *held = false;  // what the arena held is gone (before the allocation that may throw)
    if (mem) device_free(dev_, mem);
    mem = nullptr;
    cap = 0;
    mem = (float*)device_alloc(dev_, need * sizeof(float));
    cap = need;
  }
  acts_floats(cfg_, B, T, infer, &acts, mem);
  if (infer) infer_view(acts);
}

void Encoder::ensure_acts(int B, int T, bool infer) {
  if (infer) layout_arena(inf_mem_, inf_cap_, *ia_, B, T, true);
  else layout_arena(act_mem_, act_cap_, *a_, B, T, false, &fwd_saved_);  // saved activations are gone when it grows
}

void Encoder::init_parameters(uint64_t seed) {
  // On the CPU straight into the parameter arena (no second copy of the model in memory).
  std::vector<float> staging(dev_ == Device::Cpu ? 0 : nparams_, 0.0f);
  float* host = dev_ == Device::Cpu ? params_mem_ : staging.data();
  if (dev_ == Device::Cpu) std::memset(host, 0, nparams_ * sizeof(float));
  for (size_t i = 0; i < entries_.size(); i++) {
    const ParamEntry& e = entries_[i];
    float* x = host + e.offset;
    const bool is_ln = e.name.find("LayerNorm") != std::string::npos || e.name.find("layer_norm") != std::string::npos;
    const bool is_bias = e.shape.size() == 1;
    if (is_ln && !is_bias) continue;  // set to 1 below
    if (is_bias) continue;            // zeros
    // N(0, 0.02) by Box-Muller over Philox draws; a separate stream per tensor.
    const uint64_t off = (1ull << 40) + i;
    for (size_t j = 0; j < e.numel; j++) {
      const float u1 = philox_uniform(seed, off, 2 * j) + 1.0f / 33554432.0f;
      const float u2 = philox_uniform(seed, off, 2 * j + 1);
      x[j] = 0.02f * std::sqrt(-2.0f * std::log(u1)) * std::cos(6.28318530717958648f * u2);
    }
  }
  for (const ParamEntry& e : entries_) {
    const bool is_ln = e.name.find("LayerNorm") != std::string::npos || e.name.find("layer_norm") != std::string::npos;
    if (is_ln && e.name.find(".weight") != std::string::npos)
      for (size_t j = 0; j < e.numel; j++) host[e.offset + j] = 1.0f;
  }
  // The [PAD] row starts at zero (Hugging Face _init_weights).
  if (cfg_.pad_id >= 0)
    for (int c = 0; c < cfg_.C; c++) host[entries_[0].offset + (size_t)cfg_.pad_id * cfg_.C + c] = 0.0f;
  if (cfg_.sinusoidal) {
    // DistilBERT create_sinusoidal_embeddings: angle = pos / 10000^(2⌊j/2⌋/C); sin on even j, cos on odd.
    float* wpe = host + entries_[1].offset;
    for (int pos = 0; pos < cfg_.P; pos++)
      for (int j = 0; j < cfg_.C; j++) {
        const double angle = pos / std::pow(10000.0, 2.0 * (j / 2) / cfg_.C);
        wpe[(size_t)pos * cfg_.C + j] = (float)(j % 2 == 0 ? std::sin(angle) : std::cos(angle));
      }
  }
  if (dev_ != Device::Cpu) set_parameters(host);
}

void Encoder::set_parameters(const float* host) {
  copy_to_device(dev_, params_mem_, host, nparams_ * sizeof(float));
  device_synchronize(dev_);
}
void Encoder::set_parameter_range(const float* host, size_t offset, size_t n) {
  copy_to_device(dev_, params_mem_ + offset, host, n * sizeof(float));
  device_synchronize(dev_);
}
void Encoder::get_parameters(float* host) const {
  device_synchronize(dev_);
  copy_to_host(dev_, host, params_mem_, nparams_ * sizeof(float));
}
void Encoder::get_gradients(float* host) const {
  if (!grads_mem_) return (void)std::memset(host, 0, nparams_ * sizeof(float));  // none written yet: zeros
  device_synchronize(dev_);
  copy_to_host(dev_, host, grads_mem_, nparams_ * sizeof(float));
}

void Encoder::zero_grad() {
  if (!grads_mem_) return;  // not allocated: zero already
  zero(grads_mem_, nparams_);
  device_synchronize(dev_);
}

// ---------------------------------------------------------------------------------------------------
// forward

// Dropout sites: a distinct Philox offset per (training step, site).
static uint64_t site(uint64_t step, uint64_t s) { return (step << 8) | s; }
static const uint64_t kSiteClassifier = 255;

void Encoder::upload_inputs(Acts& a, const int32_t* ids, const uint8_t* mask, const int32_t* tt, int B, int T) {
  const size_t BT = (size_t)B * T;
  copy_to_device(dev_, a.ids, ids, BT * sizeof(int32_t));
  if (tt) copy_to_device(dev_, a.tt, tt, BT * sizeof(int32_t));
  else if (dev_ == Device::Cpu) std::memset(a.tt, 0, BT * sizeof(int32_t));
  else zero(a.tt, BT);
  copy_to_device(dev_, a.mask, mask, BT);
}

void Encoder::forward(const int32_t* ids, const uint8_t* mask, const int32_t* tt, int B, int T, bool train,
                      float* logits_host) {
  if (cfg_.mlm && logits_host) throw_range("forward: this encoder has the masked-LM head (no label logits); use mlm_step");
  forward_host(ids, mask, tt, B, T, train, train, logits_host);
}

void Encoder::forward_host(const int32_t* ids, const uint8_t* mask, const int32_t* tt, int B, int T, bool train,
                           bool save, float* logits_host) {
  if (B < 1 || T < 1 || T > cfg_.P) throw_range("forward: batchSize must be >= 1 and seqLen in [1, maxPositions]");
  // Evaluation runs the inference path (no saved activations); a backward() after it recomputes them.
  const bool infer = !save;
  // A forward of a few tokens runs on the calling thread alone: under ~16 MFLOP (about 0.1 ms on one core;
  // the tiny preset at 1×64 tokens) waking the other threads for each of its ~20 parallel steps costs more
  // than they save. The thread count changes no result (the batch-identity tests run 1 and 2 threads).
  const double flops = 2.0 * B * T * cfg_.L * (4.0 * cfg_.C * cfg_.C + 2.0 * cfg_.C * cfg_.FF + 2.0 * T * cfg_.C);
  ScopedThreadCap serial(dev_ == Device::Cpu && flops < 16e6 ? 1 : 1 << 20);
  if (infer && forward_grouped(ids, mask, tt, B, T, logits_host)) return;
  fwd_grouped_ = false;
  fwd_B_ = 0;  // no forward for backward to go back to until this one has run
  ensure_acts(B, T, infer);
  Acts& a = infer ? *ia_ : *a_;
  upload_inputs(a, ids, mask, tt, B, T);
  if (train) rng_step_++;
  fwd_rng_ = rng_step_;
  fwd_train_ = train;
  fwd_saved_ = false;
  forward_device(a, B, T, train, !infer);
  fwd_saved_ = !infer;
  fwd_B_ = B;
  fwd_T_ = T;
  device_synchronize(dev_);
  if (logits_host) copy_to_host(dev_, logits_host, a.logits, (size_t)B * cfg_.K * sizeof(float));
}

// Where each text's real tokens are a non-empty prefix of its row (the tokenizer pads on the right) and some
// rows are padded: B + 1 prefix sums of the texts' lengths (text b at packed rows offs[b] .. offs[b+1]).
// Empty otherwise (another mask shape, or nothing to skip).
static std::vector<int64_t> packed_offsets(const uint8_t* mask, int B, int T) {
  std::vector<int64_t> offs((size_t)B + 1, 0);
  for (int b = 0; b < B; b++) {
    const uint8_t* m = mask + (size_t)b * T;
    int n = 0;
    while (n < T && m[n]) n++;
    if (n == 0) return {};
    for (int t = n; t < T; t++)
      if (m[t]) return {};
    offs[b + 1] = offs[b] + n;
  }
  if (offs[B] == (int64_t)B * T) return {};
  return offs;
}

// Inference of a small encoder on several CPU threads: instead of splitting each operation between the threads
// (some 20 forks and joins per layer, each operation's output leaving the cache before the next reads it),
// the batch's rows are cut into one group per thread of about equal real tokens, and each thread runs its
// group through every layer alone, in an arena of its own. Every row is computed by the same operations as
// in a whole-batch forward (no kernel's sums depend on the batch or the thread count), so the logits keep
// their bits. Only where the weights of all layers fit in a core's L2 cache (the `tiny` preset's 0.4 MB;
// not BERT L4 H256's 12 MB, whose products split well): each thread then reads them from its own cache.
// On the 2-core VM, tiny's B32 T128 forward: 4.4-4.9 ms split by group, 5.2-5.5 ms split by operation.
bool Encoder::forward_grouped(const int32_t* ids, const uint8_t* mask, const int32_t* tt, int B, int T,
                              float* logits_host) {
  const EncoderConfig& c = cfg_;
  const double layer_weight_bytes = 4.0 * (4.0 * c.C * c.C + 2.0 * c.C * c.FF);
  const int G = std::min(num_threads(), B);
  if (dev_ != Device::Cpu || c.mlm || !logits_host || G < 2 || c.L * layer_weight_bytes > 1e6) return false;
  // rows [cut[g], cut[g+1]) of group g, cut where the running count of real tokens reaches g/G of the total
  std::vector<int64_t> tokens((size_t)B + 1, 0);
  for (int b = 0; b < B; b++) {
    int64_t n = 0;
    for (int t = 0; t < T; t++) n += mask[(size_t)b * T + t] ? 1 : 0;
    tokens[b + 1] = tokens[b] + (n > 0 ? n : T);
  }
  std::vector<int> cut((size_t)G + 1, B);
  cut[0] = 0;
  for (int g = 1; g < G; g++) {
    int b = cut[g - 1] + 1;  // every group keeps at least one row
    while (b < B - (G - g) && tokens[b] * G < tokens[B] * g) b++;
    cut[g] = b;
  }
  const size_t BT = (size_t)B * T;
  fwd_B_ = 0;  // no forward to go back to until this one has run (an allocation below may throw)
  fwd_grouped_ = false;
  grouped_ids_.assign(ids, ids + BT);
  grouped_mask_.assign(mask, mask + BT);
  if (tt) grouped_tt_.assign(tt, tt + BT);
  else grouped_tt_.assign(BT, 0);
  if (groups_.size() < (size_t)G) groups_.resize((size_t)G);
  for (int g = 0; g < G; g++) {  // arenas allocated here, before the threads start
    GroupArena& ga = groups_[g];
    if (!ga.acts) ga.acts = new Acts();
    layout_arena(ga.mem, ga.cap, *ga.acts, cut[g + 1] - cut[g], T, true);
  }
  fwd_rng_ = rng_step_;
  fwd_train_ = false;
  fwd_saved_ = false;
  parallel_for(G, 1, [&](int64_t, int64_t g0, int64_t g1) {
    ScopedThreadCap alone(1);
    for (int64_t g = g0; g < g1; g++) {
      const int b0 = cut[g], Bg = cut[g + 1] - cut[g];
      Acts& a = *groups_[g].acts;
      const size_t at = (size_t)b0 * T;
      upload_inputs(a, ids + at, mask + at, tt ? tt + at : nullptr, Bg, T);
      forward_device(a, Bg, T, false, false);
      std::memcpy(logits_host + (size_t)b0 * c.K, a.logits, (size_t)Bg * c.K * sizeof(float));
    }
  });
  fwd_grouped_ = true;
  fwd_B_ = B;
  fwd_T_ = T;
  return true;
}

bool Encoder::skips_padding() const {
  return dev_ == Device::Cpu && std::strcmp(attention_infer_path(cfg_.C / cfg_.NH), "generic") != 0;
}

void Encoder::forward_device(Acts& a, int B, int T, bool train, bool save) {
#ifdef FML_HAVE_CUDA
  const bool cuda_ = dev_ == Device::Cuda;
#endif
  const EncoderConfig& c = cfg_;
  const int C = c.C, FF = c.FF, NH = c.NH, K = c.K;
  const int64_t BT = (int64_t)B * T, BTC = BT * C, BTF = BT * FF;
  const int64_t ls = save ? 1 : 0;  // layer stride of the activation buffers (0: one layer's, reused)
  const bool bert = c.arch == Arch::Bert;
  const float ph = train ? c.hidden_dropout : 0.0f, pa = train ? c.attention_dropout : 0.0f;
  const float pc = train ? c.classifier_dropout : 0.0f;
  const float p_attn_out = bert ? ph : 0.0f;  // DistilBERT has no dropout after the attention projection
  const uint64_t s = fwd_rng_, seed = seed_;
  const int32_t* ids = (const int32_t*)a.ids;
  const int32_t* tt = (const int32_t*)a.tt;
  const uint8_t* mask = (const uint8_t*)a.mask;
  const float* wtt = bert ? p_.wtt : nullptr;

  // Inference on the CPU skips the padding, as FasterTransformer's "remove padding" does: when packed_offsets
  // applies, every layer runs on the RT real tokens stored row after row (the products' M is RT, not B·T),
  // attention reads each text's rows through offs, and pooling gathers them. Each row is computed by the same
  // operations in the same order as in the padded layout, so the logits keep their bits (and a text its bits
  // alone and in any batch). Where attention has no vector kernel (head sizes other than 16, 32, 64, or
  // no AVX2) the padded layout runs (skips_padding()).
  const bool infer_vector = !save && !train && !c.mlm && skips_padding();
  std::vector<int64_t> offs;
  if (infer_vector) offs = packed_offsets(mask, B, T);
  const bool packed = !offs.empty();
  const int64_t RT = packed ? offs[B] : BT;  // rows every layer runs on
  // A Cls or Pooler head reads only each text's first token of the last layer, so an inference forward on the
  // CPU runs that layer's query, attention output, LayerNorms and feed-forward on those B rows alone (the keys
  // and values still on every row): about 5/6 of a layer's products. Each first row goes through the same
  // operations as in the full layer, so the logits keep their bits. Needs attention's vector kernel, as packing.
  const bool first_only = infer_vector && c.pooling != Pooling::Mean && RT > B;

  if (packed) {
    for (int b = 0; b < B; b++)
      embedding_forward_cpu(a.emb + offs[b] * C, ids + (size_t)b * T, tt + (size_t)b * T, p_.wte, p_.wpe, wtt, 1,
                            (int)(offs[b + 1] - offs[b]), C);
  } else {
    OP(embedding_forward, a.emb, ids, tt, p_.wte, p_.wpe, wtt, B, T, C);
  }
  OP(layernorm_forward, a.x0, a.emb_mean, a.emb_rstd, a.emb, p_.emb_lnw, p_.emb_lnb, RT, C, c.eps);
  if (ph > 0.0f) OP(dropout_forward, a.x0, a.x0, BTC, ph, seed, site(s, 0));
  // out (BT, C) = res + dropout(inp · wᵀ + bias): the residual sum is fused into the product's store unless
  // dropout sits between them
  auto project_residual = [&](float* out, const float* inp, const float* w, const float* bias, const float* res,
                              int IC, float p, uint64_t site_id) {
    if (p > 0.0f) {
      OP(matmul_forward, a.scratch, inp, w, bias, nullptr, BT, IC, C, false);
      OP(dropout_residual_forward, out, res, a.scratch, BTC, p, seed, site_id);
    } else {
      OP(matmul_forward, out, inp, w, bias, res, RT, IC, C, false);
    }
  };
  const float* x = a.x0;
  for (int l = 0; l < c.L; l++) {
    const size_t lc = (size_t)l * C * C, lb = (size_t)l * C, lf = (size_t)l * FF * C, lfb = (size_t)l * FF;
    const int64_t L1 = l * ls;
    float *q = a.q + L1 * BTC, *k = a.k + L1 * BTC, *v = a.v + L1 * BTC, *ctx = a.ctx + L1 * BTC;
    float* att = a.att ? a.att + (size_t)L1 * B * NH * T * T : nullptr;
    float *res1 = a.res1 + L1 * BTC, *ln1 = a.ln1 + L1 * BTC, *res2 = a.res2 + L1 * BTC, *ln2 = a.ln2 + L1 * BTC;
    float *fc1 = a.fc1 ? a.fc1 + L1 * BTF : nullptr, *gel = a.gel + L1 * BTF;
    if (first_only && l == c.L - 1) {
      // the first rows of x gathered into ln1 (B, C); then q, ctx, pool_pre, pool_act, gel hold B rows each and
      // the layer's output goes to pooled, the Cls pooling of it
      for (int b = 0; b < B; b++)
        std::memcpy(ln1 + (size_t)b * C, x + (packed ? offs[b] : (int64_t)b * T) * C, sizeof(float) * C);
      OP(matmul_forward, k, x, p_.kw + lc, p_.kb + lb, nullptr, RT, C, C, false);
      OP(matmul_forward, v, x, p_.vw + lc, p_.vb + lb, nullptr, RT, C, C, false);
      OP(matmul_forward, q, ln1, p_.qw + lc, p_.qb + lb, nullptr, B, C, C, false);
      attention_infer_first_cpu(ctx, q, k, v, mask, packed ? offs.data() : nullptr, B, T, C, NH);
      OP(matmul_forward, a.pool_pre, ctx, p_.ow + lc, p_.ob + lb, ln1, B, C, C, false);
      OP(layernorm_forward, a.pool_act, a.ln1_mean, a.ln1_rstd, a.pool_pre, p_.ln1w + lb, p_.ln1b + lb, B, C, c.eps);
      OP(matmul_forward, gel, a.pool_act, p_.fc1w + lf, p_.fc1b + lfb, nullptr, B, C, FF, true);
      OP(matmul_forward, a.pool_pre, gel, p_.fc2w + lf, p_.fc2b + lb, a.pool_act, B, FF, C, false);
      OP(layernorm_forward, a.pooled, a.ln2_mean, a.ln2_rstd, a.pool_pre, p_.ln2w + lb, p_.ln2b + lb, B, C, c.eps);
      break;
    }
    OP(matmul_forward, q, x, p_.qw + lc, p_.qb + lb, nullptr, RT, C, C, false);
    OP(matmul_forward, k, x, p_.kw + lc, p_.kb + lb, nullptr, RT, C, C, false);
    OP(matmul_forward, v, x, p_.vw + lc, p_.vb + lb, nullptr, RT, C, C, false);
    if (packed) attention_infer_packed_cpu(ctx, q, k, v, mask, offs.data(), B, T, C, NH);
    else OP(attention_forward, ctx, att, q, k, v, mask, B, T, C, NH, pa, seed, site(s, 1 + 3 * l));
    project_residual(res1, ctx, p_.ow + lc, p_.ob + lb, x, C, p_attn_out, site(s, 2 + 3 * l));
    OP(layernorm_forward, ln1, a.ln1_mean + L1 * BT, a.ln1_rstd + L1 * BT, res1, p_.ln1w + lb, p_.ln1b + lb, RT, C,
       c.eps);
    if (fc1) {  // backward needs the GELU input
      OP(matmul_forward, fc1, ln1, p_.fc1w + lf, p_.fc1b + lfb, nullptr, BT, C, FF, false);
      OP(gelu_forward, gel, fc1, BTF);
      project_residual(res2, gel, p_.fc2w + lf, p_.fc2b + lb, ln1, FF, ph, site(s, 3 + 3 * l));
    } else if (dev_ == Device::Cpu && ph == 0.0f) {
      // inference on the CPU: GELU's rows gel_stride(c) apart, so that fc2 reads them in place (the same bits)
      const int64_t G = gel_stride(c);
      matmul_forward_cpu(gel, ln1, p_.fc1w + lf, p_.fc1b + lfb, nullptr, RT, C, FF, true, 0, G);
      matmul_forward_cpu(res2, gel, p_.fc2w + lf, p_.fc2b + lb, ln1, RT, FF, C, false, G, 0);
    } else {
      OP(matmul_forward, gel, ln1, p_.fc1w + lf, p_.fc1b + lfb, nullptr, RT, C, FF, true);
      project_residual(res2, gel, p_.fc2w + lf, p_.fc2b + lb, ln1, FF, ph, site(s, 3 + 3 * l));
    }
    OP(layernorm_forward, ln2, a.ln2_mean + L1 * BT, a.ln2_rstd + L1 * BT, res2, p_.ln2w + lb, p_.ln2b + lb, RT, C,
       c.eps);
    x = ln2;
  }
  if (c.mlm) return;  // mlm_step runs its head on the gathered rows of the last layer's output
  const PoolMode mode = c.pooling == Pooling::Mean ? PoolMode::Mean : PoolMode::Cls;
  if (first_only) {
    // the last layer wrote its first rows into pooled
  } else if (packed) {
    for (int b = 0; b < B; b++)
      pool_forward_cpu(a.pooled + (size_t)b * C, x + offs[b] * C, mask + (size_t)b * T, 1, (int)(offs[b + 1] - offs[b]),
                       C, mode);
  } else {
    OP(pool_forward, a.pooled, x, mask, B, T, C, mode);
  }
  const float* head_in = a.pooled;
  if (c.pooling == Pooling::Pooler) {
    OP(matmul_forward, a.pool_pre, a.pooled, p_.poolw, p_.poolb, nullptr, B, C, C, false);
    OP(act_forward, a.pool_act, a.pool_pre, (int64_t)B * C, bert ? Activation::Tanh : Activation::Relu);
    head_in = a.pool_act;
  }
  if (a.cls_in) {  // saved for backward (the classifier's input after dropout)
    OP(dropout_forward, a.cls_in, head_in, (int64_t)B * C, pc, seed, site(s, kSiteClassifier));
    head_in = a.cls_in;
  }
  OP(matmul_forward, a.logits, head_in, p_.clsw, p_.clsb, nullptr, B, C, K, false);
}

// ---------------------------------------------------------------------------------------------------
// backward

void Encoder::backward(const float* dlogits_host) {
  if (!has_forward()) throw_range("backward: call forward() first (no saved activations)");
  if (cfg_.mlm) throw_range("backward: this encoder has the masked-LM head; use mlm_step");
  ensure_grads();
  if (!fwd_saved_) {  // the last forward was an inference pass: run it again, saving (same inputs, no dropout)
    const int B = fwd_B_, T = fwd_T_;
    ensure_acts(B, T, false);
    const size_t BT = (size_t)B * T;
    if (fwd_grouped_) {
      upload_inputs(*a_, grouped_ids_.data(), grouped_mask_.data(), grouped_tt_.data(), B, T);
    } else {
      copy(a_->ids, ia_->ids, BT);  // int32 and uint8 inputs in float-sized slots
      copy(a_->tt, ia_->tt, BT);
      copy(a_->mask, ia_->mask, (BT + 3) / 4);
    }
    forward_device(*a_, B, T, false, true);
    fwd_saved_ = true;
  }
  copy_to_device(dev_, a_->dlogits, dlogits_host, (size_t)fwd_B_ * cfg_.K * sizeof(float));
  backward_device();
  device_synchronize(dev_);
}

void Encoder::backward_device() {
#ifdef FML_HAVE_CUDA
  const bool cuda_ = dev_ == Device::Cuda;
#endif
  const EncoderConfig& c = cfg_;
  const int B = fwd_B_, T = fwd_T_, C = c.C, FF = c.FF, NH = c.NH;
  const int64_t BT = (int64_t)B * T, BTC = BT * C, BTF = BT * FF;
  const bool bert = c.arch == Arch::Bert, train = fwd_train_;
  const float ph = train ? c.hidden_dropout : 0.0f, pa = train ? c.attention_dropout : 0.0f;
  const float p_attn_out = bert ? ph : 0.0f;
  const uint64_t s = fwd_rng_, seed = seed_;
  const int32_t* ids = (const int32_t*)a_->ids;
  const int32_t* tt = (const int32_t*)a_->tt;
  Acts& a = *a_;

  if (!c.mlm) backward_classifier_head();  // (mlm_step wrote a.dy)
  // a.dy holds the gradient of the current layer's output; dres, dtmp, dff are scratch.
  for (int l = c.L - 1; l >= 0; l--) {
    const size_t lc = (size_t)l * C * C, lb = (size_t)l * C, lf = (size_t)l * FF * C, lfb = (size_t)l * FF;
    const float* x = l > 0 ? a.ln2 + (l - 1) * BTC : a.x0;
    float *q = a.q + l * BTC, *k = a.k + l * BTC, *v = a.v + l * BTC, *ctx = a.ctx + l * BTC;
    float* att = a.att + (size_t)l * B * NH * T * T;
    float *res1 = a.res1 + l * BTC, *ln1 = a.ln1 + l * BTC, *res2 = a.res2 + l * BTC;
    float *fc1 = a.fc1 + l * BTF, *gel = a.gel + l * BTF;
    // output LayerNorm, feed-forward block
    OP(layernorm_backward, a.dres, g_.ln2w + lb, g_.ln2b + lb, a.dy, res2, p_.ln2w + lb, a.ln2_mean + l * BT,
       a.ln2_rstd + l * BT, BT, C);
    OP(dropout_backward, a.dtmp, a.dres, BTC, ph, seed, site(s, 3 + 3 * l));
    OP(matmul_backward, a.dff, g_.fc2w + lf, g_.fc2b + lb, a.dtmp, gel, p_.fc2w + lf, BT, FF, C, false);
    OP(gelu_backward, a.dff, a.dff, fc1, BTF);
    copy(a.dtmp, a.dres, (size_t)BTC);  // the residual path into ln1
    OP(matmul_backward, a.dtmp, g_.fc1w + lf, g_.fc1b + lfb, a.dff, ln1, p_.fc1w + lf, BT, C, FF, true);
    // attention LayerNorm, attention block
    OP(layernorm_backward, a.dres, g_.ln1w + lb, g_.ln1b + lb, a.dtmp, res1, p_.ln1w + lb, a.ln1_mean + l * BT,
       a.ln1_rstd + l * BT, BT, C);
    OP(dropout_backward, a.dtmp, a.dres, BTC, p_attn_out, seed, site(s, 2 + 3 * l));
    OP(matmul_backward, a.dy, g_.ow + lc, g_.ob + lb, a.dtmp, ctx, p_.ow + lc, BT, C, C, false);
    OP(attention_backward, a.dq, a.dk, a.dv, a.dy, q, k, v, att, B, T, C, NH, pa, seed, site(s, 1 + 3 * l));
    copy(a.dy, a.dres, (size_t)BTC);  // the residual path into the layer input
    OP(matmul_backward, a.dy, g_.qw + lc, g_.qb + lb, a.dq, x, p_.qw + lc, BT, C, C, true);
    OP(matmul_backward, a.dy, g_.kw + lc, g_.kb + lb, a.dk, x, p_.kw + lc, BT, C, C, true);
    OP(matmul_backward, a.dy, g_.vw + lc, g_.vb + lb, a.dv, x, p_.vw + lc, BT, C, C, true);
  }
  OP(dropout_backward, a.dy, a.dy, BTC, ph, seed, site(s, 0));
  OP(layernorm_backward, a.dres, g_.emb_lnw, g_.emb_lnb, a.dy, a.emb, p_.emb_lnw, a.emb_mean, a.emb_rstd, BT, C);
  OP(embedding_backward, g_.wte, c.sinusoidal ? nullptr : g_.wpe, bert ? g_.wtt : nullptr, a.dres, ids, tt, B, T, C,
     c.pad_id);
}

void Encoder::backward_classifier_head() {
#ifdef FML_HAVE_CUDA
  const bool cuda_ = dev_ == Device::Cuda;
#endif
  const EncoderConfig& c = cfg_;
  const int B = fwd_B_, T = fwd_T_, C = c.C, K = c.K;
  const bool bert = c.arch == Arch::Bert;
  const float pc = fwd_train_ ? c.classifier_dropout : 0.0f;
  const uint64_t s = fwd_rng_, seed = seed_;
  const uint8_t* mask = (const uint8_t*)a_->mask;
  Acts& a = *a_;
  OP(matmul_backward, a.dpool, g_.clsw, g_.clsb, a.dlogits, a.cls_in, p_.clsw, B, C, K, false);
  OP(dropout_backward, a.dpool, a.dpool, (int64_t)B * C, pc, seed, site(s, kSiteClassifier));
  const float* dpooled = a.dpool;
  if (c.pooling == Pooling::Pooler) {
    OP(act_backward, a.dpool, a.dpool, a.pool_act, (int64_t)B * C, bert ? Activation::Tanh : Activation::Relu);
    OP(matmul_backward, a.dpool2, g_.poolw, g_.poolb, a.dpool, a.pooled, p_.poolw, B, C, C, false);
    dpooled = a.dpool2;
  }
  const PoolMode mode = c.pooling == Pooling::Mean ? PoolMode::Mean : PoolMode::Cls;
  OP(pool_backward, a.dy, dpooled, mask, B, T, C, mode);

}

// ---------------------------------------------------------------------------------------------------
// the masked-LM head (BertForMaskedLM's cls.predictions / DistilBertForMaskedLM's vocab_*), on the M
// labelled rows of the last layer's output, gathered in mlm_pos_ order

static const int32_t kIgnoreIndex = -100;

void Encoder::mlm_forward_head(int64_t M) {
#ifdef FML_HAVE_CUDA
  const bool cuda_ = dev_ == Device::Cuda;
#endif
  const EncoderConfig& c = cfg_;
  const int C = c.C;
  const int64_t BTC = (int64_t)fwd_B_ * fwd_T_ * C;
  const float* hidden = c.L > 0 ? a_->ln2 + (int64_t)(c.L - 1) * BTC : a_->x0;
  MlmActs& m = *ma_;
  for (int64_t i = 0; i < M; i++) copy(m.in + i * C, hidden + mlm_pos_[i] * C, (size_t)C);
  OP(matmul_forward, m.fc, m.in, p_.mlm_dw, p_.mlm_db, nullptr, M, C, C, false);
  OP(gelu_forward, m.gel, m.fc, M * C);
  OP(layernorm_forward, m.ln, m.mean, m.rstd, m.gel, p_.mlm_lnw, p_.mlm_lnb, M, C, c.eps);
  OP(matmul_forward, m.logits, m.ln, p_.wte, p_.mlm_bias, nullptr, M, C, c.V, false);  // the tied decoder
}

void Encoder::mlm_backward_head(int64_t M) {
#ifdef FML_HAVE_CUDA
  const bool cuda_ = dev_ == Device::Cuda;
#endif
  const int C = cfg_.C, V = cfg_.V;
  MlmActs& m = *ma_;
  // m.logits holds dlogits (softmax_xent wrote them in place); the decoder's weight gradient goes into the
  // word embeddings' (+=), next to the embedding lookup's that backward_device adds
  OP(matmul_backward, m.dln, g_.wte, g_.mlm_bias, m.logits, m.ln, p_.wte, M, C, V, false);
  OP(layernorm_backward, m.dgel, g_.mlm_lnw, g_.mlm_lnb, m.dln, m.gel, p_.mlm_lnw, m.mean, m.rstd, M, C);
  OP(gelu_backward, m.dgel, m.dgel, m.fc, M * C);
  OP(matmul_backward, m.din, g_.mlm_dw, g_.mlm_db, m.dgel, m.in, p_.mlm_dw, M, C, C, false);
  zero(a_->dy, (size_t)fwd_B_ * fwd_T_ * C);  // unlabelled positions get no gradient
  for (int64_t i = 0; i < M; i++) copy(a_->dy + mlm_pos_[i] * C, m.din + i * C, (size_t)C);
}

TrainStepResult Encoder::mlm_step(const int32_t* ids, const uint8_t* mask, const int32_t* tt, int B, int T,
                                  const int32_t* labels, const TrainStepOptions* opt) {
#ifdef FML_HAVE_CUDA
  const bool cuda_ = dev_ == Device::Cuda;
#endif
  if (!cfg_.mlm) throw_range("mlm_step: this encoder has no masked-LM head (config.mlm is false)");
  mlm_pos_.clear();
  std::vector<int32_t> targets;
  for (int64_t i = 0; i < (int64_t)B * T; i++)
    if (labels[i] != kIgnoreIndex) mlm_pos_.push_back(i), targets.push_back(labels[i]);
  const int64_t M = (int64_t)mlm_pos_.size();
  ensure_grads();
  zero_grad();
  TrainStepResult r;
  if (M == 0) return r;  // nothing to predict: zero gradients, no update
  forward_host(ids, mask, tt, B, T, opt != nullptr, true, nullptr);
  MlmActs meas;
  const size_t need = mlm_acts_floats(cfg_, M, meas, nullptr);
  if (need > mlm_cap_) {
    if (mlm_mem_) device_free(dev_, mlm_mem_);
    mlm_mem_ = nullptr;
    mlm_cap_ = 0;
    mlm_mem_ = (float*)device_alloc(dev_, need * sizeof(float));
    mlm_cap_ = need;
  }
  mlm_acts_floats(cfg_, M, *ma_, mlm_mem_);
  copy_to_device(dev_, ma_->targets, targets.data(), (size_t)M * sizeof(int32_t));
  mlm_forward_head(M);
  const XentResult xr = OP(softmax_xent, ma_->logits, ma_->losses, ma_->logits, (const int32_t*)ma_->targets,
                           kIgnoreIndex, Reduction::Mean, M, cfg_.V);
  r.loss = xr.loss;
  r.count = xr.count;
  mlm_backward_head(M);
  backward_device();
  r.grad_norm = grad_norm();
  if (opt) clip_and_step(*opt, r.grad_norm);
  device_synchronize(dev_);
  return r;
}

// ---------------------------------------------------------------------------------------------------
// optimizer

double Encoder::grad_norm() {
  if (!grads_mem_) return 0.0;
#ifdef FML_HAVE_CUDA
  const bool cuda_ = dev_ == Device::Cuda;
  if (cuda_) return std::sqrt(sum_squares_cuda(grads_mem_, (int64_t)nparams_, (cudaStream_t)0));
#endif
  return std::sqrt(sum_squares_cpu(grads_mem_, (int64_t)nparams_));
}

void Encoder::scale_grads(float sc) {
  if (!grads_mem_) return;
#ifdef FML_HAVE_CUDA
  const bool cuda_ = dev_ == Device::Cuda;
#endif
  OP(scale, grads_mem_, (int64_t)nparams_, sc);
}

void Encoder::adamw_step(const AdamWParams& args) {
#ifdef FML_HAVE_CUDA
  const bool cuda_ = dev_ == Device::Cuda;
#endif
  if (!m_) {
    m_ = (float*)device_alloc(dev_, nparams_ * sizeof(float));
    try {
      v_ = (float*)device_alloc(dev_, nparams_ * sizeof(float));
    } catch (...) {
      device_free(dev_, m_);
      m_ = nullptr;
      throw;
    }
    zero(m_, nparams_);
    zero(v_, nparams_);
  }
  ensure_grads();
  AdamWParams a = args;
  a.t = ++adamw_t_;
  // The arena is updated in runs of consecutive tensors that share a weight decay. Frozen tensors
  // (sinusoidal positions) are skipped, as requires_grad=False in PyTorch; 1-D tensors (biases and
  // LayerNorm weights) get no decay unless decay_bias_and_norm.
  size_t begin = 0, end = 0;
  float run_wd = a.weight_decay;
  auto flush = [&]() {
    if (end > begin) {
      AdamWParams r = a;
      r.weight_decay = run_wd;
      OP(adamw, params_mem_ + begin, m_ + begin, v_ + begin, grads_mem_ + begin, (int64_t)(end - begin), r);
    }
  };
  for (const ParamEntry& e : entries_) {
    if (!e.trainable) {
      flush();
      begin = end = e.offset + e.numel;
      continue;
    }
    const float wd = (e.shape.size() == 1 && !a.decay_bias_and_norm) ? 0.0f : a.weight_decay;
    if (wd != run_wd || e.offset != end) {
      flush();
      begin = e.offset;
      run_wd = wd;
    }
    end = e.offset + e.numel;
  }
  flush();
  device_synchronize(dev_);
}

TrainStepResult Encoder::train_step(const int32_t* ids, const uint8_t* mask, const int32_t* tt, int B, int T,
                                    const BceArgs& loss, const TrainStepOptions& opt) {
  if (cfg_.mlm) throw_range("trainStep: this encoder has the masked-LM head; use mlm_step");
  ensure_grads();
  zero_grad();
  forward(ids, mask, tt, B, T, true, nullptr);
  BceArgs args = loss;
  args.N = B;
  args.K = cfg_.K;
  args.logits = a_->logits;
  args.logits_dtype = DType::F32;
  args.dlogits = a_->dlogits;
  args.loss_out = nullptr;
  args.reduction = loss.reduction == Reduction::None ? Reduction::Mean : loss.reduction;
  TrainStepResult r;
#ifdef FML_HAVE_CUDA
  const BceResult br = dev_ == Device::Cuda ? bce_fused_cuda(args) : bce_fused_cpu(args);
#else
  const BceResult br = bce_fused_cpu(args);
#endif
  r.loss = br.loss;
  backward_device();
  r.grad_norm = grad_norm();
  clip_and_step(opt, r.grad_norm);
  return r;
}

void Encoder::clip_and_step(const TrainStepOptions& opt, double norm) {
  if (opt.max_grad_norm > 0) {
    const double coef = opt.max_grad_norm / (norm + 1e-6);
    if (coef < 1.0) scale_grads((float)coef);
  }
  adamw_step(opt.adamw);
}

}  // namespace pkg
