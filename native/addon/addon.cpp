// Module entry point: per-environment data, then each binding registers its part of the API.
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
  init_bench(env, exports);
  return exports;
}

}  // namespace pkg

static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return pkg::Init(env, exports); }

NODE_API_MODULE(fused_multilabel, InitModule)
