// Fused BCE-with-logits family: the contract shared by bce_cpu.cpp, bce_cuda.cu, the addon and the encoder.
// The full specification is shared/LOSS_SPEC.md; the per-element math lives in this header (host+device),
// so the CPU and CUDA twins evaluate the same expressions, including the same exp/log polynomials. (Exception:
// the AVX-512 loops of bce_cpu.cpp for BCE, focal γ=2 and hard-label DB γ=2 use their own equally accurate
// forms: a direct log1p(e) polynomial, reciprocal estimates with a Newton step; results agree to a few ulp.)
//
// Shapes: logits, targets, element_weight, mask, dlogits, loss_out are N×K row-major; pos_weight and
// class_weight are K; sample_weight is N. One pass over memory computes the loss and the gradient.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../core/device.h"
#include "../core/half.h"  // PKG_HD, f32_bits/bits_f32

// Host+device, and always inlined on the host: the CPU element loop vectorises only when every
// helper is inlined into it.
#ifdef __CUDACC__
#define BCE_HD __host__ __device__ __forceinline__
#else
#define BCE_HD inline __attribute__((always_inline))
#endif

namespace pkg {

// The enums of the loss contract, named as lib/loss_contract.ts names them (LOSS_REDUCTIONS, LOSS_VARIANTS):
// the addon maps those names to these values through the tables below, in the enums' order.
enum class Reduction { Mean, Sum, None };
enum class LossVariant { Bce, Focal, Asymmetric, DistributionBalanced };
inline constexpr const char* kReductionNames[] = {"mean", "sum", "none"};
inline constexpr const char* kLossVariantNames[] = {"bce", "focal", "asymmetric", "distributionBalanced"};

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
  const uint8_t* mask = nullptr;          // N×K or null; 1 = use, 0 = ignore (any nonzero byte = use)
  bool has_ignore_value = false;          // targets equal to ignore_value are masked
  float ignore_value = -1.0f;
  float label_smoothing = 0.0f;
  Reduction reduction = Reduction::Mean;
  LossVariant variant = LossVariant::Bce;
  // Variant parameters. No defaults here (lib/loss_contract.ts holds them, and the addon fills every
  // field): the initial values are inert, so a caller that sets only the fields above gets plain BCE.
  // focal (also the focal part of DB)
  float gamma = 0.0f;
  float alpha = 0.0f;
  bool has_alpha = false;
  // asymmetric
  float gamma_pos = 0.0f, gamma_neg = 0.0f, clip = 0.0f;
  // distribution-balanced
  const float* class_counts = nullptr;  // K, training positives per class (host pointer, also on CUDA)
  double train_size = 0;                // training rows
  float neg_scale = 1.0f, init_bias = 0.0f;
  bool rebalance = false;
  float rb_alpha = 0.0f, rb_beta = 0.0f, rb_mu = 0.0f;
  bool db_focal = false;
  // outputs
  void* dlogits = nullptr;    // N×K, same dtype as logits, or null (no gradient); may alias logits
  float* loss_out = nullptr;  // N×K per-element losses when reduction == None, else unused
  // True when dlogits/loss_out are memory the caller can see (gradOut, inPlace): targets are then
  // validated before anything is stored, so a bad target leaves those buffers untouched. When false
  // (outputs freshly allocated by the binding) the check is fused into the compute pass.
  bool validate_first = false;
};

struct BceResult {
  double loss = 0;           // reduced loss (Mean/Sum); 0 for None
  int64_t count = 0;         // unmasked elements (the Mean's denominator)
  int64_t bad_target = -1;   // index of the first target outside [0,1] that is not the ignore value, or -1
};

// CPU twin. Throws pkg::Error (RangeError) when a target is out of range; then nothing is written to
// caller-visible outputs (see validate_first).
BceResult bce_fused_cpu(const BceArgs& args);

#ifdef FML_HAVE_CUDA
// CUDA twin: logits, targets, weights, mask, dlogits, loss_out are device pointers; class_counts is a
// host pointer (K floats). Same semantics as the CPU twin.
BceResult bce_fused_cuda(const BceArgs& args);
#endif

// ---------------------------------------------------------------------------------------------------
// Per-element math (host + device). Branch-free selects so the CPU loop vectorises.
// ---------------------------------------------------------------------------------------------------
namespace bce_math {

// exp(v) for v <= 0 (also correct for small positive v). Cody-Waite reduction by ln2 and a degree-6
// polynomial (the classic Cephes expf coefficients): about 1 ulp. The 2^n scale is applied in two
// halves so results in the subnormal range are right; v below -110 gives 0; NaN stays NaN. Integer
// n comes from the bits of a float (the 1.5·2^23 trick), never from a float->int conversion.
BCE_HD float exp_nonpos(float v) {
  v = v < -110.0f ? -110.0f : v;  // written so that NaN passes through
  const float shifter = 12582912.0f;  // 1.5 * 2^23
  float t = v * 1.44269504088896341f + shifter;
  float n = t - shifter;
  int32_t ni = (int32_t)(f32_bits(t) - f32_bits(shifter));
  float r = v - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  // Estrin's scheme (not Horner): a short dependency chain, so consecutive elements overlap in the core.
  const float r2 = r * r;
  const float r4 = r2 * r2;
  const float a0 = 5.0000001201e-1f + 1.6666665459e-1f * r;
  const float a1 = 4.1665795894e-2f + 8.3334519073e-3f * r;
  const float a2 = 1.3981999507e-3f + 1.9875691500e-4f * r;
  float p = a0 + a1 * r2 + a2 * r4;
  p = p * r2 + r + 1.0f;
  int32_t n1 = ni >> 1;  // n in [-159, 1]: both halves stay in the normal exponent range
  int32_t n2 = ni - n1;
  float s1 = bits_f32((uint32_t)(n1 + 127) << 23);
  float s2 = bits_f32((uint32_t)(n2 + 127) << 23);
  return p * s1 * s2;
}

// The Cephes logf polynomial f^3·P(f) on [sqrt(1/2)-1, sqrt(2)-1], evaluated with Estrin's scheme.
BCE_HD float log_poly(float f, float z) {
  const float z2 = z * z;
  const float p01 = 3.3333331174e-1f - 2.4999993993e-1f * f;
  const float p23 = 2.0000714765e-1f - 1.6668057665e-1f * f;
  const float p45 = 1.4249322787e-1f - 1.2420140846e-1f * f;
  const float p67 = 1.1676998740e-1f - 1.1514610310e-1f * f;
  const float q0 = p01 + p23 * z;
  const float q1 = p45 + p67 * z;
  const float q = q0 + q1 * z2 + 7.0376836292e-2f * (z2 * z2);
  return q * f * z;
}

// log(m·2^k) for a mantissa m in [0.5, 1): m is moved into [sqrt(1/2), sqrt(2)) and the Cephes logf
// polynomial evaluated on m - 1, the exponent added back in two parts (about 1 ulp).
BCE_HD float log_mantissa(float m, int32_t k) {
  const bool lo = m < 0.707106781186547524f;
  m = lo ? m + m : m;
  k = lo ? k - 1 : k;
  float f = m - 1.0f;
  float kf = (float)k;
  float z = f * f;
  float y = log_poly(f, z);
  y = y + kf * -2.12194440e-4f;
  y = y - 0.5f * z;
  return f + y + kf * 0.693359375f;
}

// Natural log for u > 0 (normal or subnormal), +Inf -> large, 0 -> -Inf.
BCE_HD float log_pos(float u) {
  const bool sub = u < 1.17549435e-38f;
  float uu = sub ? u * 8388608.0f : u;  // 2^23
  uint32_t b = f32_bits(uu);
  int32_t k = (int32_t)((b >> 23) & 0xffu) - 126;
  k = sub ? k - 23 : k;
  float res = log_mantissa(bits_f32((b & 0x007fffffu) | 0x3f000000u), k);
  return u == 0.0f ? -bits_f32(0x7f800000u) : res;
}

// log1p(e) for e in [0, 1] (e = exp(-|x|) here): e·P(e), P a degree-8 minimax fit of log1p(e)/e on [0, 1]
// with P(0) = 1. About 2 ulp, full relative accuracy as e -> 0 with no range reduction, no division and no
// bit manipulation (it vectorises to 9 multiply-adds). The AVX-512 loops use the same coefficients.
BCE_HD constexpr float log1p_coef(int i) {  // highest degree first, i = 0..8
  return i == 0   ? 5.232710857e-03f
         : i == 1 ? -2.950531431e-02f
         : i == 2 ? 7.822608948e-02f
         : i == 3 ? -1.366325915e-01f
         : i == 4 ? 1.910601407e-01f
         : i == 5 ? -2.484298497e-01f
         : i == 6 ? 3.331909776e-01f
         : i == 7 ? -4.999949336e-01f
                  : 1.0f;
}
BCE_HD float log1p_01(float e) {
  float p = log1p_coef(0);
  p = p * e + log1p_coef(1);
  p = p * e + log1p_coef(2);
  p = p * e + log1p_coef(3);
  p = p * e + log1p_coef(4);
  p = p * e + log1p_coef(5);
  p = p * e + log1p_coef(6);
  p = p * e + log1p_coef(7);
  p = p * e + log1p_coef(8);
  return p * e;
}

// t^g for t in [0, 1], g > 0: exp(g·log t); 0 at t = 0.
BCE_HD float pow01(float t, float g) {
  float r = exp_nonpos(g * log_pos(t));
  return t > 0.0f ? r : 0.0f;
}

// Everything about one logit that the losses need, from one exp(-|x|).
struct Logistic {
  float sp_pos;   // softplus(x)  = -log σ(-x)
  float sp_neg;   // softplus(-x) = -log σ(x)
  float sig;      // σ(x)
  float sig_neg;  // σ(-x)
};

BCE_HD Logistic logistic(float x) {
  float ax = x < 0.0f ? -x : x;
  float e = exp_nonpos(-ax);
  float inv = 1.0f / (1.0f + e);
  float l = log1p_01(e);
  float ei = e * inv;
  bool pos = x >= 0.0f;
  Logistic o;
  o.sp_pos = (pos ? x : 0.0f) + l;
  o.sp_neg = (pos ? 0.0f : -x) + l;
  o.sig = pos ? inv : ei;
  o.sig_neg = pos ? ei : inv;
  return o;
}

// Runtime parameters of the element functions (flattened from BceArgs once per call).
struct Params {
  float gamma, alpha;
  int32_t focal_pow;  // gamma != 0 (ints, not bools: GCC vectorises int selects more readily)
  int32_t has_alpha;
  float gamma_pos, gamma_neg, clip;
  // DB
  float neg_scale, inv_neg_scale;
  float db_alpha_pos, db_alpha_neg;  // (α, 1-α) with focal, (1, 1) without
  int32_t rebalance;
  float rb_alpha, rb_beta, rb_mu;
};

// BCE and focal (torchvision semantics) on the weighted BCE element. c1 = w·p·y, c0 = w·(1-y): a zero
// coefficient drops its term by selection, so ±Inf logits give the limits instead of 0·Inf = NaN.
// FOCAL=false is plain BCE; focal with γ = 0 and no α is routed to FOCAL=false by the caller.
// G2: γ is exactly 2 (the common default), so (1-p_t)^γ is a product instead of exp(γ·log).
template <bool FOCAL, bool G2 = false>
BCE_HD void bce_focal_elem(float x, float y, float w, float p, const Params& P, float& loss, float& grad) {
  Logistic L = logistic(x);
  float c1 = w * p * y;
  float c0 = w * (1.0f - y);
  float a = c1 != 0.0f ? c1 * L.sp_neg : 0.0f;
  float b = c0 != 0.0f ? c0 * L.sp_pos : 0.0f;
  float B = a + b;
  float dB = c0 * L.sig - c1 * L.sig_neg;
  if (!FOCAL) {
    loss = B;
    grad = dB;
  } else {
    // 1-p_t; the derivative of (1-p_t)^γ is γ(1-p_t)^γ·[σσ̄/(1-p_t)]·(1-2y), where σσ̄/(1-p_t) <= 1,
    // so no (1-p_t)^(γ-1) is ever formed (it is Inf for γ < 1 at saturated logits).
    float t = (1.0f - y) * L.sig + y * L.sig_neg;
    float f = G2 ? t * t : pow01(t, P.gamma);  // computed always, then selected: keeps the loop branch-free
    f = P.focal_pow ? f : 1.0f;
    float ratio = t > 0.0f ? (L.sig * L.sig_neg) / t : 0.0f;
    float at = P.has_alpha ? P.alpha * y + (1.0f - P.alpha) * (1.0f - y) : 1.0f;
    float term = ratio != 0.0f ? P.gamma * f * ratio * (1.0f - 2.0f * y) * B : 0.0f;
    loss = at * (f * B);
    grad = at * (term + f * dB);
  }
}

// Asymmetric loss (Ridnik et al.): focusing weights are constants for the gradient, as in the paper.
BCE_HD void asl_elem(float x, float y, float w, float p, const Params& P, float& loss, float& grad) {
  Logistic L = logistic(x);
  // positive part: (1-p)^γ+ · sp(-x); gradient -(1-p)^(γ+ + 1)
  float fp = pow01(L.sig_neg, P.gamma_pos);
  fp = P.gamma_pos != 0.0f ? fp : 1.0f;
  float lp = fp * L.sp_neg;
  float gp = -fp * L.sig_neg;
  // negative part with the probability shifted by the clip m
  // Both forms are computed and one is selected (branch-free); with m = 0 the softplus form is exact
  // where -log(σ(-x)) would lose everything to underflow.
  const bool clip = P.clip > 0.0f;
  float pm = L.sig - P.clip;
  pm = clip ? pm : L.sig;
  pm = pm > 0.0f ? pm : 0.0f;
  float q = L.sig_neg + P.clip;  // 1 - p_m, computed from σ(-x) (no cancellation)
  float fm = pow01(pm, P.gamma_neg);
  fm = P.gamma_neg != 0.0f ? fm : 1.0f;
  float lq = -log_pos(q < 1.0f ? q : 1.0f);
  float ln_clip = pm > 0.0f ? fm * lq : 0.0f;
  float gn_clip = pm > 0.0f ? fm * (L.sig * L.sig_neg) / q : 0.0f;
  float ln = clip ? ln_clip : fm * L.sp_pos;
  float gn = clip ? gn_clip : fm * L.sig;
  float c1 = w * p * y;
  float c0 = w * (1.0f - y);
  loss = (c1 != 0.0f ? c1 * lp : 0.0f) + (c0 != 0.0f ? c0 * ln : 0.0f);
  grad = c1 * gp + c0 * gn;
}

// DB one-sided focal pieces at u (u = -z for a positive, u = z for a negative):
// H = σ(u)^γ·sp(u), D = σ(u)^γ·(γ·σ(-u)·sp(u) + σ(u)).
template <bool G2 = false>
BCE_HD void db_side(float u, float gamma, bool focal_pow, float& H, float& D) {
  Logistic L = logistic(u);
  float f = G2 ? L.sig * L.sig : pow01(L.sig, gamma);
  f = focal_pow ? f : 1.0f;
  H = f * L.sp_pos;
  float g = L.sp_pos != bits_f32(0x7f800000u) ? gamma * L.sig_neg * L.sp_pos : 0.0f;
  D = f * (g + L.sig);
}

// Rebalancing weight r_nk from 1/n_k and the row's R_n = Σ_k y_nk/n_k.
BCE_HD float db_rebalance(float inv_nk, float R, const Params& P) {
  float v = P.rb_beta * (inv_nk / (R > 0.0f ? R : 1.0f) - P.rb_mu);
  // σ(v) from exp(-|v|)
  float av = v < 0.0f ? -v : v;
  float e = exp_nonpos(-av);
  float s = v >= 0.0f ? 1.0f / (1.0f + e) : e / (1.0f + e);
  float r = R > 0.0f ? s + P.rb_alpha : 1.0f + P.rb_alpha;
  return P.rebalance ? r : 1.0f;
}

// Distribution-balanced element. nu = ν_k, r = r_nk. HARD: y is exactly 0 or 1 (one side evaluated).
template <bool HARD, bool G2 = false>
BCE_HD void db_elem(float x, float y, float w, float p, float nu, float r, const Params& P, float& loss, float& grad) {
  float zp = x + nu;
  float zn = P.neg_scale * zp;
  float Hp, Dp, Hn, Dn;
  const float ap = P.db_alpha_pos * r, an = P.db_alpha_neg * r;
  if (HARD) {
    bool pos = y != 0.0f;
    float H, D;
    db_side<G2>(pos ? -zp : zn, P.gamma, P.focal_pow, H, D);
    float cl = pos ? w * p * ap : w * an * P.inv_neg_scale;
    float cg = pos ? -w * p * ap : w * an;
    loss = cl != 0.0f ? cl * H : 0.0f;
    grad = cg * D;
  } else {
    db_side<G2>(-zp, P.gamma, P.focal_pow, Hp, Dp);
    db_side<G2>(zn, P.gamma, P.focal_pow, Hn, Dn);
    float c1 = w * p * y * ap;
    float c0 = w * (1.0f - y) * an;
    loss = (c1 != 0.0f ? c1 * Hp : 0.0f) + (c0 != 0.0f ? c0 * P.inv_neg_scale * Hn : 0.0f);
    grad = (c1 != 0.0f ? -c1 * Dp : 0.0f) + (c0 != 0.0f ? c0 * Dn : 0.0f);
  }
}

// Target validity: in [0,1] (NaN is not), unless it is the ignore value. `&`, not `&&`: no control flow, so
// loops that check targets if-convert and vectorise (GCC for AArch64 refused the short-circuit form).
BCE_HD bool target_ok(float y) { return (y >= 0.0f) & (y <= 1.0f); }

}  // namespace bce_math

// Host-side preparation shared by both twins.
struct BcePrepared {
  bce_math::Params P;
  LossVariant kernel;  // the kernel that runs: the variant, except focal γ=0 without α, which runs as Bce
};
BcePrepared bce_prepare(const BceArgs& a);
// DB per-class terms: nu[k] = -κ·log(Ntr/n_k - 1), inv_n[k] = 1/n_k with n_k clamped into [1, Ntr-1].
void bce_db_class_terms(const BceArgs& a, float* nu, float* inv_n);

}  // namespace pkg
