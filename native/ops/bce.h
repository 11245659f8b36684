// Fused BCE-with-logits family: the contract shared by bce_cpu.cpp, bce_cuda.cu, the addon and the encoder.
// The full specification is shared/LOSS_SPEC.md; the per-element math lives in this header (host+device).
//
// Shapes: logits, targets, element_weight, mask, dlogits, loss_out are N×K row-major; pos_weight and
// class_weight are K; sample_weight is N. One pass over memory computes the loss and the gradient.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../core/device.h"

namespace pkg {

enum class Reduction { Mean, Sum, None };
enum class LossVariant { Bce, Focal, Asymmetric, DistributionBalanced };

struct BceArgs {
  int64_t N = 0, K = 0;
  // inputs
  const void* logits = nullptr;  // N×K, logits_dtype (F32; F16/BF16 on CUDA)
  DType logits_dtype = DType::F32;
  const void* targets = nullptr;  // N×K, targets_dtype: F32 (soft labels in [0,1]), I8 or U8 (hard labels)
  DType targets_dtype = DType::F32;
  const float* pos_weight = nullptr;      // K or null
  const float* sample_weight = nullptr;   // N or null
  const float* class_weight = nullptr;    // K or null
  const float* element_weight = nullptr;  // N×K or null
  const uint8_t* mask = nullptr;          // N×K or null; 1 = use, 0 = ignore
  bool has_ignore_value = false;          // targets equal to ignore_value are masked
  float ignore_value = -1.0f;
  float label_smoothing = 0.0f;
  Reduction reduction = Reduction::Mean;
  LossVariant variant = LossVariant::Bce;
  // focal (also the focal part of DB)
  float gamma = 0.0f;
  float alpha = 0.25f;
  bool has_alpha = false;
  // asymmetric
  float gamma_pos = 0.0f, gamma_neg = 4.0f, clip = 0.05f;
  // distribution-balanced
  const float* class_counts = nullptr;  // K, training positives per class
  double train_size = 0;                // training rows
  float neg_scale = 2.0f, init_bias = 0.05f;
  bool rebalance = true;
  float rb_alpha = 0.1f, rb_beta = 10.0f, rb_mu = 0.405f;
  bool db_focal = true;
  // outputs
  void* dlogits = nullptr;    // N×K, same dtype as logits, or null (no gradient); may alias logits
  float* loss_out = nullptr;  // N×K per-element losses when reduction == None, else unused
};

struct BceResult {
  double loss = 0;           // reduced loss (Mean/Sum); 0 for None
  int64_t count = 0;         // unmasked elements (the Mean's denominator)
  int64_t bad_target = -1;   // index of the first target outside [0,1] that is not the ignore value, or -1
};

// CPU twin. Throws pkg::Error (RangeError) when a target is out of range; then nothing is written to
// dlogits or loss_out (the check runs before any output is stored, fused into the same pass over targets).
BceResult bce_fused_cpu(const BceArgs& args);

#ifdef FML_HAVE_CUDA
// CUDA twin: all pointers are device pointers. Same semantics as the CPU twin.
BceResult bce_fused_cuda(const BceArgs& args);
#endif

}  // namespace pkg
