// CPU twin of gelu.h. The erf and exp of the header are branch-free polynomials, so these loops
// vectorise: "no-trapping-math" lets GCC turn their clamps into selects (it changes no result, only
// whether FP exception flags could be observed, which nothing reads), and on x86-64 an AVX2 clone is
// picked at load time when the CPU has it.
#if defined(__GNUC__) && !defined(__clang__)  // Clang if-converts without it (and has no such pragma)
#pragma GCC optimize("no-trapping-math")
#endif
#include "../core/parallel.h"
#include "../core/simd.h"
#include "gelu.h"

namespace pkg {

namespace {
PKG_SIMD_CLONES void gelu_forward_range(float* __restrict out, const float* __restrict inp, int64_t n) {
  for (int64_t i = 0; i < n; i++) out[i] = gelu_value(inp[i]);
}

// dinp may alias dout (element i is read before it is written, by the same iteration).
PKG_SIMD_CLONES void gelu_backward_range(float* dinp, const float* dout, const float* __restrict inp, int64_t n) {
  for (int64_t i = 0; i < n; i++) dinp[i] = dout[i] * gelu_grad(inp[i]);
}
}  // namespace

void gelu_forward_cpu(float* out, const float* inp, int64_t N) {
  parallel_for(N, 4096, [&](int64_t, int64_t b, int64_t e) { gelu_forward_range(out + b, inp + b, e - b); });
}

void gelu_backward_cpu(float* dinp, const float* dout, const float* inp, int64_t N) {
  parallel_for(N, 4096, [&](int64_t, int64_t b, int64_t e) { gelu_backward_range(dinp + b, dout + b, inp + b, e - b); });
}

}  // namespace pkg
