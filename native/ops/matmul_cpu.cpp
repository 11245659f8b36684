// CPU twin of matmul.h: the Linear forward and backward over sgemm_cpu (sgemm_cpu.cpp), and OpenBLAS's
// sgemm for benchmarks when the build found it.
#include "../core/parallel.h"
#include "matmul.h"

#ifdef FML_HAVE_OPENBLAS
#include <cblas.h>
#endif

namespace pkg {

bool sgemm_openblas_cpu(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                        const float* Bm, int64_t ldb, float beta, float* Cm, int64_t ldc) {
#ifdef FML_HAVE_OPENBLAS
  openblas_set_num_threads(num_threads());
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (blasint)M, (blasint)N,
              (blasint)K, alpha, A, (blasint)lda, Bm, (blasint)ldb, beta, Cm, (blasint)ldc);
  return true;
#else
  return false;
#endif
}

void matmul_forward_cpu(float* out, const float* inp, const float* weight, const float* bias, const float* residual,
                        int64_t N, int C, int OC, bool gelu, int64_t ld_inp, int64_t ld_out) {
  SgemmEpilogue e;
  e.bias = bias;
  e.gelu = gelu;
  e.residual = residual;
  e.ldr = OC;
  sgemm_cpu(false, true, N, OC, C, 1.0f, inp, ld_inp ? ld_inp : C, weight, C, 0.0f, out, ld_out ? ld_out : OC, &e);
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
