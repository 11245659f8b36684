// CPU twin of embedding.h.
#include "../core/parallel.h"
#include "embedding.h"

namespace pkg {

void embedding_forward_cpu(float* out, const int32_t* ids, const int32_t* tt, const float* wte, const float* wpe,
                           const float* wtt, int B, int T, int C) {
  parallel_for((int64_t)B * T, 16, [&](int64_t, int64_t b0, int64_t b1) {
    for (int64_t bt = b0; bt < b1; bt++) {
      const int t = (int)(bt % T);
      const float* we = wte + (size_t)ids[bt] * C;
      const float* pe = wpe + (size_t)t * C;
      const float* te = wtt ? wtt + (size_t)(tt ? tt[bt] : 0) * C : nullptr;
      float* o = out + bt * C;
      if (te)
        for (int c = 0; c < C; c++) o[c] = we[c] + pe[c] + te[c];
      else
        for (int c = 0; c < C; c++) o[c] = we[c] + pe[c];
    }
  });
}

void embedding_backward_cpu(float* dwte, float* dwpe, float* dwtt, const float* dout, const int32_t* ids,
                            const int32_t* tt, int B, int T, int C, int pad_id) {
  // Channels split over threads: repeated token ids never race, and rows are added in order.
  parallel_for(C, 32, [&](int64_t, int64_t c0, int64_t c1) {
    for (int64_t bt = 0; bt < (int64_t)B * T; bt++) {
      const float* d = dout + bt * C;
      if (ids[bt] != pad_id) {
        float* we = dwte + (size_t)ids[bt] * C;
        for (int64_t c = c0; c < c1; c++) we[c] += d[c];
      }
      if (dwpe) {
        float* pe = dwpe + (size_t)(bt % T) * C;
        for (int64_t c = c0; c < c1; c++) pe[c] += d[c];
      }
      if (dwtt) {
        float* te = dwtt + (size_t)(tt ? tt[bt] : 0) * C;
        for (int64_t c = c0; c < c1; c++) te[c] += d[c];
      }
    }
  });
}

}  // namespace pkg
