// CPU twin of dropout.h. Masks come in blocks from dropout_keep_cpu, whose Philox loop runs over
// counters with no branches, so GCC vectorises it ("no-trapping-math" lets the float compare become a
// select; an AVX2 clone, and for the Philox loop an AVX-512 one, is picked at load time on x86-64). Same values as dropout_scale, element by element.
#if defined(__GNUC__) && !defined(__clang__)  // Clang if-converts without it (and has no such pragma)
#pragma GCC optimize("no-trapping-math")
#endif
#include "../core/parallel.h"
#include "../core/simd.h"
#include "dropout.h"

namespace pkg {

namespace {
constexpr int64_t kBlock = 1024;  // elements per mask block (on the stack)

// keep[4g + j] for counters g0 .. g0 + ng - 1. Integer arithmetic (Philox) and one exact comparison, so every
// clone gives the same bits: an AVX-512 clone too (16 counters per vector), where the float kernels stop at AVX2.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
__attribute__((target_clones("avx512f", "avx2", "default")))
#endif
void keep_groups(float* __restrict keep, int64_t ng, float p, uint64_t seed, uint64_t offset,
                                 uint64_t g0) {
  const float scale = 1.0f / (1.0f - p);
  for (int64_t g = 0; g < ng; g++) {
    uint32_t r[4];
    philox4x32(seed, offset, g0 + (uint64_t)g, r);
    for (int j = 0; j < 4; j++) keep[4 * g + j] = (float)(r[j] >> 8) * (1.0f / 16777216.0f) >= p ? scale : 0.0f;
  }
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
    keep_groups(tmp, ng, p, seed, offset, idx >> 2);
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
