// PKG_SIMD_CLONES: on x86-64 with GCC, compiles a function twice (AVX2 and the baseline) and picks the
// clone at load time, so the CPU twins' element loops use 256-bit vectors where the CPU has them while
// the binary still runs on any x86-64.
#pragma once

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define PKG_SIMD_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define PKG_SIMD_CLONES
#endif
