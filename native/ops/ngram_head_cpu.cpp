// CPU kernels of ngram_head.h. The element loops run over contiguous lanes (outputs o for the forward, inputs i
// for the backward, columns k for the update), each lane its own double sum in its own order, so the compiler
// vectorises them (an AVX2 clone on x86-64) without changing a result; no FMA contraction in this file.
#if defined(__clang__)
#pragma clang fp contract(off)
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif
#include <cstddef>
#include <vector>

#include "../core/parallel.h"
#include "../core/simd.h"
#include "ngram_head.h"

namespace pkg {

namespace {

// Rows [n0, n1) of the forward: s (O doubles) starts at b, then s[o] += x[n,i]·Wt[i,o] for i in order.
PKG_SIMD_CLONES void forward_rows(float* __restrict y, const float* __restrict x, const float* __restrict Wt,
                                  const float* __restrict b, int64_t n0, int64_t n1, int64_t I, int64_t O,
                                  double* __restrict s) {
  for (int64_t n = n0; n < n1; n++) {
    for (int64_t o = 0; o < O; o++) s[o] = (double)b[o];
    for (int64_t i = 0; i < I; i++) {
      const double xi = (double)x[n * I + i];
      const float* __restrict w = Wt + i * O;
      for (int64_t o = 0; o < O; o++) s[o] += xi * (double)w[o];
    }
    for (int64_t o = 0; o < O; o++) y[n * O + o] = (float)s[o];
  }
}

// d[0, I) = float(d + g·v) element by element
PKG_SIMD_CLONES void axpy_rounded(float* __restrict d, double g, const float* __restrict v, int64_t I) {
  for (int64_t i = 0; i < I; i++) d[i] = (float)((double)d[i] + g * (double)v[i]);
}

PKG_SIMD_CLONES void scale_range(float* __restrict x, int64_t b, int64_t e, double s) {
  for (int64_t i = b; i < e; i++) x[i] = (float)((double)x[i] * s);
}

}  // namespace

void dense_forward_cpu(float* y, const float* x, const float* W, const float* b, int64_t B, int64_t I, int64_t O) {
  if (B <= 0 || O <= 0) return;
  std::vector<float> Wt((std::size_t)(I * O));  // W transposed: the outputs of one input contiguous
  for (int64_t o = 0; o < O; o++)
    for (int64_t i = 0; i < I; i++) Wt[(std::size_t)(i * O + o)] = W[o * I + i];
  const int64_t grain = O * I >= (1 << 16) ? 1 : (1 << 16) / (O * I + 1) + 1;  // rows per chunk: at least ~64K products
  parallel_for(B, grain, [&](int64_t, int64_t n0, int64_t n1) {
    std::vector<double> s((std::size_t)O);
    forward_rows(y, x, Wt.data(), b, n0, n1, I, O, s.data());
  });
}

void dense_backward_cpu(float* dW, float* db, float* dx, const float* dy, const float* x, const float* W, int64_t B,
                        int64_t I, int64_t O) {
  for (int64_t i = 0; i < O * I; i++) dW[i] = 0.0f;
  for (int64_t o = 0; o < O; o++) db[o] = 0.0f;
  if (dx)
    for (int64_t i = 0; i < B * I; i++) dx[i] = 0.0f;
  const int64_t grain_o = B * I >= (1 << 16) ? 1 : (1 << 16) / (B * I + 1) + 1;
  // dW and db: each output's row takes the rows n in order
  parallel_for(O, grain_o, [&](int64_t, int64_t o0, int64_t o1) {
    for (int64_t o = o0; o < o1; o++)
      for (int64_t n = 0; n < B; n++) {
        const float g = dy[n * O + o];
        if (g == 0.0f) continue;
        db[o] = (float)((double)db[o] + (double)g);
        axpy_rounded(dW + o * I, (double)g, x + n * I, I);
      }
  });
  if (!dx) return;
  // dx: each row n takes the outputs o in order
  const int64_t grain_n = O * I >= (1 << 16) ? 1 : (1 << 16) / (O * I + 1) + 1;
  parallel_for(B, grain_n, [&](int64_t, int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; n++)
      for (int64_t o = 0; o < O; o++) {
        const float g = dy[n * O + o];
        if (g != 0.0f) axpy_rounded(dx + n * I, (double)g, W + o * I, I);
      }
  });
}


void scale_rounded_cpu(float* x, int64_t n, double s) {
  parallel_for(n, 1 << 14, [&](int64_t, int64_t b, int64_t e) { scale_range(x, b, e, s); });
}

void rows_sgd_cpu(float* p, const float* g, const int32_t* rows, int64_t U, int64_t K, double step) {
  parallel_for(U, K >= 4096 ? 1 : 4096 / K + 1, [&](int64_t, int64_t u0, int64_t u1) {
    for (int64_t u = u0; u < u1; u++) axpy_rounded(p + (int64_t)rows[u] * K, -step, g + u * K, K);
  });
}

}  // namespace pkg
