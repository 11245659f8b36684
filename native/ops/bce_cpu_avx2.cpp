// The loss CPU twin's AVX2+FMA path (x86-64 without AVX-512, or FUSED_MULTILABEL_NO_AVX512=1): rows_body
// with the loops of bce_cpu_vec.h over __m256 (BCE, focal γ=2 and DB γ=2; the last T mod 8 elements through
// the scalar bce_math code) and tile_loop compiled for AVX2 for the rest. On CPUs without AVX-512 (Zen 2/3,
// most Intel client parts) the compiler's vectorisation of bce_math needs about 100 instructions per 8
// elements (16 registers: constants reloaded, blends, integer exponent assembly).
#define FML_VEC_TARGET "avx2,fma"
#include "bce_cpu_vec.h"

#ifdef FML_HAVE_X86_KERNELS
namespace pkg {
namespace {

// Masks are vectors whose lanes are all ones or all zeros; loads and stores are whole vectors (tm is
// always every lane).
struct Ops256 {
  FML_VEC_TRAIT(_mm256, __m256, __m256, __m256d, 8, false)

  static FML_VEC_ATTR F load(M, const float* p) { return _mm256_loadu_ps(p); }
  static FML_VEC_ATTR void store(M, float* p, F v) { _mm256_storeu_ps(p, v); }

  static FML_VEC_ATTR M lt(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LT_OQ); }
  static FML_VEC_ATTR M eq(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_EQ_OQ); }
  static FML_VEC_ATTR M neq(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_NEQ_UQ); }
  static FML_VEC_ATTR M ge(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_GE_OQ); }
  static FML_VEC_ATTR M le(F a, F b) { return _mm256_cmp_ps(a, b, _CMP_LE_OQ); }
  static FML_VEC_ATTR M mand(M a, M b) { return _mm256_and_ps(a, b); }
  static FML_VEC_ATTR M mor(M a, M b) { return _mm256_or_ps(a, b); }
  static FML_VEC_ATTR M mandn(M a, M b) { return _mm256_andnot_ps(b, a); }  // a and not b
  static FML_VEC_ATTR M mnone() { return _mm256_setzero_ps(); }
  static FML_VEC_ATTR M mall() { return _mm256_castsi256_ps(_mm256_set1_epi32(-1)); }
  static FML_VEC_ATTR bool all(M m) { return _mm256_movemask_ps(m) == 0xff; }
  static FML_VEC_ATTR bool any(M m) { return _mm256_movemask_ps(m) != 0; }
  static FML_VEC_ATTR F blend(M m, F a, F b) { return _mm256_blendv_ps(a, b, m); }  // m ? b : a
  static FML_VEC_ATTR F maskz(M m, F v) { return _mm256_and_ps(m, v); }             // m ? v : 0

  // exp: shift 1.5·2^20 (float spacing 1/8), 2^(j/8) by vpermps, a degree-4 polynomial for e^r (|r| <=
  // ln2/16, error r⁵/120 < 2e-9), and 2^n applied in two halves (no vscalefps: exact down to the subnormals).
  static constexpr float kExpShift = 1572864.0f;
  static FML_VEC_ATTR F exp_table(F s) {
    const F tab = _mm256_setr_ps(1.0f, 1.09050775f, 1.18920708f, 1.29683959f, 1.41421354f, 1.54221082f, 1.68179286f,
                                 1.8340081f);  // 2^(j/8), rounded to float
    return _mm256_permutevar8x32_ps(tab, _mm256_castps_si256(s));
  }
  static FML_VEC_ATTR F expm1_poly(F r) {
    F q = fmadd(set1(1.0f / 24.0f), r, set1(1.0f / 6.0f));
    q = fmadd(q, r, set1(0.5f));
    return fmadd(q, mul(r, r), r);
  }
  // n = floor(k/8) from the integer k (the bits of s minus those of the shift); n in [-159, 127]
  static FML_VEC_ATTR F scale_pow2(F v, F, F s) {
    const __m256i n = _mm256_srai_epi32(_mm256_sub_epi32(_mm256_castps_si256(s), _mm256_castps_si256(set1(kExpShift))), 3);
    const __m256i n1 = _mm256_srai_epi32(n, 1);
    const __m256i bias = _mm256_set1_epi32(127);
    const F s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
    const F s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(_mm256_sub_epi32(n, n1), bias), 23));
    return mul(mul(v, s1), s2);
  }
  static FML_VEC_ATTR F recip_1to2(F u) { return _mm256_div_ps(set1(1.0f), u); }  // correctly rounded

  static FML_VEC_ATTR D zerod() { return _mm256_setzero_pd(); }
  static FML_VEC_ATTR D addd(D a, D b) { return _mm256_add_pd(a, b); }
  static FML_VEC_ATTR D widen_lo(F v) { return _mm256_cvtps_pd(_mm256_castps256_ps128(v)); }
  static FML_VEC_ATTR D widen_hi(F v) { return _mm256_cvtps_pd(_mm256_extractf128_ps(v, 1)); }
  static FML_VEC_ATTR double reduce_d(D v) {
    alignas(32) double parts[4];
    _mm256_store_pd(parts, v);
    return (parts[0] + parts[1]) + (parts[2] + parts[3]);
  }
};

}  // namespace
}  // namespace pkg

FML_BCE_ISA_ENTRY(avx2, VecLoops<Ops256>)
#endif
