// transpose16: a 16×16 float block transposed in AVX-512 registers, for the packing of sgemm_cpu.cpp and
// the key block of attention_cpu.cpp's inference path. Include only where FML_HAVE_X86_KERNELS is defined,
// and call only from code that runs when core/isa.h's cpu_has_avx512() holds.
#pragma once

#include "../core/x86_intrin.h"

#include <cstdint>

namespace pkg {

// 16 rows of 16 floats (row r at src + r·ld, rows >= nrows read as zero) transposed in registers; column
// j goes to out + j·ostride under `keep` (the lanes a packed panel holds).
__attribute__((target("avx512f"), always_inline)) inline void transpose16(const float* src, int64_t ld, int nrows,
                                                                          float* out, int64_t ostride, __mmask16 keep) {
  __m512 r[16], t[16], u[16];
  for (int i = 0; i < 16; i++) r[i] = i < nrows ? _mm512_loadu_ps(src + i * ld) : _mm512_setzero_ps();
  for (int i = 0; i < 8; i++) {
    t[2 * i] = _mm512_unpacklo_ps(r[2 * i], r[2 * i + 1]);
    t[2 * i + 1] = _mm512_unpackhi_ps(r[2 * i], r[2 * i + 1]);
  }
  for (int g = 0; g < 4; g++) {  // u[4g + c], lane L: column 4L + c of rows 4g .. 4g+3
    u[4 * g + 0] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0x44);
    u[4 * g + 1] = _mm512_shuffle_ps(t[4 * g], t[4 * g + 2], 0xEE);
    u[4 * g + 2] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0x44);
    u[4 * g + 3] = _mm512_shuffle_ps(t[4 * g + 1], t[4 * g + 3], 0xEE);
  }
  for (int c = 0; c < 4; c++) {
    const __m512 a = _mm512_shuffle_f32x4(u[c], u[4 + c], 0x44), b = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0x44);
    const __m512 a2 = _mm512_shuffle_f32x4(u[c], u[4 + c], 0xEE), b2 = _mm512_shuffle_f32x4(u[8 + c], u[12 + c], 0xEE);
    _mm512_mask_storeu_ps(out + c * ostride, keep, _mm512_shuffle_f32x4(a, b, 0x88));
    _mm512_mask_storeu_ps(out + (4 + c) * ostride, keep, _mm512_shuffle_f32x4(a, b, 0xDD));
    _mm512_mask_storeu_ps(out + (8 + c) * ostride, keep, _mm512_shuffle_f32x4(a2, b2, 0x88));
    _mm512_mask_storeu_ps(out + (12 + c) * ostride, keep, _mm512_shuffle_f32x4(a2, b2, 0xDD));
  }
}

}  // namespace pkg
