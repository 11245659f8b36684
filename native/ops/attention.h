// Bidirectional multi-head self-attention with a key-padding mask.
//
// B batch, T tokens, C = NH·HS channels, NH heads, HS head size. q, k, v, out (B,T,C) with head h in
// channels [h·HS, (h+1)·HS); mask (B,T) uint8, 1 = real token; att (B,NH,T,T) softmax probabilities
// (before dropout), saved for backward, or null (inference: the probabilities are never stored).
//   scores[t,t2] = q[t]·k[t2] / √HS, or the most negative float (as Hugging Face's finfo.min) when
//   mask[t2] == 0, so a fully padded row is uniform instead of NaN; att = softmax(scores);
//   out[t] = Σ_t2 dropout(att)[t,t2] · v[t2], dropout element index ((b·NH + h)·T + t)·T + t2.
// Backward: dq, dk, dv (B,T,C) = (not +=).
#pragma once

#include <cstddef>
#include <cstdint>

#ifdef FML_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace pkg {

void attention_forward_cpu(float* out, float* att, const float* q, const float* k, const float* v, const uint8_t* mask,
                           int B, int T, int C, int NH, float p, uint64_t seed, uint64_t offset);
// The kernel attention_forward_cpu runs for inference (att null, p 0) at this head size: "avx512" or "avx2"
// (head sizes 16, 32, 64 on those ISAs, see core/isa.h) or "generic" (sgemm_cpu and a scalar-ISA softmax).
const char* attention_infer_path(int head_size);
// The inference forward on packed rows (no padding stored): text b's tokens are rows offsets[b] ..
// offsets[b+1] of q, k, v and out (offsets: B + 1 prefix sums), and mask (B,T) holds each text's real tokens
// as a prefix of ones. Each real row gets the same bits as attention_forward_cpu on the padded layout. Runs
// only where attention_infer_path(C / NH) names a vector kernel; returns false (nothing done) elsewhere.
bool attention_infer_packed_cpu(float* out, const float* q, const float* k, const float* v, const uint8_t* mask,
                                const int64_t* offsets, int B, int T, int C, int NH);
// The same for the first token's query only (the row a Cls or Pooler pooling reads from the last layer): q and
// out (B, C) hold row b for text b; k, v and mask as above, in the packed layout (offsets) or the padded one
// (offsets null: (B,T,C)). Each out row gets the bits of that row of a full forward. False (nothing done) where
// attention_infer_path(C / NH) is "generic".
bool attention_infer_first_cpu(float* out, const float* q, const float* k, const float* v, const uint8_t* mask,
                                const int64_t* offsets, int B, int T, int C, int NH);
void attention_backward_cpu(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k,
                            const float* v, const float* att, int B, int T, int C, int NH, float p, uint64_t seed,
                            uint64_t offset);

#ifdef FML_HAVE_CUDA
void attention_forward_cuda(float* out, float* att, const float* q, const float* k, const float* v,
                            const uint8_t* mask, int B, int T, int C, int NH, float p, uint64_t seed, uint64_t offset,
                            cudaStream_t stream);
void attention_backward_cuda(float* dq, float* dk, float* dv, const float* dout, const float* q, const float* k,
                             const float* v, const float* att, int B, int T, int C, int NH, float p, uint64_t seed,
                             uint64_t offset, cudaStream_t stream);
#endif

}  // namespace pkg
