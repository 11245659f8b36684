// Philox4x32-10 counter-based random numbers (Salmon et al., "Parallel random numbers: as easy as
// 1, 2, 3", SC 2011), shared by the CPU and CUDA twins.
//
// A draw is a pure function of (seed, offset, index): dropout element i of the site with stream
// offset `offset` keeps its value when philox_uniform(seed, offset, i) >= p. Nothing is stored between
// forward and backward: the backward pass regenerates the same mask, on either device.
#pragma once

#include <cstdint>

#include "half.h"  // PKG_HD

namespace pkg {

PKG_HD uint32_t philox_mulhi(uint32_t a, uint32_t b) { return (uint32_t)(((uint64_t)a * (uint64_t)b) >> 32); }

// Philox4x32-10: four 32-bit words for counter (ctr, offset) and key seed.
PKG_HD void philox4x32(uint64_t seed, uint64_t offset, uint64_t ctr, uint32_t out[4]) {
  uint32_t c0 = (uint32_t)ctr, c1 = (uint32_t)(ctr >> 32), c2 = (uint32_t)offset, c3 = (uint32_t)(offset >> 32);
  uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32);
  for (int r = 0; r < 10; r++) {
    const uint32_t lo0 = 0xD2511F53u * c0, hi0 = philox_mulhi(0xD2511F53u, c0);
    const uint32_t lo1 = 0xCD9E8D57u * c2, hi1 = philox_mulhi(0xCD9E8D57u, c2);
    c0 = hi1 ^ c1 ^ k0;
    c1 = lo1;
    c2 = hi0 ^ c3 ^ k1;
    c3 = lo0;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

// Uniform in [0, 1) with 24 random bits (exactly representable in float) for element `index`: word
// index % 4 of counter index / 4, so four consecutive elements share one Philox evaluation.
PKG_HD float philox_uniform(uint64_t seed, uint64_t offset, uint64_t index) {
  uint32_t r[4];
  philox4x32(seed, offset, index >> 2, r);
  return (float)(r[index & 3] >> 8) * (1.0f / 16777216.0f);
}

// Dropout multiplier for element `index`: 0 when dropped, 1/(1-p) when kept; 1 when p == 0.
PKG_HD float dropout_scale(float p, uint64_t seed, uint64_t offset, uint64_t index) {
  if (p <= 0.0f) return 1.0f;
  return philox_uniform(seed, offset, index) >= p ? 1.0f / (1.0f - p) : 0.0f;
}

}  // namespace pkg
