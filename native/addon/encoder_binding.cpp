// AddonEncoder: the N-API object behind lib/encoder.ts. Owns one native Encoder (and its arenas).
//
// Rules: every argument is checked on the main thread before any kernel runs (token ids, lengths,
// shapes); heavy calls run in a PromiseWorker (worker.h) that holds references to its input arrays and to
// this object; a busy flag, set before queueing and cleared when the work settles, turns a concurrent call into
// ERR_BUSY; dispose() frees the arenas at once (ERR_DISPOSED afterwards), the destructor is the net.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "../model/encoder.h"
#include "../ops/matmul.h"
#include "adamw_args.h"
#include "addon_data.h"
#include "loss_args.h"
#include "worker.h"

namespace pkg {

namespace {

// The fields of the complete config (lib/encoder_config.ts normalizeConfig fills every one; no defaults here).
const char* const kConfigFields[] = {"architecture", "vocabSize", "hiddenSize", "numLayers", "numHeads", "intermediateSize",
                                     "maxPositions", "typeVocabSize", "layerNormEps", "hiddenDropout", "attentionDropout",
                                     "classifierDropout", "numLabels", "pooling", "sinusoidalPositions", "padTokenId", "head"};

float probability(const Napi::Object& o, const char* key) {
  return (float)number_field(o, key, "a probability in [0, 1)", [](double d) { return d >= 0 && d < 1; });
}

EncoderConfig parse_config(const Napi::Value& v) {
  const Napi::Object o = require_struct(v, "encoder config", kConfigFields, "lib/encoder_config.ts normalizeConfig");
  EncoderConfig c;
  const std::string arch = require_string(o.Get("architecture"), "config.architecture");
  if (arch == "bert") c.arch = Arch::Bert;
  else if (arch == "distilbert") c.arch = Arch::DistilBert;
  else throw_range("Expected 'bert' | 'distilbert' for config.architecture but received \"" + arch + "\"");
  c.V = (int)require_int(o.Get("vocabSize"), "config.vocabSize", 1, 1 << 24);
  c.C = (int)require_int(o.Get("hiddenSize"), "config.hiddenSize", 1, 16384);
  c.L = (int)require_int(o.Get("numLayers"), "config.numLayers", 0, 64);
  c.NH = (int)require_int(o.Get("numHeads"), "config.numHeads", 1, 16384);
  c.FF = (int)require_int(o.Get("intermediateSize"), "config.intermediateSize", 1, 65536);
  c.P = (int)require_int(o.Get("maxPositions"), "config.maxPositions", 1, 65536);
  c.K = (int)require_int(o.Get("numLabels"), "config.numLabels", 1, 1 << 20);
  c.TV = (int)require_int(o.Get("typeVocabSize"), "config.typeVocabSize", c.arch == Arch::Bert ? 1 : 0, c.arch == Arch::Bert ? 1024 : 0);
  c.eps = (float)number_field(o, "layerNormEps", "a number in (0, 0.5]", [](double d) { return d > 0 && d <= 0.5; });
  c.hidden_dropout = probability(o, "hiddenDropout");
  c.attention_dropout = probability(o, "attentionDropout");
  c.classifier_dropout = probability(o, "classifierDropout");
  c.pad_id = (int)require_int(o.Get("padTokenId"), "config.padTokenId", -1, 1 << 24);
  c.sinusoidal = require_bool(o.Get("sinusoidalPositions"), "config.sinusoidalPositions");
  const std::string p = require_string(o.Get("pooling"), "config.pooling");
  if (p == "pooler") c.pooling = Pooling::Pooler;
  else if (p == "cls") c.pooling = Pooling::Cls;
  else if (p == "mean") c.pooling = Pooling::Mean;
  else throw_range("Expected 'pooler' | 'cls' | 'mean' for config.pooling but received \"" + p + "\"");
  const std::string h = require_string(o.Get("head"), "config.head");
  if (h != "classification" && h != "masked-lm")
    throw_range("Expected 'classification' | 'masked-lm' for config.head but received \"" + h + "\"");
  c.mlm = h == "masked-lm";
  validate_config(c);
  return c;
}

// A validated batch: pointers into JS typed arrays that the worker keeps referenced.
struct Batch {
  const int32_t* ids = nullptr;
  const uint8_t* mask = nullptr;
  const int32_t* tt = nullptr;
  int B = 0, T = 0;
};

Batch parse_batch(const Napi::CallbackInfo& info, size_t first, const EncoderConfig& c) {
  Batch b;
  b.B = (int)require_int(info[first + 3], "batchSize", 1, 1 << 24);
  b.T = (int)require_int(info[first + 4], "seqLen", 1, 1 << 24);
  if (b.T > c.P)
    throw_range("Expected seqLen <= maxPositions (" + std::to_string(c.P) + ") but received " + std::to_string(b.T));
  const int64_t BT = (int64_t)b.B * b.T;
  b.ids = require_typed<int32_t>(info[first], napi_int32_array, "Int32Array", "inputIds", BT);
  b.mask = require_typed<uint8_t>(info[first + 1], napi_uint8_array, "Uint8Array", "attentionMask", BT);
  if (!info[first + 2].IsUndefined() && !info[first + 2].IsNull())
    b.tt = require_typed<int32_t>(info[first + 2], napi_int32_array, "Int32Array", "tokenTypeIds", BT);
  for (int64_t i = 0; i < BT; i++) {
    if (b.ids[i] < 0 || b.ids[i] >= c.V)
      throw_range("Expected token ids in [0, " + std::to_string(c.V) + ") for inputIds but inputIds[" +
                  std::to_string(i) + "] is " + std::to_string(b.ids[i]));
    if (b.mask[i] > 1)
      throw_range("Expected 0 or 1 in attentionMask but attentionMask[" + std::to_string(i) + "] is " +
                  std::to_string(b.mask[i]));
  }
  if (b.tt) {
    if (c.arch != Arch::Bert && c.TV == 0)
      for (int64_t i = 0; i < BT; i++)
        if (b.tt[i] != 0) throw_range("tokenTypeIds must be 0 for a model without token types (distilbert)");
    for (int64_t i = 0; i < BT; i++)
      if (b.tt[i] < 0 || (c.TV > 0 && b.tt[i] >= c.TV))
        throw_range("Expected token type ids in [0, " + std::to_string(c.TV) + ") for tokenTypeIds but tokenTypeIds[" +
                    std::to_string(i) + "] is " + std::to_string(b.tt[i]));
    if (c.TV == 0) b.tt = nullptr;
  }
  return b;
}

}  // namespace

class AddonEncoder : public Napi::ObjectWrap<AddonEncoder> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeEncoder",
                       {InstanceMethod<&AddonEncoder::ParamTable>("paramTable"),
                        InstanceMethod<&AddonEncoder::SetParameters>("setParameters"),
                        InstanceMethod<&AddonEncoder::SetParameterRange>("setParameterRange"),
                        InstanceMethod<&AddonEncoder::Parameters>("parameters"),
                        InstanceMethod<&AddonEncoder::Gradients>("gradients"),
                        InstanceMethod<&AddonEncoder::Forward>("forward"),
                        InstanceMethod<&AddonEncoder::Backward>("backward"),
                        InstanceMethod<&AddonEncoder::ZeroGrad>("zeroGrad"),
                        InstanceMethod<&AddonEncoder::Step>("step"),
                        InstanceMethod<&AddonEncoder::TrainStep>("trainStep"),
                        InstanceMethod<&AddonEncoder::MlmStep>("mlmStep"),
                        InstanceMethod<&AddonEncoder::Memory>("memory"),
                        InstanceMethod<&AddonEncoder::Dispose>("dispose"),
                        InstanceAccessor<&AddonEncoder::GetDisposed>("disposed"),
                        InstanceAccessor<&AddonEncoder::GetBusy>("busy"),
                        InstanceAccessor<&AddonEncoder::GetSkipsPadding>("skipsPadding")});
  }

  // new NativeEncoder(config, device: 'cpu' | 'cuda', seed)
  explicit AddonEncoder(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AddonEncoder>(info) {
    Napi::Env env = info.Env();
    guarded(env, [&]() -> Napi::Value {
      EncoderConfig c = parse_config(info[0]);
      const std::string dev = require_string(info[1], "device");
      Device d;
      if (dev == "cpu") d = Device::Cpu;
      else if (dev == "cuda") {
        require_cuda();
        d = Device::Cuda;
      } else throw_range("Expected 'cpu' | 'cuda' for device but received \"" + dev + "\"");
      const uint64_t seed = (uint64_t)require_int(info[2], "seed", 0, ((int64_t)1 << 53) - 1);
      enc_ = std::make_unique<Encoder>(c, d, seed);
      return env.Undefined();
    });
  }

  bool busy = false;
  Encoder& enc() { return *enc_; }

 private:
  void check_usable(bool allow_busy = false) {
    if (!enc_) throw Error(ErrorCode::Disposed, ErrorKind::Error, "Encoder is disposed");
    if (busy && !allow_busy)
      throw Error(ErrorCode::Busy, ErrorKind::Error, "Encoder is busy: another call is still running");
  }

  // A worker on this encoder: holds a reference to it and clears the busy flag when it settles.
  PromiseWorker* worker(Napi::Env env, std::function<void()> run, std::function<Napi::Value(Napi::Env)> resolve,
                        std::function<void()> settle = nullptr) {
    auto* w = new PromiseWorker(env, "fused-multilabel:encoder", std::move(run), std::move(resolve),
                                [this, settle = std::move(settle)]() {
                                  busy = false;
                                  if (settle) settle();
                                });
    w->keep(Value());
    return w;
  }

  Napi::Value Queue(PromiseWorker* w) {
    busy = true;
    return w->queue();
  }

  Napi::Value ParamTable(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      check_usable(true);
      Napi::Env env = info.Env();
      const auto& es = enc_->entries();
      Napi::Array out = Napi::Array::New(env, es.size());
      for (size_t i = 0; i < es.size(); i++) {
        Napi::Object o = Napi::Object::New(env);
        o.Set("name", es[i].name);
        Napi::Array shape = Napi::Array::New(env, es[i].shape.size());
        for (size_t j = 0; j < es[i].shape.size(); j++) shape.Set((uint32_t)j, Napi::Number::New(env, (double)es[i].shape[j]));
        o.Set("shape", shape);
        o.Set("offset", Napi::Number::New(env, (double)es[i].offset));
        o.Set("size", Napi::Number::New(env, (double)es[i].numel));
        o.Set("trainable", Napi::Boolean::New(env, es[i].trainable));
        out.Set((uint32_t)i, o);
      }
      return out;
    });
  }

  Napi::Value SetParameters(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      check_usable();
      const float* p = require_typed<float>(info[0], napi_float32_array, "Float32Array", "parameters",
                                            (int64_t)enc_->num_params());
      enc_->set_parameters(p);
      return info.Env().Undefined();
    });
  }

  // setParameterRange(offset, data): data.length floats at `offset` of the arena (fromPretrained's loader).
  Napi::Value SetParameterRange(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      check_usable();
      const int64_t n = (int64_t)enc_->num_params();
      const int64_t offset = require_int(info[0], "offset", 0, n);
      const float* p = require_typed<float>(info[1], napi_float32_array, "Float32Array", "data", -1);
      const int64_t len = (int64_t)info[1].As<Napi::TypedArray>().ElementLength();
      if (len > n - offset) throw_range("setParameterRange: offset + data.length exceeds the parameter count");
      enc_->set_parameter_range(p, (size_t)offset, (size_t)len);
      return info.Env().Undefined();
    });
  }

  Napi::Value Parameters(const Napi::CallbackInfo& info) { return Arena(info, &Encoder::get_parameters); }
  Napi::Value Gradients(const Napi::CallbackInfo& info) { return Arena(info, &Encoder::get_gradients); }

  // A copy of the parameter or gradient arena (one value per parameter, in paramTable order).
  Napi::Value Arena(const Napi::CallbackInfo& info, void (Encoder::*get)(float*) const) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      check_usable();
      Napi::Float32Array out = Napi::Float32Array::New(info.Env(), enc_->num_params());
      ((*enc_).*get)(out.Data());
      return out;
    });
  }

  // forward(inputIds, attentionMask, tokenTypeIds | null, batchSize, seqLen, train) → Promise<Float32Array>
  Napi::Value Forward(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      check_usable();
      Batch b = parse_batch(info, 0, enc_->config());
      const bool train = info[5].ToBoolean().Value();
      auto logits = std::make_shared<std::vector<float>>((size_t)b.B * enc_->config().K);
      Encoder* e = enc_.get();
      auto* w = worker(
          info.Env(), [=]() { e->forward(b.ids, b.mask, b.tt, b.B, b.T, train, logits->data()); },
          [logits](Napi::Env env) -> Napi::Value {
            Napi::Float32Array out = Napi::Float32Array::New(env, logits->size());
            std::copy(logits->begin(), logits->end(), out.Data());
            return out;
          });
      for (int i = 0; i < 3; i++) w->keep(info[i]);
      return Queue(w);
    });
  }

  // backward(dlogits) → Promise<void>
  Napi::Value Backward(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      check_usable();
      if (!enc_->has_forward()) throw_range("backward() needs a forward() first: no saved activations");
      const float* d = require_typed<float>(info[0], napi_float32_array, "Float32Array", "dlogits",
                                            (int64_t)enc_->last_batch() * enc_->config().K);
      Encoder* e = enc_.get();
      auto* w = worker(info.Env(), [=]() { e->backward(d); }, [](Napi::Env env) { return env.Undefined(); });
      w->keep(info[0]);
      return Queue(w);
    });
  }

  Napi::Value ZeroGrad(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      check_usable();
      enc_->zero_grad();
      return info.Env().Undefined();
    });
  }

  // step({lr, beta1, beta2, eps, weightDecay, maxGradNorm}) → Promise<{ gradNorm }>
  Napi::Value Step(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      check_usable();
      float max_norm = 0;
      AdamWParams a = parse_adamw(info[0], &max_norm);
      Encoder* e = enc_.get();
      auto norm = std::make_shared<double>(0);
      auto* w = worker(
          info.Env(),
          [=]() {
            *norm = e->grad_norm();
            TrainStepOptions opt;
            opt.adamw = a;
            opt.max_grad_norm = max_norm;
            e->clip_and_step(opt, *norm);
          },
          [norm](Napi::Env env) -> Napi::Value {
            Napi::Object o = Napi::Object::New(env);
            o.Set("gradNorm", Napi::Number::New(env, *norm));
            return o;
          });
      return Queue(w);
    });
  }

  // trainStep(inputIds, attentionMask, tokenTypeIds | null, batchSize, seqLen, targets, lossOptions, optimizer)
  //   targets and lossOptions: as bceWithLogits (addon/loss_args.h), N = batchSize, K = numLabels.
  Napi::Value TrainStep(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      check_usable();
      const EncoderConfig& c = enc_->config();
      Batch b = parse_batch(info, 0, c);
      // Loss options come normalised by lib/losses.ts normalizeLossOptions; parse_loss_* re-check them
      // and stage host arrays on the encoder's device.
      auto in = std::make_shared<LossInputs>();
      if (!info[6].IsObject()) throw_type("Expected an options object for lossOptions but received " + js_type_name(info[6]));
      parse_loss_options(info.Env(), info[6].As<Napi::Object>(), b.B, c.K, enc_->device(), *in);
      parse_loss_targets(info.Env(), info[5], b.B, c.K, enc_->device(), *in);
      if (in->args.reduction == Reduction::None) throw_range("trainStep needs reduction 'mean' or 'sum', not 'none'");
      std::vector<Napi::Value> keep = {info[0], info[1], info[2]};
      TrainStepOptions opt;
      opt.adamw = parse_adamw(info[7], &opt.max_grad_norm);
      Encoder* e = enc_.get();
      auto res = std::make_shared<TrainStepResult>();
      auto* w = worker(
          info.Env(), [=]() { *res = e->train_step(b.ids, b.mask, b.tt, b.B, b.T, in->args, opt); },
          [res](Napi::Env env) -> Napi::Value {
            Napi::Object o = Napi::Object::New(env);
            o.Set("loss", Napi::Number::New(env, res->loss));
            o.Set("gradNorm", Napi::Number::New(env, res->grad_norm));
            return o;
          },
          [in]() { in->unpin_all(); });
      for (auto& v : keep) w->keep(v);
      in->pin_all();
      return Queue(w);
    });
  }

  // mlmStep(inputIds, attentionMask, tokenTypeIds | null, batchSize, seqLen, labels, optimizer | null)
  //   → Promise<{ loss, count, gradNorm }>; labels Int32Array (batchSize·seqLen): a token id to predict or -100.
  //   Without an optimizer: no dropout and no update (loss and gradients only).
  Napi::Value MlmStep(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      check_usable();
      const EncoderConfig& c = enc_->config();
      if (!c.mlm) throw_range("mlmStep needs an encoder created with head 'masked-lm'");
      Batch b = parse_batch(info, 0, c);
      const int64_t BT = (int64_t)b.B * b.T;
      const int32_t* labels = require_typed<int32_t>(info[5], napi_int32_array, "Int32Array", "labels", BT);
      for (int64_t i = 0; i < BT; i++)
        if (labels[i] != -100 && (labels[i] < 0 || labels[i] >= c.V))
          throw_range("Expected token ids in [0, " + std::to_string(c.V) + ") or -100 for labels but labels[" +
                      std::to_string(i) + "] is " + std::to_string(labels[i]));
      std::shared_ptr<TrainStepOptions> opt;
      if (!info[6].IsUndefined() && !info[6].IsNull()) {
        opt = std::make_shared<TrainStepOptions>();
        opt->adamw = parse_adamw(info[6], &opt->max_grad_norm);
      }
      Encoder* e = enc_.get();
      auto res = std::make_shared<TrainStepResult>();
      auto* w = worker(
          info.Env(), [=]() { *res = e->mlm_step(b.ids, b.mask, b.tt, b.B, b.T, labels, opt.get()); },
          [res](Napi::Env env) -> Napi::Value {
            Napi::Object o = Napi::Object::New(env);
            o.Set("loss", Napi::Number::New(env, res->loss));
            o.Set("count", Napi::Number::New(env, (double)res->count));
            o.Set("gradNorm", Napi::Number::New(env, res->grad_norm));
            return o;
          });
      for (int i = 0; i < 3; i++) w->keep(info[i]);
      w->keep(info[5]);
      return Queue(w);
    });
  }

  Napi::Value Memory(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      check_usable(true);
      Napi::Env env = info.Env();
      Napi::Object o = Napi::Object::New(env);
      o.Set("parameters", Napi::Number::New(env, (double)enc_->param_bytes()));
      o.Set("gradients", Napi::Number::New(env, (double)enc_->grad_bytes()));
      o.Set("optimizer", Napi::Number::New(env, (double)enc_->optimizer_bytes()));
      o.Set("activations", Napi::Number::New(env, (double)enc_->activation_bytes()));
      return o;
    });
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      if (busy) throw Error(ErrorCode::Busy, ErrorKind::Error, "Encoder is busy: dispose() after the pending call settles");
      enc_.reset();
      return info.Env().Undefined();
    });
  }

  Napi::Value GetDisposed(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), !enc_); }
  Napi::Value GetBusy(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), busy); }
  Napi::Value GetSkipsPadding(const Napi::CallbackInfo& info) {
    return Napi::Boolean::New(info.Env(), enc_ && enc_->skips_padding());
  }

  std::unique_ptr<Encoder> enc_;
};

void init_encoder(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = AddonEncoder::Define(env);
  addon_data(env).encoder_ctor = Napi::Persistent(ctor);
  exports.Set("NativeEncoder", ctor);
}

}  // namespace pkg
