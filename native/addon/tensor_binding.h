// AddonTensor: the native object behind the JS Tensor, a device-resident buffer with a dtype and a shape.
// dispose() frees the memory at once; the ObjectWrap destructor (run by the GC finalizer) is the safety net.
#pragma once

#include <memory>

#include "../core/device.h"
#include "napi_util.h"

namespace pkg {

class AddonTensor : public Napi::ObjectWrap<AddonTensor> {
 public:
  static Napi::Function Define(Napi::Env env);
  // Unwraps a native tensor argument: TypeError when `v` is not one, ERR_DISPOSED when disposed.
  static AddonTensor* From(Napi::Env env, const Napi::Value& v, const char* name);
  static bool Is(Napi::Env env, const Napi::Value& v);

  explicit AddonTensor(const Napi::CallbackInfo& info);
  ~AddonTensor() override { free_buffer(); }

  Buffer& buffer() { return *buf_; }
  // Async work that reads or writes this tensor holds a pin; dispose() while pinned is ERR_BUSY.
  void pin() { pins_++; }
  void unpin() { pins_--; }

 private:
  Napi::Value Dispose(const Napi::CallbackInfo& info);
  Napi::Value ToArray(const Napi::CallbackInfo& info);
  Napi::Value GetShape(const Napi::CallbackInfo& info);
  Napi::Value GetDType(const Napi::CallbackInfo& info);
  Napi::Value GetDevice(const Napi::CallbackInfo& info);
  Napi::Value GetDisposed(const Napi::CallbackInfo& info);

  void free_buffer();

  std::unique_ptr<Buffer> buf_;
  int pins_ = 0;
  // Bytes reported to V8 with AdjustExternalMemory, so that undisposed tensors create GC pressure and
  // the finalizer safety net actually runs.
  int64_t external_bytes_ = 0;
};

}  // namespace pkg
