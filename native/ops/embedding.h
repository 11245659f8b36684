// Token embeddings: out[b,t,:] = wte[ids[b,t]] + wpe[t] + wtt[tt[b,t]] (the last term only when wtt is set).
//
// ids, tt (B,T) int32 (tt may be null: type 0); wte (V,C), wpe (maxT,C), wtt (TV,C) or null; out (B,T,C).
// Ids are validated by the caller before any kernel runs. Backward scatter-adds (+=) into dwte, dwpe
// (unless null: frozen sinusoidal positions) and dwtt (unless null). Tokens equal to pad_id (>= 0) add
// nothing to dwte, as PyTorch's nn.Embedding(padding_idx) that Hugging Face models use.
#pragma once

#include <cstddef>
#include <cstdint>

#ifdef FML_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace pkg {

void embedding_forward_cpu(float* out, const int32_t* ids, const int32_t* tt, const float* wte, const float* wpe,
                           const float* wtt, int B, int T, int C);
void embedding_backward_cpu(float* dwte, float* dwpe, float* dwtt, const float* dout, const int32_t* ids,
                            const int32_t* tt, int B, int T, int C, int pad_id);

#ifdef FML_HAVE_CUDA
void embedding_forward_cuda(float* out, const int32_t* ids, const int32_t* tt, const float* wte, const float* wpe,
                            const float* wtt, int B, int T, int C, cudaStream_t stream);
void embedding_backward_cuda(float* dwte, float* dwpe, float* dwtt, const float* dout, const int32_t* ids,
                             const int32_t* tt, int B, int T, int C, int pad_id, cudaStream_t stream);
#endif

}  // namespace pkg
