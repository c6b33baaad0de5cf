// What the enclave's non-linear kernels (nn_*.cc) share: exact floating-point
// semantics and the runtime choice between the AVX2 and the portable loops.
//
// Exactness. The TypeScript reference (src/nn/kernels/) computes every element in
// float64, rounding each operation, and rounds once to float32 on store. The kernels
// do the same operations in the same order, so they must never fuse a·b + c into
// one FMA (one rounding instead of two). Include this header first in every nn_*.cc:
// its pragmas switch contraction off for the whole file (GCC contracts by default in
// C++, clang within expressions). The AVX2 functions are additionally compiled for
// target "avx2" only, which has no FMA instructions, and use explicit mul/add
// intrinsics. No -ffast-math anywhere (it would reassociate the sums).
//
// Dispatch. The AVX2 loops are picked at run time (`__builtin_cpu_supports`), never
// required to load; setSimd(false) forces the portable loops (tests compare both
// against the reference). Both give bit-identical results. (simd(), setSimd() and
// cpuHasAvx2() are declared in nn_kernels.h.)
#pragma once

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("fp-contract=off")
#elif defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#endif

#include <cstddef>
#include <cstdint>
#include <cstring>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define GOTEN_NN_X86 1
#define GOTEN_NN_AVX2 __attribute__((target("avx2")))
#else
#define GOTEN_NN_X86 0
#endif
#define GOTEN_NN_INLINE inline __attribute__((always_inline))

namespace goten {
namespace nn {

// The bits of a float as an int32 (and back), without aliasing the memory.
GOTEN_NN_INLINE int32_t bitsOf(float f) {
  int32_t i;
  std::memcpy(&i, &f, 4);
  return i;
}
GOTEN_NN_INLINE float floatOf(int32_t i) {
  float f;
  std::memcpy(&f, &i, 4);
  return f;
}

#if GOTEN_NN_X86
// 4 floats widened to 4 doubles (exact), and 4 doubles rounded to nearest-even floats (as a store to a
// Float32Array in JS).
GOTEN_NN_AVX2 GOTEN_NN_INLINE __m256d load4(const float* p) { return _mm256_cvtps_pd(_mm_loadu_ps(p)); }
GOTEN_NN_AVX2 GOTEN_NN_INLINE void store4(float* p, __m256d v) { _mm_storeu_ps(p, _mm256_cvtpd_ps(v)); }
#endif

}  // namespace nn
}  // namespace goten
