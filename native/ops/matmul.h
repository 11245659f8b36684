// Matrix product with bias in PyTorch Linear layout: out = inp · weightᵀ + bias.
//
// N rows (= B·T), C input channels, OC output channels.
//   inp (N, C), weight (OC, C), bias (OC) or null, out (N, OC).
// Backward: dinp (N, C) = dout · weight (or += when accumulate is set: q, k and v share one input);
//           dweight (OC, C) += doutᵀ · inp;  dbias (OC) += Σ_rows dout.  dinp/dweight/dbias may be null.
// CPU: OpenBLAS cblas_sgemm when built with it (FML_HAVE_OPENBLAS; single-threaded calls on row slices
// spread over parallel_for, so one thread pool serves everything), else a cache-blocked kernel over
// parallel_for. CUDA: a shared-memory tiled kernel (64×64 tiles) with 4×4 register blocking per thread.
#pragma once

#include <cstddef>
#include <cstdint>

#ifdef FML_HAVE_CUDA
#include <cuda_runtime.h>
#endif

namespace pkg {

// Row-major C (M,N) = alpha · op(A) · op(B) + beta · C, op(X) = X or Xᵀ. The BLAS-shaped core of the CPU twin.
void sgemm_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* B, int64_t ldb, float beta, float* Cm, int64_t ldc);
// The same product with OpenBLAS's own threading (num_threads() threads), for benchmarks: sgemm_cpu
// instead splits rows over parallel_for and runs OpenBLAS single-threaded per slice.
void sgemm_library_threads_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                               const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* Cm,
                               int64_t ldc);
const char* sgemm_backend();  // "OpenBLAS" or "built-in"
// Sets the BLAS library's thread count and returns the previous one (1 for the built-in kernel). Callers
// that run many small products from parallel_for set 1 around them, so threads do not nest.
int sgemm_set_threads(int n);

void matmul_forward_cpu(float* out, const float* inp, const float* weight, const float* bias, int64_t N, int C, int OC);
void matmul_backward_cpu(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                         const float* weight, int64_t N, int C, int OC, bool accumulate);

#ifdef FML_HAVE_CUDA
void sgemm_cuda(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                const float* B, int64_t ldb, float beta, float* Cm, int64_t ldc, cudaStream_t stream);
void matmul_forward_cuda(float* out, const float* inp, const float* weight, const float* bias, int64_t N, int C, int OC,
                         cudaStream_t stream);
void matmul_backward_cuda(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                          const float* weight, int64_t N, int C, int OC, bool accumulate, cudaStream_t stream);
#endif

}  // namespace pkg
