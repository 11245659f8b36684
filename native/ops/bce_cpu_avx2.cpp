// The loss CPU twin's AVX2+FMA path (x86-64 without AVX-512, or FUSED_MULTILABEL_NO_AVX512=1): rows_body
// with the hand-written v256 loops for BCE, focal γ=2 and DB γ=2, and tile_loop compiled for AVX2 for the rest.
//
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
#include "bce_cpu_tiles.h"

#ifdef FML_HAVE_X86_KERNELS
namespace pkg {
namespace {

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
}  // namespace

FML_BCE_ISA_ENTRY(avx2, "avx2,fma", false, true)

}  // namespace pkg
#endif
