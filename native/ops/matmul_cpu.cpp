// CPU twin of matmul.h: OpenBLAS when available, else a cache-blocked kernel parallelised over rows.
#include <cstring>
#include <vector>

#include "../core/parallel.h"
#include "matmul.h"

#ifdef FML_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace pkg {


#ifndef FML_HAVE_OPENBLAS
// Built-in kernel: C rows are split over threads; each thread walks K in blocks so the touched rows of
// op(B) stay in cache, and the innermost loop runs over contiguous j so it vectorises.
static void sgemm_builtin(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                          const float* Bm, int64_t ldb, float beta, float* Cm, int64_t ldc) {
  const int64_t KB = 128;
  parallel_for(M, 8, [&](int64_t, int64_t i0, int64_t i1) {
    std::vector<float> bt;  // op(B) block transposed to (KB, N) rows when B is given transposed
    std::vector<float> acc((size_t)N);
    for (int64_t i = i0; i < i1; i++) {
      float* c = Cm + i * ldc;
      if (beta == 0.0f) std::memset(c, 0, sizeof(float) * (size_t)N);
      else if (beta != 1.0f) for (int64_t j = 0; j < N; j++) c[j] *= beta;
    }
    for (int64_t k0 = 0; k0 < K; k0 += KB) {
      const int64_t k1 = k0 + KB < K ? k0 + KB : K;
      if (tb) {
        bt.resize((size_t)((k1 - k0) * N));
        for (int64_t j = 0; j < N; j++)
          for (int64_t kk = k0; kk < k1; kk++) bt[(size_t)((kk - k0) * N + j)] = Bm[j * ldb + kk];
      }
      for (int64_t i = i0; i < i1; i++) {
        std::memset(acc.data(), 0, sizeof(float) * (size_t)N);
        for (int64_t kk = k0; kk < k1; kk++) {
          const float a = ta ? A[kk * lda + i] : A[i * lda + kk];
          if (a == 0.0f) continue;
          const float* b = tb ? bt.data() + (kk - k0) * N : Bm + kk * ldb;
          float* acc_p = acc.data();
          for (int64_t j = 0; j < N; j++) acc_p[j] += a * b[j];
        }
        float* c = Cm + i * ldc;
        for (int64_t j = 0; j < N; j++) c[j] += alpha * acc[(size_t)j];
      }
    }
  });
}
#endif

int sgemm_set_threads(int n) {
#ifdef FML_HAVE_OPENBLAS
  const int prev = openblas_get_num_threads();
  if (n != prev) openblas_set_num_threads(n);
  return prev;
#else
  return 1;
#endif
}

#ifdef FML_HAVE_OPENBLAS
// Row-split products: the rows of C are divided over parallel_for chunks, each running a single-threaded
// OpenBLAS product on its slice. One thread pool (OpenMP) serves the whole encoder, instead of OpenMP
// and OpenBLAS's own threads taking turns (and spinning) on the same cores. Small products run whole.
static void sgemm_rows(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                       const float* Bm, int64_t ldb, float beta, float* Cm, int64_t ldc) {
  const int prev = sgemm_set_threads(1);
  const int64_t grain = (M * N * K < (int64_t)1 << 22) ? M : 32;  // below ~4 MFLOP one call is cheaper
  parallel_for(M, grain, [&](int64_t, int64_t i0, int64_t i1) {
    const float* a = ta ? A + i0 : A + i0 * lda;
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)(i1 - i0),
                (blasint)N, (blasint)K, alpha, a, (blasint)lda, Bm, (blasint)ldb, beta, Cm + i0 * ldc, (blasint)ldc);
  });
  sgemm_set_threads(prev);
}
#endif

void sgemm_cpu(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
               const float* Bm, int64_t ldb, float beta, float* Cm, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
#ifdef FML_HAVE_OPENBLAS
  sgemm_rows(ta, tb, M, N, K, alpha, A, lda, Bm, ldb, beta, Cm, ldc);
#else
  sgemm_builtin(ta, tb, M, N, K, alpha, A, lda, Bm, ldb, beta, Cm, ldc);
#endif
}

void sgemm_library_threads_cpu(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
                                int64_t lda, const float* Bm, int64_t ldb, float beta, float* Cm, int64_t ldc) {
#ifdef FML_HAVE_OPENBLAS
  const int prev = sgemm_set_threads(num_threads());
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)M, (blasint)N,
              (blasint)K, alpha, A, (blasint)lda, Bm, (blasint)ldb, beta, Cm, (blasint)ldc);
  sgemm_set_threads(prev);
#else
  sgemm_cpu(ta, tb, M, N, K, alpha, A, lda, Bm, ldb, beta, Cm, ldc);
#endif
}

const char* sgemm_backend() {
#ifdef FML_HAVE_OPENBLAS
  return "OpenBLAS";
#else
  return "built-in";
#endif
}

void matmul_forward_cpu(float* out, const float* inp, const float* weight, const float* bias, int64_t N, int C,
                        int OC) {
  // Start from the bias rows, then accumulate inp · weightᵀ (beta = 1): one pass over out.
  if (bias) {
    parallel_for(N, 64, [&](int64_t, int64_t b, int64_t e) {
      for (int64_t n = b; n < e; n++) std::memcpy(out + n * OC, bias, sizeof(float) * (size_t)OC);
    });
  }
  sgemm_cpu(false, true, N, OC, C, 1.0f, inp, C, weight, C, bias ? 1.0f : 0.0f, out, OC);
}

void matmul_backward_cpu(float* dinp, float* dweight, float* dbias, const float* dout, const float* inp,
                         const float* weight, int64_t N, int C, int OC, bool accumulate) {
  if (dinp) sgemm_cpu(false, false, N, C, OC, 1.0f, dout, OC, weight, C, accumulate ? 1.0f : 0.0f, dinp, C);
  if (dweight) sgemm_cpu(true, false, OC, C, N, 1.0f, dout, OC, inp, C, 1.0f, dweight, C);
  if (dbias) {
    // Columns split over threads; rows summed in order, so the result does not depend on the thread count.
    parallel_for(OC, 64, [&](int64_t, int64_t b, int64_t e) {
      for (int64_t n = 0; n < N; n++) {
        const float* d = dout + n * OC;
        for (int64_t o = b; o < e; o++) dbias[o] += d[o];
      }
    });
  }
}

}  // namespace pkg
