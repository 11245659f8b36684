// Parsing of a normalised loss-options object (made by lib/losses.ts normalizeLossOptions) into BceArgs.
//
// Shared by the loss bindings and the encoder's trainStep. Every array is re-checked here (type and
// length) because the binding can be called directly. LossInputs keeps the backing JS arrays alive
// (references, for async work), pins native tensors, and owns device copies of host arrays when the
// loss runs on CUDA.
#pragma once

#include <memory>
#include <vector>

#include "../core/device.h"
#include "../ops/bce.h"
#include "napi_util.h"

namespace pkg {

class AddonTensor;

struct LossInputs {
  BceArgs args;
  Device device = Device::Cpu;
  std::vector<Napi::ObjectReference> refs;         // JS arrays/tensors whose memory args points into
  std::vector<AddonTensor*> pinned;                // tensors pinned while async work runs
  std::vector<std::unique_ptr<Buffer>> device_tmp;  // device copies of host arrays (CUDA path)
  std::vector<float> class_counts;                 // host copy (both twins read it on the host)

  LossInputs() = default;
  LossInputs(const LossInputs&) = delete;
  LossInputs& operator=(const LossInputs&) = delete;
  ~LossInputs();
  void pin_all();    // pin every tensor referenced (call before queueing async work)
  void unpin_all();  // idempotent
 private:
  bool pins_held_ = false;
};

// The complete loss struct filled by lib/loss_contract.ts (NativeLossArgs): every field required, no
// other accepted, each type-checked (finite numbers, exact typed-array lengths; null = absent input), and
// no defaults here. reduction and variant are the names of kReductionNames / kLossVariantNames (bce.h).
// Arrays are uploaded to `device` when it is CUDA. Keeps references in `out`.
void parse_loss_options(Napi::Env env, const Napi::Object& opts, int64_t N, int64_t K, Device device, LossInputs& out);

// Targets: Float32Array / Int8Array / Uint8Array (N*K) or a NativeTensor of float32/int8/uint8 with
// N*K elements. Host arrays are uploaded when device is CUDA; a tensor must be on `device`.
void parse_loss_targets(Napi::Env env, const Napi::Value& v, int64_t N, int64_t K, Device device, LossInputs& out);

}  // namespace pkg
