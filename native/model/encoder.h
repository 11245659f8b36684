// The BERT / DistilBERT encoder for sequence classification, or with the masked-language-model head
// (BertForMaskedLM / DistilBertForMaskedLM) for pre-training: parameter table, arenas, forward,
// backward, AdamW. The one place that picks the CPU or the CUDA twin of each op (once per call).
//
// Dimension letters: B batch, T tokens, C hidden, NH heads, HS = C/NH, FF intermediate, L layers,
// V vocab, P max positions, TV token types, K labels.
//
// Arenas (one allocation each): parameters, gradients (same layout; allocated by the first backward or
// step, so an inference-only encoder never holds them), AdamW m, AdamW v, activations
// saved for backward (sized for the largest B×T seen; it grows, never shrinks), and the inference
// activations (one layer's buffers, no attention probabilities: what an evaluation forward uses).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "../core/device.h"
#include "../ops/adamw.h"
#include "../ops/bce.h"
#include "../ops/pooler.h"

namespace pkg {

enum class Arch { Bert = 0, DistilBert = 1 };
enum class Pooling { Pooler = 0, Cls = 1, Mean = 2 };

struct EncoderConfig {
  Arch arch = Arch::Bert;
  int V = 0, C = 0, L = 0, NH = 0, FF = 0, P = 0, TV = 2, K = 0;
  float eps = 1e-12f;
  float hidden_dropout = 0.1f, attention_dropout = 0.1f, classifier_dropout = 0.1f;
  Pooling pooling = Pooling::Pooler;
  bool sinusoidal = false;  // DistilBERT: fixed sinusoidal positions (not trained)
  int pad_id = 0;           // its word-embedding row gets no gradient (nn.Embedding padding_idx)
  // The masked-LM head instead of the pooler and classifier: dense C→C, GELU, LayerNorm, then the decoder
  // tied to the word embeddings (logits = h · wteᵀ + bias). K is unused.
  bool mlm = false;
};

// Throws RangeError naming the field when a config value is out of range.
void validate_config(const EncoderConfig& c);

// The parameter table. X(field, per_layer, bert_name, distilbert_name, rows, cols): cols == 0 means a
// 1-D tensor of `rows`; a null name or rows == 0 means the architecture has no such tensor. Per-layer
// names hold "%d" for the layer index; per-layer tensors are stored as (L, rows, cols).
#define PKG_ENCODER_PARAMS(X)                                                                                        \
  X(wte, 0, "bert.embeddings.word_embeddings.weight", "distilbert.embeddings.word_embeddings.weight", c.V, c.C)    \
  X(wpe, 0, "bert.embeddings.position_embeddings.weight", "distilbert.embeddings.position_embeddings.weight", c.P, \
    c.C)                                                                                                             \
  X(wtt, 0, "bert.embeddings.token_type_embeddings.weight", nullptr, c.TV, c.C)                                     \
  X(emb_lnw, 0, "bert.embeddings.LayerNorm.weight", "distilbert.embeddings.LayerNorm.weight", c.C, 0)               \
  X(emb_lnb, 0, "bert.embeddings.LayerNorm.bias", "distilbert.embeddings.LayerNorm.bias", c.C, 0)                   \
  X(qw, 1, "bert.encoder.layer.%d.attention.self.query.weight", "distilbert.transformer.layer.%d.attention.q_lin.weight", c.C, c.C) \
  X(qb, 1, "bert.encoder.layer.%d.attention.self.query.bias", "distilbert.transformer.layer.%d.attention.q_lin.bias", c.C, 0)       \
  X(kw, 1, "bert.encoder.layer.%d.attention.self.key.weight", "distilbert.transformer.layer.%d.attention.k_lin.weight", c.C, c.C)   \
  X(kb, 1, "bert.encoder.layer.%d.attention.self.key.bias", "distilbert.transformer.layer.%d.attention.k_lin.bias", c.C, 0)         \
  X(vw, 1, "bert.encoder.layer.%d.attention.self.value.weight", "distilbert.transformer.layer.%d.attention.v_lin.weight", c.C, c.C) \
  X(vb, 1, "bert.encoder.layer.%d.attention.self.value.bias", "distilbert.transformer.layer.%d.attention.v_lin.bias", c.C, 0)       \
  X(ow, 1, "bert.encoder.layer.%d.attention.output.dense.weight", "distilbert.transformer.layer.%d.attention.out_lin.weight", c.C, c.C) \
  X(ob, 1, "bert.encoder.layer.%d.attention.output.dense.bias", "distilbert.transformer.layer.%d.attention.out_lin.bias", c.C, 0)   \
  X(ln1w, 1, "bert.encoder.layer.%d.attention.output.LayerNorm.weight", "distilbert.transformer.layer.%d.sa_layer_norm.weight", c.C, 0) \
  X(ln1b, 1, "bert.encoder.layer.%d.attention.output.LayerNorm.bias", "distilbert.transformer.layer.%d.sa_layer_norm.bias", c.C, 0) \
  X(fc1w, 1, "bert.encoder.layer.%d.intermediate.dense.weight", "distilbert.transformer.layer.%d.ffn.lin1.weight", c.FF, c.C)      \
  X(fc1b, 1, "bert.encoder.layer.%d.intermediate.dense.bias", "distilbert.transformer.layer.%d.ffn.lin1.bias", c.FF, 0)            \
  X(fc2w, 1, "bert.encoder.layer.%d.output.dense.weight", "distilbert.transformer.layer.%d.ffn.lin2.weight", c.C, c.FF)            \
  X(fc2b, 1, "bert.encoder.layer.%d.output.dense.bias", "distilbert.transformer.layer.%d.ffn.lin2.bias", c.C, 0)                   \
  X(ln2w, 1, "bert.encoder.layer.%d.output.LayerNorm.weight", "distilbert.transformer.layer.%d.output_layer_norm.weight", c.C, 0)  \
  X(ln2b, 1, "bert.encoder.layer.%d.output.LayerNorm.bias", "distilbert.transformer.layer.%d.output_layer_norm.bias", c.C, 0)      \
  X(poolw, 0, "bert.pooler.dense.weight", "pre_classifier.weight", c.mlm ? 0 : c.C, c.C)                            \
  X(poolb, 0, "bert.pooler.dense.bias", "pre_classifier.bias", c.mlm ? 0 : c.C, 0)                                  \
  X(clsw, 0, "classifier.weight", "classifier.weight", c.mlm ? 0 : c.K, c.C)                                        \
  X(clsb, 0, "classifier.bias", "classifier.bias", c.mlm ? 0 : c.K, 0)                                              \
  X(mlm_dw, 0, "cls.predictions.transform.dense.weight", "vocab_transform.weight", c.mlm ? c.C : 0, c.C)            \
  X(mlm_db, 0, "cls.predictions.transform.dense.bias", "vocab_transform.bias", c.mlm ? c.C : 0, 0)                  \
  X(mlm_lnw, 0, "cls.predictions.transform.LayerNorm.weight", "vocab_layer_norm.weight", c.mlm ? c.C : 0, 0)        \
  X(mlm_lnb, 0, "cls.predictions.transform.LayerNorm.bias", "vocab_layer_norm.bias", c.mlm ? c.C : 0, 0)            \
  X(mlm_bias, 0, "cls.predictions.bias", "vocab_projector.bias", c.mlm ? c.V : 0, 0)
// (Hugging Face ties cls.predictions.decoder.weight / vocab_projector.weight to the word embeddings and
// cls.predictions.decoder.bias to cls.predictions.bias, and saves only the names above.)

// Pointers into an arena laid out by the table (the same struct serves parameters and gradients).
struct ParamTensors {
#define PKG_X(field, per_layer, bn, dn, rows, cols) float* field;
  PKG_ENCODER_PARAMS(PKG_X)
#undef PKG_X
};

// One checkpoint tensor: a Hugging Face name, its shape and where it lives in the arena (in floats).
struct ParamEntry {
  std::string name;
  std::vector<int64_t> shape;
  size_t offset = 0, numel = 0;
  bool trainable = true;  // false for fixed sinusoidal positions
};

std::vector<ParamEntry> param_entries(const EncoderConfig& c);

struct TrainStepOptions {
  AdamWParams adamw;
  float max_grad_norm = 0.0f;  // <= 0: no clipping
};

struct TrainStepResult {
  double loss = 0, grad_norm = 0;
  int64_t count = 0;  // mlm_step: the labelled (predicted) positions
};

class Encoder {
 public:
  Encoder(const EncoderConfig& config, Device device, uint64_t seed);
  ~Encoder();
  Encoder(const Encoder&) = delete;
  Encoder& operator=(const Encoder&) = delete;

  const EncoderConfig& config() const { return cfg_; }
  Device device() const { return dev_; }
  const std::vector<ParamEntry>& entries() const { return entries_; }
  size_t num_params() const { return nparams_; }

  // BERT initialisation: weights N(0, 0.02) from Philox, biases 0, LayerNorm 1/0, sinusoidal positions.
  void init_parameters(uint64_t seed);
  void set_parameters(const float* host);  // num_params() floats
  void set_parameter_range(const float* host, size_t offset, size_t n);  // n floats at arena offset
  void get_parameters(float* host) const;
  void get_gradients(float* host) const;

  // ids, tt (B·T) int32 (tt may be null), mask (B·T) uint8, all host memory and already validated;
  // logits_host (B·K). A training forward saves activations for backward(); an evaluation forward runs
  // the inference path (fused epilogues, nothing saved, its own small arena), and a backward() after it
  // first runs the forward again saving them (same inputs, no dropout, the same logits).
  void forward(const int32_t* ids, const uint8_t* mask, const int32_t* tt, int B, int T, bool train,
               float* logits_host);
  // dlogits_host (B·K) for the last forward; accumulates (+=) into the gradients.
  void backward(const float* dlogits_host);
  bool has_forward() const { return fwd_B_ > 0; }
  // Whether an inference forward runs attention's vector kernel (the CPU, head size 16, 32 or 64 on AVX-512 or
  // AVX2+FMA): it then skips a right-padded batch's padding (packed rows) and, with a cls or pooler head, runs
  // the last layer on the first tokens only. JavaScript's length bucketing asks this (padding is then free).
  bool skips_padding() const;
  int last_batch() const { return fwd_B_; }
  void zero_grad();
  double grad_norm();            // ‖grads‖₂
  void scale_grads(float s);
  void adamw_step(const AdamWParams& a);  // a.t ignored: the encoder counts steps
  void clip_and_step(const TrainStepOptions& opt, double grad_norm);  // clipping (max_grad_norm), then AdamW
  int64_t steps() const { return adamw_t_; }

  // zero_grad, forward(train), fused BCE loss (args.logits/dlogits/N/K are filled in here; every other
  // pointer in `loss` is already on this encoder's device, as addon/loss_args.h stages it), backward,
  // clipping, AdamW.
  TrainStepResult train_step(const int32_t* ids, const uint8_t* mask, const int32_t* tt, int B, int T,
                             const BceArgs& loss, const TrainStepOptions& opt);

  // Masked-LM step (config.mlm only). labels (B·T) int32, host: the original token id in [0,V) at the
  // positions to predict, −100 elsewhere (validated by the caller). Zeroes the gradients, runs the
  // encoder (with dropout when opt is given), the head on the labelled positions only (their rows are
  // gathered, so the vocabulary product costs M·C·V for M labels, not B·T·C·V), the softmax
  // cross-entropy (mean over the M labels), and the backward pass: the tied word embeddings get the
  // decoder's gradient and the embedding lookup's (+=). With opt: clipping and AdamW, as train_step; without:
  // no dropout and no update (the gradients stay readable). M = 0: loss 0, zero gradients, no update.
  TrainStepResult mlm_step(const int32_t* ids, const uint8_t* mask, const int32_t* tt, int B, int T,
                           const int32_t* labels, const TrainStepOptions* opt);

  size_t param_bytes() const { return nparams_ * sizeof(float); }
  size_t grad_bytes() const { return grads_mem_ ? nparams_ * sizeof(float) : 0; }  // 0 until gradients exist
  size_t optimizer_bytes() const { return m_ ? 2 * nparams_ * sizeof(float) : 0; }
  size_t activation_bytes() const {
    size_t floats = act_cap_ + inf_cap_ + mlm_cap_;
    for (const GroupArena& g : groups_) floats += g.cap;
    return floats * sizeof(float);
  }

 public:
  struct Acts;  // activation pointers, laid out by the table in encoder.cpp
  struct MlmActs;  // the masked-LM head's buffers for M gathered rows

 private:
  void ensure_grads();
  void ensure_acts(int B, int T, bool infer);
  // Lays an activation arena out for B×T, growing `mem` when `cap` floats are too few (then *held, when
  // given, becomes false first: what the arena held is gone).
  void layout_arena(float*& mem, size_t& cap, Acts& acts, int B, int T, bool infer, bool* held = nullptr);
  // An inference batch split between the threads by tokens, each share run through every layer by one thread
  // in an arena of its own (see forward_host); false where that does not apply.
  bool forward_grouped(const int32_t* ids, const uint8_t* mask, const int32_t* tt, int B, int T, float* logits_host);
  // forward(): train = dropout on; save = keep every layer's activations for a backward
  void forward_host(const int32_t* ids, const uint8_t* mask, const int32_t* tt, int B, int T, bool train, bool save,
                    float* logits_host);
  void upload_inputs(Acts& a, const int32_t* ids, const uint8_t* mask, const int32_t* tt, int B, int T);
  // save: write every layer's activations for backward (else the inference arena's one-layer buffers)
  void forward_device(Acts& a, int B, int T, bool train, bool save);
  void backward_device();
  void backward_classifier_head();  // dlogits → a.dy (the gradient of the last layer's output)
  void mlm_forward_head(int64_t M);   // gathered rows → loss (fills dlogits in place)
  void mlm_backward_head(int64_t M);  // → a.dy
  void zero(float* p, size_t n);
  void copy(float* dst, const float* src, size_t n);

  EncoderConfig cfg_;
  Device dev_;
  std::vector<ParamEntry> entries_;
  size_t nparams_ = 0;
  float* params_mem_ = nullptr;
  float* grads_mem_ = nullptr;
  float* m_ = nullptr;  // AdamW state, allocated at the first step
  float* v_ = nullptr;
  ParamTensors p_{}, g_{};
  float* act_mem_ = nullptr;
  size_t act_cap_ = 0;  // floats
  Acts* a_ = nullptr;
  float* inf_mem_ = nullptr;  // the inference arena
  size_t inf_cap_ = 0;        // floats
  Acts* ia_ = nullptr;
  struct GroupArena {  // one thread's share of a grouped inference forward
    float* mem = nullptr;
    size_t cap = 0;  // floats
    Acts* acts = nullptr;
  };
  std::vector<GroupArena> groups_;
  std::vector<int32_t> grouped_ids_, grouped_tt_;  // the last grouped forward's inputs (a backward reruns them)
  std::vector<uint8_t> grouped_mask_;
  bool fwd_grouped_ = false;
  uint64_t seed_ = 0;
  uint64_t rng_step_ = 0;  // advanced by each training forward: the dropout stream
  uint64_t fwd_rng_ = 0;
  bool fwd_train_ = false;
  bool fwd_saved_ = false;  // the last forward's activations are in the training arena
  int fwd_B_ = 0, fwd_T_ = 0;
  int64_t adamw_t_ = 0;
  float* mlm_mem_ = nullptr;  // the masked-LM head's arena (grows with M)
  size_t mlm_cap_ = 0;        // floats
  MlmActs* ma_ = nullptr;
  std::vector<int64_t> mlm_pos_;  // the labelled positions (b·T + t) of the last mlm_step
};

}  // namespace pkg
