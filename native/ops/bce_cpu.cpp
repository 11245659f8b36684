// CPU twin of the fused BCE-family loss (see bce.h and shared/LOSS_SPEC.md).
//
// One pass over memory: rows are split into contiguous blocks by parallel_for; each row is processed in
// tiles of up to TILE labels. A tile's targets, weights and mask are first gathered into small local
// arrays (converting int8/uint8 targets, applying label smoothing, checking target range), then one
// branch-free loop computes loss and gradient per element from a single exp(-|x|). That loop works only
// on local restrict arrays, so the compiler vectorises it (an AVX2+FMA clone is picked at run time on
// x86-64, and an AVX-512 clone where available; the portable build is SSE2). In the AVX-512 clone the hot
// variants (BCE, focal with γ = 2, DB with γ = 2) use hand-written loops instead (see v512 below: the same
// formulas with about half the instructions); when they read everything in place they take a whole row per
// call instead of a tile. Row sums of the loss are accumulated in fp64 into a per-row array and added up in
// row order at the end, so the loss does not depend on the thread count.
// The element loop must be if-converted to vectorise; GCC refuses to speculate a division or a select
// under -ftrapping-math (FP exception flags, which nothing here reads). Results are unchanged.
#if defined(__GNUC__) && !defined(__clang__)  // Clang if-converts without it (and has no such pragma)
#pragma GCC optimize("no-trapping-math")
#endif
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#include "../core/common.h"
#include "../core/isa.h"  // cpu_has_avx512/avx2: FUSED_MULTILABEL_NO_AVX512 / NO_AVX2 force a path
#include "../core/parallel.h"
#include "bce.h"

namespace pkg {

using bce_math::Params;

namespace {

constexpr int64_t TILE = 256;

std::string fmt_num(double v) {
  if (std::isnan(v)) return "NaN";  // JavaScript spellings
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void check_finite(float v, const char* name) {
  if (!std::isfinite(v)) throw_range(std::string("Expected a finite number for ") + name + " but received " + fmt_num(v));
}

// Reads target i as float.
inline float load_target(const BceArgs& a, int64_t i) {
  switch (a.targets_dtype) {
    case DType::I8: return (float)static_cast<const int8_t*>(a.targets)[i];
    case DType::U8: return (float)static_cast<const uint8_t*>(a.targets)[i];
    default: return static_cast<const float*>(a.targets)[i];
  }
}

// Everything a chunk of rows needs, flattened once per call.
struct Ctx {
  const BceArgs* a;
  Params P;
  LossVariant kernel;
  bool gather;  // targets need converting/masking/smoothing into a local tile (else read in place)
  float gs;
  const float* ones;
  const float* nu;
  const float* inv_n;
  double* row_sum;  // null for reduction 'none'
};

// Gathers a tile's targets into y (converted, masked to 0, smoothed) and the use-mask into mf; returns
// nonzero when a used target is outside [0, 1] (checked on the raw value, before smoothing).
inline __attribute__((always_inline)) int gather_targets(const BceArgs& a, int64_t i0, int64_t T, float* __restrict y,
                                                         float* __restrict mf) {
  switch (a.targets_dtype) {
    case DType::I8: {
      const int8_t* __restrict t = static_cast<const int8_t*>(a.targets) + i0;
      for (int64_t j = 0; j < T; j++) y[j] = (float)t[j];
      break;
    }
    case DType::U8: {
      const uint8_t* __restrict t = static_cast<const uint8_t*>(a.targets) + i0;
      for (int64_t j = 0; j < T; j++) y[j] = (float)t[j];
      break;
    }
    default: std::memcpy(y, static_cast<const float*>(a.targets) + i0, (size_t)T * 4); break;
  }
  const float iv = a.has_ignore_value ? a.ignore_value : __builtin_nanf("");  // NaN equals nothing
  if (a.mask) {
    const uint8_t* __restrict m = a.mask + i0;
    for (int64_t j = 0; j < T; j++) mf[j] = (m[j] != 0 && y[j] != iv) ? 1.0f : 0.0f;
  } else {
    for (int64_t j = 0; j < T; j++) mf[j] = y[j] != iv ? 1.0f : 0.0f;
  }
  int bad = 0;
  for (int64_t j = 0; j < T; j++) bad |= ((mf[j] != 0.0f) & !bce_math::target_ok(y[j])) ? 1 : 0;
  const float eps = a.label_smoothing;
  const float s = 1.0f - eps, h = 0.5f * eps;
  // masked targets become 0, so no garbage (the ignore value, NaN) reaches the math or DB's R_n
  for (int64_t j = 0; j < T; j++) y[j] = mf[j] != 0.0f ? y[j] * s + h : 0.0f;
  return bad;
}

// The element loop of one tile: branch-free, vectorised. Returns nonzero when a used target is out of range.
template <LossVariant V, bool HARD, bool G2>
inline __attribute__((always_inline)) int tile_loop(int64_t T, const float* __restrict x, const float* __restrict y,
                                                    const float* __restrict w, const float* __restrict p,
                                                    const float* __restrict mf, const float* __restrict nu,
                                                    const float* __restrict invn, float R, const Params& P0, float gs,
                                                    float* __restrict lb, float* __restrict go) {
  // A local copy: its fields are then plain values in the loop. Read through the reference, a field used
  // only under a condition (α only with has_alpha, ...) is a conditional load, which SSE2 and NEON cannot
  // if-convert: GCC left focal γ=2 and DB scalar there.
  const Params P = P0;
  int bad = 0;
  for (int64_t j = 0; j < T; j++) {
    float l, g;
    if (V == LossVariant::Bce) {
      bce_math::bce_focal_elem<false>(x[j], y[j], w[j], p[j], P, l, g);
    } else if (V == LossVariant::Focal) {
      bce_math::bce_focal_elem<true, G2>(x[j], y[j], w[j], p[j], P, l, g);
    } else if (V == LossVariant::Asymmetric) {
      bce_math::asl_elem(x[j], y[j], w[j], p[j], P, l, g);
    } else {
      float r = bce_math::db_rebalance(invn[j], R, P);
      bce_math::db_elem<HARD, G2>(x[j], y[j], w[j], p[j], nu[j], r, P, l, g);
    }
    const bool use = mf[j] != 0.0f;
    bad |= (use & !bce_math::target_ok(y[j])) ? 1 : 0;  // fused range check (no short-circuit: no branch)
    // Selection, not multiplication (masked NaN/Inf never leak), done on the bits: with `use ? l : 0` GCC
    // sinks the element's loads and math under the condition, and SSE2/NEON cannot if-convert that (DB
    // stayed scalar there).
    const uint32_t keep = use ? 0xffffffffu : 0u;
    lb[j] = bits_f32(f32_bits(l) & keep);
    go[j] = bits_f32(f32_bits(g * gs) & keep);
  }
  return bad;
}

#if defined(__x86_64__) && defined(__GNUC__)
// ---------------------------------------------------------------------------------------------------
// Hand-written AVX-512 element loop for the hot variants (BCE, focal with γ = 2). Zen 4 runs 512-bit ops
// on 256-bit units, so the instruction count per 16 elements is the cost; the compiler's vectorisation
// of the scalar bce_math code needs about 80. The same mathematics with fewer instructions:
//  - exp(v), v <= 0: reduction by ln2/16 (Cody-Waite), 2^(j/16) from a 16-entry table held in a register
//    (vpermps), a degree-3 polynomial for e^r, and the 2^n scale by vscalefps (exact, subnormals included);
//  - log1p(e) for e = exp(-|x|) in [0, 1]: e·P(e) with a degree-8 minimax P fitted to log1p(e)/e on
//    [0, 1] (about 2 ulp, and relative accuracy as e -> 0 comes for free: no range reduction);
//  - 1/(1+e): vrcp14ps and one Newton step (about 1 ulp on [1, 2]) instead of a division;
//  - the BCE element c1·sp(-x) + c0·sp(x) = (c1+c0)·log1p(e) + (x >= 0 ? c0 : -c1)·x (a sum of
//    non-negative terms, no cancellation), the gradient (x >= 0 ? c0 - c1·e : c0·e - c1)/(1+e); a vector
//    whose labels are all 0/1 takes the one-sided form c·sp(u), ∓c·σ(u), u = y ? -x : x (fewer products);
//  - focal with γ = 2: (1-p_t)^γ·σσ̄/(1-p_t)·γ = 2·(1-p_t)·σσ̄, so no division by 1-p_t.
// Zero coefficients still drop their term by selection (±Inf logits give the limits, not NaN).
#define FML_AVX512_ATTR __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"), always_inline))
// The tile itself is a call (once per tile or row): rows_body is inlined into all three clones,
// and GCC cannot inline AVX-512 code into its portable body first.
#define FML_AVX512_FN __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"), noinline))
// A lambda's body does not inherit its function's target (Clang), so the element steps say it themselves.
#define FML_AVX512_LAMBDA __attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"), always_inline))
// GCC 12's intrinsic headers build some results from _mm512_undefined_ps(): false -Wmaybe-uninitialized.
#pragma GCC diagnostic push
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif
// Scalar coefficients of the hand-written loops (both widths), computed once per tile.
// Focal: α_t = at1·y + at0; one-sided (y = 0 / y = 1) loss coefficients cl0/cl1 = α_t and gradient
// coefficients cg0/cg1 = α_t·(1-2y)·gs.
struct FocalCoefs {
  float at1, at0, cl0, cl1, cg0, cg1;
  FocalCoefs(const Params& P, float gs) {
    const float a1 = P.has_alpha ? P.alpha : 1.0f, a0 = P.has_alpha ? 1.0f - P.alpha : 1.0f;
    at1 = P.has_alpha ? 2.0f * P.alpha - 1.0f : 0.0f;
    at0 = a0;
    cl0 = a0;
    cl1 = a1;
    cg0 = a0 * gs;
    cg1 = -a1 * gs;
  }
};
// DB: each side's loss and gradient coefficients (the gradient already scaled by gs) and the rebalancing
// weight r = σ(v) + α_m with -v = -β·(inv_n/R - μ) = rb_a·inv_n + rb_b (rb: R > 0 and rebalancing on; else
// r = rconst).
struct DbCoefs {
  float lam, cl_pos, cl_neg, cg_pos, cg_neg, rconst, rb_a, rb_b, rb_alpha;
  bool rb;
  DbCoefs(const Params& P, float R, float gs) {
    lam = P.neg_scale;
    cl_pos = P.db_alpha_pos;
    cl_neg = P.db_alpha_neg * P.inv_neg_scale;
    cg_pos = -P.db_alpha_pos * gs;
    cg_neg = P.db_alpha_neg * gs;
    rb = P.rebalance && R > 0.0f;
    rconst = P.rebalance ? 1.0f + P.rb_alpha : 1.0f;
    const float invR = R > 0.0f ? (float)(1.0 / (double)R) : 1.0f;
    rb_a = P.rb_beta * invR;
    rb_b = -P.rb_beta * P.rb_mu;
    rb_alpha = P.rb_alpha;
  }
};

namespace v512 {

// exp(v) for v <= 88 (named for its main use, v = -|x|); below -110 it gives 0, NaN stays NaN.
// v = (k/16)·ln2 + r with k an integer and |r| <= ln2/32: exp(v) = 2^floor(k/16) · 2^((k mod 16)/16) · e^r.
// k/16 comes from adding 1.5·2^19 (whose float spacing is 1/16), which also leaves k mod 16 in the low
// mantissa bits: the index of a 16-entry table held in a register (vpermps); e^r needs only a degree-3
// polynomial (error r⁴/24 < 1e-8), and vscalefps applies 2^floor(k/16) exactly.
FML_AVX512_ATTR inline __m512 exp_nonpos(__m512 v) {
  // 2^(j/16), j = 0..15, rounded to float
  const __m512 tab = _mm512_setr_ps(1.0f, 1.04427373f, 1.09050775f, 1.13878858f,
                                    1.18920708f, 1.24185777f, 1.29683959f, 1.35425556f, 1.41421354f, 1.47682619f,
                                    1.54221082f, 1.61049032f, 1.68179286f, 1.75625217f, 1.8340081f, 1.91520655f);
  const __m512 shift = _mm512_set1_ps(786432.0f);  // 1.5·2^19
  v = _mm512_max_ps(_mm512_set1_ps(-110.0f), v);  // NaN (the second operand) passes through
  const __m512 s = _mm512_fmadd_ps(v, _mm512_set1_ps(1.44269504088896341f), shift);
  const __m512 kq = _mm512_sub_ps(s, shift);  // k/16, exact
  __m512 r = _mm512_fnmadd_ps(kq, _mm512_set1_ps(0.693359375f), v);
  r = _mm512_fnmadd_ps(kq, _mm512_set1_ps(-2.12194440e-4f), r);
  const __m512 t = _mm512_permutexvar_ps(_mm512_castps_si512(s), tab);
  const __m512 q = _mm512_fmadd_ps(_mm512_set1_ps(1.0f / 6.0f), r, _mm512_set1_ps(0.5f));
  const __m512 p = _mm512_fmadd_ps(q, _mm512_mul_ps(r, r), r);  // e^r - 1
  return _mm512_scalef_ps(_mm512_fmadd_ps(t, p, t), kq);
}

// log1p(e) for e in [0, 1]: e·P(e), P a degree-8 minimax fit of log1p(e)/e (P(0) = 1).
FML_AVX512_ATTR inline __m512 log1p_01(__m512 e) {
  __m512 p = _mm512_set1_ps(bce_math::log1p_coef(0));
  for (int i = 1; i < 9; i++) p = _mm512_fmadd_ps(p, e, _mm512_set1_ps(bce_math::log1p_coef(i)));
  return _mm512_mul_ps(p, e);
}

// 1/u for u in [1, 2] (and any normal u >= 1): reciprocal estimate (relative error < 2^-14), one Newton step.
FML_AVX512_ATTR inline __m512 recip_1to2(__m512 u) {
  const __m512 r0 = _mm512_rcp14_ps(u);
  const __m512 err = _mm512_fnmadd_ps(u, r0, _mm512_set1_ps(1.0f));
  return _mm512_fmadd_ps(r0, err, r0);
}

// One-sided focal pieces at u (γ = 2): H = σ(u)²·sp(u), D = σ(u)²·(2·σ(-u)·sp(u) + σ(u)), as
// bce_math::db_side<true>; the focal loss with a hard label is u = y ? -x : x (and DB's both sides).
FML_AVX512_ATTR inline void one_sided_g2(__m512 u, __m512& H, __m512& D) {
  const __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
  const __m512 e = exp_nonpos(_mm512_or_ps(u, _mm512_set1_ps(-0.0f)));
  const __m512 l = log1p_01(e);
  const __m512 inv = recip_1to2(_mm512_add_ps(one, e));
  const __m512 ei = _mm512_mul_ps(e, inv);
  const __mmask16 negu = _mm512_cmp_ps_mask(u, zero, _CMP_LT_OQ);
  const __m512 sig = _mm512_mask_blend_ps(negu, inv, ei);   // σ(u)
  const __m512 sign = _mm512_mask_blend_ps(negu, ei, inv);  // σ(-u)
  const __m512 sp = _mm512_add_ps(_mm512_max_ps(u, zero), l);  // softplus(u)
  const __m512 f = _mm512_mul_ps(sig, sig);
  H = _mm512_mul_ps(f, sp);
  const __mmask16 fin = _mm512_cmp_ps_mask(sp, _mm512_set1_ps(__builtin_inff()), _CMP_NEQ_UQ);
  const __m512 g = _mm512_maskz_mul_ps(fin, _mm512_add_ps(sign, sign), sp);  // γ·σ(-u)·sp(u); 0 at u = +Inf
  D = _mm512_mul_ps(f, _mm512_add_ps(g, sig));
}

// Loss sum of a tile: fp32 lane sums over groups of 4 vectors (64 elements), then fp64 lanes, then one fp64
// total. The loops call flush() after each full group (unrolled: no counter in the loop).
struct SumAcc {
  __m512d s0, s1;
  __m512 acc;
  FML_AVX512_ATTR SumAcc() : s0(_mm512_setzero_pd()), s1(_mm512_setzero_pd()), acc(_mm512_setzero_ps()) {}
  FML_AVX512_ATTR void flush() {
    s0 = _mm512_add_pd(s0, _mm512_cvtps_pd(_mm512_castps512_ps256(acc)));
    s1 = _mm512_add_pd(s1, _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(acc), 1))));
    acc = _mm512_setzero_ps();
  }
  FML_AVX512_ATTR void add(__m512 v) { acc = _mm512_add_ps(acc, v); }
  FML_AVX512_ATTR double total() {
    flush();
    return _mm512_reduce_add_pd(_mm512_add_pd(s0, s1));
  }
};

// Runs step(j, mask) over a tile: groups of 4 full vectors (the loss sum flushed after each), the remaining
// full vectors, then one masked tail (constant masks fold away in the unrolled loop).
template <typename Step>
__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"))) inline void tile_loop_512(int64_t T, SumAcc& acc, Step&& step) {
  constexpr __mmask16 all = (__mmask16)0xffff;
  int64_t j = 0;
  for (; j + 64 <= T; j += 64) {
    step(j, all);
    step(j + 16, all);
    step(j + 32, all);
    step(j + 48, all);
    acc.flush();
  }
  for (; j + 16 <= T; j += 16) step(j, all);
  if (j < T) step(j, (__mmask16)((1u << (T - j)) - 1u));
}

// V = 0: BCE; V = 1: focal with γ = 2. WP: element weights w and posWeight p are read (else 1).
// SAFE: mf selects the used elements and targets are range-checked (else all are used and were checked).
// Loss: stored to lb when it is non-null, else summed (fp32 within 4 vectors, then fp64) into *sum.
// YT = 1 / 2: the targets are read in place as int8 / uint8 (r8: targets, optional mask bytes, ignore value),
// converted, masked (masked targets become 0) and range-checked in the loop, instead of gather_targets
// (then SAFE is true and y, mf are unused).
struct Raw8 {
  const void* t;
  const uint8_t* m;
  float iv;
};
template <LossVariant V, bool WP, bool SAFE, int YT = 0>
FML_AVX512_FN int tile(int64_t T, const float* __restrict x, const float* __restrict y,
                                const float* __restrict w, const float* __restrict p, const float* __restrict mf,
                                const Params& P, float gs, float* __restrict lb, float* __restrict go, double* sum,
                                Raw8 r8 = {nullptr, nullptr, 0.0f}) {
  const __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
  const __m512 vgs = _mm512_set1_ps(gs);
  const __m512 sgn = _mm512_set1_ps(-0.0f);
  const FocalCoefs F(P, gs);
  const __m512 at1 = _mm512_set1_ps(F.at1), at0 = _mm512_set1_ps(F.at0);
  const __m512 cl0 = _mm512_set1_ps(F.cl0), cl1 = _mm512_set1_ps(F.cl1);
  const __m512 cg0 = _mm512_set1_ps(F.cg0), cg1 = _mm512_set1_ps(F.cg1);
  SumAcc acc;
  __mmask16 bad = 0;
  auto step = [&](int64_t j, __mmask16 tm) FML_AVX512_LAMBDA {
    const __m512 xv = _mm512_maskz_loadu_ps(tm, x + j);
    __m512 yv;
    __mmask16 use = tm;
    if (YT != 0) {
      const __m128i b = _mm_maskz_loadu_epi8(tm, static_cast<const uint8_t*>(r8.t) + j);
      yv = _mm512_cvtepi32_ps(YT == 1 ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b));
      use = _mm512_mask_cmp_ps_mask(tm, yv, _mm512_set1_ps(r8.iv), _CMP_NEQ_UQ);  // NaN iv: nothing ignored
      if (r8.m) use &= _mm_mask_cmpneq_epi8_mask(tm, _mm_maskz_loadu_epi8(tm, r8.m + j), _mm_setzero_si128());
      const __mmask16 ok = _mm512_cmp_ps_mask(yv, zero, _CMP_GE_OQ) & _mm512_cmp_ps_mask(yv, one, _CMP_LE_OQ);
      bad |= use & (__mmask16)~ok;
      yv = _mm512_maskz_mov_ps(use, yv);  // as gather_targets: masked targets become 0
    } else {
      yv = _mm512_maskz_loadu_ps(tm, y + j);
      if (SAFE) {
        use = _mm512_mask_cmp_ps_mask(tm, _mm512_maskz_loadu_ps(tm, mf + j), zero, _CMP_NEQ_UQ);
        const __mmask16 ok = _mm512_cmp_ps_mask(yv, zero, _CMP_GE_OQ) & _mm512_cmp_ps_mask(yv, one, _CMP_LE_OQ);
        bad |= use & (__mmask16)~ok;
      }
    }
    const __mmask16 y1 = _mm512_cmp_ps_mask(yv, one, _CMP_EQ_OQ);
    if (V == LossVariant::Focal && (__mmask16)(_mm512_cmp_ps_mask(yv, zero, _CMP_EQ_OQ) | y1) == (__mmask16)0xffff) {
      // Every label of the vector is 0 or 1: the one-sided forms of the spec (§2, focal y=1 / y=0),
      // u = y ? -x : x, loss α_t·c·H(u), gradient ∓α_t·c·D(u) with c = w·p (y=1) or w (y=0).
      __m512 H, D;
      one_sided_g2(_mm512_mask_sub_ps(xv, y1, zero, xv), H, D);
      __m512 cl = _mm512_mask_blend_ps(y1, cl0, cl1);
      __m512 cg = _mm512_mask_blend_ps(y1, cg0, cg1);
      if (WP) {
        const __m512 wv = _mm512_maskz_loadu_ps(tm, w + j);
        const __m512 wp = _mm512_mask_mul_ps(wv, y1, wv, _mm512_maskz_loadu_ps(tm, p + j));
        cl = _mm512_mul_ps(cl, wp);
        cg = _mm512_mul_ps(cg, wp);
      }
      const __mmask16 clnz = _mm512_cmp_ps_mask(cl, zero, _CMP_NEQ_UQ);
      const __m512 loss = _mm512_maskz_mul_ps(clnz & use, cl, H);
      _mm512_mask_storeu_ps(go + j, tm, _mm512_maskz_mul_ps(use, cg, D));
      if (lb)
        _mm512_mask_storeu_ps(lb + j, tm, loss);
      else
        acc.add(loss);
      return;
    }
    const __m512 e = exp_nonpos(_mm512_or_ps(xv, sgn));
    const __m512 l = log1p_01(e);
    const __m512 inv = recip_1to2(_mm512_add_ps(one, e));
    if (V == LossVariant::Bce && (__mmask16)(_mm512_cmp_ps_mask(yv, zero, _CMP_EQ_OQ) | y1) == (__mmask16)0xffff) {
      // Every label of the vector is 0 or 1: loss c·softplus(u), gradient ∓c·σ(u)·gs, u = y ? -x : x,
      // c = w·p (y = 1) or w (y = 0); σ(u) = inv for u >= 0, e·inv below.
      const __m512 u = _mm512_mask_sub_ps(xv, y1, zero, xv);
      const __mmask16 negu = _mm512_cmp_ps_mask(u, zero, _CMP_LT_OQ);
      const __m512 sigu = _mm512_mask_mul_ps(inv, negu, e, inv);
      __m512 loss = _mm512_add_ps(_mm512_max_ps(u, zero), l);
      __m512 cg = _mm512_mask_blend_ps(y1, vgs, _mm512_sub_ps(zero, vgs));
      if (WP) {
        const __m512 wv = _mm512_maskz_loadu_ps(tm, w + j);
        const __m512 c = _mm512_mask_mul_ps(wv, y1, wv, _mm512_maskz_loadu_ps(tm, p + j));
        loss = _mm512_maskz_mul_ps(_mm512_cmp_ps_mask(c, zero, _CMP_NEQ_UQ), c, loss);
        cg = _mm512_mul_ps(cg, c);
      }
      _mm512_mask_storeu_ps(go + j, tm, _mm512_maskz_mul_ps(use, sigu, cg));
      loss = _mm512_maskz_mov_ps(use, loss);
      if (lb)
        _mm512_mask_storeu_ps(lb + j, tm, loss);
      else
        acc.add(loss);
      return;
    }
    const __mmask16 neg = _mm512_cmp_ps_mask(xv, zero, _CMP_LT_OQ);
    const __m512 c0u = _mm512_sub_ps(one, yv);  // 1-y
    __m512 c0 = c0u, c1 = yv;
    if (WP) {
      const __m512 wv = _mm512_maskz_loadu_ps(tm, w + j);
      const __m512 pv = _mm512_maskz_loadu_ps(tm, p + j);
      c1 = _mm512_mul_ps(_mm512_mul_ps(wv, pv), yv);
      c0 = _mm512_mul_ps(wv, c0u);
    }
    // B = (c1+c0)·log1p(e) + k·x, k = x >= 0 ? c0 : -c1 (the k·x term dropped where k = 0)
    const __m512 k = _mm512_mask_sub_ps(c0, neg, zero, c1);
    const __mmask16 knz = _mm512_cmp_ps_mask(k, zero, _CMP_NEQ_UQ);
    const __m512 lw = WP ? _mm512_mul_ps(_mm512_add_ps(c1, c0), l) : l;
    const __m512 B = _mm512_mask3_fmadd_ps(k, xv, lw, knz);
    // dB = (x >= 0 ? c0 - c1·e : c0·e - c1)/(1+e)
    const __m512 num = _mm512_mask_blend_ps(neg, _mm512_fnmadd_ps(c1, e, c0), _mm512_fmsub_ps(c0, e, c1));
    const __m512 dB = _mm512_mul_ps(num, inv);
    __m512 loss, grad;
    if (V == LossVariant::Bce) {
      loss = B;
      grad = _mm512_mul_ps(dB, vgs);
    } else {
      const __m512 ei = _mm512_mul_ps(e, inv);
      const __m512 sig = _mm512_mask_blend_ps(neg, inv, ei);   // σ(x)
      const __m512 sign = _mm512_mask_blend_ps(neg, ei, inv);  // σ(-x)
      const __m512 t = _mm512_fmadd_ps(yv, sign, _mm512_mul_ps(c0u, sig));  // 1-p_t (no cancellation)
      const __m512 f = _mm512_mul_ps(t, t);
      const __m512 ss = _mm512_mul_ps(sig, sign);
      const __mmask16 ssnz = _mm512_cmp_ps_mask(ss, zero, _CMP_NEQ_UQ);
      const __m512 g2 = _mm512_fnmadd_ps(_mm512_set1_ps(4.0f), yv, _mm512_set1_ps(2.0f));  // γ·(1-2y)
      const __m512 term = _mm512_maskz_mul_ps(ssnz, _mm512_mul_ps(_mm512_mul_ps(t, ss), g2), B);
      const __m512 at = _mm512_fmadd_ps(at1, yv, at0);
      loss = _mm512_mul_ps(at, _mm512_mul_ps(f, B));
      grad = _mm512_mul_ps(_mm512_mul_ps(at, vgs), _mm512_fmadd_ps(f, dB, term));
    }
    _mm512_mask_storeu_ps(go + j, tm, _mm512_maskz_mov_ps(use, grad));
    loss = _mm512_maskz_mov_ps(use, loss);
    if (lb) {
      _mm512_mask_storeu_ps(lb + j, tm, loss);
    } else {
      acc.add(loss);
    }
  };
  tile_loop_512(T, acc, step);
  if (!lb) *sum += acc.total();
  return bad != 0;
}

// Distribution-balanced with γ = 2: vectors whose labels are all 0 or 1 (always, with HARD) evaluate one
// side per element, u = -(x+ν) for a positive and λ·(x+ν) for a negative (bce_math::db_elem<true, true>),
// others both sides (db_elem<false, true>); the rebalancing weight r = σ(β·(inv_n·(1/R) - μ)) + α_m is
// computed in the same loop.
template <bool HARD, bool WP, bool SAFE>
FML_AVX512_FN int db_tile(int64_t T, const float* __restrict x, const float* __restrict y,
                          const float* __restrict w, const float* __restrict p, const float* __restrict mf,
                          const float* __restrict nu, const float* __restrict invn, float R, const Params& P,
                          float gs, float* __restrict lb, float* __restrict go, double* sum) {
  const __m512 one = _mm512_set1_ps(1.0f), zero = _mm512_setzero_ps();
  const DbCoefs C(P, R, gs);
  const bool rb = C.rb;
  const __m512 lam = _mm512_set1_ps(C.lam);
  const __m512 cl_pos = _mm512_set1_ps(C.cl_pos), cl_neg = _mm512_set1_ps(C.cl_neg);
  const __m512 cg_pos = _mm512_set1_ps(C.cg_pos), cg_neg = _mm512_set1_ps(C.cg_neg);
  const __m512 rconst = _mm512_set1_ps(C.rconst), rb_alpha = _mm512_set1_ps(C.rb_alpha);
  const __m512 rb_a = _mm512_set1_ps(C.rb_a), rb_b = _mm512_set1_ps(C.rb_b);
  SumAcc acc;
  __mmask16 bad = 0;
  auto step = [&](int64_t j, __mmask16 tm) FML_AVX512_LAMBDA {
    const __m512 xv = _mm512_maskz_loadu_ps(tm, x + j);
    const __m512 yv = _mm512_maskz_loadu_ps(tm, y + j);
    const __m512 zp = _mm512_add_ps(xv, _mm512_maskz_loadu_ps(tm, nu + j));
    const __mmask16 pos = _mm512_cmp_ps_mask(yv, zero, _CMP_NEQ_UQ);
    __m512 r = rconst;
    if (rb) {
      // σ(v) = 1/(1 + exp(-v)), v = β·(inv_n/R - μ) finite: exp(-v) with -v clamped to 88 (exp stays
      // finite; σ < 1e-38 there) and the reciprocal estimate + Newton step (valid for any normal 1+exp).
      const __m512 mv = _mm512_min_ps(_mm512_fnmsub_ps(rb_a, _mm512_maskz_loadu_ps(tm, invn + j), rb_b),
                                      _mm512_set1_ps(88.0f));
      r = _mm512_add_ps(recip_1to2(_mm512_add_ps(one, exp_nonpos(mv))), rb_alpha);
    }
    __m512 loss, grad;
    if (HARD || (__mmask16)(_mm512_cmp_ps_mask(yv, one, _CMP_EQ_OQ) | ~pos) == (__mmask16)0xffff) {
      // every label of the vector is 0 or 1: one side, u = -(x+ν) for a positive, λ·(x+ν) for a negative
      __m512 H, D;
      one_sided_g2(_mm512_mask_sub_ps(_mm512_mul_ps(lam, zp), pos, zero, zp), H, D);
      __m512 cl = _mm512_mask_blend_ps(pos, cl_neg, cl_pos);
      __m512 cg = _mm512_mask_blend_ps(pos, cg_neg, cg_pos);
      __m512 wr = r;
      if (WP) {
        const __m512 wv = _mm512_maskz_loadu_ps(tm, w + j);
        const __m512 wp = _mm512_mask_mul_ps(wv, pos, wv, _mm512_maskz_loadu_ps(tm, p + j));
        wr = _mm512_mul_ps(wp, r);
      }
      cl = _mm512_mul_ps(cl, wr);
      cg = _mm512_mul_ps(cg, wr);
      const __mmask16 clnz = _mm512_cmp_ps_mask(cl, zero, _CMP_NEQ_UQ);
      loss = _mm512_maskz_mul_ps(clnz, cl, H);
      grad = _mm512_mul_ps(cg, D);
    } else {
      // soft labels: both sides (bce_math::db_elem<false>), a zero coefficient drops its side by selection
      __m512 Hp, Dp, Hn, Dn;
      one_sided_g2(_mm512_sub_ps(zero, zp), Hp, Dp);
      one_sided_g2(_mm512_mul_ps(lam, zp), Hn, Dn);
      __m512 c1 = _mm512_mul_ps(yv, _mm512_mul_ps(_mm512_set1_ps(P.db_alpha_pos), r));
      __m512 c0 = _mm512_mul_ps(_mm512_sub_ps(one, yv), _mm512_mul_ps(_mm512_set1_ps(P.db_alpha_neg), r));
      if (WP) {
        const __m512 wv = _mm512_maskz_loadu_ps(tm, w + j);
        c1 = _mm512_mul_ps(c1, _mm512_mul_ps(wv, _mm512_maskz_loadu_ps(tm, p + j)));
        c0 = _mm512_mul_ps(c0, wv);
      }
      const __mmask16 c1nz = _mm512_cmp_ps_mask(c1, zero, _CMP_NEQ_UQ);
      const __mmask16 c0nz = _mm512_cmp_ps_mask(c0, zero, _CMP_NEQ_UQ);
      loss = _mm512_add_ps(_mm512_maskz_mul_ps(c1nz, c1, Hp),
                           _mm512_maskz_mul_ps(c0nz, _mm512_mul_ps(c0, _mm512_set1_ps(P.inv_neg_scale)), Hn));
      grad = _mm512_sub_ps(_mm512_maskz_mul_ps(c0nz, c0, Dn), _mm512_maskz_mul_ps(c1nz, c1, Dp));
      grad = _mm512_mul_ps(grad, _mm512_set1_ps(gs));
    }
    __mmask16 use = tm;
    if (SAFE) {
      use = _mm512_mask_cmp_ps_mask(tm, _mm512_maskz_loadu_ps(tm, mf + j), zero, _CMP_NEQ_UQ);
      const __mmask16 ok = _mm512_cmp_ps_mask(yv, zero, _CMP_GE_OQ) & _mm512_cmp_ps_mask(yv, one, _CMP_LE_OQ);
      bad |= use & (__mmask16)~ok;
    }
    _mm512_mask_storeu_ps(go + j, tm, _mm512_maskz_mov_ps(use, grad));
    loss = _mm512_maskz_mov_ps(use, loss);
    if (lb)
      _mm512_mask_storeu_ps(lb + j, tm, loss);
    else
      acc.add(loss);
  };
  tile_loop_512(T, acc, step);
  if (!lb) *sum += acc.total();
  return bad != 0;
}

}  // namespace v512

// ---------------------------------------------------------------------------------------------------
// Hand-written AVX2 loops for BCE, focal γ=2 and DB γ=2 (CPUs without AVX-512: Zen 2/3, most Intel client parts). The
// compiler's vectorisation of bce_math needs about 100 instructions per 8 elements there (16 registers:
// constants reloaded, blends, integer exponent assembly); the same formulas as v512 with what AVX2 has:
//  - exp(v): reduction by ln2/8, 2^(j/8) from an 8-entry register table (vpermps), a degree-4
//    polynomial for e^r (|r| <= ln2/16), and the 2^n scale applied in two halves (the scalar code's way:
//    exact down to the subnormals, no vscalefps here);
//  - log1p(e): the shared degree-8 polynomial; 1/(1+e): a division (correctly rounded);
//  - hard-label vectors: the one-sided forms, as in v512::tile and v512::db_tile.
// The last T mod 8 elements go through the scalar bce_math code.
#define FML_AVX2_ATTR __attribute__((target("avx2,fma"), always_inline))
#define FML_AVX2_FN __attribute__((target("avx2,fma"), noinline))
namespace v256 {

FML_AVX2_ATTR inline __m256 exp_nonpos(__m256 v) {
  // 2^(j/8), j = 0..7, rounded to float
  const __m256 tab = _mm256_setr_ps(1.0f, 1.09050775f, 1.18920708f, 1.29683959f, 1.41421354f, 1.54221082f,
                                    1.68179286f, 1.8340081f);
  const __m256 shift = _mm256_set1_ps(1572864.0f);  // 1.5·2^20: float spacing 1/8
  v = _mm256_max_ps(_mm256_set1_ps(-110.0f), v);      // NaN (the second operand) passes through
  const __m256 s = _mm256_fmadd_ps(v, _mm256_set1_ps(1.44269504088896341f), shift);
  const __m256 kq = _mm256_sub_ps(s, shift);  // k/8, exact
  __m256 r = _mm256_fnmadd_ps(kq, _mm256_set1_ps(0.693359375f), v);
  r = _mm256_fnmadd_ps(kq, _mm256_set1_ps(-2.12194440e-4f), r);
  const __m256i si = _mm256_castps_si256(s);
  const __m256 t = _mm256_permutevar8x32_ps(tab, si);  // k mod 8 in the low mantissa bits
  __m256 q = _mm256_fmadd_ps(_mm256_set1_ps(1.0f / 24.0f), r, _mm256_set1_ps(1.0f / 6.0f));
  q = _mm256_fmadd_ps(q, r, _mm256_set1_ps(0.5f));
  const __m256 p = _mm256_fmadd_ps(q, _mm256_mul_ps(r, r), r);  // e^r - 1, error r⁵/120 < 2e-9
  // n = floor(k/8) from the integer k (the bits of s minus those of the shift); n in [-159, 127]
  const __m256i n = _mm256_srai_epi32(_mm256_sub_epi32(si, _mm256_castps_si256(shift)), 3);
  const __m256i n1 = _mm256_srai_epi32(n, 1);
  const __m256i n2 = _mm256_sub_epi32(n, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_fmadd_ps(t, p, t), s1), s2);
}

FML_AVX2_ATTR inline __m256 log1p_01(__m256 e) {
  __m256 p = _mm256_set1_ps(bce_math::log1p_coef(0));
  for (int i = 1; i < 9; i++) p = _mm256_fmadd_ps(p, e, _mm256_set1_ps(bce_math::log1p_coef(i)));
  return _mm256_mul_ps(p, e);
}

// One-sided focal pieces at u with γ = 2 (as v512::one_sided_g2): H = σ(u)²·sp(u), D = σ(u)²·(2σ(-u)·sp(u) + σ(u)).
FML_AVX2_ATTR inline void one_sided_g2(__m256 u, __m256& H, __m256& D) {
  const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
  const __m256 e = exp_nonpos(_mm256_or_ps(u, _mm256_set1_ps(-0.0f)));
  const __m256 l = log1p_01(e);
  const __m256 inv = _mm256_div_ps(one, _mm256_add_ps(one, e));
  const __m256 ei = _mm256_mul_ps(e, inv);
  const __m256 negu = _mm256_cmp_ps(u, zero, _CMP_LT_OQ);
  const __m256 sig = _mm256_blendv_ps(inv, ei, negu);   // σ(u)
  const __m256 sign = _mm256_blendv_ps(ei, inv, negu);  // σ(-u)
  const __m256 sp = _mm256_add_ps(_mm256_max_ps(u, zero), l);
  const __m256 f = _mm256_mul_ps(sig, sig);
  H = _mm256_mul_ps(f, sp);
  const __m256 fin = _mm256_cmp_ps(sp, _mm256_set1_ps(__builtin_inff()), _CMP_NEQ_UQ);
  const __m256 g = _mm256_and_ps(fin, _mm256_mul_ps(_mm256_add_ps(sign, sign), sp));  // 0 at u = +Inf
  D = _mm256_mul_ps(f, _mm256_add_ps(g, sig));
}

// One side with its coefficients: loss cl·H(u), dropped where cl = 0 (u = +Inf gives 0, not NaN), and
// gradient cg·D(u).
FML_AVX2_ATTR inline void one_side(__m256 u, __m256 cl, __m256 cg, __m256& loss, __m256& grad) {
  __m256 H, D;
  one_sided_g2(u, H, D);
  loss = _mm256_and_ps(_mm256_cmp_ps(cl, _mm256_setzero_ps(), _CMP_NEQ_UQ), _mm256_mul_ps(cl, H));
  grad = _mm256_mul_ps(cg, D);
}

// The element weight, times posWeight where `pos` is set: w·p for a positive, w for a negative.
FML_AVX2_ATTR inline __m256 side_weight(const float* __restrict w, const float* __restrict p, int64_t j, __m256 pos) {
  const __m256 wv = _mm256_loadu_ps(w + j);
  return _mm256_blendv_ps(wv, _mm256_mul_ps(wv, _mm256_loadu_ps(p + j)), pos);
}

// Loss sum over a tile: fp32 lane sums over 4 vectors, then fp64 lanes.
struct SumAcc {
  __m256 acc;
  __m256d s0, s1;
  int n;
  FML_AVX2_ATTR SumAcc() : acc(_mm256_setzero_ps()), s0(_mm256_setzero_pd()), s1(_mm256_setzero_pd()), n(0) {}
  FML_AVX2_ATTR void flush() {
    s0 = _mm256_add_pd(s0, _mm256_cvtps_pd(_mm256_castps256_ps128(acc)));
    s1 = _mm256_add_pd(s1, _mm256_cvtps_pd(_mm256_extractf128_ps(acc, 1)));
    acc = _mm256_setzero_ps();
    n = 0;
  }
  FML_AVX2_ATTR void add(__m256 v) {
    acc = _mm256_add_ps(acc, v);
    if (++n == 4) flush();
  }
  FML_AVX2_ATTR double total() {
    flush();
    alignas(32) double parts[4];
    _mm256_store_pd(parts, _mm256_add_pd(s0, s1));
    return (parts[0] + parts[1]) + (parts[2] + parts[3]);
  }
};

// The use mask of a vector (mf != 0 with SAFE, else every lane) and the range check of its used targets.
template <bool SAFE>
FML_AVX2_ATTR inline __m256 use_and_check(const float* __restrict mf, int64_t j, __m256 yv, __m256& bad) {
  if (!SAFE) return _mm256_castsi256_ps(_mm256_set1_epi32(-1));
  const __m256 zero = _mm256_setzero_ps();
  const __m256 use = _mm256_cmp_ps(_mm256_loadu_ps(mf + j), zero, _CMP_NEQ_UQ);
  const __m256 ok = _mm256_and_ps(_mm256_cmp_ps(yv, zero, _CMP_GE_OQ), _mm256_cmp_ps(yv, _mm256_set1_ps(1.0f), _CMP_LE_OQ));
  bad = _mm256_or_ps(bad, _mm256_andnot_ps(ok, use));
  return use;
}

// Stores a vector's gradient and its loss (or adds the loss to acc), both selected by `use` on the bits:
// a masked NaN/Inf never leaks.
FML_AVX2_ATTR inline void put(float* __restrict go, float* __restrict lb, SumAcc& acc, int64_t j, __m256 use,
                              __m256 grad, __m256 loss) {
  _mm256_storeu_ps(go + j, _mm256_and_ps(use, grad));
  loss = _mm256_and_ps(use, loss);
  if (lb)
    _mm256_storeu_ps(lb + j, loss);
  else
    acc.add(loss);
}

// Elements [j, T) (fewer than 8) through the scalar code: elem(j, l, g) gives an element's loss and gradient.
// Finishes the tile: the loss total into *sum (unless stored to lb); returns the range-check flag.
template <bool SAFE, typename Elem>
__attribute__((target("avx2,fma"))) inline int finish(int64_t j, int64_t T, const float* __restrict y, const float* __restrict mf, float gs,
                  float* __restrict lb, float* __restrict go, SumAcc& acc, __m256 bad, double* sum, Elem&& elem) {
  double total = acc.total();
  int flag = _mm256_movemask_ps(bad) != 0;
  for (; j < T; j++) {
    float l, g;
    elem(j, l, g);
    const bool use = !SAFE || mf[j] != 0.0f;
    if (SAFE) flag |= (use & !bce_math::target_ok(y[j])) ? 1 : 0;
    l = use ? l : 0.0f;
    go[j] = use ? g * gs : 0.0f;
    if (lb) lb[j] = l;
    else total += (double)l;
  }
  if (!lb) *sum += total;
  return flag;
}

// V = 0: plain BCE; V = 1: focal with γ = 2. WP, SAFE as in v512::tile. Loss to lb when non-null, else
// summed into *sum. Returns nonzero when a used target is out of range.
template <LossVariant V, bool WP, bool SAFE>
FML_AVX2_FN int tile(int64_t T, const float* __restrict x, const float* __restrict y, const float* __restrict w,
                     const float* __restrict p, const float* __restrict mf, const Params& P, float gs,
                     float* __restrict lb, float* __restrict go, double* sum) {
  const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
  const __m256 sgn = _mm256_set1_ps(-0.0f);
  const __m256 vgs = _mm256_set1_ps(gs), ngs = _mm256_set1_ps(-gs);
  // focal: α_t = at1·y + at0; one-sided coefficients α_t and α_t·(1-2y)·gs
  const FocalCoefs F(P, gs);
  const __m256 at1 = _mm256_set1_ps(F.at1), at0 = _mm256_set1_ps(F.at0);
  const __m256 cl0 = _mm256_set1_ps(F.cl0), cl1 = _mm256_set1_ps(F.cl1);
  const __m256 cg0 = _mm256_set1_ps(F.cg0), cg1 = _mm256_set1_ps(F.cg1);
  SumAcc acc;
  __m256 bad = zero;
  int64_t j = 0;
  for (; j + 8 <= T; j += 8) {
    const __m256 xv = _mm256_loadu_ps(x + j);
    const __m256 yv = _mm256_loadu_ps(y + j);
    const __m256 use = use_and_check<SAFE>(mf, j, yv, bad);
    const __m256 y1 = _mm256_cmp_ps(yv, one, _CMP_EQ_OQ);
    const bool hard = _mm256_movemask_ps(_mm256_or_ps(y1, _mm256_cmp_ps(yv, zero, _CMP_EQ_OQ))) == 0xff;
    __m256 loss, grad;
    if (V == LossVariant::Focal && hard) {
      // one-sided focal (spec §2, y = 1 / y = 0): u = y ? -x : x, loss α_t·c·H(u), gradient ∓α_t·c·D(u)
      __m256 cl = _mm256_blendv_ps(cl0, cl1, y1);
      __m256 cg = _mm256_blendv_ps(cg0, cg1, y1);
      if (WP) {
        const __m256 wp = side_weight(w, p, j, y1);
        cl = _mm256_mul_ps(cl, wp);
        cg = _mm256_mul_ps(cg, wp);
      }
      one_side(_mm256_blendv_ps(xv, _mm256_sub_ps(zero, xv), y1), cl, cg, loss, grad);
    } else {
      const __m256 e = exp_nonpos(_mm256_or_ps(xv, sgn));
      const __m256 l = log1p_01(e);
      const __m256 inv = _mm256_div_ps(one, _mm256_add_ps(one, e));
      if (V == LossVariant::Bce && hard) {
        // one-sided BCE: loss c·softplus(u), gradient ∓c·σ(u)·gs, u = y ? -x : x
        const __m256 u = _mm256_blendv_ps(xv, _mm256_sub_ps(zero, xv), y1);
        const __m256 sigu = _mm256_blendv_ps(inv, _mm256_mul_ps(e, inv), _mm256_cmp_ps(u, zero, _CMP_LT_OQ));
        loss = _mm256_add_ps(_mm256_max_ps(u, zero), l);
        __m256 cg = _mm256_blendv_ps(vgs, ngs, y1);
        if (WP) {
          const __m256 c = side_weight(w, p, j, y1);
          loss = _mm256_and_ps(_mm256_cmp_ps(c, zero, _CMP_NEQ_UQ), _mm256_mul_ps(c, loss));  // c = 0 drops it
          cg = _mm256_mul_ps(cg, c);
        }
        grad = _mm256_mul_ps(sigu, cg);
      } else {
        // B = (c1+c0)·log1p(e) + k·x, k = x >= 0 ? c0 : -c1 (dropped where k = 0); dB as in v512::tile
        const __m256 neg = _mm256_cmp_ps(xv, zero, _CMP_LT_OQ);
        const __m256 c0u = _mm256_sub_ps(one, yv);
        __m256 c0 = c0u, c1 = yv;
        if (WP) {
          const __m256 wv = _mm256_loadu_ps(w + j);
          c1 = _mm256_mul_ps(_mm256_mul_ps(wv, _mm256_loadu_ps(p + j)), yv);
          c0 = _mm256_mul_ps(wv, c0u);
        }
        const __m256 k = _mm256_blendv_ps(c0, _mm256_sub_ps(zero, c1), neg);
        const __m256 kx = _mm256_and_ps(_mm256_cmp_ps(k, zero, _CMP_NEQ_UQ), _mm256_mul_ps(k, xv));
        const __m256 lw = WP ? _mm256_mul_ps(_mm256_add_ps(c1, c0), l) : l;
        const __m256 B = _mm256_add_ps(lw, kx);
        const __m256 num = _mm256_blendv_ps(_mm256_fnmadd_ps(c1, e, c0), _mm256_fmsub_ps(c0, e, c1), neg);
        const __m256 dB = _mm256_mul_ps(num, inv);
        if (V == LossVariant::Bce) {
          loss = B;
          grad = _mm256_mul_ps(dB, vgs);
        } else {
          // focal on the weighted BCE element (v512::tile's general branch)
          const __m256 ei = _mm256_mul_ps(e, inv);
          const __m256 sig = _mm256_blendv_ps(inv, ei, neg);   // σ(x)
          const __m256 sign = _mm256_blendv_ps(ei, inv, neg);  // σ(-x)
          const __m256 t = _mm256_fmadd_ps(yv, sign, _mm256_mul_ps(c0u, sig));  // 1-p_t
          const __m256 f = _mm256_mul_ps(t, t);
          const __m256 ss = _mm256_mul_ps(sig, sign);
          const __m256 g2 = _mm256_fnmadd_ps(_mm256_set1_ps(4.0f), yv, _mm256_set1_ps(2.0f));  // γ·(1-2y)
          const __m256 term = _mm256_and_ps(_mm256_cmp_ps(ss, zero, _CMP_NEQ_UQ),
                                            _mm256_mul_ps(_mm256_mul_ps(_mm256_mul_ps(t, ss), g2), B));
          const __m256 at = _mm256_fmadd_ps(at1, yv, at0);
          loss = _mm256_mul_ps(at, _mm256_mul_ps(f, B));
          grad = _mm256_mul_ps(_mm256_mul_ps(at, vgs), _mm256_fmadd_ps(f, dB, term));
        }
      }
    }
    put(go, lb, acc, j, use, grad, loss);
  }
  return finish<SAFE>(j, T, y, mf, gs, lb, go, acc, bad, sum, [&](int64_t i, float& l, float& g) {
    bce_math::bce_focal_elem<V == LossVariant::Focal, true>(x[i], y[i], WP ? w[i] : 1.0f, WP ? p[i] : 1.0f, P, l, g);
  });
}

// Distribution-balanced with γ = 2 (as v512::db_tile): one side for vectors whose labels are all 0/1, both
// sides otherwise; the rebalancing weight in the same loop.
template <bool WP, bool SAFE>
FML_AVX2_FN int db_tile(int64_t T, const float* __restrict x, const float* __restrict y, const float* __restrict w,
                        const float* __restrict p, const float* __restrict mf, const float* __restrict nu,
                        const float* __restrict invn, float R, const Params& P, float gs, float* __restrict lb,
                        float* __restrict go, double* sum) {
  const __m256 one = _mm256_set1_ps(1.0f), zero = _mm256_setzero_ps();
  const DbCoefs C(P, R, gs);
  const bool rb = C.rb;
  const __m256 lam = _mm256_set1_ps(C.lam);
  const __m256 cl_pos = _mm256_set1_ps(C.cl_pos), cl_neg = _mm256_set1_ps(C.cl_neg);
  const __m256 cg_pos = _mm256_set1_ps(C.cg_pos), cg_neg = _mm256_set1_ps(C.cg_neg);
  const __m256 rconst = _mm256_set1_ps(C.rconst), rb_alpha = _mm256_set1_ps(C.rb_alpha);
  const __m256 rb_a = _mm256_set1_ps(C.rb_a), rb_b = _mm256_set1_ps(C.rb_b);
  SumAcc acc;
  __m256 bad = zero;
  int64_t j = 0;
  for (; j + 8 <= T; j += 8) {
    const __m256 xv = _mm256_loadu_ps(x + j);
    const __m256 yv = _mm256_loadu_ps(y + j);
    const __m256 zp = _mm256_add_ps(xv, _mm256_loadu_ps(nu + j));
    const __m256 pos = _mm256_cmp_ps(yv, zero, _CMP_NEQ_UQ);
    __m256 r = rconst;
    if (rb) {  // σ(v), v = β·(inv_n/R - μ): 1/(1 + exp(-v)) with -v clamped to 88
      const __m256 mv = _mm256_min_ps(_mm256_fnmsub_ps(rb_a, _mm256_loadu_ps(invn + j), rb_b), _mm256_set1_ps(88.0f));
      r = _mm256_add_ps(_mm256_div_ps(one, _mm256_add_ps(one, exp_nonpos(mv))), rb_alpha);
    }
    __m256 loss, grad;
    const __m256 y1 = _mm256_cmp_ps(yv, one, _CMP_EQ_OQ);
    if (_mm256_movemask_ps(_mm256_or_ps(y1, _mm256_cmp_ps(yv, zero, _CMP_EQ_OQ))) == 0xff) {
      // u = -(x+ν) for a positive, λ·(x+ν) for a negative
      const __m256 wr = WP ? _mm256_mul_ps(side_weight(w, p, j, pos), r) : r;
      one_side(_mm256_blendv_ps(_mm256_mul_ps(lam, zp), _mm256_sub_ps(zero, zp), pos),
               _mm256_mul_ps(_mm256_blendv_ps(cl_neg, cl_pos, pos), wr),
               _mm256_mul_ps(_mm256_blendv_ps(cg_neg, cg_pos, pos), wr), loss, grad);
    } else {
      // soft labels: both sides, a zero coefficient drops its side by selection
      __m256 Hp, Dp, Hn, Dn;
      one_sided_g2(_mm256_sub_ps(zero, zp), Hp, Dp);
      one_sided_g2(_mm256_mul_ps(lam, zp), Hn, Dn);
      __m256 c1 = _mm256_mul_ps(yv, _mm256_mul_ps(_mm256_set1_ps(P.db_alpha_pos), r));
      __m256 c0 = _mm256_mul_ps(_mm256_sub_ps(one, yv), _mm256_mul_ps(_mm256_set1_ps(P.db_alpha_neg), r));
      if (WP) {
        const __m256 wv = _mm256_loadu_ps(w + j);
        c1 = _mm256_mul_ps(c1, _mm256_mul_ps(wv, _mm256_loadu_ps(p + j)));
        c0 = _mm256_mul_ps(c0, wv);
      }
      const __m256 c1nz = _mm256_cmp_ps(c1, zero, _CMP_NEQ_UQ), c0nz = _mm256_cmp_ps(c0, zero, _CMP_NEQ_UQ);
      loss = _mm256_add_ps(_mm256_and_ps(c1nz, _mm256_mul_ps(c1, Hp)),
                           _mm256_and_ps(c0nz, _mm256_mul_ps(_mm256_mul_ps(c0, _mm256_set1_ps(P.inv_neg_scale)), Hn)));
      grad = _mm256_sub_ps(_mm256_and_ps(c0nz, _mm256_mul_ps(c0, Dn)), _mm256_and_ps(c1nz, _mm256_mul_ps(c1, Dp)));
      grad = _mm256_mul_ps(grad, _mm256_set1_ps(gs));
    }
    put(go, lb, acc, j, use_and_check<SAFE>(mf, j, yv, bad), grad, loss);
  }
  return finish<SAFE>(j, T, y, mf, gs, lb, go, acc, bad, sum, [&](int64_t i, float& l, float& g) {
    const float rr = bce_math::db_rebalance(invn[i], R, P);
    const float wi = WP ? w[i] : 1.0f, pi = WP ? p[i] : 1.0f;
    if (y[i] == 0.0f || y[i] == 1.0f) bce_math::db_elem<true, true>(x[i], y[i], wi, pi, nu[i], rr, P, l, g);
    else bce_math::db_elem<false, true>(x[i], y[i], wi, pi, nu[i], rr, P, l, g);
  });
}

}  // namespace v256
#pragma GCC diagnostic pop
#endif

// The first used target of [i0, i0+T) outside [0, 1] (a kernel flagged one there).
int64_t first_bad_target(const BceArgs& a, int64_t i0, int64_t T) {
  const float iv = a.has_ignore_value ? a.ignore_value : __builtin_nanf("");  // NaN equals nothing
  for (int64_t i = i0; i < i0 + T; i++) {
    const float y = load_target(a, i);
    if ((!a.mask || a.mask[i] != 0) && y != iv && !bce_math::target_ok(y)) return i;
  }
  return i0;
}

// A chunk of rows: for each row (DB: R_n first), tiles of up to TILE labels through one branch-free,
// vectorised element loop. Returns the first bad target index or -1.
template <LossVariant V, bool HARD, bool G2, bool AVX512 = false, bool AVX2 = false>
inline __attribute__((always_inline)) int64_t rows_body(const Ctx& c, int64_t r0, int64_t r1) {
  const BceArgs& a = *c.a;
  const int64_t K = a.K;
  const Params P = c.P;
  const float gs = c.gs;
  const float* __restrict logits = static_cast<const float*>(a.logits);
  float* dl = static_cast<float*>(a.dlogits);
  const bool direct = dl != nullptr && static_cast<const void*>(dl) != a.logits;  // inPlace goes through gb
  alignas(64) float ybuf[TILE], mbuf[TILE], wbuf[TILE], lb[TILE], gb[TILE];
  // The element loop must select by the mask and check target ranges unless all are used and checked.
  [[maybe_unused]] const bool safe = c.gather || !a.validate_first;
  // AVX-512 BCE/focal on int8/uint8 targets without smoothing: the loop reads the bytes itself.
  const bool raw8 = AVX512 && (V == LossVariant::Bce || (V == LossVariant::Focal && G2)) && a.label_smoothing == 0.0f &&
                    (a.targets_dtype == DType::I8 || a.targets_dtype == DType::U8);
  [[maybe_unused]] const float iv8 = a.has_ignore_value ? a.ignore_value : __builtin_nanf("");
  // The AVX-512 loops that read everything in place (no gathered targets or weights, no inPlace staging)
  // take a whole row per call: per-call set-up is then paid once per row, not once per TILE labels.
  const bool wide = AVX512 && (V == LossVariant::Bce || G2) && (!c.gather || raw8) && direct &&
                    !(a.class_weight || a.element_weight || a.sample_weight);
  const int64_t span = wide ? K : TILE;
  for (int64_t n = r0; n < r1; n++) {
    const int64_t row = n * K;
    const float sw = a.sample_weight ? a.sample_weight[n] : 1.0f;
    float R = 0.0f;
    if (V == LossVariant::DistributionBalanced) {
      // R_n = Σ_k y_nk / n_k over the row's unmasked targets; the row stays in cache for the pass below
      double Rd = 0;
      for (int64_t k0 = 0; k0 < K; k0 += TILE) {
        const int64_t T = std::min(TILE, K - k0);
        const float* y = static_cast<const float*>(a.targets) + row + k0;
        if (c.gather) {
          gather_targets(a, row + k0, T, ybuf, mbuf);
          y = ybuf;
        }
        // 16 lane sums (the loop vectorises; a single running float sum would not, without reassociation)
        float part[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        int64_t j = 0;
        for (; j + 16 <= T; j += 16)
          for (int q = 0; q < 16; q++) part[q] += y[j + q] * c.inv_n[k0 + j + q];
        for (; j < T; j++) part[0] += y[j] * c.inv_n[k0 + j];
        double s = 0;
        for (int q = 0; q < 16; q++) s += part[q];
        Rd += s;
      }
      R = (float)Rd;
    }
    double rs = 0;
    for (int64_t k0 = 0; k0 < K; k0 += span) {
      const int64_t T = std::min(span, K - k0);
      const int64_t i0 = row + k0;
      const float* __restrict y;
      const float* __restrict mf;
      int bad = 0;
      if (c.gather && !raw8) {
        bad = gather_targets(a, i0, T, ybuf, mbuf);
        y = ybuf;
        mf = mbuf;
      } else {
        y = raw8 ? nullptr : static_cast<const float*>(a.targets) + i0;
        mf = c.ones;
      }
      const float* __restrict w = c.ones;
      if (a.class_weight || a.element_weight || a.sample_weight) {
        if (a.class_weight)
          for (int64_t j = 0; j < T; j++) wbuf[j] = sw * a.class_weight[k0 + j];
        else
          for (int64_t j = 0; j < T; j++) wbuf[j] = sw;
        if (a.element_weight)
          for (int64_t j = 0; j < T; j++) wbuf[j] *= a.element_weight[i0 + j];
        w = wbuf;
      }
      const float* __restrict p = a.pos_weight ? a.pos_weight + k0 : c.ones;
      const float* __restrict nu = V == LossVariant::DistributionBalanced ? c.nu + k0 : c.ones;
      const float* __restrict invn = V == LossVariant::DistributionBalanced ? c.inv_n + k0 : c.ones;
      const float* __restrict x = logits + i0;
      float* __restrict go = direct ? dl + i0 : gb;
      double tile_sum = 0;
      bool summed = false;
      // reduction 'none': the loss of the tile (straight into loss_out for a whole row)
      float* lbp = c.row_sum ? nullptr : wide ? a.loss_out + i0 : lb;
#if defined(__x86_64__) && defined(__GNUC__)
      // DB with γ = 2 (the default): the AVX-512 loop (hard and soft labels).
      auto db512 = [&]() {
        const bool wp = w != c.ones || p != c.ones;
        double ts = 0;
        if (wp)
          bad |= safe ? v512::db_tile<HARD, true, true>(T, x, y, w, p, mf, nu, invn, R, P, gs, lbp, go, &ts)
                      : v512::db_tile<HARD, true, false>(T, x, y, w, p, mf, nu, invn, R, P, gs, lbp, go, &ts);
        else
          bad |= safe ? v512::db_tile<HARD, false, true>(T, x, y, w, p, mf, nu, invn, R, P, gs, lbp, go, &ts)
                      : v512::db_tile<HARD, false, false>(T, x, y, w, p, mf, nu, invn, R, P, gs, lbp, go, &ts);
        tile_sum = ts;
        summed = true;
      };
#endif
      if (V == LossVariant::DistributionBalanced) {
#if defined(__x86_64__) && defined(__GNUC__)
        // AVX-512 with γ = 2: hard and soft labels are told apart per vector inside the loop
        if constexpr (AVX512 && G2) {
          db512();
        } else if constexpr (AVX2 && G2) {
          const bool wp = w != c.ones || p != c.ones;
          double ts = 0;
          if (wp)
            bad |= safe ? v256::db_tile<true, true>(T, x, y, w, p, mf, nu, invn, R, P, gs, lbp, go, &ts)
                        : v256::db_tile<true, false>(T, x, y, w, p, mf, nu, invn, R, P, gs, lbp, go, &ts);
          else
            bad |= safe ? v256::db_tile<false, true>(T, x, y, w, p, mf, nu, invn, R, P, gs, lbp, go, &ts)
                        : v256::db_tile<false, false>(T, x, y, w, p, mf, nu, invn, R, P, gs, lbp, go, &ts);
          tile_sum = ts;
          summed = true;
        } else
#endif
        if (!HARD) {
          // Float multi-hot targets are usually exactly 0/1: then one side of DB is evaluated, not both.
          int soft = 0;
          for (int64_t j = 0; j < T; j++) soft |= (y[j] != 0.0f && y[j] != 1.0f) ? 1 : 0;
          if (!soft) bad |= tile_loop<V, true, G2>(T, x, y, w, p, mf, nu, invn, R, P, gs, lb, go);
          else bad |= tile_loop<V, false, G2>(T, x, y, w, p, mf, nu, invn, R, P, gs, lb, go);
        } else {
          bad |= tile_loop<V, HARD, G2>(T, x, y, w, p, mf, nu, invn, R, P, gs, lb, go);
        }
      } else {
#if defined(__x86_64__) && defined(__GNUC__)
        if constexpr (AVX512 && (V == LossVariant::Bce || (V == LossVariant::Focal && G2))) {
          const bool wp = w != c.ones || p != c.ones;
          double ts = 0;
          if (raw8) {
            const v512::Raw8 r8{static_cast<const uint8_t*>(a.targets) + i0, a.mask ? a.mask + i0 : nullptr, iv8};
            const bool s8 = a.targets_dtype == DType::I8;
            if (wp)
              bad |= s8 ? v512::tile<V, true, true, 1>(T, x, y, w, p, mf, P, gs, lbp, go, &ts, r8)
                        : v512::tile<V, true, true, 2>(T, x, y, w, p, mf, P, gs, lbp, go, &ts, r8);
            else
              bad |= s8 ? v512::tile<V, false, true, 1>(T, x, y, w, p, mf, P, gs, lbp, go, &ts, r8)
                        : v512::tile<V, false, true, 2>(T, x, y, w, p, mf, P, gs, lbp, go, &ts, r8);
          } else if (wp)
            bad |= safe ? v512::tile<V, true, true>(T, x, y, w, p, mf, P, gs, lbp, go, &ts)
                        : v512::tile<V, true, false>(T, x, y, w, p, mf, P, gs, lbp, go, &ts);
          else
            bad |= safe ? v512::tile<V, false, true>(T, x, y, w, p, mf, P, gs, lbp, go, &ts)
                        : v512::tile<V, false, false>(T, x, y, w, p, mf, P, gs, lbp, go, &ts);
          tile_sum = ts;
          summed = true;
        } else if constexpr (AVX2 && (V == LossVariant::Bce || (V == LossVariant::Focal && G2))) {
          const bool wp = w != c.ones || p != c.ones;
          double ts = 0;
          if (wp)
            bad |= safe ? v256::tile<V, true, true>(T, x, y, w, p, mf, P, gs, lbp, go, &ts)
                        : v256::tile<V, true, false>(T, x, y, w, p, mf, P, gs, lbp, go, &ts);
          else
            bad |= safe ? v256::tile<V, false, true>(T, x, y, w, p, mf, P, gs, lbp, go, &ts)
                        : v256::tile<V, false, false>(T, x, y, w, p, mf, P, gs, lbp, go, &ts);
          tile_sum = ts;
          summed = true;
        } else
#endif
          bad |= tile_loop<V, HARD, G2>(T, x, y, w, p, mf, nu, invn, R, P, gs, lb, go);
      }
      if (bad) return first_bad_target(a, i0, T);  // outputs so far are private (else validate_first ran)
      if (dl && !direct) std::memcpy(dl + i0, gb, (size_t)T * 4);  // inPlace: x was read before this write
      if (summed && c.row_sum) {
        rs += tile_sum;
      } else if (c.row_sum) {
        double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        int64_t j = 0;
        for (; j + 8 <= T; j += 8)
          for (int q = 0; q < 8; q++) acc[q] += (double)lb[j + q];
        for (; j < T; j++) acc[0] += (double)lb[j];
        rs += ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
      } else if (lbp != a.loss_out + i0) {
        std::memcpy(a.loss_out + i0, lb, (size_t)T * 4);
      }
    }
    if (c.row_sum) c.row_sum[n] = rs;
  }
  return -1;
}

// Pre-pass without a mask array: one flat vectorised scan of the raw targets (count and range check).
template <typename TT>
inline __attribute__((always_inline)) int64_t scan_targets(const BceArgs& a, const TT* __restrict t, int64_t b,
                                                          int64_t e, int64_t* count) {
  const float iv = a.has_ignore_value ? a.ignore_value : __builtin_nanf("");  // NaN equals nothing
  int64_t local = 0;
  constexpr int64_t BLK = 4096;
  for (int64_t b0 = b; b0 < e; b0 += BLK) {
    const int64_t e0 = std::min(e, b0 + BLK);
    int bad = 0;
    int cnt = 0;
    for (int64_t i = b0; i < e0; i++) {
      const float y = (float)t[i];
      const bool use = y != iv;
      bad |= (use && !bce_math::target_ok(y)) ? 1 : 0;
      cnt += use ? 1 : 0;
    }
    if (bad)
      for (int64_t i = b0; i < e0; i++) {
        const float y = (float)t[i];
        if (y != iv && !bce_math::target_ok(y)) return i;
      }
    local += cnt;
  }
  *count = local;
  return -1;
}

// Pre-pass: the unmasked count and the first bad target (reads the targets/mask only).
inline __attribute__((always_inline)) int64_t count_body(const BceArgs& a, int64_t r0, int64_t r1, int64_t* count) {
  if (!a.mask) {
    const int64_t b = r0 * a.K, e = r1 * a.K;
    switch (a.targets_dtype) {
      case DType::I8: return scan_targets(a, static_cast<const int8_t*>(a.targets), b, e, count);
      case DType::U8: return scan_targets(a, static_cast<const uint8_t*>(a.targets), b, e, count);
      default: return scan_targets(a, static_cast<const float*>(a.targets), b, e, count);
    }
  }
  alignas(64) float y[TILE], mf[TILE];
  int64_t local = 0;
  for (int64_t n = r0; n < r1; n++)
    for (int64_t k0 = 0; k0 < a.K; k0 += TILE) {
      const int64_t T = std::min(TILE, a.K - k0);
      const int64_t i0 = n * a.K + k0;
      if (gather_targets(a, i0, T, y, mf)) {
        for (int64_t j = 0; j < T; j++)
          if (mf[j] != 0.0f && !bce_math::target_ok(load_target(a, i0 + j))) return i0 + j;
      }
      float s = 0;
      for (int64_t j = 0; j < T; j++) s += mf[j];
      local += (int64_t)s;
    }
  *count = local;
  return -1;
}

using RowsFn = int64_t (*)(const Ctx&, int64_t, int64_t);
using CountFn = int64_t (*)(const BceArgs&, int64_t, int64_t, int64_t*);

template <LossVariant V, bool HARD, bool G2>
int64_t rows_generic(const Ctx& c, int64_t r0, int64_t r1) { return rows_body<V, HARD, G2>(c, r0, r1); }
int64_t count_generic(const BceArgs& a, int64_t r0, int64_t r1, int64_t* n) { return count_body(a, r0, r1, n); }

#if defined(__x86_64__) && defined(__GNUC__)
#define FML_HAVE_AVX2_CLONE 1
// The same code compiled for AVX2+FMA, chosen at run time (the portable build targets SSE2).
template <LossVariant V, bool HARD, bool G2>
__attribute__((target("avx2,fma"))) int64_t rows_avx2(const Ctx& c, int64_t r0, int64_t r1) {
  return rows_body<V, HARD, G2, false, true>(c, r0, r1);
}
__attribute__((target("avx2,fma"))) int64_t count_avx2(const BceArgs& a, int64_t r0, int64_t r1, int64_t* n) {
  return count_body(a, r0, r1, n);
}
// AVX-512 (16 lanes): Zen 4 and recent Intel; the masks and selects map to k-registers.
template <LossVariant V, bool HARD, bool G2>
__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"))) int64_t rows_avx512(const Ctx& c, int64_t r0, int64_t r1) {
  return rows_body<V, HARD, G2, true>(c, r0, r1);
}
__attribute__((target("avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"))) int64_t count_avx512(const BceArgs& a, int64_t r0,
                                                                                       int64_t r1, int64_t* n) {
  return count_body(a, r0, r1, n);
}
#endif

// The scalar reference: the loss family's math stated once, one element at a time, in the order of the
// specification (shared/LOSS_SPEC.md): use = mask and not the ignore value; y smoothed; w = sample ×
// class × element weight; p = posWeight; DB's R_n over the row first; the bce.h element functions in their
// general form (pow for any γ). No tiles, no vector code: every faster path is tested against this one
// (FUSED_MULTILABEL_BCE_REFERENCE=1 selects it; test/losses/isa.test.js).
int64_t rows_reference(const Ctx& c, int64_t r0, int64_t r1) {
  const BceArgs& a = *c.a;
  const Params& P = c.P;
  const int64_t K = a.K;
  const float* x = static_cast<const float*>(a.logits);
  float* dl = static_cast<float*>(a.dlogits);
  const float iv = a.has_ignore_value ? a.ignore_value : __builtin_nanf("");
  const float s = 1.0f - a.label_smoothing, h = 0.5f * a.label_smoothing;
  auto used = [&](int64_t i) { return (!a.mask || a.mask[i] != 0) && load_target(a, i) != iv; };
  auto smoothed = [&](int64_t i) { return used(i) ? load_target(a, i) * s + h : 0.0f; };
  for (int64_t n = r0; n < r1; n++) {
    double R = 0;
    if (c.kernel == LossVariant::DistributionBalanced)
      for (int64_t k = 0; k < K; k++) R += (double)(smoothed(n * K + k) * c.inv_n[k]);
    double rs = 0;
    for (int64_t k = 0; k < K; k++) {
      const int64_t i = n * K + k;
      if (used(i) && !bce_math::target_ok(load_target(a, i))) return i;
      const float y = smoothed(i);
      const float w = (a.sample_weight ? a.sample_weight[n] : 1.0f) * (a.class_weight ? a.class_weight[k] : 1.0f) *
                      (a.element_weight ? a.element_weight[i] : 1.0f);
      const float p = a.pos_weight ? a.pos_weight[k] : 1.0f;
      float l = 0, g = 0;
      switch (c.kernel) {
        case LossVariant::Bce: bce_math::bce_focal_elem<false>(x[i], y, w, p, P, l, g); break;
        case LossVariant::Focal: bce_math::bce_focal_elem<true>(x[i], y, w, p, P, l, g); break;
        case LossVariant::Asymmetric: bce_math::asl_elem(x[i], y, w, p, P, l, g); break;
        case LossVariant::DistributionBalanced:
          bce_math::db_elem<false>(x[i], y, w, p, c.nu[k], bce_math::db_rebalance(c.inv_n[k], (float)R, P), P, l, g);
          break;
      }
      if (!used(i)) l = 0, g = 0;
      if (dl) dl[i] = g * c.gs;  // after x[i] was read: in place is fine
      if (c.row_sum) rs += (double)l;
      else a.loss_out[i] = l;
    }
    if (c.row_sum) c.row_sum[n] = rs;
  }
  return -1;
}

bool reference_requested() {
  static const bool on = std::getenv("FUSED_MULTILABEL_BCE_REFERENCE") != nullptr;
  return on;
}

template <LossVariant V, bool HARD, bool G2 = false>
RowsFn pick_rows() {
#ifdef FML_HAVE_AVX2_CLONE
  if (cpu_has_avx512()) return &rows_avx512<V, HARD, G2>;
  if (cpu_has_avx2()) return &rows_avx2<V, HARD, G2>;
#endif
  return &rows_generic<V, HARD, G2>;
}

// g2: the focal exponent is exactly 2 (focal, and DB's default), computed as a square.
RowsFn select_rows(LossVariant kernel, bool hard, bool g2) {
  if (reference_requested()) return &rows_reference;
  switch (kernel) {
    case LossVariant::Bce: return pick_rows<LossVariant::Bce, false>();
    case LossVariant::Focal: return g2 ? pick_rows<LossVariant::Focal, false, true>() : pick_rows<LossVariant::Focal, false>();
    case LossVariant::Asymmetric: return pick_rows<LossVariant::Asymmetric, false>();
    case LossVariant::DistributionBalanced: break;
  }
  if (g2) return hard ? pick_rows<LossVariant::DistributionBalanced, true, true>() : pick_rows<LossVariant::DistributionBalanced, false, true>();
  return hard ? pick_rows<LossVariant::DistributionBalanced, true>() : pick_rows<LossVariant::DistributionBalanced, false>();
}

CountFn select_count() {
#ifdef FML_HAVE_AVX2_CLONE
  if (cpu_has_avx512()) return &count_avx512;
  if (cpu_has_avx2()) return &count_avx2;
#endif
  return &count_generic;
}

[[noreturn]] void throw_bad_target(const BceArgs& a, int64_t idx) {
  const double v = load_target(a, idx);
  throw_range("Expected targets in [0, 1]" +
              std::string(a.has_ignore_value ? " (or the ignore value " + fmt_num(a.ignore_value) + ")" : "") +
              " but received " + fmt_num(v) + " at row " + std::to_string(idx / a.K) + ", column " +
              std::to_string(idx % a.K) +
              " (class indices given where a multi-hot matrix belongs?); nothing was computed");
}

}  // namespace

BcePrepared bce_prepare(const BceArgs& a) {
  if (a.N < 0 || a.K < 1) throw_range("Expected N >= 0 and K >= 1 but received N=" + std::to_string(a.N) + ", K=" + std::to_string(a.K));
  check_finite(a.label_smoothing, "labelSmoothing");
  if (!(a.label_smoothing >= 0.0f && a.label_smoothing < 1.0f))
    throw_range("Expected labelSmoothing in [0, 1) but received " + fmt_num(a.label_smoothing));
  BcePrepared out{};
  Params& P = out.P;
  P.gamma = a.gamma;
  P.alpha = a.alpha;
  P.has_alpha = a.has_alpha;
  P.focal_pow = a.gamma != 0.0f;
  P.gamma_pos = a.gamma_pos;
  P.gamma_neg = a.gamma_neg;
  P.clip = a.clip;
  P.neg_scale = a.neg_scale;
  P.inv_neg_scale = 1.0f / a.neg_scale;
  P.rebalance = a.rebalance;
  P.rb_alpha = a.rb_alpha;
  P.rb_beta = a.rb_beta;
  P.rb_mu = a.rb_mu;
  P.db_alpha_pos = 1.0f;
  P.db_alpha_neg = 1.0f;
  switch (a.variant) {
    case LossVariant::Bce: out.kernel = LossVariant::Bce; break;
    case LossVariant::Focal:
      check_finite(a.gamma, "focal.gamma");
      if (a.gamma < 0) throw_range("Expected focal.gamma >= 0 but received " + fmt_num(a.gamma));
      if (a.has_alpha) {
        check_finite(a.alpha, "focal.alpha");
        if (a.alpha < 0 || a.alpha > 1) throw_range("Expected focal.alpha in [0, 1] but received " + fmt_num(a.alpha));
      }
      // γ = 0 without α is BCE: the very same code path, so loss and gradient are identical.
      out.kernel = (a.gamma == 0.0f && !a.has_alpha) ? LossVariant::Bce : LossVariant::Focal;
      break;
    case LossVariant::Asymmetric:
      check_finite(a.gamma_pos, "asymmetric.gammaPos");
      check_finite(a.gamma_neg, "asymmetric.gammaNeg");
      check_finite(a.clip, "asymmetric.clip");
      if (a.gamma_pos < 0 || a.gamma_neg < 0) throw_range("Expected asymmetric gammas >= 0");
      if (a.clip < 0 || a.clip >= 1) throw_range("Expected asymmetric.clip in [0, 1) but received " + fmt_num(a.clip));
      out.kernel = LossVariant::Asymmetric;
      break;
    case LossVariant::DistributionBalanced:
      if (!a.class_counts) throw_type("distributionBalanced needs classCounts");
      if (!(a.train_size >= 2) || !std::isfinite(a.train_size))
        throw_range("Expected distributionBalanced.trainSize to be a finite number >= 2 but received " + fmt_num(a.train_size));
      check_finite(a.neg_scale, "distributionBalanced.negScale");
      check_finite(a.init_bias, "distributionBalanced.initBias");
      if (a.neg_scale <= 0) throw_range("Expected distributionBalanced.negScale > 0 but received " + fmt_num(a.neg_scale));
      check_finite(a.rb_alpha, "distributionBalanced.rebalance.alpha");
      check_finite(a.rb_beta, "distributionBalanced.rebalance.beta");
      check_finite(a.rb_mu, "distributionBalanced.rebalance.mu");
      if (a.db_focal) {
        check_finite(a.gamma, "distributionBalanced.focal.gamma");
        check_finite(a.alpha, "distributionBalanced.focal.alpha");
        if (a.gamma < 0) throw_range("Expected distributionBalanced.focal.gamma >= 0 but received " + fmt_num(a.gamma));
        if (a.alpha < 0 || a.alpha > 1)
          throw_range("Expected distributionBalanced.focal.alpha in [0, 1] but received " + fmt_num(a.alpha));
        P.db_alpha_pos = a.alpha;
        P.db_alpha_neg = 1.0f - a.alpha;
      } else {
        P.gamma = 0.0f;
        P.focal_pow = false;
      }
      out.kernel = LossVariant::DistributionBalanced;
      break;
  }
  return out;
}

void bce_db_class_terms(const BceArgs& a, float* nu, float* inv_n) {
  const double Ntr = a.train_size;
  for (int64_t k = 0; k < a.K; k++) {
    double n = a.class_counts[k];
    if (!std::isfinite(n) || n < 0)
      throw_range("Expected distributionBalanced.classCounts[" + std::to_string(k) + "] to be a finite number >= 0 but received " + fmt_num(n));
    n = std::min(std::max(n, 1.0), Ntr - 1.0);  // clamp: a class without positives stays finite
    nu[k] = (float)(-(double)a.init_bias * std::log(Ntr / n - 1.0));
    inv_n[k] = (float)(1.0 / n);
  }
}

BceResult bce_fused_cpu(const BceArgs& a) {
  const BcePrepared prep = bce_prepare(a);
  if (a.logits_dtype != DType::F32) throw_type(std::string("Expected float32 logits on the CPU but received ") + dtype_name(a.logits_dtype));
  if (a.targets_dtype != DType::F32 && a.targets_dtype != DType::I8 && a.targets_dtype != DType::U8)
    throw_type(std::string("Expected float32, int8 or uint8 targets but received ") + dtype_name(a.targets_dtype));
  const int64_t N = a.N, K = a.K, NK = N * K;
  BceResult res;
  if (N == 0) return res;
  if (!a.logits || !a.targets) throw_type("logits and targets are required");
  if (a.reduction == Reduction::None && !a.loss_out) throw_type("reduction 'none' needs loss_out");

  const bool masked = a.mask != nullptr || a.has_ignore_value;
  // rows per chunk: at least 128K elements (~80 µs of work); below that, waking a second thread costs more
  const int64_t grain = std::max<int64_t>(1, 131072 / K);

  // Pre-pass (only when needed): the mask count for 'mean' and/or validation before caller-visible writes.
  // It reads the 1-byte mask or the targets only.
  int64_t count = NK;
  if (masked || a.validate_first) {
    const int64_t chunks = parallel_chunks(N, grain);
    std::vector<int64_t> cnt((size_t)chunks, 0), bad((size_t)chunks, -1);
    const CountFn cf = select_count();
    parallel_for(N, grain, [&](int64_t c, int64_t r0, int64_t r1) { bad[c] = cf(a, r0, r1, &cnt[c]); });
    for (int64_t c = 0; c < chunks; c++)
      if (bad[c] >= 0) throw_bad_target(a, bad[c]);
    if (masked) {
      count = 0;
      for (int64_t c = 0; c < chunks; c++) count += cnt[c];
    }
  }
  res.count = count;

  std::vector<float> nu, inv_n;
  if (prep.kernel == LossVariant::DistributionBalanced) {
    nu.resize((size_t)K);
    inv_n.resize((size_t)K);
    bce_db_class_terms(a, nu.data(), inv_n.data());
  }
  const std::vector<float> ones_v((size_t)std::max(TILE, K), 1.0f);  // a row's worth for the whole-row loops
  const bool want_sum = a.reduction != Reduction::None;
  std::vector<double> row_sum(want_sum ? (size_t)N : 0);
  Ctx ctx;
  ctx.a = &a;
  ctx.P = prep.P;
  ctx.kernel = prep.kernel;
  ctx.gather = a.targets_dtype != DType::F32 || masked || a.label_smoothing != 0.0f;
  ctx.gs = a.reduction == Reduction::Mean ? (count > 0 ? (float)(1.0 / (double)count) : 0.0f) : 1.0f;
  ctx.ones = ones_v.data();
  ctx.nu = nu.data();
  ctx.inv_n = inv_n.data();
  ctx.row_sum = want_sum ? row_sum.data() : nullptr;
  const bool hard = a.targets_dtype != DType::F32 && a.label_smoothing == 0.0f;
  const RowsFn rows = select_rows(prep.kernel, hard, prep.P.focal_pow && prep.P.gamma == 2.0f);
  const int64_t chunks = parallel_chunks(N, grain);
  std::vector<int64_t> bad((size_t)chunks, -1);
  parallel_for(N, grain, [&](int64_t c, int64_t r0, int64_t r1) { bad[c] = rows(ctx, r0, r1); });
  for (int64_t c = 0; c < chunks; c++)
    if (bad[c] >= 0) throw_bad_target(a, bad[c]);
  if (want_sum) {
    double s = 0;
    for (int64_t n = 0; n < N; n++) s += row_sum[(size_t)n];  // row order: independent of the thread count
    res.loss = a.reduction == Reduction::Mean ? (count > 0 ? s / (double)count : 0.0) : s;
  }
  return res;
}

}  // namespace pkg
