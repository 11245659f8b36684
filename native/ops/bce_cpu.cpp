// CPU twin of the fused BCE-family loss (see bce.h and shared/LOSS_SPEC.md): dispatch, the scalar
// reference, the portable path, and the host-side preparation shared with the CUDA twin.
//
// One pass over memory: rows are split into contiguous blocks by parallel_for; each row is processed in
// tiles of up to TILE labels (bce_cpu_tiles.h). A tile's targets, weights and mask are first gathered into
// small local arrays (converting int8/uint8 targets, applying label smoothing, checking target range),
// then one branch-free loop computes loss and gradient per element from a single exp(-|x|). That loop
// works only on local restrict arrays, so the compiler vectorises it: here for the portable build (SSE2,
// NEON), in bce_cpu_avx2.cpp and bce_cpu_avx512.cpp for those instruction sets, which also instantiate
// the hand-written loops of bce_cpu_vec.h for the hot variants (BCE, focal with γ = 2, DB with γ = 2) over
// their vector trait. The path is picked once
// per call from the CPU (core/isa.h). Row sums of the loss are accumulated in fp64 into a per-row array
// and added up in row order at the end, so the loss does not depend on the thread count.
#include "bce_cpu_tiles.h"

namespace pkg {

namespace {

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


template <LossVariant V, bool HARD, bool G2>
struct PortableRows {
  static int64_t run(const Ctx& c, int64_t r0, int64_t r1) { return rows_body<V, HARD, G2>(c, r0, r1); }
};
int64_t count_portable(const BceArgs& a, int64_t r0, int64_t r1, int64_t* n) { return count_body(a, r0, r1, n); }

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


// g2: the focal exponent is exactly 2 (focal, and DB's default), computed as a square.
RowsFn select_rows(LossVariant kernel, bool hard, bool g2) {
  if (reference_requested()) return &rows_reference;
#ifdef FML_HAVE_X86_KERNELS
  if (cpu_has_avx512()) return select_rows_avx512(kernel, hard, g2);
  if (cpu_has_avx2()) return select_rows_avx2(kernel, hard, g2);
#endif
  return pick_variant<PortableRows>(kernel, hard, g2);
}

CountFn select_count() {
#ifdef FML_HAVE_X86_KERNELS
  if (cpu_has_avx512()) return select_count_avx512();
  if (cpu_has_avx2()) return select_count_avx2();
#endif
  return &count_portable;
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

