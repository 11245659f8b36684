// deviceInfo() (never throws) and the CPU thread count.
#include "../core/device.h"
#include "../core/parallel.h"
#include "../ops/attention.h"  // attention_infer_path
#include "../ops/matmul.h"  // sgemm_path
#include "addon_data.h"

namespace pkg {

static const char* blas_name() {
#ifdef FML_HAVE_OPENBLAS
  return "OpenBLAS";
#else
  return "built-in";
#endif
}

static Napi::Value DeviceInfo(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const CudaProbe& p = cuda_probe();
  Napi::Object cuda = Napi::Object::New(env);
  cuda.Set("available", p.available);
  cuda.Set("deviceCount", p.device_count);
  Napi::Array devices = Napi::Array::New(env, p.devices.size());
  for (size_t i = 0; i < p.devices.size(); i++) {
    const CudaDeviceInfo& d = p.devices[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("index", d.index);
    o.Set("name", d.name);
    o.Set("computeCapability", std::to_string(d.major) + "." + std::to_string(d.minor));
    o.Set("totalMemory", (double)d.total_memory);
    devices.Set((uint32_t)i, o);
  }
  cuda.Set("devices", devices);
  cuda.Set("error", p.available ? env.Null() : Napi::String::New(env, p.error));

  Napi::Object out = Napi::Object::New(env);
  out.Set("compiledWithCuda", compiled_with_cuda());
  Napi::Array archs = Napi::Array::New(env);
  // FML_CUDA_ARCHS is "sm_80, sm_86, ... + PTX"; split on ", " into a list.
  std::string s = cuda_architectures();
  size_t start = 0;
  uint32_t k = 0;
  while (start < s.size()) {
    size_t comma = s.find(", ", start);
    std::string item = s.substr(start, comma == std::string::npos ? std::string::npos : comma - start);
    size_t plus = item.find(" + PTX");
    if (plus != std::string::npos) item = item.substr(0, plus);
    archs.Set(k++, item);
    if (comma == std::string::npos) break;
    start = comma + 2;
  }
  out.Set("cudaArchitectures", archs);
  out.Set("cudaPtx", s.find("+ PTX") != std::string::npos);
  out.Set("cuda", cuda);
  out.Set("blas", blas_name());
  out.Set("sgemm", sgemm_path());
  out.Set("attention", attention_infer_path(64));  // the same at head sizes 16 and 32; others: "generic"
  Napi::Object threads = Napi::Object::New(env);
  threads.Set("count", num_threads());
  threads.Set("backend", threading_backend());
  out.Set("threads", threads);
  return out;
}

static Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    int64_t n = require_int(info[0], "n", 1, 1024);
    set_num_threads((int)n);
    return info.Env().Undefined();
  });
}

static Napi::Value GetThreads(const Napi::CallbackInfo& info) { return Napi::Number::New(info.Env(), num_threads()); }

void init_device(Napi::Env env, Napi::Object exports) {
  exports.Set("deviceInfo", Napi::Function::New(env, DeviceInfo));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads));
  exports.Set("getThreads", Napi::Function::New(env, GetThreads));
}

}  // namespace pkg
