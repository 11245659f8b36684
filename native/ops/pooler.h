// Sequence pooling and the head activations.
//
// pool_forward: out (B,C) = inp[b,0,:] (mode Cls) or the mean of inp[b,t,:] over tokens with mask 1
// (mode Mean; a row with no real token gives zeros). inp (B,T,C), mask (B,T).
// pool_backward: dinp (B,T,C) = (not +=) the scatter of dout (B,C).
// act_forward/backward: tanh (BERT pooler) or ReLU (DistilBERT pre_classifier), on N elements;
// the backward uses the saved output: tanh' = 1 - y², relu' = [y > 0]. dinp may alias dout.
#pragma once

#include <cstddef>
#include <cstdint>

#include "../core/half.h"  // PKG_HD

#ifdef FML_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace pkg {

enum class PoolMode { Cls = 0, Mean = 1 };
enum class Activation { Tanh = 0, Relu = 1 };

PKG_HD float act_grad_from_output(Activation a, float y) { return a == Activation::Tanh ? 1.0f - y * y : (y > 0.0f ? 1.0f : 0.0f); }

void pool_forward_cpu(float* out, const float* inp, const uint8_t* mask, int B, int T, int C, PoolMode mode);
void pool_backward_cpu(float* dinp, const float* dout, const uint8_t* mask, int B, int T, int C, PoolMode mode);
void act_forward_cpu(float* out, const float* inp, int64_t N, Activation a);
void act_backward_cpu(float* dinp, const float* dout, const float* out, int64_t N, Activation a);

#ifdef FML_HAVE_CUDA
void pool_forward_cuda(float* out, const float* inp, const uint8_t* mask, int B, int T, int C, PoolMode mode,
                       cudaStream_t stream);
void pool_backward_cuda(float* dinp, const float* dout, const uint8_t* mask, int B, int T, int C, PoolMode mode,
                        cudaStream_t stream);
void act_forward_cuda(float* out, const float* inp, int64_t N, Activation a, cudaStream_t stream);
void act_backward_cuda(float* dinp, const float* dout, const float* out, int64_t N, Activation a, cudaStream_t stream);
#endif

}  // namespace pkg
