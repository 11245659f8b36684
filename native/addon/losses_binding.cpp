// Loss bindings: bceWithLogits (sync) and bceWithLogitsAsync (Promise, runs on a libuv worker thread).
//
// Raw signature (lib/losses.ts validates first and gives the friendly messages; everything is
// re-checked here because the binding can be called directly):
//   bceWithLogits(logits, targets, N, K, options, outputs) -> { loss, grad, count }
//   logits: Float32Array or NativeTensor; targets: see parse_loss_targets; options: see loss_args.h;
//   outputs: { grad: boolean, gradOut?: Float32Array | NativeTensor, inPlace?: boolean }.
//   softmaxCrossEntropy(dlogits, losses, logits, targets, ignoreIndex, reduction, N, V) -> { loss, count }
//   the vocabulary softmax cross-entropy of ops/softmax_xent.h, CPU twin, synchronous: Float32Array
//   dlogits/logits (N·V; dlogits may be logits itself), losses (N), Int32Array targets (N), reduction
//   'mean' | 'sum' | 'none'.
// The async variant holds references to every input array, pins the tensors, allocates its outputs
// before queueing, and touches no N-API value in Execute().
#include <climits>
#include <memory>
#include <string>

#include "../ops/bce.h"
#include "../ops/softmax_xent.h"
#include "addon_data.h"
#include "loss_args.h"
#include "tensor_binding.h"
#include "worker.h"

namespace pkg {

namespace {

struct LossJob {
  LossInputs in;
  Napi::ObjectReference grad_ref;      // returned grad: Float32Array or NativeTensor object
  bool return_grad = false;
  Napi::ObjectReference loss_ref;      // Float32Array for reduction 'none'
  std::unique_ptr<Buffer> loss_dev;    // device staging for 'none' on CUDA
  BceResult result;

  void run() {
    if (in.device == Device::Cpu) {
      result = bce_fused_cpu(in.args);
    } else {
#ifdef FML_HAVE_CUDA
      result = bce_fused_cuda(in.args);
      if (loss_dev) copy_to_host(Device::Cuda, host_loss, loss_dev->data, loss_dev->bytes());
#else
      require_cuda();
#endif
    }
  }
  float* host_loss = nullptr;

  Napi::Value result_object(Napi::Env env) {
    Napi::Object o = Napi::Object::New(env);
    if (in.args.reduction == Reduction::None) o.Set("loss", loss_ref.Value());
    else o.Set("loss", Napi::Number::New(env, result.loss));
    if (return_grad) o.Set("grad", grad_ref.Value());
    o.Set("count", Napi::Number::New(env, (double)result.count));
    return o;
  }
};

std::unique_ptr<LossJob> prepare_job(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  auto job = std::make_unique<LossJob>();
  LossInputs& in = job->in;
  BceArgs& a = in.args;
  const int64_t N = require_int(info[2], "N", 0, (int64_t)1 << 40);
  const int64_t K = require_int(info[3], "K", 1, (int64_t)1 << 40);
  if (N * K > ((int64_t)1 << 40)) throw_range("N*K is too large");
  const int64_t NK = N * K;
  if (!info[4].IsObject()) throw_type("Expected an options object but received " + js_type_name(info[4]));
  if (!info[5].IsObject()) throw_type("Expected an outputs object but received " + js_type_name(info[5]));
  Napi::Object outs = info[5].As<Napi::Object>();

  // logits
  Napi::Value lv = info[0];
  AddonTensor* logits_t = nullptr;
  Device device = Device::Cpu;
  if (AddonTensor::Is(env, lv)) {
    logits_t = AddonTensor::From(env, lv, "logits");
    Buffer& b = logits_t->buffer();
    if ((int64_t)b.numel != NK)
      throw_range("Expected logits with " + std::to_string(NK) + " elements but received " + std::to_string(b.numel));
    device = b.device;
    if (b.dtype != DType::F32 && !(device == Device::Cuda && (b.dtype == DType::F16 || b.dtype == DType::BF16)))
      throw_type(std::string("Expected a float32 Tensor for logits (float16/bfloat16 on CUDA) but received ") +
                 dtype_name(b.dtype) + " on " + device_name(device));
    a.logits = b.data;
    a.logits_dtype = b.dtype;
    in.refs.push_back(Napi::Persistent(lv.As<Napi::Object>()));
    in.pinned.push_back(logits_t);
  } else {
    a.logits = require_typed<const float>(lv, napi_float32_array, "Float32Array", "logits", NK);
    a.logits_dtype = DType::F32;
    in.refs.push_back(Napi::Persistent(lv.As<Napi::Object>()));
  }
  if (device == Device::Cuda) require_cuda();
  parse_loss_options(env, info[4].As<Napi::Object>(), N, K, device, in);
  parse_loss_targets(env, info[1], N, K, device, in);

  // outputs
  Napi::Value gv = outs.Get("grad");
  const bool want_grad = gv.IsUndefined() ? true : gv.ToBoolean().Value();
  Napi::Value go = outs.Get("gradOut");
  Napi::Value ip = outs.Get("inPlace");
  const bool in_place = !ip.IsUndefined() && ip.ToBoolean().Value();
  const bool has_out = !go.IsUndefined() && !go.IsNull();
  if (in_place && has_out) throw_type("Give either gradOut or inPlace, not both");
  if (want_grad) {
    if (in_place) {
      a.dlogits = const_cast<void*>(a.logits);
      job->grad_ref = Napi::Persistent(lv.As<Napi::Object>());
      a.validate_first = true;
    } else if (has_out) {
      if (logits_t) {
        AddonTensor* g = AddonTensor::From(env, go, "gradOut");
        Buffer& gb = g->buffer();
        if (gb.device != device || gb.dtype != a.logits_dtype || (int64_t)gb.numel != NK)
          throw_type(std::string("Expected gradOut to be a ") + dtype_name(a.logits_dtype) + " Tensor with " +
                     std::to_string(NK) + " elements on " + device_name(device));
        a.dlogits = gb.data;
        in.pinned.push_back(g);
      } else {
        a.dlogits = require_typed<float>(go, napi_float32_array, "Float32Array", "gradOut", NK);
      }
      job->grad_ref = Napi::Persistent(go.As<Napi::Object>());
      a.validate_first = true;
    } else if (logits_t) {
      // A new tensor like the logits, allocated uninitialised on their device (the kernel writes every element).
      Napi::Array shape = Napi::Array::New(env, 2);
      shape.Set(0u, Napi::Number::New(env, (double)N));
      shape.Set(1u, Napi::Number::New(env, (double)K));
      Napi::Object t = addon_data(env).tensor_ctor.New({env.Null(), shape,
                                                         Napi::String::New(env, dtype_name(a.logits_dtype)),
                                                         Napi::String::New(env, device_name(device))});
      AddonTensor* g = AddonTensor::From(env, t, "grad");
      a.dlogits = g->buffer().data;
      in.pinned.push_back(g);
      job->grad_ref = Napi::Persistent(t);
    } else {
      Napi::Float32Array g = float32_uninit(env, (size_t)NK);  // the kernel writes every element
      a.dlogits = g.Data();
      job->grad_ref = Napi::Persistent(g.As<Napi::Object>());
    }
    job->return_grad = true;
  }
  if (a.reduction == Reduction::None) {
    Napi::Float32Array l = float32_uninit(env, (size_t)NK);  // written in full (masked elements: 0)
    job->loss_ref = Napi::Persistent(l.As<Napi::Object>());
    if (device == Device::Cpu) {
      a.loss_out = l.Data();
    } else {
      job->loss_dev = std::make_unique<Buffer>(device, DType::F32, std::vector<int64_t>{N, K});
      a.loss_out = static_cast<float*>(job->loss_dev->data);
      job->host_loss = l.Data();
    }
  }
  return job;
}

Napi::Value BceWithLogits(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    std::unique_ptr<LossJob> job = prepare_job(info);
    job->run();
    return job->result_object(env);
  });
}

Napi::Value BceWithLogitsAsync(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  // Argument errors reject the promise (the TS layer throws them synchronously before calling us).
  Napi::Promise::Deferred early = Napi::Promise::Deferred::New(env);
  try {
    std::shared_ptr<LossJob> job = prepare_job(info);
    job->in.pin_all();
    auto* w = new PromiseWorker(
        env, "fused-multilabel:bceWithLogits", [job]() { job->run(); },
        [job](Napi::Env env) -> Napi::Value { return job->result_object(env); }, [job]() { job->in.unpin_all(); });
    return w->queue();
  } catch (const Error& e) {
    early.Reject(to_js_error(env, e).Value());
  } catch (const std::bad_alloc&) {
    early.Reject(to_js_error(env, Error(ErrorCode::InvalidArg, ErrorKind::RangeError, "out of memory")).Value());
  }
  return early.Promise();
}

Napi::Value SoftmaxCrossEntropy(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  return guarded(env, [&]() -> Napi::Value {
    const int64_t N = require_int(info[6], "N", 0, (int64_t)1 << 31), V = require_int(info[7], "V", 1, 1 << 24);
    if (N * V > ((int64_t)1 << 40)) throw_range("Expected N·V <= 2^40");
    float* dlogits = require_typed<float>(info[0], napi_float32_array, "Float32Array", "dlogits", N * V);
    float* losses = require_typed<float>(info[1], napi_float32_array, "Float32Array", "losses", N);
    const float* logits = require_typed<float>(info[2], napi_float32_array, "Float32Array", "logits", N * V);
    const int32_t* targets = require_typed<int32_t>(info[3], napi_int32_array, "Int32Array", "targets", N);
    const int32_t ignore = (int32_t)require_int(info[4], "ignoreIndex", INT32_MIN, INT32_MAX);
    const std::string red = require_string(info[5], "reduction");
    int ri = -1;
    for (int i = 0; i < 3; i++)
      if (red == kReductionNames[i]) ri = i;
    if (ri < 0) throw_type("Expected 'mean' | 'sum' | 'none' for reduction but received '" + red + "'");
    const XentResult r = softmax_xent_cpu(dlogits, losses, logits, targets, ignore, (Reduction)ri, N, (int)V);
    Napi::Object out = Napi::Object::New(env);
    out.Set("loss", Napi::Number::New(env, r.loss));
    out.Set("count", Napi::Number::New(env, (double)r.count));
    return out;
  });
}

}  // namespace

void init_losses(Napi::Env env, Napi::Object exports) {
  exports.Set("bceWithLogits", Napi::Function::New(env, BceWithLogits, "bceWithLogits"));
  exports.Set("softmaxCrossEntropy", Napi::Function::New(env, SoftmaxCrossEntropy, "softmaxCrossEntropy"));
  exports.Set("bceWithLogitsAsync", Napi::Function::New(env, BceWithLogitsAsync, "bceWithLogitsAsync"));
}

}  // namespace pkg
