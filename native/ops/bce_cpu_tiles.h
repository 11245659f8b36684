// Private to the loss CPU twin (bce_cpu.cpp, bce_cpu_avx2.cpp, bce_cpu_avx512.cpp): the tile machinery
// every instruction set shares. rows_body walks a chunk of rows in tiles (DB: R_n first), gathers the
// targets, weights and mask of a tile, and runs one element loop: tile_loop (bce.h's formulas, vectorised
// by the compiler for the ISA of the function it is inlined into) or, in the x86 files, the hand-written
// loops of bce_cpu_vec.h over the file's vector trait. Each ISA file instantiates rows_body inside functions
// compiled for its instruction set (target attributes, so no per-file compiler flags) and exports one
// selector.
//
// Linkage: the code here is in an anonymous namespace, so each file has its own copy compiled for its own
// ISA (a shared inline copy could be merged by the linker into AVX-512 code that a portable caller then
// runs). Only Ctx, the function-pointer types and the selectors are shared between the files.
#pragma once

#if defined(__GNUC__) && !defined(__clang__)  // Clang if-converts without it (and has no such pragma)
// The element loop must be if-converted to vectorise; GCC refuses to speculate a division or a select
// under -ftrapping-math (FP exception flags, which nothing here reads). Results are unchanged.
#pragma GCC optimize("no-trapping-math")
#endif
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "../core/common.h"
#include "../core/isa.h"  // cpu_has_avx512/avx2: FUSED_MULTILABEL_NO_AVX512 / NO_AVX2 force a path
#include "../core/parallel.h"
#include "bce.h"

#ifdef FML_HAVE_X86_KERNELS
#include "../core/x86_intrin.h"
#endif

namespace pkg {
namespace bce_cpu {

using bce_math::Params;

constexpr int64_t TILE = 256;

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

using RowsFn = int64_t (*)(const Ctx&, int64_t, int64_t);
using CountFn = int64_t (*)(const BceArgs&, int64_t, int64_t, int64_t*);

#ifdef FML_HAVE_X86_KERNELS
// The selectors of the ISA files: the row function of a kernel variant (hard: DB with hard labels; g2:
// the focal exponent is exactly 2), and the pre-pass.
RowsFn select_rows_avx512(LossVariant kernel, bool hard, bool g2);
CountFn select_count_avx512();
RowsFn select_rows_avx2(LossVariant kernel, bool hard, bool g2);
CountFn select_count_avx2();
#endif

}  // namespace bce_cpu

namespace {

using namespace bce_cpu;

// Reads target i as float.
inline float load_target(const BceArgs& a, int64_t i) {
  switch (a.targets_dtype) {
    case DType::I8: return (float)static_cast<const int8_t*>(a.targets)[i];
    case DType::U8: return (float)static_cast<const uint8_t*>(a.targets)[i];
    default: return static_cast<const float*>(a.targets)[i];
  }
}


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


// The targets of a tile read in place as int8/uint8 by a vector loop (VecLoops::tile with YT = 1 / 2):
// targets, optional mask bytes, ignore value.
struct Raw8 {
  const void* t;
  const uint8_t* m;
  float iv;
};

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
// vectorised element loop. Returns the first bad target index or -1. Loops: VecLoops<O> of an ISA file
// (bce_cpu_vec.h) for BCE, focal γ=2 and DB γ=2, or void (tile_loop only); AVX512: the loops can read
// int8/uint8 targets in place and take whole rows (a trait with a masked tail and load_bytes).
template <LossVariant V, bool HARD, bool G2, class Loops = void, bool AVX512 = false>
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
      constexpr bool vec = !std::is_void_v<Loops>;
      if (V == LossVariant::DistributionBalanced) {
        // DB with γ = 2 (the default): the vector loop tells hard and soft labels apart per vector
        if constexpr (vec && G2) {
          const bool wp = w != c.ones || p != c.ones;
          double ts = 0;
          if (wp)
            bad |= safe ? Loops::template db_tile<HARD, true, true>(T, x, y, w, p, mf, nu, invn, R, P, gs, lbp, go, &ts)
                        : Loops::template db_tile<HARD, true, false>(T, x, y, w, p, mf, nu, invn, R, P, gs, lbp, go, &ts);
          else
            bad |= safe ? Loops::template db_tile<HARD, false, true>(T, x, y, w, p, mf, nu, invn, R, P, gs, lbp, go, &ts)
                        : Loops::template db_tile<HARD, false, false>(T, x, y, w, p, mf, nu, invn, R, P, gs, lbp, go, &ts);
          tile_sum = ts;
          summed = true;
        } else if (!HARD) {
          // Float multi-hot targets are usually exactly 0/1: then one side of DB is evaluated, not both.
          int soft = 0;
          for (int64_t j = 0; j < T; j++) soft |= (y[j] != 0.0f && y[j] != 1.0f) ? 1 : 0;
          if (!soft) bad |= tile_loop<V, true, G2>(T, x, y, w, p, mf, nu, invn, R, P, gs, lb, go);
          else bad |= tile_loop<V, false, G2>(T, x, y, w, p, mf, nu, invn, R, P, gs, lb, go);
        } else {
          bad |= tile_loop<V, HARD, G2>(T, x, y, w, p, mf, nu, invn, R, P, gs, lb, go);
        }
      } else {
        if constexpr (vec && (V == LossVariant::Bce || (V == LossVariant::Focal && G2))) {
          const bool wp = w != c.ones || p != c.ones;
          double ts = 0;
          if (raw8) {
            if constexpr (AVX512) {  // raw8 is false otherwise
              const Raw8 r8{static_cast<const uint8_t*>(a.targets) + i0, a.mask ? a.mask + i0 : nullptr, iv8};
              const bool s8 = a.targets_dtype == DType::I8;
              if (wp)
                bad |= s8 ? Loops::template tile<V, true, true, 1>(T, x, y, w, p, mf, P, gs, lbp, go, &ts, r8)
                          : Loops::template tile<V, true, true, 2>(T, x, y, w, p, mf, P, gs, lbp, go, &ts, r8);
              else
                bad |= s8 ? Loops::template tile<V, false, true, 1>(T, x, y, w, p, mf, P, gs, lbp, go, &ts, r8)
                          : Loops::template tile<V, false, true, 2>(T, x, y, w, p, mf, P, gs, lbp, go, &ts, r8);
            }
          } else if (wp)
            bad |= safe ? Loops::template tile<V, true, true>(T, x, y, w, p, mf, P, gs, lbp, go, &ts)
                        : Loops::template tile<V, true, false>(T, x, y, w, p, mf, P, gs, lbp, go, &ts);
          else
            bad |= safe ? Loops::template tile<V, false, true>(T, x, y, w, p, mf, P, gs, lbp, go, &ts)
                        : Loops::template tile<V, false, false>(T, x, y, w, p, mf, P, gs, lbp, go, &ts);
          tile_sum = ts;
          summed = true;
        } else
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


// The row function of each kernel variant, from a template Rows<V, HARD, G2> with a static run().
template <template <LossVariant, bool, bool> class Rows>
RowsFn pick_variant(LossVariant kernel, bool hard, bool g2) {
  switch (kernel) {
    case LossVariant::Bce: return &Rows<LossVariant::Bce, false, false>::run;
    case LossVariant::Focal: return g2 ? &Rows<LossVariant::Focal, false, true>::run : &Rows<LossVariant::Focal, false, false>::run;
    case LossVariant::Asymmetric: return &Rows<LossVariant::Asymmetric, false, false>::run;
    case LossVariant::DistributionBalanced: break;
  }
  if (g2) return hard ? &Rows<LossVariant::DistributionBalanced, true, true>::run : &Rows<LossVariant::DistributionBalanced, false, true>::run;
  return hard ? &Rows<LossVariant::DistributionBalanced, true, false>::run : &Rows<LossVariant::DistributionBalanced, false, false>::run;
}

}  // namespace
}  // namespace pkg

#ifdef FML_HAVE_X86_KERNELS
// The entry points of an ISA file (after its trait): rows_body and the pre-pass compiled for the target
// attribute FML_VEC_TARGET (the remaining arguments are rows_body's Loops and AVX512), and the two selectors.
#define FML_BCE_ISA_ENTRY(name, ...)                                                                        \
  namespace pkg {                                                                                          \
  namespace {                                                                                              \
  template <LossVariant V, bool HARD, bool G2>                                                             \
  struct name##_rows {                                                                                     \
    __attribute__((target(FML_VEC_TARGET))) static int64_t run(const Ctx& c, int64_t r0, int64_t r1) {    \
      return rows_body<V, HARD, G2, __VA_ARGS__>(c, r0, r1);                                               \
    }                                                                                                      \
  };                                                                                                       \
  __attribute__((target(FML_VEC_TARGET))) int64_t count_##name(const BceArgs& a, int64_t r0, int64_t r1,   \
                                                              int64_t* n) {                               \
    return count_body(a, r0, r1, n);                                                                       \
  }                                                                                                        \
  }                                                                                                        \
  RowsFn bce_cpu::select_rows_##name(LossVariant k, bool hard, bool g2) { return pick_variant<name##_rows>(k, hard, g2); } \
  CountFn bce_cpu::select_count_##name() { return &count_##name; }                                         \
  }
#endif
