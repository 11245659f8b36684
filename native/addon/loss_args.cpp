// Normalised loss options -> BceArgs (see loss_args.h). Re-checks every type and length.
#include "loss_args.h"

#include <algorithm>
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

// A Float32Array of `len`, or null (absent).
const float* opt_f32(Napi::Env env, const Napi::Object& o, const char* key, int64_t len, Device device, LossInputs& out) {
  Napi::Value v = o.Get(key);
  if (v.IsNull()) return nullptr;
  return host_array<float>(env, v, napi_float32_array, "Float32Array", key, len, device, out);
}

// The fields of the complete loss struct (lib/loss_contract.ts NativeLossArgs): all required, no others.
const char* const kLossFields[] = {"reduction", "variant", "posWeight", "sampleWeight", "classWeight", "elementWeight",
                                   "mask", "ignoreValue", "labelSmoothing", "gamma", "alpha", "gammaPos", "gammaNeg",
                                   "clip", "classCounts", "trainSize", "negScale", "initBias", "rebalance", "rbAlpha",
                                   "rbBeta", "rbMu", "dbFocal"};

// One enum value from its name; `names` in the enum's order.
template <typename E, size_t M>
E enum_field(const Napi::Object& o, const char* key, const char* const (&names)[M]) {
  const std::string v = require_string(o.Get(key), key);
  for (size_t i = 0; i < M; i++)
    if (v == names[i]) return static_cast<E>(i);
  std::string list;
  for (const char* n : names) list += (list.empty() ? "'" : " | '") + std::string(n) + "'";
  throw_type("Expected " + std::string(key) + " " + list + " but received '" + v + "'");
}

double num_field(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  double d = require_number(v, key);
  if (!std::isfinite(d)) throw_range(std::string("Expected a finite number for ") + key + " but received " + v.ToString().Utf8Value());
  return d;
}

// A number, or null (absent): *present says which.
double nullable_num_field(const Napi::Object& o, const char* key, bool* present) {
  *present = !o.Get(key).IsNull();
  return *present ? num_field(o, key) : 0.0;
}

bool bool_field(const Napi::Object& o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsBoolean()) throw_type(std::string("Expected a boolean for ") + key + " but received " + js_type_name(v));
  return v.As<Napi::Boolean>().Value();
}

}  // namespace

void parse_loss_options(Napi::Env env, const Napi::Object& o, int64_t N, int64_t K, Device device, LossInputs& out) {
  require_struct(o, "loss struct", kLossFields, "lib/loss_contract.ts");
  BceArgs& a = out.args;
  out.device = device;
  a.N = N;
  a.K = K;
  const int64_t NK = N * K;
  a.reduction = enum_field<Reduction>(o, "reduction", kReductionNames);
  a.variant = enum_field<LossVariant>(o, "variant", kLossVariantNames);
  a.pos_weight = opt_f32(env, o, "posWeight", K, device, out);
  a.class_weight = opt_f32(env, o, "classWeight", K, device, out);
  a.sample_weight = opt_f32(env, o, "sampleWeight", N, device, out);
  a.element_weight = opt_f32(env, o, "elementWeight", NK, device, out);
  Napi::Value mv = o.Get("mask");
  if (!mv.IsNull()) a.mask = host_array<uint8_t>(env, mv, napi_uint8_array, "Uint8Array", "mask", NK, device, out);
  a.ignore_value = (float)nullable_num_field(o, "ignoreValue", &a.has_ignore_value);
  a.label_smoothing = (float)num_field(o, "labelSmoothing");
  a.gamma = (float)num_field(o, "gamma");
  a.alpha = (float)nullable_num_field(o, "alpha", &a.has_alpha);
  a.gamma_pos = (float)num_field(o, "gammaPos");
  a.gamma_neg = (float)num_field(o, "gammaNeg");
  a.clip = (float)num_field(o, "clip");
  Napi::Value cc = o.Get("classCounts");
  if (!cc.IsNull()) {
    const float* counts = require_typed<const float>(cc, napi_float32_array, "Float32Array", "classCounts", K);
    out.class_counts.assign(counts, counts + K);
    a.class_counts = out.class_counts.data();
  }
  a.train_size = num_field(o, "trainSize");
  a.neg_scale = (float)num_field(o, "negScale");
  a.init_bias = (float)num_field(o, "initBias");
  a.rebalance = bool_field(o, "rebalance");
  a.rb_alpha = (float)num_field(o, "rbAlpha");
  a.rb_beta = (float)num_field(o, "rbBeta");
  a.rb_mu = (float)num_field(o, "rbMu");
  a.db_focal = bool_field(o, "dbFocal");
  // Weight values: finite and >= 0 (host copies are checked; on CUDA the check reads the host array).
  auto check_weights = [&](const char* key, int64_t len) {
    Napi::Value v = o.Get(key);
    if (v.IsNull()) return;
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
