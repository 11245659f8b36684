// fp16 / bf16 <-> fp32 conversions, round-to-nearest-even, usable on host and device.
// Storage only: all arithmetic happens in fp32.
#pragma once

#include <cstdint>
#include <cstring>

#ifdef __CUDACC__
#define PKG_HD __host__ __device__ __forceinline__
#else
#define PKG_HD inline
#endif

namespace pkg {

PKG_HD uint32_t f32_bits(float f) {
#ifdef __CUDA_ARCH__
  return __float_as_uint(f);
#else
  uint32_t u;
  std::memcpy(&u, &f, 4);
  return u;
#endif
}

PKG_HD float bits_f32(uint32_t u) {
#ifdef __CUDA_ARCH__
  return __uint_as_float(u);
#else
  float f;
  std::memcpy(&f, &u, 4);
  return f;
#endif
}

PKG_HD uint16_t f32_to_bf16(float f) {
  uint32_t u = f32_bits(f);
  if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40u);  // quiet NaN
  u += 0x7fffu + ((u >> 16) & 1u);
  return (uint16_t)(u >> 16);
}

PKG_HD float bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

PKG_HD uint16_t f32_to_f16(float f) {
  uint32_t x = f32_bits(f);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t ax = x & 0x7fffffffu;
  if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u));
  if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);  // rounds to >= 65520: overflow to inf
  if (ax < 0x38800000u) {                                     // result is subnormal or zero
    if (ax < 0x33000000u) return (uint16_t)sign;              // below half the smallest subnormal
    uint32_t mant = (ax & 0x7fffffu) | 0x800000u;
    int shift = 113 - (int)(ax >> 23) + 13;                   // 14..24
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1u);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1u))) half++;
    return (uint16_t)(sign | half);
  }
  uint32_t r = ax + 0xfffu + ((ax >> 13) & 1u);  // round mantissa to 10 bits, ties to even
  return (uint16_t)(sign | (((r >> 13) - (112u << 10)) & 0xffffu));
}

PKG_HD float f16_to_f32(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) return bits_f32(sign | 0x7f800000u | (mant << 13));
  if (exp == 0) {
    if (mant == 0) return bits_f32(sign);
    // subnormal: value = mant * 2^-24
    float v = (float)mant * 5.9604644775390625e-8f;
    return sign ? -v : v;
  }
  return bits_f32(sign | ((exp + 112u) << 23) | (mant << 13));
}

}  // namespace pkg
