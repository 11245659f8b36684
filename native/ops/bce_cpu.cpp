// CPU twin of the fused BCE-family loss (see bce.h and shared/LOSS_SPEC.md).
//
// One pass over memory: rows are split into contiguous blocks by parallel_for; each row is processed in
// tiles of up to TILE labels. A tile's targets, weights and mask are first gathered into small local
// arrays (converting int8/uint8 targets, applying label smoothing, checking target range), then one
// branch-free loop computes loss and gradient per element from a single exp(-|x|). That loop works only
// on local restrict arrays, so the compiler vectorises it (an AVX2+FMA clone is picked at run time on
// x86-64; the portable build is SSE2). Row sums of the loss are accumulated in fp64 into a per-row
// array and added up in row order at the end, so the loss does not depend on the thread count.
// The element loop must be if-converted to vectorise; GCC refuses to speculate a division or a select
// under -ftrapping-math (FP exception flags, which nothing here reads). Results are unchanged.
#pragma GCC optimize("no-trapping-math")
#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "../core/common.h"
#include "../core/parallel.h"
#include "bce.h"

namespace pkg {

using bce_math::Params;

namespace {

constexpr int64_t TILE = 256;

std::string fmt_num(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

void check_finite(float v, const char* name) {
  if (!std::isfinite(v)) throw_range(std::string("Expected a finite number for ") + name + " but received " + fmt_num(v));
}

// The per-tile element loop. Everything it touches is a local or restrict array: it vectorises.
template <int V, bool HARD>
inline __attribute__((always_inline)) void tile_body(int64_t T, const float* __restrict x, const float* __restrict y,
                                                     const float* __restrict w, const float* __restrict p,
                                                     const float* __restrict mf, const float* __restrict nu,
                                                     const float* __restrict invn, float R, const Params& P, float gs,
                                                     float* __restrict lout, float* __restrict gout) {
  const Params Q = P;
  for (int64_t j = 0; j < T; j++) {
    float l, g;
    if (V == 0) {
      bce_math::bce_focal_elem<false>(x[j], y[j], w[j], p[j], Q, l, g);
    } else if (V == 1) {
      bce_math::bce_focal_elem<true>(x[j], y[j], w[j], p[j], Q, l, g);
    } else if (V == 2) {
      bce_math::asl_elem(x[j], y[j], w[j], p[j], Q, l, g);
    } else {
      float r = bce_math::db_rebalance(invn[j], R, Q);
      bce_math::db_elem<HARD>(x[j], y[j], w[j], p[j], nu[j], r, Q, l, g);
    }
    const bool use = mf[j] != 0.0f;  // selection, not multiplication: masked NaN/Inf never leak
    lout[j] = use ? l : 0.0f;
    gout[j] = use ? g * gs : 0.0f;
  }
}

template <int V, bool HARD>
void tile_generic(int64_t T, const float* x, const float* y, const float* w, const float* p, const float* mf,
                  const float* nu, const float* invn, float R, const Params& P, float gs, float* lout, float* gout) {
  tile_body<V, HARD>(T, x, y, w, p, mf, nu, invn, R, P, gs, lout, gout);
}

#if defined(__x86_64__) && defined(__GNUC__)
#define FML_HAVE_AVX2_CLONE 1
template <int V, bool HARD>
__attribute__((target("avx2,fma"))) void tile_avx2(int64_t T, const float* x, const float* y, const float* w,
                                                   const float* p, const float* mf, const float* nu, const float* invn,
                                                   float R, const Params& P, float gs, float* lout, float* gout) {
  tile_body<V, HARD>(T, x, y, w, p, mf, nu, invn, R, P, gs, lout, gout);
}
bool cpu_has_avx2() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  return ok;
}
#endif

using TileFn = void (*)(int64_t, const float*, const float*, const float*, const float*, const float*, const float*,
                        const float*, float, const Params&, float, float*, float*);

template <int V, bool HARD>
TileFn pick_tile() {
#ifdef FML_HAVE_AVX2_CLONE
  if (cpu_has_avx2()) return &tile_avx2<V, HARD>;
#endif
  return &tile_generic<V, HARD>;
}

TileFn select_tile(int kind, bool hard) {
  switch (kind) {
    case 0: return pick_tile<0, false>();
    case 1: return pick_tile<1, false>();
    case 2: return pick_tile<2, false>();
    default: return hard ? pick_tile<3, true>() : pick_tile<3, false>();
  }
}

// Reads target i as float; sets *masked when it is the ignore value or the mask says so.
inline float load_target(const BceArgs& a, int64_t i) {
  switch (a.targets_dtype) {
    case DType::I8: return (float)static_cast<const int8_t*>(a.targets)[i];
    case DType::U8: return (float)static_cast<const uint8_t*>(a.targets)[i];
    default: return static_cast<const float*>(a.targets)[i];
  }
}

// Gathers a tile's targets into y (smoothed) and the use-mask into mf; returns the first bad column
// (relative to k0) or -1.
int64_t gather_targets(const BceArgs& a, int64_t i0, int64_t T, float* __restrict y, float* __restrict mf) {
  const bool ign = a.has_ignore_value;
  const float iv = a.ignore_value;
  switch (a.targets_dtype) {
    case DType::I8: {
      const int8_t* t = static_cast<const int8_t*>(a.targets) + i0;
      for (int64_t j = 0; j < T; j++) y[j] = (float)t[j];
      break;
    }
    case DType::U8: {
      const uint8_t* t = static_cast<const uint8_t*>(a.targets) + i0;
      for (int64_t j = 0; j < T; j++) y[j] = (float)t[j];
      break;
    }
    default: std::memcpy(y, static_cast<const float*>(a.targets) + i0, (size_t)T * 4); break;
  }
  if (a.mask) {
    const uint8_t* m = a.mask + i0;
    for (int64_t j = 0; j < T; j++) mf[j] = m[j] != 0 ? 1.0f : 0.0f;
  } else {
    for (int64_t j = 0; j < T; j++) mf[j] = 1.0f;
  }
  if (ign)
    for (int64_t j = 0; j < T; j++) mf[j] = y[j] == iv ? 0.0f : mf[j];
  // Range check (fused): a masked position is never an error.
  int bad = 0;
  for (int64_t j = 0; j < T; j++) bad |= (mf[j] != 0.0f && !bce_math::target_ok(y[j])) ? 1 : 0;
  int64_t first_bad = -1;
  if (bad)
    for (int64_t j = 0; j < T; j++)
      if (mf[j] != 0.0f && !bce_math::target_ok(y[j])) {
        first_bad = j;
        break;
      }
  // Masked targets become 0 so no garbage (e.g. the ignore value -1) reaches the math.
  const float eps = a.label_smoothing;
  if (eps != 0.0f) {
    const float s = 1.0f - eps, h = 0.5f * eps;
    for (int64_t j = 0; j < T; j++) y[j] = mf[j] != 0.0f ? y[j] * s + h : 0.0f;
  } else {
    for (int64_t j = 0; j < T; j++) y[j] = mf[j] != 0.0f ? y[j] : 0.0f;
  }
  return first_bad;
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
    case LossVariant::Bce: out.variant_kind = 0; break;
    case LossVariant::Focal:
      check_finite(a.gamma, "focal.gamma");
      if (a.gamma < 0) throw_range("Expected focal.gamma >= 0 but received " + fmt_num(a.gamma));
      if (a.has_alpha) {
        check_finite(a.alpha, "focal.alpha");
        if (a.alpha < 0 || a.alpha > 1) throw_range("Expected focal.alpha in [0, 1] but received " + fmt_num(a.alpha));
      }
      // γ = 0 without α is BCE: the very same code path, so loss and gradient are identical.
      out.variant_kind = (a.gamma == 0.0f && !a.has_alpha) ? 0 : 1;
      break;
    case LossVariant::Asymmetric:
      check_finite(a.gamma_pos, "asymmetric.gammaPos");
      check_finite(a.gamma_neg, "asymmetric.gammaNeg");
      check_finite(a.clip, "asymmetric.clip");
      if (a.gamma_pos < 0 || a.gamma_neg < 0) throw_range("Expected asymmetric gammas >= 0");
      if (a.clip < 0 || a.clip >= 1) throw_range("Expected asymmetric.clip in [0, 1) but received " + fmt_num(a.clip));
      out.variant_kind = 2;
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
      out.variant_kind = 3;
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
  const int64_t grain = std::max<int64_t>(1, 16384 / K);  // rows per chunk: at least ~16K elements

  // Pre-pass (only when needed): the mask count for 'mean' and/or validation before caller-visible writes.
  // It reads the 1-byte mask or the targets only.
  int64_t count = NK;
  if (masked || a.validate_first) {
    const int64_t chunks = parallel_chunks(N, grain);
    std::vector<int64_t> cnt((size_t)chunks, 0), bad((size_t)chunks, -1);
    parallel_for(N, grain, [&](int64_t c, int64_t r0, int64_t r1) {
      alignas(64) float y[TILE], mf[TILE];
      int64_t local = 0;
      for (int64_t n = r0; n < r1 && bad[c] < 0; n++)
        for (int64_t k0 = 0; k0 < K; k0 += TILE) {
          const int64_t T = std::min(TILE, K - k0);
          int64_t fb = gather_targets(a, n * K + k0, T, y, mf);
          if (fb >= 0) {
            bad[c] = n * K + k0 + fb;
            break;
          }
          float s = 0;
          for (int64_t j = 0; j < T; j++) s += mf[j];
          local += (int64_t)s;
        }
      cnt[c] = local;
    });
    for (int64_t c = 0; c < chunks; c++)
      if (bad[c] >= 0) throw_bad_target(a, bad[c]);
    count = 0;
    for (int64_t c = 0; c < chunks; c++) count += cnt[c];
    if (!masked) count = NK;
  }
  res.count = count;
  const float gs = a.reduction == Reduction::Mean ? (count > 0 ? (float)(1.0 / (double)count) : 0.0f) : 1.0f;

  std::vector<float> nu, inv_n;
  if (prep.variant_kind == 3) {
    nu.resize((size_t)K);
    inv_n.resize((size_t)K);
    bce_db_class_terms(a, nu.data(), inv_n.data());
  }
  const bool hard = a.targets_dtype != DType::F32 && a.label_smoothing == 0.0f;
  const TileFn tile = select_tile(prep.variant_kind, hard);
  const float* logits = static_cast<const float*>(a.logits);
  float* dl = static_cast<float*>(a.dlogits);
  const bool want_sum = a.reduction != Reduction::None;
  std::vector<double> row_sum(want_sum ? (size_t)N : 0);
  const int64_t chunks = parallel_chunks(N, grain);
  std::vector<int64_t> bad((size_t)chunks, -1);
  static const std::vector<float> ones_v((size_t)TILE, 1.0f);
  const float* ones = ones_v.data();
  const Params P = prep.P;

  parallel_for(N, grain, [&](int64_t c, int64_t r0, int64_t r1) {
    alignas(64) float y[TILE], mf[TILE], w[TILE], lb[TILE], gb[TILE];
    for (int64_t n = r0; n < r1; n++) {
      const int64_t row = n * K;
      const float sw = a.sample_weight ? a.sample_weight[n] : 1.0f;
      // DB: R_n = Σ_k y_nk / n_k over the row's unmasked targets, before the element pass (the row is
      // small and stays in cache, so memory is still read once).
      float R = 0.0f;
      if (prep.variant_kind == 3) {
        double Rd = 0;
        for (int64_t k0 = 0; k0 < K; k0 += TILE) {
          const int64_t T = std::min(TILE, K - k0);
          gather_targets(a, row + k0, T, y, mf);
          float s = 0;
          for (int64_t j = 0; j < T; j++) s += y[j] * inv_n[k0 + j];
          Rd += s;
        }
        R = (float)Rd;
      }
      double rs = 0;
      for (int64_t k0 = 0; k0 < K; k0 += TILE) {
        const int64_t T = std::min(TILE, K - k0);
        const int64_t i0 = row + k0;
        int64_t fb = gather_targets(a, i0, T, y, mf);
        if (fb >= 0) {  // fused check: outputs here are private to the call, so stopping is enough
          if (bad[c] < 0) bad[c] = i0 + fb;
          return;
        }
        const float* wp = ones;
        if (a.class_weight || a.element_weight || a.sample_weight) {
          if (a.class_weight)
            for (int64_t j = 0; j < T; j++) w[j] = sw * a.class_weight[k0 + j];
          else
            for (int64_t j = 0; j < T; j++) w[j] = sw;
          if (a.element_weight)
            for (int64_t j = 0; j < T; j++) w[j] *= a.element_weight[i0 + j];
          wp = w;
        }
        const float* pp = a.pos_weight ? a.pos_weight + k0 : ones;
        const float* nup = prep.variant_kind == 3 ? nu.data() + k0 : ones;
        const float* inp = prep.variant_kind == 3 ? inv_n.data() + k0 : ones;
        tile(T, logits + i0, y, wp, pp, mf, nup, inp, R, P, gs, lb, gb);
        if (dl) std::memcpy(dl + i0, gb, (size_t)T * 4);  // may alias logits (inPlace): read before write
        if (want_sum) {
          double acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
          int64_t j = 0;
          for (; j + 8 <= T; j += 8)
            for (int q = 0; q < 8; q++) acc[q] += (double)lb[j + q];
          for (; j < T; j++) acc[0] += (double)lb[j];
          rs += ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        } else {
          std::memcpy(a.loss_out + i0, lb, (size_t)T * 4);
        }
      }
      if (want_sum) row_sum[(size_t)n] = rs;
    }
  });
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
