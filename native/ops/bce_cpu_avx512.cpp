// The loss CPU twin's AVX-512 path (x86-64, chosen at run time by bce_cpu.cpp): rows_body with the loops of
// bce_cpu_vec.h over __m512 (BCE, focal γ=2 and DB γ=2; int8/uint8 targets read in place, whole rows per
// call, a masked tail) and tile_loop compiled for AVX-512 for the rest. Zen 4 runs 512-bit ops on 256-bit
// units, so the instruction count per 16 elements is the cost.
#define FML_VEC_TARGET "avx512f,avx512vl,avx512dq,avx512bw,avx2,fma"
#include "bce_cpu_vec.h"

#ifdef FML_HAVE_X86_KERNELS
namespace pkg {
namespace {

struct Ops512 {
  FML_VEC_TRAIT(_mm512, __m512, __mmask16, __m512d, 16, true)

  static FML_VEC_ATTR F load(M tm, const float* p) { return _mm512_maskz_loadu_ps(tm, p); }
  static FML_VEC_ATTR void store(M tm, float* p, F v) { _mm512_mask_storeu_ps(p, tm, v); }
  // int8 (SIGNED) or uint8 values as floats; the mask bytes' lanes that are nonzero.
  template <bool SIGNED>
  static FML_VEC_ATTR F load_bytes(M tm, const uint8_t* p) {
    const __m128i b = _mm_maskz_loadu_epi8(tm, p);
    return _mm512_cvtepi32_ps(SIGNED ? _mm512_cvtepi8_epi32(b) : _mm512_cvtepu8_epi32(b));
  }
  static FML_VEC_ATTR M bytes_nonzero(M tm, const uint8_t* p) {
    return _mm_mask_cmpneq_epi8_mask(tm, _mm_maskz_loadu_epi8(tm, p), _mm_setzero_si128());
  }

  static FML_VEC_ATTR M lt(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LT_OQ); }
  static FML_VEC_ATTR M eq(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_EQ_OQ); }
  static FML_VEC_ATTR M neq(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_NEQ_UQ); }
  static FML_VEC_ATTR M ge(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_GE_OQ); }
  static FML_VEC_ATTR M le(F a, F b) { return _mm512_cmp_ps_mask(a, b, _CMP_LE_OQ); }
  static FML_VEC_ATTR M mand(M a, M b) { return a & b; }
  static FML_VEC_ATTR M mor(M a, M b) { return a | b; }
  static FML_VEC_ATTR M mandn(M a, M b) { return a & (M)~b; }  // a and not b
  static FML_VEC_ATTR M mnone() { return 0; }
  static FML_VEC_ATTR M mall() { return (M)0xffff; }
  static FML_VEC_ATTR M first_lanes(int64_t n) { return (M)((1u << n) - 1u); }
  static FML_VEC_ATTR bool all(M m) { return m == (M)0xffff; }
  static FML_VEC_ATTR bool any(M m) { return m != 0; }
  static FML_VEC_ATTR F blend(M m, F a, F b) { return _mm512_mask_blend_ps(m, a, b); }  // m ? b : a
  static FML_VEC_ATTR F maskz(M m, F v) { return _mm512_maskz_mov_ps(m, v); }          // m ? v : 0

  // exp: shift 1.5·2^19 (float spacing 1/16), 2^(j/16) by vpermps, a degree-3 polynomial for e^r (error
  // r⁴/24 < 1e-8), and vscalefps for 2^floor(k/16) (exact, subnormals included).
  static constexpr float kExpShift = 786432.0f;
  static FML_VEC_ATTR F exp_table(F s) {
    const F tab = _mm512_setr_ps(1.0f, 1.04427373f, 1.09050775f, 1.13878858f, 1.18920708f, 1.24185777f, 1.29683959f,
                                 1.35425556f, 1.41421354f, 1.47682619f, 1.54221082f, 1.61049032f, 1.68179286f,
                                 1.75625217f, 1.8340081f, 1.91520655f);  // 2^(j/16), rounded to float
    return _mm512_permutexvar_ps(_mm512_castps_si512(s), tab);
  }
  static FML_VEC_ATTR F expm1_poly(F r) {
    const F q = fmadd(set1(1.0f / 6.0f), r, set1(0.5f));
    return fmadd(q, mul(r, r), r);
  }
  static FML_VEC_ATTR F scale_pow2(F v, F kq, F) { return _mm512_scalef_ps(v, kq); }
  // 1/u for u in [1, 2] (and any normal u >= 1): reciprocal estimate (relative error < 2^-14), one Newton step.
  static FML_VEC_ATTR F recip_1to2(F u) {
    const F r0 = _mm512_rcp14_ps(u);
    return fmadd(r0, fnmadd(u, r0, set1(1.0f)), r0);
  }

  static FML_VEC_ATTR D zerod() { return _mm512_setzero_pd(); }
  static FML_VEC_ATTR D addd(D a, D b) { return _mm512_add_pd(a, b); }
  static FML_VEC_ATTR D widen_lo(F v) { return _mm512_cvtps_pd(_mm512_castps512_ps256(v)); }
  static FML_VEC_ATTR D widen_hi(F v) {
    return _mm512_cvtps_pd(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(v), 1)));
  }
  static FML_VEC_ATTR double reduce_d(D v) { return _mm512_reduce_add_pd(v); }
};

}  // namespace
}  // namespace pkg

FML_BCE_ISA_ENTRY(avx512, VecLoops<Ops512>, true)
#endif
