// The loss CPU twin's AVX-512 path (x86-64, chosen at run time by bce_cpu.cpp): rows_body with the
// hand-written v512 loops for BCE, focal γ=2 and DB γ=2, and tile_loop compiled for AVX-512 for the rest.
//
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
#include "bce_cpu_tiles.h"

#ifdef FML_HAVE_X86_KERNELS
namespace pkg {
namespace {

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

template <LossVariant V, bool WP, bool SAFE, int YT>
FML_AVX512_FN int tile(int64_t T, const float* __restrict x, const float* __restrict y,
                                const float* __restrict w, const float* __restrict p, const float* __restrict mf,
                                const Params& P, float gs, float* __restrict lb, float* __restrict go, double* sum,
                                Raw8 r8) {
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
}  // namespace

FML_BCE_ISA_ENTRY(avx512, "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma", true)

}  // namespace pkg
#endif
