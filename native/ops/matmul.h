// Matrix product with bias in PyTorch Linear layout: out = inp · weightᵀ + bias, then optionally GELU
// (erf form, gelu.h) and + residual, both fused into the store of each output tile.
//
// N rows (= B·T), C input channels, OC output channels.
//   inp (N, C), weight (OC, C), bias (OC) or null, residual (N, OC) or null, out (N, OC).
//   out = [gelu](inp · weightᵀ + bias) + residual; out aliases neither inp nor residual.
// Backward: dinp (N, C) = dout · weight (or += when accumulate is set: q, k and v share one input);
//           dweight (OC, C) += doutᵀ · inp;  dbias (OC) += Σ_rows dout.  dinp/dweight/dbias may be null.
// CPU: the package's own SGEMM (sgemm_cpu.cpp: packed panels, AVX-512 / AVX2 / portable micro-kernels
// picked at run time, threads over macro-tiles), no BLAS library needed. CUDA: a shared-memory tiled
// kernel (64×64 tiles) with 4×4 register blocking per thread and the same epilogue in its store.
#pragma once

#include <cstddef>
#include <cstdint>

#ifdef FML_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace pkg {

// What sgemm_cpu does to each element of C after the product (in this order): + bias[j], GELU, + residual(i, j).
struct SgemmEpilogue {
  const float* bias = nullptr;      // (N) or null
  bool gelu = false;                // erf-form GELU (gelu_value of gelu.h)
  const float* residual = nullptr;  // (M, ldr) or null; must not alias C
  int64_t ldr = 0;
};

// Row-major C (M,N) = alpha · op(A) · op(B) + beta · C, op(X) = X or Xᵀ, then the epilogue when given.
// beta == 0 never reads C (it may hold NaN). Threads over macro-tiles with parallel_for; runs on the
// calling thread alone when called inside a parallel region or for products under ~0.2 MFLOP.
void sgemm_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* Cm, int64_t ldc, const SgemmEpilogue* epi = nullptr);
// The micro-kernel this process uses: "avx512 14x32", "avx2 6x16" or "portable 4x8"
// ("portable 8x8" on AArch64) (core/isa.h's
// FUSED_MULTILABEL_NO_AVX512 / FUSED_MULTILABEL_NO_AVX2 force the lower paths).
const char* sgemm_path();
// Measured single-thread FMA throughput (GFLOP/s) at that path's vector width, over `rounds` rounds of 24
// independent FMAs: the per-core peak the SGEMM benchmark compares against.
double sgemm_fma_peak_gflops(int64_t rounds);
// OpenBLAS's cblas_sgemm with its own threads (num_threads()), for benchmarks against ours; false (and
// nothing computed) when the build has no OpenBLAS.
bool sgemm_openblas_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                        int64_t lda, const float* B, int64_t ldb, float beta, float* Cm, int64_t ldc);

// ld_inp / ld_out: the row strides of inp and out where they are not C and OC (0: C, OC); residual stays (N, OC).
void matmul_forward_cpu(float* out, const float* inp, const float* weight, const float* bias, const float* residual,
                        int64_t N, int C, int OC, bool gelu, int64_t ld_inp = 0, int64_t ld_out = 0);
void matmul_backward_cpu(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                         const float* weight, int64_t N, int C, int OC, bool accumulate);

#ifdef FML_HAVE_CUDA
void sgemm_cuda(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                const float* B, int64_t ldb, float beta, float* Cm, int64_t ldc, cudaStream_t stream);
void matmul_forward_cuda(float* out, const float* inp, const float* weight, const float* bias, const float* residual,
                         int64_t N, int C, int OC, bool gelu, cudaStream_t stream);
void matmul_backward_cuda(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                          const float* weight, int64_t N, int C, int OC, bool accumulate, cudaStream_t stream);
#endif

}  // namespace pkg
