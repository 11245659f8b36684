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

// Returns the first 32-bit word of Philox4x32-10 for counter (index, offset) and key seed.
PKG_HD uint32_t philox_u32(uint64_t seed, uint64_t offset, uint64_t index) {
  uint32_t c0 = (uint32_t)index, c1 = (uint32_t)(index >> 32), c2 = (uint32_t)offset, c3 = (uint32_t)(offset >> 32);
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
  return c0;
}

// Uniform in [0, 1) with 24 random bits (exactly representable in float).
PKG_HD float philox_uniform(uint64_t seed, uint64_t offset, uint64_t index) {
  return (float)(philox_u32(seed, offset, index) >> 8) * (1.0f / 16777216.0f);
}

// Dropout multiplier for element `index`: 0 when dropped, 1/(1-p) when kept; 1 when p == 0.
PKG_HD float dropout_scale(float p, uint64_t seed, uint64_t offset, uint64_t index) {
  if (p <= 0.0f) return 1.0f;
  return philox_uniform(seed, offset, index) >= p ? 1.0f / (1.0f - p) : 0.0f;
}

}  // namespace pkg
