// The AdamW structs that lib/optimizer.ts fills completely (NativeAdamWArgs for the encoder's step and
// trainStep, NativeSparseAdamWArgs for the sparseAdamW kernel): every field required and range-checked,
// no other field accepted, and no defaults here (ADAMW_DEFAULTS in lib/optimizer.ts is their one source).
#pragma once

#include <cmath>

#include "../ops/adamw.h"
#include "napi_util.h"

namespace pkg {

// The hyper-parameters both structs share.
inline AdamWParams adamw_hyperparameters(const Napi::Object& o) {
  AdamWParams a;
  a.lr = (float)number_field(o, "lr", "a number >= 0", [](double d) { return d >= 0 && d < INFINITY; });
  a.beta1 = (float)number_field(o, "beta1", "a number in [0, 1)", [](double d) { return d >= 0 && d < 1; });
  a.beta2 = (float)number_field(o, "beta2", "a number in [0, 1)", [](double d) { return d >= 0 && d < 1; });
  a.eps = (float)number_field(o, "eps", "a number > 0", [](double d) { return d > 0 && d < INFINITY; });
  a.weight_decay = (float)number_field(o, "weightDecay", "a number >= 0", [](double d) { return d >= 0 && d < INFINITY; });
  return a;
}

const char* const kAdamWFields[] = {"lr", "beta1", "beta2", "eps", "weightDecay", "decayBiasAndNorm", "maxGradNorm"};

// NativeAdamWArgs: the step's parameters and the clipping norm (0: none).
inline AdamWParams parse_adamw(const Napi::Value& v, float* max_grad_norm) {
  const Napi::Object o = require_struct(v, "optimizer struct", kAdamWFields, "lib/optimizer.ts");
  AdamWParams a = adamw_hyperparameters(o);
  a.decay_bias_and_norm = require_bool(o.Get("decayBiasAndNorm"), "decayBiasAndNorm");
  *max_grad_norm = (float)number_field(o, "maxGradNorm", "a number >= 0", [](double d) { return d >= 0 && d < INFINITY; });
  return a;
}

const char* const kSparseAdamWFields[] = {"lr", "beta1", "beta2", "eps", "weightDecay", "t"};

// NativeSparseAdamWArgs: one parameter's hyper-parameters and the 1-based step number.
inline AdamWParams parse_sparse_adamw(const Napi::Value& v) {
  const Napi::Object o = require_struct(v, "sparse AdamW struct", kSparseAdamWFields, "lib/optimizer.ts");
  AdamWParams a = adamw_hyperparameters(o);
  a.t = require_int(o.Get("t"), "t", 1, (int64_t)1 << 52);
  return a;
}

}  // namespace pkg
