#include "tensor_binding.h"

#include <vector>

#include "../core/half.h"
#include "addon_data.h"

namespace pkg {

namespace {

napi_typedarray_type input_array_type(DType t, const char** name) {
  switch (t) {
    case DType::F32: case DType::F16: case DType::BF16: *name = "Float32Array"; return napi_float32_array;
    case DType::I8: *name = "Int8Array"; return napi_int8_array;
    case DType::U8: *name = "Uint8Array"; return napi_uint8_array;
    case DType::I32: *name = "Int32Array"; return napi_int32_array;
  }
  *name = "Float32Array";
  return napi_float32_array;
}

}  // namespace

Napi::Function AddonTensor::Define(Napi::Env env) {
  return DefineClass(env, "NativeTensor",
                     {
                         InstanceMethod<&AddonTensor::Dispose>("dispose"),
                         InstanceMethod<&AddonTensor::ToArray>("toArray"),
                         InstanceAccessor<&AddonTensor::GetShape>("shape"),
                         InstanceAccessor<&AddonTensor::GetDType>("dtype"),
                         InstanceAccessor<&AddonTensor::GetDevice>("device"),
                         InstanceAccessor<&AddonTensor::GetDisposed>("disposed"),
                     });
}

bool AddonTensor::Is(Napi::Env env, const Napi::Value& v) {
  if (!v.IsObject()) return false;
  return v.As<Napi::Object>().InstanceOf(addon_data(env).tensor_ctor.Value());
}

AddonTensor* AddonTensor::From(Napi::Env env, const Napi::Value& v, const char* name) {
  if (!Is(env, v)) throw_type(std::string("Expected a Tensor for ") + name + " but received " + js_type_name(v));
  AddonTensor* t = AddonTensor::Unwrap(v.As<Napi::Object>());
  if (!t->buf_) throw Error(ErrorCode::Disposed, ErrorKind::Error, std::string("Tensor ") + name + " is disposed");
  return t;
}

// new NativeTensor(data: TypedArray | null, shape: number[], dtype: string, device: 'cpu' | 'cuda')
// data === null allocates without initialising: for outputs that a kernel fills completely (the addon's own
// use, e.g. a loss gradient on the logits' device); the public Tensor.from always passes data.
AddonTensor::AddonTensor(const Napi::CallbackInfo& info) : Napi::ObjectWrap<AddonTensor>(info) {
  Napi::Env env = info.Env();
  try {
    std::string dtype_s = require_string(info[2], "dtype");
    DType dtype;
    if (!dtype_from_name(dtype_s, &dtype))
      throw_type("Expected dtype 'float32' | 'float16' | 'bfloat16' | 'int8' | 'uint8' | 'int32' but received '" +
                 dtype_s + "'");
    std::string device_s = require_string(info[3], "device");
    if (device_s != "cpu" && device_s != "cuda")
      throw_type("Expected device 'cpu' | 'cuda' but received '" + device_s + "'");
    Device device = device_s == "cuda" ? Device::Cuda : Device::Cpu;
    if (!info[1].IsArray()) throw_type("Expected an array of integers for shape but received " + js_type_name(info[1]));
    Napi::Array shape_js = info[1].As<Napi::Array>();
    std::vector<int64_t> shape;
    int64_t numel = 1;
    for (uint32_t i = 0; i < shape_js.Length(); i++) {
      int64_t d = require_int(shape_js.Get(i), "shape", 0, (int64_t)1 << 40);
      numel *= d;
      PKG_CHECK_RANGE(numel <= ((int64_t)1 << 40), "shape has too many elements");
      shape.push_back(d);
    }
    const char* array_name;
    napi_typedarray_type at = input_array_type(dtype, &array_name);
    const bool uninitialised = info[0].IsNull();
    const void* src = uninitialised ? nullptr : require_typed<const uint8_t>(info[0], at, array_name, "data", numel);
    if (device == Device::Cuda) require_cuda();

    buf_ = std::make_unique<Buffer>(device, dtype, shape);
    if (uninitialised) {
      // filled by the caller
    } else if (dtype == DType::F16 || dtype == DType::BF16) {
      const float* f = static_cast<const float*>(src);
      std::vector<uint16_t> tmp((size_t)numel);
      for (int64_t i = 0; i < numel; i++) tmp[i] = dtype == DType::F16 ? f32_to_f16(f[i]) : f32_to_bf16(f[i]);
      copy_to_device(device, buf_->data, tmp.data(), buf_->bytes());
    } else {
      copy_to_device(device, buf_->data, src, buf_->bytes());
    }
    external_bytes_ = (int64_t)buf_->bytes();
    Napi::MemoryManagement::AdjustExternalMemory(env, external_bytes_);
  } catch (const Error& e) {
    buf_.reset();
    to_js_error(env, e).ThrowAsJavaScriptException();
  }
}

Napi::Value AddonTensor::Dispose(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    if (pins_ > 0) throw Error(ErrorCode::Busy, ErrorKind::Error, "Tensor is busy: an operation using it is still running");
    free_buffer();
    return info.Env().Undefined();
  });
}

void AddonTensor::free_buffer() {
  buf_.reset();
  if (external_bytes_ != 0) {
    Napi::MemoryManagement::AdjustExternalMemory(Env(), -external_bytes_);
    external_bytes_ = 0;
  }
}

Napi::Value AddonTensor::ToArray(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    if (!buf_) throw Error(ErrorCode::Disposed, ErrorKind::Error, "Tensor is disposed");
    const Buffer& b = *buf_;
    const size_t n = b.numel;
    switch (b.dtype) {
      case DType::F32: {
        auto out = Napi::Float32Array::New(env, n);
        copy_to_host(b.device, out.Data(), b.data, b.bytes());
        return out;
      }
      case DType::F16: case DType::BF16: {
        std::vector<uint16_t> tmp(n);
        copy_to_host(b.device, tmp.data(), b.data, b.bytes());
        auto out = Napi::Float32Array::New(env, n);
        float* o = out.Data();
        for (size_t i = 0; i < n; i++) o[i] = b.dtype == DType::F16 ? f16_to_f32(tmp[i]) : bf16_to_f32(tmp[i]);
        return out;
      }
      case DType::I8: {
        auto out = Napi::Int8Array::New(env, n);
        copy_to_host(b.device, out.Data(), b.data, b.bytes());
        return out;
      }
      case DType::U8: {
        auto out = Napi::Uint8Array::New(env, n);
        copy_to_host(b.device, out.Data(), b.data, b.bytes());
        return out;
      }
      case DType::I32: {
        auto out = Napi::Int32Array::New(env, n);
        copy_to_host(b.device, out.Data(), b.data, b.bytes());
        return out;
      }
    }
    return env.Undefined();
  });
}

Napi::Value AddonTensor::GetShape(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!buf_) return env.Null();
  Napi::Array a = Napi::Array::New(env, buf_->shape.size());
  for (size_t i = 0; i < buf_->shape.size(); i++) a.Set((uint32_t)i, Napi::Number::New(env, (double)buf_->shape[i]));
  return a;
}

Napi::Value AddonTensor::GetDType(const Napi::CallbackInfo& info) {
  return buf_ ? Napi::String::New(info.Env(), dtype_name(buf_->dtype)) : info.Env().Null();
}

Napi::Value AddonTensor::GetDevice(const Napi::CallbackInfo& info) {
  return buf_ ? Napi::String::New(info.Env(), device_name(buf_->device)) : info.Env().Null();
}

Napi::Value AddonTensor::GetDisposed(const Napi::CallbackInfo& info) {
  return Napi::Boolean::New(info.Env(), !buf_);
}

}  // namespace pkg
