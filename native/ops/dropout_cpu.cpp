// CPU twin of dropout.h. Masks come in blocks from dropout_keep_cpu, whose Philox loop runs over
// counters with no branches, so GCC vectorises it ("no-trapping-math" lets the float compare become a
// select; an AVX2 clone is picked at load time on x86-64; on AVX-512 the Philox rounds run 16 counters per vector,
// written out). Same values as dropout_scale, element by element.
#if defined(__GNUC__) && !defined(__clang__)  // Clang if-converts without it (and has no such pragma)
#pragma GCC optimize("no-trapping-math")
#endif
#include "../core/isa.h"
#include "../core/parallel.h"
#include "../core/simd.h"
#include "dropout.h"

#ifdef FML_HAVE_X86_KERNELS
#include "../core/x86_intrin.h"
#endif

namespace pkg {

namespace {
constexpr int64_t kBlock = 1024;  // elements per mask block (on the stack)

// keep[4g + j] for counters g0 .. g0 + ng - 1.
PKG_SIMD_CLONES void keep_groups(float* __restrict keep, int64_t ng, float p, uint64_t seed, uint64_t offset,
                                 uint64_t g0) {
  const float scale = 1.0f / (1.0f - p);
  for (int64_t g = 0; g < ng; g++) {
    uint32_t r[4];
    philox4x32(seed, offset, g0 + (uint64_t)g, r);
    for (int j = 0; j < 4; j++) keep[4 * g + j] = (float)(r[j] >> 8) * (1.0f / 16777216.0f) >= p ? scale : 0.0f;
  }
}

#ifdef FML_HAVE_X86_KERNELS
#define PKG_AVX512 __attribute__((target("avx512f")))
// 64-bit lanes of a and b picked by idx (permutex2var_pd) on floats: the groups of 4 keep values in order.
PKG_AVX512 static inline __m512 quads(__m512 a, __m512i idx, __m512 b) {
  return _mm512_castpd_ps(_mm512_permutex2var_pd(_mm512_castps_pd(a), idx, _mm512_castps_pd(b)));
}

// lo, hi: the low and high 32 bits of m · c in each 32-bit lane (m in the low half of every 64-bit lane)
PKG_AVX512 static inline void mul_lo_hi(__m512i m, __m512i c, __m512i& lo, __m512i& hi) {
  const __m512i even = _mm512_mul_epu32(m, c), odd = _mm512_mul_epu32(m, _mm512_srli_epi64(c, 32));
  lo = _mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32));
  hi = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(even, 32), odd);
}

// keep_groups for 16 counters at a time (the last vector's stores masked), Philox's rounds on the 16 lanes written
// out (GCC's vectorisation of the scalar loop spent most of its time shuffling 64-bit products): the same
// integers, so the same masks.
PKG_AVX512 static void keep_groups_avx512(float* keep, int64_t ng, float p, uint64_t seed, uint64_t offset,
                                             uint64_t g0) {
  const __m512i m0 = _mm512_set1_epi64(0xD2511F53u), m1 = _mm512_set1_epi64(0xCD9E8D57u);
  const __m512i lane = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
  const __m512i c2_0 = _mm512_set1_epi32((int)(uint32_t)offset), c3_0 = _mm512_set1_epi32((int)(uint32_t)(offset >> 32));
  const __m512 vp = _mm512_set1_ps(p), vscale = _mm512_set1_ps(1.0f / (1.0f - p)), unit = _mm512_set1_ps(1.0f / 16777216.0f);
  // keep values of 4 words (16 counters each) interleaved back into counter order: word j of counter l at 4l + j
  const __m512i pair_lo = _mm512_setr_epi32(0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6, 22, 7, 23);
  const __m512i pair_hi = _mm512_setr_epi32(8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29, 14, 30, 15, 31);
  const __m512i quad_lo = _mm512_setr_epi64(0, 8, 1, 9, 2, 10, 3, 11), quad_hi = _mm512_setr_epi64(4, 12, 5, 13, 6, 14, 7, 15);
  for (int64_t g = 0; g < ng; g += 16) {
    const uint64_t ctr = g0 + (uint64_t)g;
    const __m512i lo_words = _mm512_set1_epi32((int)(uint32_t)ctr);
    __m512i c0 = _mm512_add_epi32(lo_words, lane);
    // counters whose low word wrapped past 2^32 carry one into the high word
    const __mmask16 carry = _mm512_cmplt_epu32_mask(c0, lo_words);
    const __m512i hi_words = _mm512_set1_epi32((int)(uint32_t)(ctr >> 32));
    __m512i c1 = _mm512_mask_add_epi32(hi_words, carry, hi_words, _mm512_set1_epi32(1));
    __m512i c2 = c2_0, c3 = c3_0;
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
    for (int r = 0; r < 10; r++) {
      __m512i lo0, hi0, lo1, hi1;
      mul_lo_hi(m0, c0, lo0, hi0);
      mul_lo_hi(m1, c2, lo1, hi1);
      c0 = _mm512_ternarylogic_epi32(hi1, c1, _mm512_set1_epi32((int)k0), 0x96);  // hi1 ^ c1 ^ k0
      c1 = lo1;
      c2 = _mm512_ternarylogic_epi32(hi0, c3, _mm512_set1_epi32((int)k1), 0x96);  // hi0 ^ c3 ^ k1
      c3 = lo0;
      k0 += 0x9E3779B9u;
      k1 += 0xBB67AE85u;
    }
    __m512 w[4];
    const __m512i words[4] = {c0, c1, c2, c3};
    for (int j = 0; j < 4; j++) {
      const __m512 u = _mm512_mul_ps(_mm512_cvtepi32_ps(_mm512_srli_epi32(words[j], 8)), unit);  // exact: 24 bits
      w[j] = _mm512_maskz_mov_ps(_mm512_cmp_ps_mask(u, vp, _CMP_GE_OQ), vscale);
    }
    const __m512 a_lo = _mm512_permutex2var_ps(w[0], pair_lo, w[1]), a_hi = _mm512_permutex2var_ps(w[0], pair_hi, w[1]);
    const __m512 b_lo = _mm512_permutex2var_ps(w[2], pair_lo, w[3]), b_hi = _mm512_permutex2var_ps(w[2], pair_hi, w[3]);
    const __m512 out[4] = {quads(a_lo, quad_lo, b_lo), quads(a_lo, quad_hi, b_lo), quads(a_hi, quad_lo, b_hi),
                           quads(a_hi, quad_hi, b_hi)};
    const int64_t floats = 4 * (ng - g < 16 ? ng - g : 16);  // keep values of this vector's real counters
    for (int v = 0; v < 4 && 16 * v < floats; v++)
      _mm512_mask_storeu_ps(keep + 4 * g + 16 * v, floats - 16 * v >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << (floats - 16 * v)) - 1), out[v]);
  }
}
#undef PKG_AVX512
#endif

// keep_groups, 16 counters at a time on AVX-512
void keep_groups_any(float* keep, int64_t ng, float p, uint64_t seed, uint64_t offset, uint64_t g0) {
#ifdef FML_HAVE_X86_KERNELS
  if (cpu_has_avx512()) return keep_groups_avx512(keep, ng, p, seed, offset, g0);
#endif
  keep_groups(keep, ng, p, seed, offset, g0);
}
}  // namespace

void dropout_keep_cpu(float* keep, int64_t n, float p, uint64_t seed, uint64_t offset, uint64_t first) {
  if (p <= 0.0f) {
    for (int64_t j = 0; j < n; j++) keep[j] = 1.0f;
    return;
  }
  float tmp[kBlock + 8];
  int64_t done = 0;
  while (done < n) {
    const uint64_t idx = first + (uint64_t)done;
    const int64_t lead = (int64_t)(idx & 3);  // position of idx inside its counter's 4 words
    const int64_t take = n - done < kBlock ? n - done : kBlock;
    const int64_t ng = (lead + take + 3) / 4;
    keep_groups_any(tmp, ng, p, seed, offset, idx >> 2);
    for (int64_t j = 0; j < take; j++) keep[done + j] = tmp[lead + j];
    done += take;
  }
}

void dropout_forward_cpu(float* out, const float* inp, int64_t N, float p, uint64_t seed, uint64_t offset) {
  if (p <= 0.0f) {
    if (out != inp)
      parallel_for(N, 4096, [&](int64_t, int64_t b, int64_t e) {
        for (int64_t i = b; i < e; i++) out[i] = inp[i];
      });
    return;
  }
  parallel_for(N, 4096, [&](int64_t, int64_t b, int64_t e) {
    float keep[kBlock];
    for (int64_t i0 = b; i0 < e; i0 += kBlock) {
      const int64_t n = e - i0 < kBlock ? e - i0 : kBlock;
      dropout_keep_cpu(keep, n, p, seed, offset, (uint64_t)i0);
      for (int64_t j = 0; j < n; j++) out[i0 + j] = inp[i0 + j] * keep[j];
    }
  });
}

void dropout_residual_forward_cpu(float* out, const float* res, const float* inp, int64_t N, float p, uint64_t seed,
                                  uint64_t offset) {
  parallel_for(N, 4096, [&](int64_t, int64_t b, int64_t e) {
    if (p <= 0.0f) {
      for (int64_t i = b; i < e; i++) out[i] = res[i] + inp[i];
      return;
    }
    float keep[kBlock];
    for (int64_t i0 = b; i0 < e; i0 += kBlock) {
      const int64_t n = e - i0 < kBlock ? e - i0 : kBlock;
      dropout_keep_cpu(keep, n, p, seed, offset, (uint64_t)i0);
      for (int64_t j = 0; j < n; j++) out[i0 + j] = res[i0 + j] + inp[i0 + j] * keep[j];
    }
  });
}

void dropout_backward_cpu(float* dinp, const float* dout, int64_t N, float p, uint64_t seed, uint64_t offset) {
  if (p <= 0.0f && dinp == dout) return;
  dropout_forward_cpu(dinp, dout, N, p, seed, offset);
}

}  // namespace pkg
