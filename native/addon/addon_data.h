// Per-environment state of the addon (one per main thread or worker thread): no mutable globals.
#pragma once

#include "napi_util.h"

namespace pkg {

struct AddonData {
  Napi::FunctionReference tensor_ctor;
  Napi::FunctionReference encoder_ctor;
};

inline AddonData& addon_data(Napi::Env env) { return *env.GetInstanceData<AddonData>(); }

// Each binding file registers its functions on `exports`.
void init_device(Napi::Env env, Napi::Object exports);
void init_losses(Napi::Env env, Napi::Object exports);
void init_encoder(Napi::Env env, Napi::Object exports);
void init_ngram(Napi::Env env, Napi::Object exports);
// The benchmark-only entry points (bench_binding.cpp), registered only in fused_multilabel_bench.node.
void init_bench(Napi::Env env, Napi::Object exports);

}  // namespace pkg
