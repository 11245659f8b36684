// Module entry point: per-environment data, then each binding registers its part of the API. Compiled
// into both addons; with FML_BENCH_ADDON (fused_multilabel_bench.node only) the benchmark entry points of
// bench_binding.cpp are registered too.
#include "addon_data.h"
#include "tensor_binding.h"

namespace pkg {

static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  env.SetInstanceData(new AddonData());
  Napi::Function tensor = AddonTensor::Define(env);
  addon_data(env).tensor_ctor = Napi::Persistent(tensor);
  exports.Set("NativeTensor", tensor);
  init_device(env, exports);
  init_losses(env, exports);
  init_encoder(env, exports);
  init_ngram(env, exports);
#ifdef FML_BENCH_ADDON
  init_bench(env, exports);
#endif
  return exports;
}

}  // namespace pkg

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return pkg::Init(env, exports); }

NODE_API_MODULE(fused_multilabel, InitModule)
