// PromiseWorker: the one AsyncWorker of the addon. `run` executes on a libuv thread and touches no N-API
// value; `resolve` builds the Promise's value on the main thread; `settle` runs on the main thread on both
// paths, before the Promise settles (unpin tensors, clear busy flags). A pkg::Error thrown by `run`
// rejects with the same coded JS error that the synchronous form would throw. keep() holds a reference
// to a JS object (an input array, the owning object) until the work has settled.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "napi_util.h"

namespace pkg {

class PromiseWorker : public Napi::AsyncWorker {
 public:
  PromiseWorker(Napi::Env env, const char* name, std::function<void()> run,
                std::function<Napi::Value(Napi::Env)> resolve, std::function<void()> settle = nullptr)
      : Napi::AsyncWorker(env, name),
        deferred_(Napi::Promise::Deferred::New(env)),
        run_(std::move(run)),
        resolve_(std::move(resolve)),
        settle_(std::move(settle)) {}

  void keep(const Napi::Value& v) {
    if (v.IsObject()) keep_.push_back(Napi::Persistent(v.As<Napi::Object>()));
  }

  // Queues the work and returns its Promise. The worker deletes itself after settling.
  Napi::Promise queue() {
    Napi::Promise p = deferred_.Promise();
    Queue();
    return p;
  }

 protected:
  void Execute() override {
    try {
      run_();
    } catch (const Error& e) {
      fail(e);
    } catch (const std::bad_alloc&) {
      fail(Error(ErrorCode::InvalidArg, ErrorKind::RangeError, "out of memory"));
    } catch (const std::exception& e) {
      fail(Error(ErrorCode::Internal, ErrorKind::Error, e.what()));
    }
  }

  void OnOK() override {
    if (settle_) settle_();
    try {
      deferred_.Resolve(resolve_(Env()));
    } catch (const Napi::Error& e) {
      deferred_.Reject(e.Value());
    }
  }

  void OnError(const Napi::Error& e) override {
    if (settle_) settle_();
    deferred_.Reject(err_ ? to_js_error(Env(), *err_).Value() : e.Value());
  }

 private:
  void fail(const Error& e) {
    err_ = std::make_unique<Error>(e);
    SetError(e.what());
  }

  Napi::Promise::Deferred deferred_;
  std::function<void()> run_;
  std::function<Napi::Value(Napi::Env)> resolve_;
  std::function<void()> settle_;
  std::vector<Napi::ObjectReference> keep_;
  std::unique_ptr<Error> err_;
};

}  // namespace pkg
