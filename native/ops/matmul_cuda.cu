// CUDA twin of matmul.h: a tiled SGEMM (64×64 output tile per block, K in steps of 16 through shared
// memory, 256 threads each holding a 4×4 register block), general in transposes and leading dimensions,
// with matmul.h's epilogue (bias, GELU, residual) applied in the store.
#include "cuda_util.cuh"
#include "gelu.h"
#include "matmul.h"

namespace pkg {

// ---------------------------------------------------------------------------------------------------
// CUDA kernels

namespace {
constexpr int BM = 64, BN = 64, BK = 16, TM = 4, TN = 4;

__global__ void sgemm_kernel(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha,
                             const float* __restrict__ A, int64_t lda, const float* __restrict__ B, int64_t ldb,
                             float beta, float* C, int64_t ldc, const float* __restrict__ bias,
                             bool gelu, const float* residual, int64_t ldr) {
  __shared__ float As[BK][BM + 1];
  __shared__ float Bs[BK][BN + 1];
  const int tid = threadIdx.x;
  const int tx = tid % (BN / TN), ty = tid / (BN / TN);  // 16 × 16 threads
  const int64_t row0 = (int64_t)blockIdx.y * BM, col0 = (int64_t)blockIdx.x * BN;
  float acc[TM][TN] = {};
  for (int64_t k0 = 0; k0 < K; k0 += BK) {
    // 256 threads load a 64×16 tile of op(A) and a 16×64 tile of op(B), 4 elements each.
    for (int e = tid; e < BM * BK; e += blockDim.x) {
      const int i = e / BK, k = e % BK;
      const int64_t gi = row0 + i, gk = k0 + k;
      float v = 0.0f;
      if (gi < M && gk < K) v = ta ? A[gk * lda + gi] : A[gi * lda + gk];
      As[k][i] = v;
    }
    for (int e = tid; e < BK * BN; e += blockDim.x) {
      const int k = e / BN, j = e % BN;
      const int64_t gk = k0 + k, gj = col0 + j;
      float v = 0.0f;
      if (gk < K && gj < N) v = tb ? B[gj * ldb + gk] : B[gk * ldb + gj];
      Bs[k][j] = v;
    }
    __syncthreads();
#pragma unroll
    for (int k = 0; k < BK; k++) {
      float a[TM], b[TN];
#pragma unroll
      for (int i = 0; i < TM; i++) a[i] = As[k][ty * TM + i];
#pragma unroll
      for (int j = 0; j < TN; j++) b[j] = Bs[k][tx * TN + j];
#pragma unroll
      for (int i = 0; i < TM; i++)
#pragma unroll
        for (int j = 0; j < TN; j++) acc[i][j] += a[i] * b[j];
    }
    __syncthreads();
  }
#pragma unroll
  for (int i = 0; i < TM; i++) {
    const int64_t gi = row0 + ty * TM + i;
    if (gi >= M) continue;
#pragma unroll
    for (int j = 0; j < TN; j++) {
      const int64_t gj = col0 + tx * TN + j;
      if (gj >= N) continue;
      float* c = C + gi * ldc + gj;
      float v = alpha * acc[i][j] + (beta == 0.0f ? 0.0f : beta * *c);
      if (bias) v += bias[gj];
      if (gelu) v = gelu_value(v);
      if (residual) v += residual[gi * ldr + gj];
      *c = v;
    }
  }
}

// One thread per output channel; adjacent threads read adjacent columns of a row (coalesced).
__global__ void bias_grad_kernel(float* __restrict__ dbias, const float* __restrict__ dout, int64_t N, int OC) {
  const int o = blockIdx.x * blockDim.x + threadIdx.x;
  if (o >= OC) return;
  float s = 0.0f;
  for (int64_t n = 0; n < N; n++) s += dout[n * OC + o];
  dbias[o] += s;
}
}  // namespace

// ---------------------------------------------------------------------------------------------------
// kernel launchers

void sgemm_cuda(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                const float* B, int64_t ldb, float beta, float* C, int64_t ldc, cudaStream_t stream) {
  if (M <= 0 || N <= 0) return;
  dim3 grid((unsigned)((N + BN - 1) / BN), (unsigned)((M + BM - 1) / BM));
  PKG_LAUNCH(sgemm_kernel, grid, 256, 0, stream)(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, nullptr, false,
                                                 nullptr, 0);
  PKG_LAUNCH_CHECK();
}

void matmul_forward_cuda(float* out, const float* inp, const float* weight, const float* bias, const float* residual,
                         int64_t N, int C, int OC, bool gelu, cudaStream_t stream) {
  if (N <= 0 || OC <= 0) return;
  dim3 grid((unsigned)((OC + BN - 1) / BN), (unsigned)((N + BM - 1) / BM));
  PKG_LAUNCH(sgemm_kernel, grid, 256, 0, stream)(false, true, N, OC, C, 1.0f, inp, C, weight, C, 0.0f, out, OC, bias,
                                                 gelu, residual, OC);
  PKG_LAUNCH_CHECK();
}

void matmul_backward_cuda(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                          const float* weight, int64_t N, int C, int OC, bool accumulate, cudaStream_t stream) {
  if (dinp) sgemm_cuda(false, false, N, C, OC, 1.0f, dout, OC, weight, C, accumulate ? 1.0f : 0.0f, dinp, C, stream);
  if (dweight) sgemm_cuda(true, false, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dweight, C, stream);
  if (dbias) {
    PKG_LAUNCH(bias_grad_kernel, (OC + 255) / 256, 256, 0, stream)(dbias, dout, N, OC);
    PKG_LAUNCH_CHECK();
  }
}

}  // namespace pkg
