// Run-time ISA selection for the hand-written CPU kernels (loss kernels, SGEMM), once per process.
// FUSED_MULTILABEL_NO_AVX512=1 forces the AVX2 paths (to test them, or where AVX-512 downclocks);
// FUSED_MULTILABEL_NO_AVX2=1 forces the portable paths (it implies no AVX-512 either).
#pragma once

#include <cstdlib>

#if defined(__x86_64__) && defined(__GNUC__)
#define FML_HAVE_X86_KERNELS
#endif

namespace pkg {

#ifdef FML_HAVE_X86_KERNELS
inline bool cpu_has_avx512() {
  static const bool ok = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                         __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512bw") &&
                         !std::getenv("FUSED_MULTILABEL_NO_AVX512") && !std::getenv("FUSED_MULTILABEL_NO_AVX2");
  return ok;
}
inline bool cpu_has_avx2() {
  static const bool ok = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                         !std::getenv("FUSED_MULTILABEL_NO_AVX2");
  return ok;
}
#else
inline bool cpu_has_avx512() { return false; }
inline bool cpu_has_avx2() { return false; }
#endif

}  // namespace pkg
