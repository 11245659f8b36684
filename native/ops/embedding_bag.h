// Embedding bag (the n-gram model's input layer: a pooled sum of hashed feature rows) and the sparse
// ("lazy") AdamW update of the rows a batch used.
//
// Forward, bag b holding the rows ids[offsets[b] .. offsets[b+1]) (n_b of them):
//   scale[b] = 0 when n_b = 0, else 1/n_b (Mean) or 1/√n_b (SqrtN)
//   out[b,:] = scale[b] · Σ_i weight[ids[i],:]                                            (=)
// Backward, to the U distinct rows the batch used, its occurrences grouped by row (CSR: the occurrences
// of distinct row u are occ_bag[row_ptr[u] .. row_ptr[u+1]), each naming its bag):
//   drows[u,:] = Σ_i scale[occ_bag[i]] · dout[occ_bag[i],:]                                (=)
//   summed in the given order on both twins (deterministic, no atomics).
// Sparse AdamW, for each u with r = rows[u] (distinct): adamw_update (adamw.h, PyTorch's order) on
//   weight[r,:], m[r,:], v[r,:] with drows[u,:] and the global step t; rows not listed keep their
//   parameters and moments unchanged (no decay while unused: LazyAdam semantics).
//
// weight, m, v (V,C); ids (nnz) int32 in [0,V); offsets (B+1) int32, offsets[0] = 0, non-decreasing;
// out (B,C); scale (B); dout (B,C); occ_bag (nnz) int32 in [0,B); row_ptr (U+1) int32; rows (U) int32;
// drows (U,C). The caller validates the index arrays before any kernel runs.
#pragma once

#include <cstddef>
#include <cstdint>

#include "adamw.h"

#ifdef FML_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace pkg {

enum class BagMode : int { Mean = 0, SqrtN = 1 };

PKG_HD float bag_scale(int32_t n, BagMode mode) {
  if (n <= 0) return 0.0f;
  return mode == BagMode::Mean ? 1.0f / (float)n : 1.0f / sqrtf((float)n);
}

void embedding_bag_forward_cpu(float* out, float* scale, const float* weight, const int32_t* ids,
                               const int32_t* offsets, BagMode mode, int B, int C);
void embedding_bag_backward_cpu(float* drows, const float* dout, const float* scale, const int32_t* occ_bag,
                                const int32_t* row_ptr, int U, int C);
void sparse_adamw_cpu(float* weight, float* m, float* v, const float* drows, const int32_t* rows,
                      const AdamWParams& a, int U, int C);

#ifdef FML_HAVE_CUDA
void embedding_bag_forward_cuda(float* out, float* scale, const float* weight, const int32_t* ids,
                                const int32_t* offsets, BagMode mode, int B, int C, cudaStream_t stream);
void embedding_bag_backward_cuda(float* drows, const float* dout, const float* scale, const int32_t* occ_bag,
                                 const int32_t* row_ptr, int U, int C, cudaStream_t stream);
void sparse_adamw_cuda(float* weight, float* m, float* v, const float* drows, const int32_t* rows,
                       const AdamWParams& a, int U, int C, cudaStream_t stream);
#endif

}  // namespace pkg
