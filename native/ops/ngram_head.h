// The n-gram model's dense layers (its optional hidden layer and its classifier) and the SGD update of its
// direct path's rows, on the CPU: the model runs them beside its embedding bags (embedding_bag.h), one batch
// per call. Every float is summed in double in a fixed order, exactly as the TypeScript loops they replace
// did (lib/ngram_model.ts kept its results, bit for bit):
//   dense_forward:  y[n,o] = float(b[o] + Σ_i x[n,i]·W[o,i]), the sum in double over i in order      (=)
//   dense_backward: for n in order, for o in order with g = dy[n,o] ≠ 0:
//                     db[o] = float(db[o] + g); dW[o,i] = float(dW[o,i] + g·x[n,i]) for every i;
//                     dx[n,i] = float(dx[n,i] + g·W[o,i]) (dx optional)                          (=, from 0)
//   rows_sgd:       p[rows[u],k] = float(p[rows[u],k] − step·g[u,k])
//   scale_rounded:  x[i] = float(x[i] · s)
// x (B,I), W (O,I), b (O), y and dy (B,O), dW (O,I), db (O), dx (B,I); p (V,K), rows (U) in [0,V), g (U,K).
// No fused multiply-add: a product is rounded (or exact) before its sum, as in JavaScript. Rows and
// columns are split between the threads where each element's own order of updates is kept, so the thread
// count changes nothing.
#pragma once

#include <cstdint>

namespace pkg {

void dense_forward_cpu(float* y, const float* x, const float* W, const float* b, int64_t B, int64_t I, int64_t O);
void dense_backward_cpu(float* dW, float* db, float* dx, const float* dy, const float* x, const float* W, int64_t B,
                        int64_t I, int64_t O);
void rows_sgd_cpu(float* p, const float* g, const int32_t* rows, int64_t U, int64_t K, double step);
void scale_rounded_cpu(float* x, int64_t n, double s);

}  // namespace pkg
