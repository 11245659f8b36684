// CPU twin of attention.h ("no-trapping-math": lets GCC vectorise the softmax clamps; changes no result).
// Forward: one blocked pass per (batch, head): for each block of kQB query rows, the scores (kQB, T) =
// scale · Q Kᵀ go straight into att's rows (or, for inference, into a per-thread block that stays in
// L1/L2), are masked and soft-maxed in place, dropped out into a second block of the same size, and
// multiplied by V into out. No T×T buffer besides the saved att exists, and none at all for inference.
// The products read q, k, v in place (leading dimension C) through sgemm_cpu, which runs on the calling
// thread here: the (batch, head) pairs themselves are spread over parallel_for.
// Inference on AVX-512 with head sizes 16, 32 or 64 (every preset and BERT shape) takes its own path
// (attention_head_avx512 below): at the tiny preset's head size 16 the generic one spent most of its
// time in the baseline-ISA softmax and in packing panels for products 16 deep. CPUs with AVX2+FMA but not
// AVX-512 (or FUSED_MULTILABEL_NO_AVX512=1) take its 8-lane twin (attention_head_avx2), with the same
// contracts: the softmax sums in the same 16 lanes and tree, so a text's logits stay batch-independent.
#if defined(__GNUC__) && !defined(__clang__)  // Clang if-converts without it (and has no such pragma)
#pragma GCC optimize("no-trapping-math")
#endif
#if defined(__clang__)  // softmax_row's max reduction stays scalar in Clang (NaN order); the warning says only that
#pragma clang diagnostic ignored "-Wpass-failed"
#endif
#include <cfloat>
#include <cmath>
#include <vector>

#include "../core/isa.h"
#include "../core/parallel.h"
#include "../core/philox.h"
#include "attention.h"
#include "bce.h"  // bce_math::exp_nonpos
#include "dropout.h"
#include "matmul.h"

#ifdef FML_HAVE_X86_KERNELS
#include "../core/x86_intrin.h"

#include "transpose16_avx512.h"
#endif

namespace pkg {

constexpr int kQB = 32;  // query rows per block: (kQB, T) scores stay in L1/L2 for BERT lengths

// Σ a[0, T) in 16 lanes (key t2 in lane t2 mod 16) added up by a fixed tree. Padded keys hold exact zeros,
// which leave a lane unchanged, so a row's sum does not depend on how far its batch pads it: a text gets
// the same bits alone and merged with longer ones (lib/encoder_batching.ts). The compiler vectorises the
// lanes without reordering any sum.
static float lane_sum(const float* a, int T) {
  float acc[16] = {};
  int t0 = 0;
  for (; t0 + 16 <= T; t0 += 16)
    for (int l = 0; l < 16; l++) acc[l] += a[t0 + l];
  for (int l = 0; t0 + l < T; l++) acc[l] += a[t0 + l];
  for (int w = 8; w > 0; w /= 2)
    for (int l = 0; l < w; l++) acc[l] += acc[l + w];
  return acc[0];
}

// Masked softmax of one row of scores in place; finfo.min for padded keys, as Hugging Face, so a fully
// padded row stays finite (uniform).
static void softmax_row(float* a, const uint8_t* m, int T) {
  for (int t2 = 0; t2 < T; t2++) a[t2] = m[t2] ? a[t2] : -FLT_MAX;
  float maxv = -FLT_MAX;
#pragma omp simd reduction(max : maxv)
  for (int t2 = 0; t2 < T; t2++) maxv = a[t2] > maxv ? a[t2] : maxv;
  for (int t2 = 0; t2 < T; t2++) a[t2] = bce_math::exp_nonpos(a[t2] - maxv);  // vectorisable, ~1 ulp
  const float inv = 1.0f / lane_sum(a, T);
  for (int t2 = 0; t2 < T; t2++) a[t2] *= inv;
}

#ifdef FML_HAVE_X86_KERNELS
#define PKG_AVX512 __attribute__((target("avx512f,avx512dq,avx512bw,avx512vl,avx2,fma")))

// bce_math::exp_nonpos on 16 lanes: the same clamp, Cody-Waite reduction and Estrin polynomial, and the 2^n
// scale in one vscalefps (FMA-contracted, so within an ulp of the scalar function rather than equal to it).
PKG_AVX512 static inline __m512 exp_nonpos16(__m512 v) {
  v = _mm512_max_ps(_mm512_set1_ps(-110.0f), v);  // max_ps returns its second operand when either is NaN: NaN stays NaN
  const __m512 shifter = _mm512_set1_ps(12582912.0f);
  const __m512 t = _mm512_fmadd_ps(v, _mm512_set1_ps(1.44269504088896341f), shifter);
  const __m512 n = _mm512_sub_ps(t, shifter);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), v);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(-2.12194440e-4f), r);
  const __m512 r2 = _mm512_mul_ps(r, r), r4 = _mm512_mul_ps(r2, r2);
  const __m512 a0 = _mm512_fmadd_ps(_mm512_set1_ps(1.6666665459e-1f), r, _mm512_set1_ps(5.0000001201e-1f));
  const __m512 a1 = _mm512_fmadd_ps(_mm512_set1_ps(8.3334519073e-3f), r, _mm512_set1_ps(4.1665795894e-2f));
  const __m512 a2 = _mm512_fmadd_ps(_mm512_set1_ps(1.9875691500e-4f), r, _mm512_set1_ps(1.3981999507e-3f));
  __m512 p = _mm512_fmadd_ps(a2, r4, _mm512_fmadd_ps(a1, r2, a0));
  p = _mm512_add_ps(_mm512_fmadd_ps(p, r2, r), _mm512_set1_ps(1.0f));
  return _mm512_scalef_ps(p, n);  // p · 2^n rounded once, subnormal results included (as the two halves)
}

// lane_sum's fixed tree (lane l += lane l+8, then l+4, l+2, l+1) on a vector of 16 lane sums.
PKG_AVX512 static inline float lane_tree16(__m512 acc) {
  const __m256 s8 = _mm256_add_ps(_mm512_castps512_ps256(acc), _mm512_extractf32x8_ps(acc, 1));
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

// One (batch, head) of the inference forward, NV = HS / 16 vectors per row of q, k, v; rows of the head at
// q/k/v/out + t·C. kt (HS, Tp) holds Kᵀ zero-padded to Tp = Tk rounded up to 16 (Tk <= T: the keys up to the
// last real one) and p (R, Tp) the probabilities of R query rows; keep (Tp / 16) the lanes of real keys. The
// query rows computed are 0 .. Tq (Tq = T, or 1 for the first token only). Per row, as the generic path: scores = scale · q·k
// (each a sum over the head's channels in order), masked softmax with lane_sum's 16-lane sums, then
// out = Σ_t2 p[t2] · v[t2] summed over t2 in order. Each row depends only on its own q and the real keys, and
// padded keys contribute exact zeros at the end of each sum, so results do not depend on the batch.
template <int NV>
PKG_AVX512 static void attention_head_avx512(float* out, const float* q, const float* k, const float* v,
                                             const uint8_t* m, int T, int Tq, int C, float scale, float* kt, float* p,
                                             __mmask16* keep) {
  static_assert(NV == 1 || NV == 2 || NV == 4, "head sizes 16, 32 and 64");
  constexpr int HS = 16 * NV;
  // rows per group: R·NV = 8 independent FMA chains in out's sum, 16 at head size 64, where each group reads
  // V's rows (3 KB apart in BERT-base's layout, so they crowd a few L1 sets) half as often: 15 % off the kernel
  constexpr int R = NV == 1 ? 8 : 4;
  // Keys past the last real one are left out: they would add exact zeros at the end of every sum. Without
  // any real key the row is uniform over all T keys, as in softmax_row.
  int Tk = T;
  while (Tk > 0 && !m[Tk - 1]) Tk--;
  if (Tk == 0) Tk = T;
  const int Tp = (Tk + 15) / 16 * 16, nch = Tp / 16;
  for (int c = 0; c < nch; c++) {
    const int n = Tk - 16 * c < 16 ? Tk - 16 * c : 16;
    const __mmask16 in_t = (__mmask16)((1u << n) - 1);
    const __m128i mb = _mm_maskz_loadu_epi8(in_t, m + 16 * c);
    keep[c] = _mm_test_epi8_mask(mb, mb);
    for (int d = 0; d < HS; d += 16) transpose16(k + (size_t)16 * c * C + d, C, n, kt + (size_t)d * Tp + 16 * c, Tp, 0xFFFF);
  }
  const __m512 vscale = _mm512_set1_ps(scale), lowest = _mm512_set1_ps(-FLT_MAX);
  float inv[R];  // 1 / Σ exp of each row of the group
  for (int t0 = 0; t0 < Tq; t0 += R) {
    const int rows = Tq - t0 < R ? Tq - t0 : R;
    // scores of rows t0 .. t0+R (rows past Tq repeat the last one and are not stored), four rows at a time:
    // 16 independent FMA chains over 64 keys, each key vector loaded once for the four rows
    constexpr int QR = 4;
    static_assert(R % QR == 0, "the query rows of a group come four at a time");
    for (int r = 0; r < R; r += QR) {
      const float* qr[QR];
      float* pr[QR];
      for (int i = 0; i < QR; i++) {
        qr[i] = q + (size_t)(t0 + r + i < Tq ? t0 + r + i : Tq - 1) * C;
        pr[i] = p + (size_t)(r + i) * Tp;
      }
      int c = 0;
      for (; c + 4 <= nch; c += 4) {
        __m512 a[QR][4];
        for (int i = 0; i < QR; i++)
          for (int j = 0; j < 4; j++) a[i][j] = _mm512_setzero_ps();
        for (int d = 0; d < HS; d++) {
          __m512 kv[4];
          for (int j = 0; j < 4; j++) kv[j] = _mm512_load_ps(kt + (size_t)d * Tp + 16 * (c + j));
          for (int i = 0; i < QR; i++) {
            const __m512 x = _mm512_set1_ps(qr[i][d]);
            for (int j = 0; j < 4; j++) a[i][j] = _mm512_fmadd_ps(x, kv[j], a[i][j]);
          }
        }
        for (int i = 0; i < QR; i++)
          for (int j = 0; j < 4; j++) _mm512_store_ps(pr[i] + 16 * (c + j), _mm512_mul_ps(vscale, a[i][j]));
      }
      for (; c < nch; c++) {
        __m512 a[QR];
        for (int i = 0; i < QR; i++) a[i] = _mm512_setzero_ps();
        for (int d = 0; d < HS; d++) {
          const __m512 kv = _mm512_load_ps(kt + (size_t)d * Tp + 16 * c);
          for (int i = 0; i < QR; i++) a[i] = _mm512_fmadd_ps(_mm512_set1_ps(qr[i][d]), kv, a[i]);
        }
        for (int i = 0; i < QR; i++) _mm512_store_ps(pr[i] + 16 * c, _mm512_mul_ps(vscale, a[i]));
      }
    }
    // masked softmax of each row in place, left unnormalised (e = exp(score - max), 1 / Σ e in inv); lanes
    // past Tk become exact zeros. A padded key's exp(-FLT_MAX - max)
    // is 0, which the exp would reach through a subnormal product (a microcode assist of ~100 cycles per
    // vector, a quarter of this function's time at the benchmark's padding): padded lanes take exp(0) and are
    // zeroed instead. Without any real key every lane of the row is exp(0) = 1, as in softmax_row.
    for (int r = 0; r < rows; r++) {
      float* a = p + (size_t)r * Tp;
      __m512 mx = lowest;
      for (int c = 0; c < nch; c++) mx = _mm512_max_ps(mx, _mm512_mask_blend_ps(keep[c], lowest, _mm512_load_ps(a + 16 * c)));
      const float rmax = _mm512_reduce_max_ps(mx);
      const __m512 vmax = _mm512_set1_ps(rmax);
      __m512 sum = _mm512_setzero_ps();
      for (int c = 0; c < nch; c++) {
        const int n = Tk - 16 * c < 16 ? Tk - 16 * c : 16;
        const __mmask16 out_lanes = rmax == -FLT_MAX ? (__mmask16)((1u << n) - 1) : keep[c];
        const __m512 x = _mm512_maskz_sub_ps(keep[c], _mm512_load_ps(a + 16 * c), vmax);
        const __m512 e = _mm512_maskz_mov_ps(out_lanes, exp_nonpos16(x));
        sum = _mm512_add_ps(sum, e);
        _mm512_store_ps(a + 16 * c, e);
      }
      inv[r] = 1.0f / lane_tree16(sum);
    }
    // out rows = (e · V) / Σ e: the normalisation applied once per output instead of once per probability
    __m512 o[R][NV];
    for (int r = 0; r < R; r++)
      for (int j = 0; j < NV; j++) o[r][j] = _mm512_setzero_ps();
    for (int t2 = 0; t2 < Tk; t2++) {
      __m512 vv[NV];
      for (int j = 0; j < NV; j++) vv[j] = _mm512_loadu_ps(v + (size_t)t2 * C + 16 * j);
      for (int r = 0; r < R; r++) {
        const __m512 w = _mm512_set1_ps(p[(size_t)r * Tp + t2]);
        for (int j = 0; j < NV; j++) o[r][j] = _mm512_fmadd_ps(w, vv[j], o[r][j]);
      }
    }
    for (int r = 0; r < rows; r++)
      for (int j = 0; j < NV; j++)
        _mm512_storeu_ps(out + (size_t)(t0 + r) * C + 16 * j, _mm512_mul_ps(o[r][j], _mm512_set1_ps(inv[r])));
  }
}

// The inference forward over all (batch, head) pairs on the AVX-512 path; false (nothing done) where it does
// not apply.
static bool attention_infer_avx512(float* out, const float* q, const float* k, const float* v, const uint8_t* mask,
                                   int B, int T, int C, int NH, const int64_t* offsets, bool first_only) {
  const int HS = C / NH;
  if (!cpu_has_avx512() || (HS != 16 && HS != 32 && HS != 64)) return false;
  const float scale = 1.0f / std::sqrt((float)HS);
  const int Tp = (T + 15) / 16 * 16;
  parallel_for((int64_t)B * NH, 1, [&](int64_t, int64_t i0, int64_t i1) {
    // per chunk: Kᵀ (HS, Tp), then 8 rows of probabilities (Tp each), 64-byte aligned
    std::vector<float> buf((size_t)(HS + 8) * Tp + 16);
    float* kt = (float*)(((uintptr_t)buf.data() + 63) & ~(uintptr_t)63);
    std::vector<__mmask16> keep((size_t)Tp / 16);
    for (int64_t bh = i0; bh < i1; bh++) {
      const int b = (int)(bh / NH), h = (int)(bh % NH);
      // packed rows: text b's Tb tokens at rows offsets[b] .. offsets[b+1], its mask a prefix of ones
      const int Tb = offsets ? (int)(offsets[b + 1] - offsets[b]) : T;
      const size_t base = (size_t)(offsets ? offsets[b] : (int64_t)b * T) * C + (size_t)h * HS;
      // first_only: q and out hold one row per text (row b), and only that query row is computed
      const size_t qbase = first_only ? (size_t)b * C + (size_t)h * HS : base;
      const int Tq = first_only ? 1 : Tb;
      const uint8_t* m = mask + (size_t)b * T;
      float* pr = kt + (size_t)HS * Tp;
      if (HS == 16) attention_head_avx512<1>(out + qbase, q + qbase, k + base, v + base, m, Tb, Tq, C, scale, kt, pr, keep.data());
      else if (HS == 32) attention_head_avx512<2>(out + qbase, q + qbase, k + base, v + base, m, Tb, Tq, C, scale, kt, pr, keep.data());
      else attention_head_avx512<4>(out + qbase, q + qbase, k + base, v + base, m, Tb, Tq, C, scale, kt, pr, keep.data());
    }
  });
  return true;
}
#undef PKG_AVX512

#define PKG_AVX2 __attribute__((target("avx2,fma")))

// bce_math::exp_nonpos on 8 lanes with AVX2+FMA: the same clamp (NaN passes through, as the scalar code's),
// Cody-Waite reduction and Estrin polynomial (FMA-contracted, so within an ulp of the scalar function), and
// 2^n applied as the scalar code does, in two exact halves n1 = n >> 1, n2 = n - n1 (AVX2 has no vscalefps):
// both halves are normal for n in [-159, 1], and the second product rounds once, subnormal results included.
PKG_AVX2 static inline __m256 exp_nonpos8(__m256 v) {
  v = _mm256_max_ps(_mm256_set1_ps(-110.0f), v);  // max_ps returns its second operand for NaN: NaN stays NaN
  const __m256 shifter = _mm256_set1_ps(12582912.0f);
  const __m256 t = _mm256_fmadd_ps(v, _mm256_set1_ps(1.44269504088896341f), shifter);
  const __m256 n = _mm256_sub_ps(t, shifter);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693359375f), v);
  r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.12194440e-4f), r);
  const __m256 r2 = _mm256_mul_ps(r, r), r4 = _mm256_mul_ps(r2, r2);
  const __m256 a0 = _mm256_fmadd_ps(_mm256_set1_ps(1.6666665459e-1f), r, _mm256_set1_ps(5.0000001201e-1f));
  const __m256 a1 = _mm256_fmadd_ps(_mm256_set1_ps(8.3334519073e-3f), r, _mm256_set1_ps(4.1665795894e-2f));
  const __m256 a2 = _mm256_fmadd_ps(_mm256_set1_ps(1.9875691500e-4f), r, _mm256_set1_ps(1.3981999507e-3f));
  __m256 p = _mm256_fmadd_ps(a2, r4, _mm256_fmadd_ps(a1, r2, a0));
  p = _mm256_add_ps(_mm256_fmadd_ps(p, r2, r), _mm256_set1_ps(1.0f));
  const __m256i ni = _mm256_sub_epi32(_mm256_castps_si256(t), _mm256_castps_si256(shifter));
  const __m256i n1 = _mm256_srai_epi32(ni, 1), n2 = _mm256_sub_epi32(ni, n1);
  const __m256i bias = _mm256_set1_epi32(127);
  const __m256 s1 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n1, bias), 23));
  const __m256 s2 = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(n2, bias), 23));
  return _mm256_mul_ps(_mm256_mul_ps(p, s1), s2);
}

// lane_sum's fixed tree on 16 lane sums held as lanes 0-7 (lo) and 8-15 (hi): lane l += lane l+8, then l+4,
// l+2, l+1.
PKG_AVX2 static inline float lane_tree8x2(__m256 lo, __m256 hi) {
  const __m256 s8 = _mm256_add_ps(lo, hi);
  const __m128 s4 = _mm_add_ps(_mm256_castps256_ps128(s8), _mm256_extractf128_ps(s8, 1));
  const __m128 s2 = _mm_add_ps(s4, _mm_movehl_ps(s4, s4));
  return _mm_cvtss_f32(_mm_add_ss(s2, _mm_movehdup_ps(s2)));
}

PKG_AVX2 static inline float reduce_max8(__m256 x) {
  __m128 m = _mm_max_ps(_mm256_castps256_ps128(x), _mm256_extractf128_ps(x, 1));
  m = _mm_max_ps(m, _mm_movehl_ps(m, m));
  return _mm_cvtss_f32(_mm_max_ss(m, _mm_movehdup_ps(m)));
}

// 8 rows of 8 floats (row r at src + r·ld, rows >= nrows read as zero) transposed in registers; column j
// stored (aligned) at out + j·ostride.
PKG_AVX2 static inline void transpose8(const float* src, int64_t ld, int nrows, float* out, int64_t ostride) {
  __m256 r[8], t[8], u[8];
  for (int i = 0; i < 8; i++) r[i] = i < nrows ? _mm256_loadu_ps(src + i * ld) : _mm256_setzero_ps();
  for (int i = 0; i < 4; i++) {
    t[2 * i] = _mm256_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm256_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int g = 0; g < 2; g++) {  // u[4g + c]: columns c (low half) and 4 + c (high half) of rows 4g .. 4g+3
    u[4 * g + 0] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
    u[4 * g + 1] = _mm256_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
    u[4 * g + 2] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
    u[4 * g + 3] = _mm256_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
  }
  for (int c = 0; c < 4; c++) {
    _mm256_store_ps(out + c * ostride, _mm256_permute2f128_ps(u[c], u[4 + c], 0x20));
    _mm256_store_ps(out + (4 + c) * ostride, _mm256_permute2f128_ps(u[c], u[4 + c], 0x31));
  }
}

// attention_head_avx512's twin with 8-float vectors, NV = HS / 8 vectors per row of q, k, v, and the same
// contracts: kt (HS, Tp) holds Kᵀ zero-padded to Tp = Tk rounded up to 16 (so the key lanes are those of
// lane_sum), p (G, Tp) the scores then exp of G query rows, keep (Tp) all-ones for the lanes of real keys;
// query rows 0 .. Tq are computed.
// Per row: scores = scale · q·k (a sum over the head's channels in order), the masked softmax left
// unnormalised, its Σ e in lane_sum's 16 lanes (lanes 0-7 and 8-15 in two accumulators) and fixed tree, then
// out = (Σ_t2 e[t2] · v[t2], t2 in order) / Σ e. Each row depends only on its own q and the real keys, and
// padded keys contribute exact zeros at the end of each sum, so results do not depend on the batch.
template <int NV>
PKG_AVX2 static void attention_head_avx2(float* out, const float* q, const float* k, const float* v, const uint8_t* m,
                                         int T, int Tq, int C, float scale, float* kt, float* p, float* keep) {
  constexpr int HS = 8 * NV;
  constexpr int R = 8 / NV;           // rows per p·V pass: R·NV = 8 independent FMA chains in out's sum
  constexpr int G = R < 2 ? 2 : R;    // rows per group (scores are computed two rows at a time)
  // Keys past the last real one are left out (they would add exact zeros at the end of every sum); without
  // any real key the row is uniform over all T keys, as in softmax_row.
  int Tk = T;
  while (Tk > 0 && !m[Tk - 1]) Tk--;
  if (Tk == 0) Tk = T;
  const int Tp = (Tk + 15) / 16 * 16, nch = Tp / 8;
  for (int c = 0; c < nch; c++) {
    const int n = Tk - 8 * c < 0 ? 0 : Tk - 8 * c < 8 ? Tk - 8 * c : 8;
    alignas(8) uint8_t mb[8] = {};
    for (int i = 0; i < n; i++) mb[i] = m[8 * c + i];
    const __m256i mw = _mm256_cvtepu8_epi32(_mm_loadl_epi64((const __m128i*)mb));
    _mm256_store_ps(keep + 8 * c, _mm256_castsi256_ps(_mm256_cmpgt_epi32(mw, _mm256_setzero_si256())));
    for (int d = 0; d < HS; d += 8) transpose8(k + (size_t)8 * c * C + d, C, n, kt + (size_t)d * Tp + 8 * c, Tp);
  }
  const __m256 vscale = _mm256_set1_ps(scale), lowest = _mm256_set1_ps(-FLT_MAX);
  const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  float inv[G];  // 1 / Σ exp of each row of the group
  for (int t0 = 0; t0 < Tq; t0 += G) {
    const int rows = Tq - t0 < G ? Tq - t0 : G;
    // scores of rows t0 .. t0+G (rows past Tq repeat the last one and are not stored), two rows at a time
    for (int r = 0; r < G; r += 2) {
      const float* q0 = q + (size_t)(t0 + r < Tq ? t0 + r : Tq - 1) * C;
      const float* q1 = q + (size_t)(t0 + r + 1 < Tq ? t0 + r + 1 : Tq - 1) * C;
      float *p0 = p + (size_t)r * Tp, *p1 = p0 + Tp;
      int c = 0;
      for (; c + 4 <= nch; c += 4) {
        __m256 a[2][4];
        for (int j = 0; j < 4; j++) a[0][j] = a[1][j] = _mm256_setzero_ps();
        for (int d = 0; d < HS; d++) {
          const __m256 x0 = _mm256_broadcast_ss(q0 + d), x1 = _mm256_broadcast_ss(q1 + d);
          for (int j = 0; j < 4; j++) {
            const __m256 kv = _mm256_load_ps(kt + (size_t)d * Tp + 8 * (c + j));
            a[0][j] = _mm256_fmadd_ps(x0, kv, a[0][j]);
            a[1][j] = _mm256_fmadd_ps(x1, kv, a[1][j]);
          }
        }
        for (int j = 0; j < 4; j++) {
          _mm256_store_ps(p0 + 8 * (c + j), _mm256_mul_ps(vscale, a[0][j]));
          _mm256_store_ps(p1 + 8 * (c + j), _mm256_mul_ps(vscale, a[1][j]));
        }
      }
      for (; c < nch; c += 2) {  // nch is even
        __m256 a[2][2];
        for (int j = 0; j < 2; j++) a[0][j] = a[1][j] = _mm256_setzero_ps();
        for (int d = 0; d < HS; d++) {
          const __m256 x0 = _mm256_broadcast_ss(q0 + d), x1 = _mm256_broadcast_ss(q1 + d);
          for (int j = 0; j < 2; j++) {
            const __m256 kv = _mm256_load_ps(kt + (size_t)d * Tp + 8 * (c + j));
            a[0][j] = _mm256_fmadd_ps(x0, kv, a[0][j]);
            a[1][j] = _mm256_fmadd_ps(x1, kv, a[1][j]);
          }
        }
        for (int j = 0; j < 2; j++) {
          _mm256_store_ps(p0 + 8 * (c + j), _mm256_mul_ps(vscale, a[0][j]));
          _mm256_store_ps(p1 + 8 * (c + j), _mm256_mul_ps(vscale, a[1][j]));
        }
      }
    }
    // masked softmax of each row in place, left unnormalised (e = exp(score - max), 1 / Σ e in inv); lanes
    // past Tk become exact zeros. Padded lanes take exp(0) and are zeroed (never exp(-FLT_MAX - max), which
    // reaches 0 through slow subnormal products). Without any real key every lane of the row is exp(0) = 1,
    // as in softmax_row.
    for (int r = 0; r < rows; r++) {
      float* a = p + (size_t)r * Tp;
      __m256 mx = lowest;
      for (int c = 0; c < nch; c++) mx = _mm256_max_ps(mx, _mm256_blendv_ps(lowest, _mm256_load_ps(a + 8 * c), _mm256_load_ps(keep + 8 * c)));
      const float rmax = reduce_max8(mx);
      const __m256 vmax = _mm256_set1_ps(rmax);
      // lanes 0-7 and 8-15 of lane_sum: chunk c (8 keys) into sum0 for even c, sum1 for odd c (nch is even)
      __m256 sum0 = _mm256_setzero_ps(), sum1 = _mm256_setzero_ps();
      for (int c = 0; c < nch; c += 2) {
        const __m256 k0 = _mm256_load_ps(keep + 8 * c), k1 = _mm256_load_ps(keep + 8 * c + 8);
        __m256 o0 = k0, o1 = k1;  // lanes kept: the real keys, or without any every key up to Tk
        if (rmax == -FLT_MAX) {
          o0 = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(Tk - 8 * c), iota));
          o1 = _mm256_castsi256_ps(_mm256_cmpgt_epi32(_mm256_set1_epi32(Tk - 8 * c - 8), iota));
        }
        const __m256 x0 = _mm256_and_ps(k0, _mm256_sub_ps(_mm256_load_ps(a + 8 * c), vmax));
        const __m256 x1 = _mm256_and_ps(k1, _mm256_sub_ps(_mm256_load_ps(a + 8 * c + 8), vmax));
        const __m256 e0 = _mm256_and_ps(o0, exp_nonpos8(x0)), e1 = _mm256_and_ps(o1, exp_nonpos8(x1));
        sum0 = _mm256_add_ps(sum0, e0);
        sum1 = _mm256_add_ps(sum1, e1);
        _mm256_store_ps(a + 8 * c, e0);
        _mm256_store_ps(a + 8 * c + 8, e1);
      }
      inv[r] = 1.0f / lane_tree8x2(sum0, sum1);
    }
    // out rows = (e · V) / Σ e, R rows per pass: the normalisation applied once per output
    for (int r0 = 0; r0 < rows; r0 += R) {
      __m256 o[R][NV];
      for (int r = 0; r < R; r++)
        for (int j = 0; j < NV; j++) o[r][j] = _mm256_setzero_ps();
      for (int t2 = 0; t2 < Tk; t2++) {
        __m256 vv[NV];
        for (int j = 0; j < NV; j++) vv[j] = _mm256_loadu_ps(v + (size_t)t2 * C + 8 * j);
        for (int r = 0; r < R; r++) {
          const __m256 w = _mm256_broadcast_ss(p + (size_t)(r0 + r) * Tp + t2);
          for (int j = 0; j < NV; j++) o[r][j] = _mm256_fmadd_ps(w, vv[j], o[r][j]);
        }
      }
      for (int r = 0; r < R && r0 + r < rows; r++)
        for (int j = 0; j < NV; j++)
          _mm256_storeu_ps(out + (size_t)(t0 + r0 + r) * C + 8 * j, _mm256_mul_ps(o[r][j], _mm256_set1_ps(inv[r0 + r])));
    }
  }
}

// The inference forward over all (batch, head) pairs on the AVX2+FMA path (CPUs without AVX-512, or
// FUSED_MULTILABEL_NO_AVX512=1); false (nothing done) where it does not apply.
static bool attention_infer_avx2(float* out, const float* q, const float* k, const float* v, const uint8_t* mask,
                                 int B, int T, int C, int NH, const int64_t* offsets, bool first_only) {
  const int HS = C / NH;
  if (!cpu_has_avx2() || (HS != 16 && HS != 32 && HS != 64)) return false;
  const float scale = 1.0f / std::sqrt((float)HS);
  const int Tp = (T + 15) / 16 * 16;
  parallel_for((int64_t)B * NH, 1, [&](int64_t, int64_t i0, int64_t i1) {
    // per chunk: Kᵀ (HS, Tp), then up to 4 rows of exp (Tp each), then the keep lanes (Tp), 64-byte aligned
    std::vector<float> buf((size_t)(HS + 4 + 1) * Tp + 16);
    float* kt = (float*)(((uintptr_t)buf.data() + 63) & ~(uintptr_t)63);
    float* pr = kt + (size_t)HS * Tp;
    float* keep = pr + (size_t)4 * Tp;
    for (int64_t bh = i0; bh < i1; bh++) {
      const int b = (int)(bh / NH), h = (int)(bh % NH);
      // packed rows: text b's Tb tokens at rows offsets[b] .. offsets[b+1], its mask a prefix of ones
      const int Tb = offsets ? (int)(offsets[b + 1] - offsets[b]) : T;
      const size_t base = (size_t)(offsets ? offsets[b] : (int64_t)b * T) * C + (size_t)h * HS;
      // first_only: q and out hold one row per text (row b), and only that query row is computed
      const size_t qbase = first_only ? (size_t)b * C + (size_t)h * HS : base;
      const int Tq = first_only ? 1 : Tb;
      const uint8_t* m = mask + (size_t)b * T;
      if (HS == 16) attention_head_avx2<2>(out + qbase, q + qbase, k + base, v + base, m, Tb, Tq, C, scale, kt, pr, keep);
      else if (HS == 32) attention_head_avx2<4>(out + qbase, q + qbase, k + base, v + base, m, Tb, Tq, C, scale, kt, pr, keep);
      else attention_head_avx2<8>(out + qbase, q + qbase, k + base, v + base, m, Tb, Tq, C, scale, kt, pr, keep);
    }
  });
  return true;
}
#undef PKG_AVX2
#endif

const char* attention_infer_path(int head_size) {
#ifdef FML_HAVE_X86_KERNELS
  if (head_size == 16 || head_size == 32 || head_size == 64) {
    if (cpu_has_avx512()) return "avx512";
    if (cpu_has_avx2()) return "avx2";
  }
#endif
  (void)head_size;
  return "generic";
}

// The vector kernel of this CPU over every (batch, head): all query rows, or the first one only; false where
// there is none (attention_infer_path "generic").
static bool attention_infer_vector(float* out, const float* q, const float* k, const float* v, const uint8_t* mask,
                                   const int64_t* offsets, int B, int T, int C, int NH, bool first_only) {
#ifdef FML_HAVE_X86_KERNELS
  return attention_infer_avx512(out, q, k, v, mask, B, T, C, NH, offsets, first_only) ||
         attention_infer_avx2(out, q, k, v, mask, B, T, C, NH, offsets, first_only);
#else
  (void)out, (void)q, (void)k, (void)v, (void)mask, (void)offsets, (void)B, (void)T, (void)C, (void)NH, (void)first_only;
  return false;
#endif
}

bool attention_infer_packed_cpu(float* out, const float* q, const float* k, const float* v, const uint8_t* mask,
                                 const int64_t* offsets, int B, int T, int C, int NH) {
  return attention_infer_vector(out, q, k, v, mask, offsets, B, T, C, NH, false);
}

bool attention_infer_first_cpu(float* out, const float* q, const float* k, const float* v, const uint8_t* mask,
                                const int64_t* offsets, int B, int T, int C, int NH) {
  return attention_infer_vector(out, q, k, v, mask, offsets, B, T, C, NH, true);
}

void attention_forward_cpu(float* out, float* att, const float* q, const float* k, const float* v, const uint8_t* mask,
                           int B, int T, int C, int NH, float p, uint64_t seed, uint64_t offset) {
  if (!att && p == 0.0f && attention_infer_vector(out, q, k, v, mask, nullptr, B, T, C, NH, false)) return;
  const int HS = C / NH;
  const float scale = 1.0f / std::sqrt((float)HS);
  parallel_for((int64_t)B * NH, 1, [&](int64_t, int64_t i0, int64_t i1) {
    std::vector<float> scores(att ? 0 : (size_t)kQB * T);     // inference: one block of probabilities
    std::vector<float> dropped(p > 0.0f ? (size_t)kQB * T : 0);  // dropout(att) of one block
    for (int64_t bh = i0; bh < i1; bh++) {
      const int b = (int)(bh / NH), h = (int)(bh % NH);
      const size_t base_qkv = (size_t)b * T * C + (size_t)h * HS;
      const uint8_t* m = mask + (size_t)b * T;
      for (int t0 = 0; t0 < T; t0 += kQB) {
        const int rows = T - t0 < kQB ? T - t0 : kQB;
        float* A = att ? att + ((size_t)bh * T + t0) * T : scores.data();
        const size_t row0 = base_qkv + (size_t)t0 * C;
        sgemm_cpu(false, true, rows, T, HS, scale, q + row0, C, k + base_qkv, C, 0.0f, A, T);
        for (int r = 0; r < rows; r++) {
          float* a = A + (size_t)r * T;
          softmax_row(a, m, T);
          if (p > 0.0f) {
            float* d = dropped.data() + (size_t)r * T;
            dropout_keep_cpu(d, T, p, seed, offset, ((uint64_t)bh * T + t0 + r) * T);
            for (int t2 = 0; t2 < T; t2++) d[t2] *= a[t2];
          }
        }
        // out rows (rows, HS) = dropout(att rows) V
        sgemm_cpu(false, false, rows, HS, T, 1.0f, p > 0.0f ? dropped.data() : A, T, v + base_qkv, C, 0.0f,
                  out + row0, C);
      }
    }
  });
}

void attention_backward_cpu(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k,
                            const float* v, const float* att, int B, int T, int C, int NH, float p, uint64_t seed,
                            uint64_t offset) {
  const int HS = C / NH;
  const float scale = 1.0f / std::sqrt((float)HS);
  parallel_for((int64_t)B * NH, 1, [&](int64_t, int64_t i0, int64_t i1) {
    std::vector<float> dropped(p > 0.0f ? (size_t)T * T : 0);  // keep multipliers, then dropout(att)
    std::vector<float> keep(p > 0.0f ? (size_t)T * T : 0);
    std::vector<float> ds((size_t)T * T);
    for (int64_t bh = i0; bh < i1; bh++) {
      const int b = (int)(bh / NH), h = (int)(bh % NH);
      const size_t base_qkv = (size_t)b * T * C + (size_t)h * HS;
      const float* A = att + (size_t)bh * T * T;
      if (p > 0.0f) {
        dropout_keep_cpu(keep.data(), (int64_t)T * T, p, seed, offset, (uint64_t)bh * T * T);
        for (size_t i = 0; i < (size_t)T * T; i++) dropped[i] = A[i] * keep[i];
      }
      // dv (T, HS) = dropout(att)ᵀ · dout
      sgemm_cpu(true, false, T, HS, T, 1.0f, p > 0.0f ? dropped.data() : A, T, dout + base_qkv, C, 0.0f,
                dv + base_qkv, C);
      // d(dropout(att)) (T, T) = dout · Vᵀ
      sgemm_cpu(false, true, T, T, HS, 1.0f, dout + base_qkv, C, v + base_qkv, C, 0.0f, ds.data(), T);
      // through dropout and softmax: ds = att ⊙ (da - Σ att ⊙ da) · scale, with da = d(dropout(att)) ⊙ keep
      for (int t = 0; t < T; t++) {
        const float* a = A + (size_t)t * T;
        float* d = ds.data() + (size_t)t * T;
        if (p > 0.0f) {
          const float* kp = keep.data() + (size_t)t * T;
          for (int t2 = 0; t2 < T; t2++) d[t2] *= kp[t2];
        }
        float sum = 0.0f;
#pragma omp simd reduction(+ : sum)
        for (int t2 = 0; t2 < T; t2++) sum += a[t2] * d[t2];
        for (int t2 = 0; t2 < T; t2++) d[t2] = a[t2] * (d[t2] - sum) * scale;
      }
      // dq (T, HS) = ds · K;  dk (T, HS) = dsᵀ · Q
      sgemm_cpu(false, false, T, HS, T, 1.0f, ds.data(), T, k + base_qkv, C, 0.0f, dq + base_qkv, C);
      sgemm_cpu(true, false, T, HS, T, 1.0f, ds.data(), T, q + base_qkv, C, 0.0f, dk + base_qkv, C);
    }
  });
}

}  // namespace pkg
