// N-API helpers: pkg::Error -> JS Error with `code`, and argument guards for the raw binding.
//
// The TypeScript layer validates first and gives the friendly message; these guards exist because
// the binding can be called directly, and `As<Napi::Float32Array>()` checks nothing.
#pragma once

#define NAPI_VERSION 8
#include <napi.h>

#include <algorithm>
#include <string>

#include "../core/common.h"

namespace pkg {

inline Napi::Error to_js_error(Napi::Env env, const Error& e) {
  Napi::Error err;
  switch (e.kind) {
    case ErrorKind::TypeError: err = Napi::TypeError::New(env, e.what()); break;
    case ErrorKind::RangeError: err = Napi::RangeError::New(env, e.what()); break;
    default: err = Napi::Error::New(env, e.what()); break;
  }
  err.Set("code", Napi::String::New(env, error_code_name(e.code)));
  return err;
}

// Runs body(); converts pkg::Error and std::bad_alloc into JS exceptions with a code.
template <typename Body>
Napi::Value guarded(Napi::Env env, Body&& body) {
  try {
    return body();
  } catch (const Error& e) {
    throw to_js_error(env, e);
  } catch (const std::bad_alloc&) {
    throw to_js_error(env, Error(ErrorCode::InvalidArg, ErrorKind::RangeError, "out of memory"));
  }
}

inline std::string js_type_name(const Napi::Value& v) {
  if (v.IsTypedArray()) {
    switch (v.As<Napi::TypedArray>().TypedArrayType()) {
      case napi_int8_array: return "Int8Array";
      case napi_uint8_array: return "Uint8Array";
      case napi_uint8_clamped_array: return "Uint8ClampedArray";
      case napi_int16_array: return "Int16Array";
      case napi_uint16_array: return "Uint16Array";
      case napi_int32_array: return "Int32Array";
      case napi_uint32_array: return "Uint32Array";
      case napi_float32_array: return "Float32Array";
      case napi_float64_array: return "Float64Array";
      default: return "TypedArray";
    }
  }
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsNumber()) return "number";
  if (v.IsString()) return "string";
  if (v.IsBoolean()) return "boolean";
  if (v.IsArray()) return "Array";
  if (v.IsFunction()) return "function";
  return "object";
}

// A typed array of an exact type; len < 0 means any length.
template <typename T>
T* require_typed(const Napi::Value& v, napi_typedarray_type type, const char* type_name, const char* name,
                 int64_t len) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    throw_type(std::string("Expected ") + type_name + " for " + name + " but received " + js_type_name(v));
  Napi::TypedArray a = v.As<Napi::TypedArray>();
  if (len >= 0 && (int64_t)a.ElementLength() != len)
    throw_range(std::string("Expected ") + type_name + " of length " + std::to_string(len) + " for " + name +
                " but received length " + std::to_string(a.ElementLength()));
  return reinterpret_cast<T*>(static_cast<uint8_t*>(a.ArrayBuffer().Data()) + a.ByteOffset());
}

// A Float32Array of n elements whose memory is not zero-filled, for outputs that a kernel writes in full:
// napi_create_buffer allocates without clearing (node::Buffer::New), where a plain ArrayBuffer is calloc'ed
// (a 25 MB gradient costs a memset or fresh zeroed pages per call). Never hand it out before every
// element is written.
inline Napi::Float32Array float32_uninit(Napi::Env env, size_t n) {
  Napi::Buffer<uint8_t> b = Napi::Buffer<uint8_t>::New(env, n * sizeof(float));
  if (b.ByteOffset() % alignof(float) != 0) return Napi::Float32Array::New(env, n);  // never for fresh buffers
  return Napi::Float32Array::New(env, n, b.ArrayBuffer(), b.ByteOffset());
}

inline int64_t require_int(const Napi::Value& v, const char* name, int64_t lo, int64_t hi) {
  if (!v.IsNumber()) throw_type(std::string("Expected an integer for ") + name + " but received " + js_type_name(v));
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == (double)(int64_t)d) || d < (double)lo || d > (double)hi)
    throw_range(std::string("Expected an integer in [") + std::to_string(lo) + ", " + std::to_string(hi) +
                "] for " + name + " but received " + v.ToString().Utf8Value());
  return (int64_t)d;
}

inline double require_number(const Napi::Value& v, const char* name) {
  if (!v.IsNumber()) throw_type(std::string("Expected a number for ") + name + " but received " + js_type_name(v));
  return v.As<Napi::Number>().DoubleValue();
}

inline std::string require_string(const Napi::Value& v, const char* name) {
  if (!v.IsString()) throw_type(std::string("Expected a string for ") + name + " but received " + js_type_name(v));
  return v.As<Napi::String>().Utf8Value();
}

inline bool require_bool(const Napi::Value& v, const char* name) {
  if (!v.IsBoolean()) throw_type(std::string("Expected a boolean for ") + name + " but received " + js_type_name(v));
  return v.As<Napi::Boolean>().Value();
}

// A struct that TypeScript fills completely (`source` names where its fields and defaults are written): an
// object with exactly `fields`; a missing or unknown field is a TypeError naming it.
template <size_t M>
Napi::Object require_struct(const Napi::Value& v, const char* what, const char* const (&fields)[M], const char* source) {
  if (!v.IsObject()) throw_type(std::string("Expected the ") + what + " (an object) but received " + js_type_name(v));
  Napi::Object o = v.As<Napi::Object>();
  for (const char* f : fields)
    if (!o.Has(f)) throw_type(std::string("Expected the ") + what + " to have the field " + f + " (" + source + " fills every field)");
  Napi::Array keys = o.GetPropertyNames();
  for (uint32_t i = 0; i < keys.Length(); i++) {
    const std::string k = keys.Get(i).ToString().Utf8Value();
    if (std::find_if(std::begin(fields), std::end(fields), [&](const char* f) { return k == f; }) == std::end(fields))
      throw_type("Unknown field \"" + k + "\" in the " + what + " (" + source + ")");
  }
  return o;
}

// A number field that ok() accepts, else a RangeError naming the field and `expected` (NaN is never accepted
// by a comparison).
template <typename Ok>
double number_field(const Napi::Object& o, const char* key, const char* expected, Ok ok) {
  const Napi::Value v = o.Get(key);
  const double d = require_number(v, key);
  if (!ok(d)) throw_range(std::string("Expected ") + expected + " for " + key + " but received " + v.ToString().Utf8Value());
  return d;
}

}  // namespace pkg
