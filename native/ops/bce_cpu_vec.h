// Private to the loss CPU twin's x86 files: the hand-written element loops for the hot variants (BCE, focal
// with γ = 2, distribution-balanced with γ = 2), written once over a vector-ops trait O. bce_cpu_avx512.cpp
// (O = Ops512: __m512 and __mmask16) and bce_cpu_avx2.cpp (O = Ops256: __m256 and __m256 lane masks) each
// define FML_VEC_TARGET (their target attribute), include this header, define their trait and instantiate
// rows_body with VecLoops<O>; everything here is then compiled for that ISA only (anonymous namespace, see
// bce_cpu_tiles.h).
//
// The compiler's vectorisation of the scalar bce_math code needs about 80 instructions per vector (AVX-512;
// about 100 with AVX2's 16 registers). The same mathematics with fewer instructions:
//  - exp(v), v <= 0: Cody-Waite reduction by ln2/W' (W' = 16 with AVX-512, 8 with AVX2) by adding a shift
//    whose float spacing is 1/W', which leaves k mod W' in the low mantissa bits: 2^(j/W') from a table in a
//    register (vpermps), a short polynomial for e^r, and the 2^n scale (the trait's exp_table, expm1_poly,
//    scale_pow2: vscalefps with AVX-512; two exact halves with AVX2, the scalar code's way);
//  - log1p(e) for e = exp(-|x|) in [0, 1]: e·P(e), P bce_math's degree-8 minimax fit of log1p(e)/e (about
//    2 ulp; relative accuracy as e -> 0 comes for free);
//  - 1/(1+e): the trait's recip_1to2 (vrcp14ps and one Newton step; a division with AVX2);
//  - the BCE element c1·sp(-x) + c0·sp(x) = (c1+c0)·log1p(e) + (x >= 0 ? c0 : -c1)·x (a sum of
//    non-negative terms, no cancellation), the gradient (x >= 0 ? c0 - c1·e : c0·e - c1)/(1+e); a vector
//    whose labels are all 0/1 takes the one-sided form c·sp(u), ∓c·σ(u), u = y ? -x : x (fewer products);
//  - focal with γ = 2: (1-p_t)^γ·σσ̄/(1-p_t)·γ = 2·(1-p_t)·σσ̄, so no division by 1-p_t.
// Zero coefficients still drop their term by selection (±Inf logits give the limits, not NaN). A tile runs
// in groups of 4 vectors (the loss sum flushed to fp64 after each), then single vectors, then the trait's
// tail: one masked vector (AVX-512) or the scalar bce_math code (AVX2).
#pragma once

#include "bce_cpu_tiles.h"

#ifdef FML_HAVE_X86_KERNELS
#ifndef FML_VEC_TARGET
#error "define FML_VEC_TARGET (the ISA's target attribute) before including bce_cpu_vec.h"
#endif
// GCC 12's intrinsic headers build some results from _mm512_undefined_ps(): false -Wmaybe-uninitialized.
#if !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#endif

// Inlined helpers, the loops themselves (a call per tile or row: rows_body is inlined into all its clones,
// and GCC cannot inline ISA code into a portable body first), and lambdas (whose body does not inherit its
// function's target with Clang).
#define FML_VEC_ATTR __attribute__((target(FML_VEC_TARGET), always_inline))
#define FML_VEC_FN __attribute__((target(FML_VEC_TARGET), noinline))
#define FML_VEC_LAMBDA __attribute__((target(FML_VEC_TARGET), always_inline))

// The start of a trait: its vector, mask and fp64 vector types, lanes, whether it has a masked tail
// (else the scalar code finishes a tile), and its plain arithmetic, P = _mm512 or _mm256 (fmadd(a, b, c) =
// a·b + c, fnmadd = c - a·b, fmsub = a·b - c, fnmsub = -a·b - c).
#define FML_VEC_TRAIT(P, FT, MT, DT, LANES, MASKED_TAIL)                                         \
  using F = FT;                                                                                  \
  using M = MT;                                                                                  \
  using D = DT;                                                                                  \
  static constexpr int W = LANES;                                                                \
  static constexpr bool kMaskedTail = MASKED_TAIL;                                               \
  static FML_VEC_ATTR F set1(float v) { return P##_set1_ps(v); }                                 \
  static FML_VEC_ATTR F zero() { return P##_setzero_ps(); }                                      \
  static FML_VEC_ATTR F add(F a, F b) { return P##_add_ps(a, b); }                               \
  static FML_VEC_ATTR F sub(F a, F b) { return P##_sub_ps(a, b); }                               \
  static FML_VEC_ATTR F mul(F a, F b) { return P##_mul_ps(a, b); }                               \
  static FML_VEC_ATTR F max(F a, F b) { return P##_max_ps(a, b); }                               \
  static FML_VEC_ATTR F min(F a, F b) { return P##_min_ps(a, b); }                               \
  static FML_VEC_ATTR F or_(F a, F b) { return P##_or_ps(a, b); }                                \
  static FML_VEC_ATTR F fmadd(F a, F b, F c) { return P##_fmadd_ps(a, b, c); }                   \
  static FML_VEC_ATTR F fnmadd(F a, F b, F c) { return P##_fnmadd_ps(a, b, c); }                 \
  static FML_VEC_ATTR F fmsub(F a, F b, F c) { return P##_fmsub_ps(a, b, c); }                   \
  static FML_VEC_ATTR F fnmsub(F a, F b, F c) { return P##_fnmsub_ps(a, b, c); }

namespace pkg {
namespace {

// Scalar coefficients of the loops, computed once per tile.
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

template <class O>
struct VecLoops {
  using F = typename O::F;
  using M = typename O::M;

  // exp(v) for v <= 88 (named for its main use, v = -|x|); below -110 it gives 0, NaN stays NaN.
  // v = (k/W')·ln2 + r, |r| <= ln2/(2W'): exp(v) = 2^floor(k/W') · 2^((k mod W')/W') · e^r.
  static FML_VEC_ATTR F exp_nonpos(F v) {
    const F shift = O::set1(O::kExpShift);
    v = O::max(O::set1(-110.0f), v);  // NaN (the second operand) passes through
    const F s = O::fmadd(v, O::set1(1.44269504088896341f), shift);
    const F kq = O::sub(s, shift);  // k/W', exact
    F r = O::fnmadd(kq, O::set1(0.693359375f), v);
    r = O::fnmadd(kq, O::set1(-2.12194440e-4f), r);
    const F t = O::exp_table(s);
    const F p = O::expm1_poly(r);  // e^r - 1
    return O::scale_pow2(O::fmadd(t, p, t), kq, s);
  }

  // log1p(e) for e in [0, 1]: e·P(e), P a degree-8 minimax fit of log1p(e)/e (P(0) = 1).
  static FML_VEC_ATTR F log1p_01(F e) {
    F p = O::set1(bce_math::log1p_coef(0));
    for (int i = 1; i < 9; i++) p = O::fmadd(p, e, O::set1(bce_math::log1p_coef(i)));
    return O::mul(p, e);
  }

  // One-sided focal pieces at u (γ = 2): H = σ(u)²·sp(u), D = σ(u)²·(2·σ(-u)·sp(u) + σ(u)), as
  // bce_math::db_side<true>; the focal loss with a hard label is u = y ? -x : x (and DB's both sides).
  static FML_VEC_ATTR void one_sided_g2(F u, F& H, F& D) {
    const F one = O::set1(1.0f), zero = O::zero();
    const F e = exp_nonpos(O::or_(u, O::set1(-0.0f)));
    const F l = log1p_01(e);
    const F inv = O::recip_1to2(O::add(one, e));
    const F ei = O::mul(e, inv);
    const M negu = O::lt(u, zero);
    const F sig = O::blend(negu, inv, ei);   // σ(u)
    const F sign = O::blend(negu, ei, inv);  // σ(-u)
    const F sp = O::add(O::max(u, zero), l);  // softplus(u)
    const F f = O::mul(sig, sig);
    H = O::mul(f, sp);
    const M fin = O::neq(sp, O::set1(__builtin_inff()));
    const F g = O::maskz(fin, O::mul(O::add(sign, sign), sp));  // γ·σ(-u)·sp(u); 0 at u = +Inf
    D = O::mul(f, O::add(g, sig));
  }

  // Loss sum of a tile: fp32 lane sums over groups of 4 vectors, then fp64 lanes, then one fp64 total.
  struct Sum {
    typename O::D s0, s1;
    F acc;
    FML_VEC_ATTR Sum() : s0(O::zerod()), s1(O::zerod()), acc(O::zero()) {}
    FML_VEC_ATTR void flush() {
      s0 = O::addd(s0, O::widen_lo(acc));
      s1 = O::addd(s1, O::widen_hi(acc));
      acc = O::zero();
    }
    FML_VEC_ATTR void add(F v) { acc = O::add(acc, v); }
    FML_VEC_ATTR double total() {
      flush();
      return O::reduce_d(O::addd(s0, s1));
    }
  };

  // Runs step(j, tm) over the full vectors of a tile, in groups of 4 (the loss sum flushed after each; the
  // constant mask folds away), then the trait's masked tail where it has one; returns where the scalar tail
  // starts.
  template <typename Step>
  static FML_VEC_ATTR int64_t for_vectors(int64_t T, Sum& acc, Step&& step) {
    constexpr int64_t W = O::W;
    const M all = O::mall();
    int64_t j = 0;
    for (; j + 4 * W <= T; j += 4 * W) {
      step(j, all);
      step(j + W, all);
      step(j + 2 * W, all);
      step(j + 3 * W, all);
      acc.flush();
    }
    for (; j + W <= T; j += W) step(j, all);
    if constexpr (O::kMaskedTail) {
      if (j < T) step(j, O::first_lanes(T - j));
      return T;
    }
    return j;
  }

  // The use mask of a vector (mf != 0, within tm) and the range check of its used targets into bad.
  static FML_VEC_ATTR M use_and_check(M tm, const float* __restrict mf, int64_t j, F yv, M& bad) {
    const F zero = O::zero();
    const M use = O::mand(tm, O::neq(O::load(tm, mf + j), zero));
    const M ok = O::mand(O::ge(yv, zero), O::le(yv, O::set1(1.0f)));
    bad = O::mor(bad, O::mandn(use, ok));
    return use;
  }

  // Stores a vector's gradient and its loss (or adds the loss to acc); with MASKED both are selected by use
  // on the bits (a masked NaN/Inf never leaks).
  template <bool MASKED>
  static FML_VEC_ATTR void put(float* __restrict go, float* __restrict lb, Sum& acc, int64_t j, M tm, M use, F grad,
                               F loss) {
    if (MASKED) {
      grad = O::maskz(use, grad);
      loss = O::maskz(use, loss);
    }
    O::store(tm, go + j, grad);
    if (lb)
      O::store(tm, lb + j, loss);
    else
      acc.add(loss);
  }

  // Elements [j, T) through the scalar code (elem(j, l, g) gives an element's loss and gradient), then the
  // loss total into *sum (unless stored to lb); returns the range-check flag.
  template <bool SAFE, typename Elem>
  static FML_VEC_ATTR int finish(int64_t j, int64_t T, const float* __restrict y, const float* __restrict mf, float gs,
                                 float* __restrict lb, float* __restrict go, Sum& acc, M bad, double* sum, Elem&& elem) {
    double total = acc.total();
    int flag = O::any(bad) ? 1 : 0;
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

  // BCE (V = Bce) or focal with γ = 2 (V = Focal). WP: element weights w and posWeight p are read (else 1).
  // SAFE: mf selects the used elements and targets are range-checked (else all are used and were checked).
  // Loss: stored to lb when it is non-null, else summed into *sum. YT = 1 / 2 (traits with load_bytes): the
  // targets are read in place as int8 / uint8 (r8: targets, optional mask bytes, ignore value), converted,
  // masked (masked targets become 0) and range-checked in the loop, instead of gather_targets (then SAFE is
  // true and y, mf are unused). Returns nonzero when a used target is out of range.
  template <LossVariant V, bool WP, bool SAFE, int YT = 0>
  static FML_VEC_FN int tile(int64_t T, const float* __restrict x, const float* __restrict y, const float* __restrict w,
                             const float* __restrict p, const float* __restrict mf, const Params& P, float gs,
                             float* __restrict lb, float* __restrict go, double* sum, Raw8 r8 = {nullptr, nullptr, 0.0f}) {
    constexpr bool MASKED = SAFE || YT != 0 || O::kMaskedTail;
    const F one = O::set1(1.0f), zero = O::zero();
    const F vgs = O::set1(gs), ngs = O::set1(-gs);
    const F sgn = O::set1(-0.0f);
    const FocalCoefs Fc(P, gs);
    const F at1 = O::set1(Fc.at1), at0 = O::set1(Fc.at0);
    const F cl0 = O::set1(Fc.cl0), cl1 = O::set1(Fc.cl1);
    const F cg0 = O::set1(Fc.cg0), cg1 = O::set1(Fc.cg1);
    Sum acc;
    M bad = O::mnone();
    auto step = [&](int64_t j, M tm) FML_VEC_LAMBDA {
      const F xv = O::load(tm, x + j);
      F yv;
      M use = tm;
      if constexpr (YT != 0) {
        yv = O::template load_bytes<YT == 1>(tm, static_cast<const uint8_t*>(r8.t) + j);
        use = O::mand(tm, O::neq(yv, O::set1(r8.iv)));  // NaN iv: nothing ignored
        if (r8.m) use = O::mand(use, O::bytes_nonzero(tm, r8.m + j));
        const M ok = O::mand(O::ge(yv, zero), O::le(yv, one));
        bad = O::mor(bad, O::mandn(use, ok));
        yv = O::maskz(use, yv);  // as gather_targets: masked targets become 0
      } else {
        yv = O::load(tm, y + j);
        if (SAFE) use = use_and_check(tm, mf, j, yv, bad);
      }
      const M y1 = O::eq(yv, one);
      const bool hard = O::all(O::mor(O::eq(yv, zero), y1));
      F loss, grad;
      if (V == LossVariant::Focal && hard) {
        // Every label of the vector is 0 or 1: the one-sided forms of the spec (§2, focal y=1 / y=0),
        // u = y ? -x : x, loss α_t·c·H(u), gradient ∓α_t·c·D(u) with c = w·p (y=1) or w (y=0).
        F H, D;
        one_sided_g2(O::blend(y1, xv, O::sub(zero, xv)), H, D);
        F cl = O::blend(y1, cl0, cl1);
        F cg = O::blend(y1, cg0, cg1);
        if (WP) {
          const F wv = O::load(tm, w + j);
          const F wp = O::blend(y1, wv, O::mul(wv, O::load(tm, p + j)));
          cl = O::mul(cl, wp);
          cg = O::mul(cg, wp);
        }
        loss = O::maskz(O::neq(cl, zero), O::mul(cl, H));
        grad = O::mul(cg, D);
      } else {
        const F e = exp_nonpos(O::or_(xv, sgn));
        const F l = log1p_01(e);
        const F inv = O::recip_1to2(O::add(one, e));
        if (V == LossVariant::Bce && hard) {
          // Every label of the vector is 0 or 1: loss c·softplus(u), gradient ∓c·σ(u)·gs, u = y ? -x : x,
          // c = w·p (y = 1) or w (y = 0); σ(u) = inv for u >= 0, e·inv below.
          const F u = O::blend(y1, xv, O::sub(zero, xv));
          const F sigu = O::blend(O::lt(u, zero), inv, O::mul(e, inv));
          loss = O::add(O::max(u, zero), l);
          F cg = O::blend(y1, vgs, ngs);
          if (WP) {
            const F wv = O::load(tm, w + j);
            const F c = O::blend(y1, wv, O::mul(wv, O::load(tm, p + j)));
            loss = O::maskz(O::neq(c, zero), O::mul(c, loss));  // c = 0 drops it
            cg = O::mul(cg, c);
          }
          grad = O::mul(sigu, cg);
        } else {
          const M neg = O::lt(xv, zero);
          const F c0u = O::sub(one, yv);  // 1-y
          F c0 = c0u, c1 = yv;
          if (WP) {
            const F wv = O::load(tm, w + j);
            c1 = O::mul(O::mul(wv, O::load(tm, p + j)), yv);
            c0 = O::mul(wv, c0u);
          }
          // B = (c1+c0)·log1p(e) + k·x, k = x >= 0 ? c0 : -c1 (the k·x term dropped where k = 0)
          const F k = O::blend(neg, c0, O::sub(zero, c1));
          const F lw = WP ? O::mul(O::add(c1, c0), l) : l;
          const F B = O::blend(O::neq(k, zero), lw, O::fmadd(k, xv, lw));
          // dB = (x >= 0 ? c0 - c1·e : c0·e - c1)/(1+e)
          const F dB = O::mul(O::blend(neg, O::fnmadd(c1, e, c0), O::fmsub(c0, e, c1)), inv);
          if (V == LossVariant::Bce) {
            loss = B;
            grad = O::mul(dB, vgs);
          } else {
            const F ei = O::mul(e, inv);
            const F sig = O::blend(neg, inv, ei);   // σ(x)
            const F sign = O::blend(neg, ei, inv);  // σ(-x)
            const F t = O::fmadd(yv, sign, O::mul(c0u, sig));  // 1-p_t (no cancellation)
            const F f = O::mul(t, t);
            const F ss = O::mul(sig, sign);
            const F g2 = O::fnmadd(O::set1(4.0f), yv, O::set1(2.0f));  // γ·(1-2y)
            const F term = O::maskz(O::neq(ss, zero), O::mul(O::mul(O::mul(t, ss), g2), B));
            const F at = O::fmadd(at1, yv, at0);
            loss = O::mul(at, O::mul(f, B));
            grad = O::mul(O::mul(at, vgs), O::fmadd(f, dB, term));
          }
        }
      }
      put<MASKED>(go, lb, acc, j, tm, use, grad, loss);
    };
    const int64_t j = for_vectors(T, acc, step);
    return finish<SAFE>(j, T, y, mf, gs, lb, go, acc, bad, sum, [&](int64_t i, float& l, float& g) {
      bce_math::bce_focal_elem<V == LossVariant::Focal, true>(x[i], y[i], WP ? w[i] : 1.0f, WP ? p[i] : 1.0f, P, l, g);
    });
  }

  // Distribution-balanced with γ = 2: vectors whose labels are all 0 or 1 (always, with HARD) evaluate one
  // side per element, u = -(x+ν) for a positive and λ·(x+ν) for a negative (bce_math::db_elem<true, true>),
  // others both sides (db_elem<false, true>); the rebalancing weight r = σ(β·(inv_n·(1/R) - μ)) + α_m is
  // computed in the same loop.
  template <bool HARD, bool WP, bool SAFE>
  static FML_VEC_FN int db_tile(int64_t T, const float* __restrict x, const float* __restrict y,
                                const float* __restrict w, const float* __restrict p, const float* __restrict mf,
                                const float* __restrict nu, const float* __restrict invn, float R, const Params& P,
                                float gs, float* __restrict lb, float* __restrict go, double* sum) {
    constexpr bool MASKED = SAFE || O::kMaskedTail;
    Sum acc;
    M bad = O::mnone();
    const F one = O::set1(1.0f), zero = O::zero();
    const DbCoefs C(P, R, gs);
    const bool rb = C.rb;
    const F lam = O::set1(C.lam);
    const F cl_pos = O::set1(C.cl_pos), cl_neg = O::set1(C.cl_neg);
    const F cg_pos = O::set1(C.cg_pos), cg_neg = O::set1(C.cg_neg);
    const F rconst = O::set1(C.rconst), rb_alpha = O::set1(C.rb_alpha);
    const F rb_a = O::set1(C.rb_a), rb_b = O::set1(C.rb_b);
    auto step = [&](int64_t j, M tm) FML_VEC_LAMBDA {
      const F xv = O::load(tm, x + j);
      const F yv = O::load(tm, y + j);
      const F zp = O::add(xv, O::load(tm, nu + j));
      const M pos = O::neq(yv, zero);
      F r = rconst;
      if (rb) {
        // σ(v) = 1/(1 + exp(-v)), v = β·(inv_n/R - μ) finite: exp(-v) with -v clamped to 88 (exp stays
        // finite; σ < 1e-38 there) and recip_1to2 (valid for any normal 1+exp).
        const F mv = O::min(O::fnmsub(rb_a, O::load(tm, invn + j), rb_b), O::set1(88.0f));
        r = O::add(O::recip_1to2(O::add(one, exp_nonpos(mv))), rb_alpha);
      }
      F loss, grad;
      if (HARD || O::all(O::mor(O::eq(yv, one), O::eq(yv, zero)))) {
        // every label of the vector is 0 or 1: one side, u = -(x+ν) for a positive, λ·(x+ν) for a negative
        F H, D;
        one_sided_g2(O::blend(pos, O::mul(lam, zp), O::sub(zero, zp)), H, D);
        F wr = r;
        if (WP) {
          const F wv = O::load(tm, w + j);
          wr = O::mul(O::blend(pos, wv, O::mul(wv, O::load(tm, p + j))), r);
        }
        const F cl = O::mul(O::blend(pos, cl_neg, cl_pos), wr);
        const F cg = O::mul(O::blend(pos, cg_neg, cg_pos), wr);
        loss = O::maskz(O::neq(cl, zero), O::mul(cl, H));
        grad = O::mul(cg, D);
      } else {
        // soft labels: both sides (bce_math::db_elem<false>), a zero coefficient drops its side by selection
        F Hp, Dp, Hn, Dn;
        one_sided_g2(O::sub(zero, zp), Hp, Dp);
        one_sided_g2(O::mul(lam, zp), Hn, Dn);
        F c1 = O::mul(yv, O::mul(O::set1(P.db_alpha_pos), r));
        F c0 = O::mul(O::sub(one, yv), O::mul(O::set1(P.db_alpha_neg), r));
        if (WP) {
          const F wv = O::load(tm, w + j);
          c1 = O::mul(c1, O::mul(wv, O::load(tm, p + j)));
          c0 = O::mul(c0, wv);
        }
        const M c1nz = O::neq(c1, zero), c0nz = O::neq(c0, zero);
        loss = O::add(O::maskz(c1nz, O::mul(c1, Hp)), O::maskz(c0nz, O::mul(O::mul(c0, O::set1(P.inv_neg_scale)), Hn)));
        grad = O::sub(O::maskz(c0nz, O::mul(c0, Dn)), O::maskz(c1nz, O::mul(c1, Dp)));
        grad = O::mul(grad, O::set1(gs));
      }
      const M use = SAFE ? use_and_check(tm, mf, j, yv, bad) : tm;
      put<MASKED>(go, lb, acc, j, tm, use, grad, loss);
    };
    const int64_t j = for_vectors(T, acc, step);
    return finish<SAFE>(j, T, y, mf, gs, lb, go, acc, bad, sum, [&](int64_t i, float& l, float& g) {
      const float rr = bce_math::db_rebalance(invn[i], R, P);
      const float wi = WP ? w[i] : 1.0f, pi = WP ? p[i] : 1.0f;
      if (HARD || y[i] == 0.0f || y[i] == 1.0f) bce_math::db_elem<true, true>(x[i], y[i], wi, pi, nu[i], rr, P, l, g);
      else bce_math::db_elem<false, true>(x[i], y[i], wi, pi, nu[i], rr, P, l, g);
    });
  }
};

}  // namespace
}  // namespace pkg
#endif
