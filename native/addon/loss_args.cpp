// Normalised loss options -> BceArgs (see loss_args.h). Re-checks every type and length.
#include "loss_args.h"

#include <cmath>
#include <string>

#include "tensor_binding.h"

namespace pkg {

LossInputs::~LossInputs() { unpin_all(); }

void LossInputs::pin_all() {
  if (pins_held_) return;
  for (AddonTensor* t : pinned) t->pin();
  pins_held_ = true;
}

void LossInputs::unpin_all() {
  if (!pins_held_) return;
  for (AddonTensor* t : pinned) t->unpin();
  pins_held_ = false;
}

namespace {

// A host typed array of an exact type and length; on CUDA a device copy is made and returned.
template <typename T>
const T* host_array(Napi::Env env, const Napi::Value& v, napi_typedarray_type type, const char* type_name,
                    const char* name, int64_t len, Device device, LossInputs& out) {
  const T* p = require_typed<const T>(v, type, type_name, name, len);
  out.refs.push_back(Napi::Persistent(v.As<Napi::Object>()));
  if (device == Device::Cpu) return p;
  auto buf = std::make_unique<Buffer>(device, type == napi_uint8_array ? DType::U8 : type == napi_int8_array ? DType::I8 : DType::F32,
                                      std::vector<int64_t>{len});
  if (len > 0) copy_to_device(device, buf->data, p, (size_t)len * sizeof(T));
  const T* d = static_cast<const T*>(buf->data);
  out.device_tmp.push_back(std::move(buf));
  return d;
}

const float* opt_f32(Napi::Env env, const Napi::Object& o, const char* key, int64_t len, Device device, LossInputs& out) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return nullptr;
  return host_array<float>(env, v, napi_float32_array, "Float32Array", key, len, device, out);
}

double opt_num(const Napi::Object& o, const char* key, double def, bool* present = nullptr) {
  Napi::Value v = o.Get(key);
  if (present) *present = !(v.IsUndefined() || v.IsNull());
  if (v.IsUndefined() || v.IsNull()) return def;
  double d = require_number(v, key);
  if (!std::isfinite(d)) throw_range(std::string("Expected a finite number for ") + key + " but received " + v.ToString().Utf8Value());
  return d;
}

bool opt_bool(const Napi::Object& o, const char* key, bool def) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return def;
  if (!v.IsBoolean()) throw_type(std::string("Expected a boolean for ") + key + " but received " + js_type_name(v));
  return v.As<Napi::Boolean>().Value();
}

}  // namespace

void parse_loss_options(Napi::Env env, const Napi::Object& o, int64_t N, int64_t K, Device device, LossInputs& out) {
  BceArgs& a = out.args;
  out.device = device;
  a.N = N;
  a.K = K;
  const int64_t NK = N * K;
  std::string red = "mean";
  Napi::Value rv = o.Get("reduction");
  if (!rv.IsUndefined()) red = require_string(rv, "reduction");
  if (red == "mean") a.reduction = Reduction::Mean;
  else if (red == "sum") a.reduction = Reduction::Sum;
  else if (red == "none") a.reduction = Reduction::None;
  else throw_type("Expected reduction 'mean' | 'sum' | 'none' but received '" + red + "'");

  a.pos_weight = opt_f32(env, o, "posWeight", K, device, out);
  a.class_weight = opt_f32(env, o, "classWeight", K, device, out);
  a.sample_weight = opt_f32(env, o, "sampleWeight", N, device, out);
  a.element_weight = opt_f32(env, o, "elementWeight", NK, device, out);
  Napi::Value mv = o.Get("mask");
  if (!mv.IsUndefined() && !mv.IsNull())
    a.mask = host_array<uint8_t>(env, mv, napi_uint8_array, "Uint8Array", "mask", NK, device, out);
  bool has_iv = false;
  a.ignore_value = (float)opt_num(o, "ignoreValue", -1.0, &has_iv);
  a.has_ignore_value = has_iv;
  a.label_smoothing = (float)opt_num(o, "labelSmoothing", 0.0);

  std::string variant = "bce";
  Napi::Value vv = o.Get("variant");
  if (!vv.IsUndefined()) variant = require_string(vv, "variant");
  bool has_alpha = false;
  if (variant == "bce") {
    a.variant = LossVariant::Bce;
  } else if (variant == "focal") {
    a.variant = LossVariant::Focal;
    a.gamma = (float)opt_num(o, "gamma", 2.0);
    a.alpha = (float)opt_num(o, "alpha", 0.25, &has_alpha);
    a.has_alpha = has_alpha;
  } else if (variant == "asymmetric") {
    a.variant = LossVariant::Asymmetric;
    a.gamma_pos = (float)opt_num(o, "gammaPos", 0.0);
    a.gamma_neg = (float)opt_num(o, "gammaNeg", 4.0);
    a.clip = (float)opt_num(o, "clip", 0.05);
  } else if (variant == "distributionBalanced") {
    a.variant = LossVariant::DistributionBalanced;
    Napi::Value cc = o.Get("classCounts");
    const float* counts = require_typed<const float>(cc, napi_float32_array, "Float32Array", "classCounts", K);
    out.class_counts.assign(counts, counts + K);
    a.class_counts = out.class_counts.data();
    a.train_size = opt_num(o, "trainSize", 0.0);
    a.neg_scale = (float)opt_num(o, "negScale", 2.0);
    a.init_bias = (float)opt_num(o, "initBias", 0.05);
    a.rebalance = opt_bool(o, "rebalance", true);
    a.rb_alpha = (float)opt_num(o, "rbAlpha", 0.1);
    a.rb_beta = (float)opt_num(o, "rbBeta", 10.0);
    a.rb_mu = (float)opt_num(o, "rbMu", 0.405);
    a.db_focal = opt_bool(o, "dbFocal", true);
    a.gamma = (float)opt_num(o, "gamma", 2.0);
    a.alpha = (float)opt_num(o, "alpha", 0.5);
  } else {
    throw_type("Expected variant 'bce' | 'focal' | 'asymmetric' | 'distributionBalanced' but received '" + variant + "'");
  }
  // Weight values: finite and >= 0 (host copies are checked; on CUDA the check reads the host array).
  auto check_weights = [&](const char* key, int64_t len) {
    Napi::Value v = o.Get(key);
    if (v.IsUndefined() || v.IsNull()) return;
    const float* p = require_typed<const float>(v, napi_float32_array, "Float32Array", key, len);
    for (int64_t i = 0; i < len; i++)
      if (!(std::isfinite(p[i]) && p[i] >= 0.0f))
        throw_range(std::string("Expected finite non-negative numbers in ") + key + " but received " +
                    std::to_string(p[i]) + " at index " + std::to_string(i));
  };
  check_weights("posWeight", K);
  check_weights("classWeight", K);
  check_weights("sampleWeight", N);
  check_weights("elementWeight", NK);
  bce_prepare(a);  // scalar parameter checks (throws RangeError)
}

void parse_loss_targets(Napi::Env env, const Napi::Value& v, int64_t N, int64_t K, Device device, LossInputs& out) {
  BceArgs& a = out.args;
  const int64_t NK = N * K;
  if (AddonTensor::Is(env, v)) {
    AddonTensor* t = AddonTensor::From(env, v, "targets");
    Buffer& b = t->buffer();
    if (b.dtype != DType::F32 && b.dtype != DType::I8 && b.dtype != DType::U8)
      throw_type(std::string("Expected a float32, int8 or uint8 Tensor for targets but received ") + dtype_name(b.dtype));
    if ((int64_t)b.numel != NK)
      throw_range("Expected targets with " + std::to_string(NK) + " elements but received " + std::to_string(b.numel));
    if (b.device != device)
      throw_type(std::string("Expected targets on ") + device_name(device) + " (where the logits are) but received a " +
                 device_name(b.device) + " Tensor");
    out.refs.push_back(Napi::Persistent(v.As<Napi::Object>()));
    out.pinned.push_back(t);
    a.targets = b.data;
    a.targets_dtype = b.dtype;
    return;
  }
  if (!v.IsTypedArray()) throw_type("Expected a Float32Array, Int8Array, Uint8Array or Tensor for targets but received " + js_type_name(v));
  switch (v.As<Napi::TypedArray>().TypedArrayType()) {
    case napi_float32_array:
      a.targets = host_array<float>(env, v, napi_float32_array, "Float32Array", "targets", NK, device, out);
      a.targets_dtype = DType::F32;
      break;
    case napi_int8_array:
      a.targets = host_array<int8_t>(env, v, napi_int8_array, "Int8Array", "targets", NK, device, out);
      a.targets_dtype = DType::I8;
      break;
    case napi_uint8_array:
      a.targets = host_array<uint8_t>(env, v, napi_uint8_array, "Uint8Array", "targets", NK, device, out);
      a.targets_dtype = DType::U8;
      break;
    default:
      throw_type("Expected a Float32Array, Int8Array, Uint8Array or Tensor for targets but received " + js_type_name(v));
  }
}

}  // namespace pkg
