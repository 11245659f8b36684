// The n-gram model's kernels (ops/embedding_bag.h), CPU twin, synchronous: one call per training batch
// costs well under a millisecond at the model's sizes, so a worker thread would cost more than it saves.
//
// Raw signatures (lib/ngram.ts builds the index arrays; everything is re-checked here because the
// binding can be called directly, and every index is range-checked before a kernel runs):
//   embeddingBagForward(out, scale, weight, ids, offsets, mode, B, C)      mode 0 mean, 1 sqrt-n
//   embeddingBagBackward(drows, dout, scale, occBag, rowPtr, U, C)
//   sparseAdamW(weight, m, v, drows, rows, { lr, beta1, beta2, eps, weightDecay, t }, U, C)
//   denseForward(y, x, W, b, B, I, O)                                      ops/ngram_head.h
//   denseBackward(dW, db, dx | null, dy, x, W, B, I, O)
//   rowsSgd(p, g, rows, U, K, step)                                         rows distinct
//   sumSquares([x, ...]) → number (each array's 8-lane sum, added in order), scaleRounded(x, s)
// Float arrays are Float32Array, index arrays Int32Array, of the lengths embedding_bag.h states.
#include <string>
#include <vector>

#include "../ops/adamw.h"  // sum_squares_lanes_cpu
#include "../ops/embedding_bag.h"
#include "../ops/ngram_head.h"
#include "adamw_args.h"
#include "addon_data.h"
#include "napi_util.h"

namespace pkg {

namespace {

float* f32(const Napi::Value& v, const char* name, int64_t len) {
  return require_typed<float>(v, napi_float32_array, "Float32Array", name, len);
}
int32_t* i32(const Napi::Value& v, const char* name, int64_t len) {
  return require_typed<int32_t>(v, napi_int32_array, "Int32Array", name, len);
}
int64_t length_of(const Napi::Value& v) { return (int64_t)v.As<Napi::TypedArray>().ElementLength(); }

void check_range(const int32_t* x, int64_t n, int64_t hi, const char* name) {
  for (int64_t i = 0; i < n; i++)
    if (x[i] < 0 || x[i] >= hi)
      throw_range(std::string("Expected ") + name + "[" + std::to_string(i) + "] in [0, " + std::to_string(hi) +
                  ") but received " + std::to_string(x[i]));
}

// A CSR pointer array: p[0] = 0, non-decreasing, p[n] = total.
void check_ptr(const int32_t* p, int64_t n, int64_t total, const char* name) {
  if (p[0] != 0) throw_range(std::string("Expected ") + name + "[0] = 0 but received " + std::to_string(p[0]));
  for (int64_t i = 0; i < n; i++)
    if (p[i + 1] < p[i]) throw_range(std::string("Expected ") + name + " to be non-decreasing at index " + std::to_string(i + 1));
  if (p[n] != total)
    throw_range(std::string("Expected ") + name + "[last] = " + std::to_string(total) + " but received " + std::to_string(p[n]));
}

void check_distinct(const int32_t* rows, int64_t U, int64_t V) {
  std::vector<uint8_t> seen((size_t)V, 0);
  for (int64_t u = 0; u < U; u++) {
    if (seen[(size_t)rows[u]]) throw_range("Expected distinct rows but row " + std::to_string(rows[u]) + " repeats");
    seen[(size_t)rows[u]] = 1;
  }
}

Napi::Value forward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const int64_t B = require_int(info[6], "B", 0, 1 << 30), C = require_int(info[7], "C", 1, 1 << 20);
    const int64_t mode = require_int(info[5], "mode", 0, 1);
    float* out = f32(info[0], "out", B * C);
    float* scale = f32(info[1], "scale", B);
    float* weight = f32(info[2], "weight", -1);
    if (length_of(info[2]) % C != 0) throw_range("Expected weight's length to be a multiple of C");
    int32_t* offsets = i32(info[4], "offsets", B + 1);
    int32_t* ids = i32(info[3], "ids", -1);
    const int64_t nnz = length_of(info[3]);
    check_ptr(offsets, B, nnz, "offsets");
    check_range(ids, nnz, length_of(info[2]) / C, "ids");
    embedding_bag_forward_cpu(out, scale, weight, ids, offsets, (BagMode)mode, (int)B, (int)C);
    return info.Env().Undefined();
  });
}

Napi::Value backward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const int64_t U = require_int(info[5], "U", 0, 1 << 30), C = require_int(info[6], "C", 1, 1 << 20);
    float* drows = f32(info[0], "drows", U * C);
    float* dout = f32(info[1], "dout", -1);
    if (length_of(info[1]) % C != 0) throw_range("Expected dout's length to be a multiple of C");
    const int64_t B = length_of(info[1]) / C;
    float* scale = f32(info[2], "scale", B);
    int32_t* occ = i32(info[3], "occBag", -1);
    int32_t* ptr = i32(info[4], "rowPtr", U + 1);
    check_ptr(ptr, U, length_of(info[3]), "rowPtr");
    check_range(occ, length_of(info[3]), B, "occBag");
    embedding_bag_backward_cpu(drows, dout, scale, occ, ptr, (int)U, (int)C);
    return info.Env().Undefined();
  });
}

Napi::Value sparse_adamw(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const int64_t U = require_int(info[6], "U", 0, 1 << 30), C = require_int(info[7], "C", 1, 1 << 20);
    float* weight = f32(info[0], "weight", -1);
    const int64_t n = length_of(info[0]);
    if (n % C != 0) throw_range("Expected weight's length to be a multiple of C");
    float* m = f32(info[1], "m", n);
    float* v = f32(info[2], "v", n);
    float* drows = f32(info[3], "drows", U * C);
    int32_t* rows = i32(info[4], "rows", U);
    check_range(rows, U, n / C, "rows");
    check_distinct(rows, U, n / C);
    const AdamWParams a = parse_sparse_adamw(info[5]);
    sparse_adamw_cpu(weight, m, v, drows, rows, a, (int)U, (int)C);
    return info.Env().Undefined();
  });
}

Napi::Value dense_forward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const int64_t B = require_int(info[4], "B", 0, 1 << 30), I = require_int(info[5], "I", 0, 1 << 20);
    const int64_t O = require_int(info[6], "O", 1, 1 << 24);
    float* y = f32(info[0], "y", B * O);
    const float* x = f32(info[1], "x", B * I);
    const float* W = f32(info[2], "W", O * I);
    const float* b = f32(info[3], "b", O);
    dense_forward_cpu(y, x, W, b, B, I, O);
    return info.Env().Undefined();
  });
}

Napi::Value dense_backward(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const int64_t B = require_int(info[6], "B", 0, 1 << 30), I = require_int(info[7], "I", 0, 1 << 20);
    const int64_t O = require_int(info[8], "O", 1, 1 << 24);
    float* dW = f32(info[0], "dW", O * I);
    float* db = f32(info[1], "db", O);
    float* dx = info[2].IsNull() ? nullptr : f32(info[2], "dx", B * I);
    const float* dy = f32(info[3], "dy", B * O);
    const float* x = f32(info[4], "x", B * I);
    const float* W = f32(info[5], "W", O * I);
    dense_backward_cpu(dW, db, dx, dy, x, W, B, I, O);
    return info.Env().Undefined();
  });
}

Napi::Value rows_sgd(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    const int64_t U = require_int(info[3], "U", 0, 1 << 30), K = require_int(info[4], "K", 1, 1 << 24);
    float* p = f32(info[0], "p", -1);
    const int64_t n = length_of(info[0]);
    if (n % K != 0) throw_range("Expected p's length to be a multiple of K");
    const float* g = f32(info[1], "g", U * K);
    const int32_t* rows = i32(info[2], "rows", U);
    check_range(rows, U, n / K, "rows");
    check_distinct(rows, U, n / K);
    const double step = info[5].ToNumber().DoubleValue();
    rows_sgd_cpu(p, g, rows, U, K, step);
    return info.Env().Undefined();
  });
}

Napi::Value sum_squares(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    if (!info[0].IsArray()) throw_type(std::string("Expected an array of Float32Array for arrays but received ") + js_type_name(info[0]));
    const Napi::Array list = info[0].As<Napi::Array>();
    double acc = 0.0;
    for (uint32_t j = 0; j < list.Length(); j++) {
      const Napi::Value v = list.Get(j);
      acc += sum_squares_lanes_cpu(f32(v, "arrays[j]", -1), length_of(v));
    }
    return Napi::Number::New(info.Env(), acc);
  });
}

Napi::Value scale_rounded(const Napi::CallbackInfo& info) {
  return guarded(info.Env(), [&]() -> Napi::Value {
    float* x = f32(info[0], "x", -1);
    scale_rounded_cpu(x, length_of(info[0]), info[1].ToNumber().DoubleValue());
    return info.Env().Undefined();
  });
}

}  // namespace

void init_ngram(Napi::Env env, Napi::Object exports) {
  exports.Set("embeddingBagForward", Napi::Function::New(env, forward, "embeddingBagForward"));
  exports.Set("embeddingBagBackward", Napi::Function::New(env, backward, "embeddingBagBackward"));
  exports.Set("sparseAdamW", Napi::Function::New(env, sparse_adamw, "sparseAdamW"));
  exports.Set("denseForward", Napi::Function::New(env, dense_forward, "denseForward"));
  exports.Set("denseBackward", Napi::Function::New(env, dense_backward, "denseBackward"));
  exports.Set("rowsSgd", Napi::Function::New(env, rows_sgd, "rowsSgd"));
  exports.Set("sumSquares", Napi::Function::New(env, sum_squares, "sumSquares"));
  exports.Set("scaleRounded", Napi::Function::New(env, scale_rounded, "scaleRounded"));
}

}  // namespace pkg
