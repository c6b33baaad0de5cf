// The lean protocol's per-block enclave loops (see lean_kernels.h).
//
// quantizeMaskPack, AVX2, 8 elements at a time: the noise words become exact doubles
// (an integer below 2^24 times 2^−24), x·scale is exact (a power of two), so the sum has one
// rounding and floor/clamp give the scalar result; q − s0 − d is centred with one masked ±P
// each way (|q − s0 − d| ≤ 128 + 2·HALF = P + 127); the 8 results are packed into 24 bytes
// (pack24.cc's shuffle).
//
// reconstructTwo: the sum of two centred values is within ±(P − 1), so two masked ±P centre
// it in integers; the scale 2^k is applied in float32 when 2^k is a normal float32 and the
// product cannot overflow (k ∈ [−126, 100]): float(r) is exact (|r| < 2^21), the product of
// two floats is rounded once, exactly like float(double(r) · 2^k), and |r| ≥ 1 keeps every
// nonzero result normal. Other scales take the double path.
#include "lean_kernels.h"

#include <cmath>

#include "modp.h"
#include "pack24.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define GOTEN_LEAN_X86 1
#endif

namespace goten {
namespace lean {
namespace {

constexpr int32_t P = P_I;
constexpr int32_t HALF = HALF_I;
constexpr double NOISE_STEP = 1.0 / 16777216.0;

inline int32_t centre2(int32_t t) {
  t -= P & ((HALF - t) >> 31);  // t > HALF  → t − P
  t += P & ((t + HALF) >> 31);  // t < −HALF → t + P
  return t;
}

inline int32_t quantizeOne(float x, uint32_t w, double scale) {
  double t = double(x) * scale + double(int32_t(w >> 8)) * NOISE_STEP;
  t = t < -129.0 ? -129.0 : t;
  t = t > 128.0 ? 128.0 : t;
  int32_t i = int32_t(t);       // toward zero
  i -= int32_t(double(i) > t);  // floor
  i = i < -128 ? -128 : i;
  return i > 127 ? 127 : i;
}

void quantizeMaskPackScalar(const float* x, const uint32_t* noise, double scale, const int32_t* s0, const int32_t* d, int32_t* q,
                            uint8_t* packed, size_t m) {
  for (size_t k = 0; k < m; k++) {
    const int32_t qk = quantizeOne(x[k], noise[k], scale);
    if (q) q[k] = qk;
    if (!packed) continue;
    const uint32_t e = uint32_t(centre2(qk - s0[k] - d[k]));
    packed[3 * k] = uint8_t(e);
    packed[3 * k + 1] = uint8_t(e >> 8);
    packed[3 * k + 2] = uint8_t(e >> 16);
  }
}

int32_t reconstructTwoScalar(const int32_t* acc, double scale, float* out, size_t m, int32_t mx) {
  for (size_t k = 0; k < m; k++) {
    const int32_t r = centre2(acc[k]);
    out[k] = float(double(r) * scale);
    const int32_t a = r < 0 ? -r : r;
    mx = a > mx ? a : mx;
  }
  return mx;
}

#ifdef GOTEN_LEAN_X86
const bool kAvx2 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") != 0;
}();

__attribute__((target("avx2"))) inline __m256i centre2Avx2(__m256i t) {
  const __m256i p = _mm256_set1_epi32(P), half = _mm256_set1_epi32(HALF);
  t = _mm256_sub_epi32(t, _mm256_and_si256(p, _mm256_srai_epi32(_mm256_sub_epi32(half, t), 31)));
  return _mm256_add_epi32(t, _mm256_and_si256(p, _mm256_srai_epi32(_mm256_add_epi32(t, half), 31)));
}

// floor(x·s + g) clamped to [−128, 127], for 4 lanes
__attribute__((target("avx2"))) inline __m128i quantize4(__m128 x, __m128i g24, __m256d s) {
  const __m256d step = _mm256_set1_pd(NOISE_STEP), lo = _mm256_set1_pd(-128.0), hi = _mm256_set1_pd(127.0);
  __m256d t = _mm256_add_pd(_mm256_mul_pd(_mm256_cvtps_pd(x), s), _mm256_mul_pd(_mm256_cvtepi32_pd(g24), step));
  t = _mm256_min_pd(_mm256_max_pd(_mm256_floor_pd(t), lo), hi);
  return _mm256_cvttpd_epi32(t);
}

__attribute__((target("avx2"))) void quantizeMaskPackAvx2(const float* x, const uint32_t* noise, double scale, const int32_t* s0,
                                                           const int32_t* d, int32_t* q, uint8_t* packed, size_t m) {
  const __m256d s = _mm256_set1_pd(scale);
  const __m256i keep3 = _mm256_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1,  //
                                         0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
  const __m256i join = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
  size_t k = 0;
  for (; k + 8 <= m; k += 8) {
    const __m256 xv = _mm256_loadu_ps(x + k);
    const __m256i g = _mm256_srli_epi32(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(noise + k)), 8);
    const __m128i q0 = quantize4(_mm256_castps256_ps128(xv), _mm256_castsi256_si128(g), s);
    const __m128i q1 = quantize4(_mm256_extractf128_ps(xv, 1), _mm256_extracti128_si256(g, 1), s);
    const __m256i qv = _mm256_set_m128i(q1, q0);
    if (q) _mm256_storeu_si256(reinterpret_cast<__m256i*>(q + k), qv);
    if (!packed) continue;
    const __m256i sv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s0 + k));
    const __m256i dv = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(d + k));
    const __m256i e = centre2Avx2(_mm256_sub_epi32(_mm256_sub_epi32(qv, sv), dv));
    const __m256i p = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(e, keep3), join);
    uint8_t* o = packed + 3 * k;
    _mm_storeu_si128(reinterpret_cast<__m128i*>(o), _mm256_castsi256_si128(p));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(o + 16), _mm256_extracti128_si256(p, 1));
  }
  quantizeMaskPackScalar(x + k, noise + k, scale, s0 + k, d + k, q ? q + k : nullptr, packed ? packed + 3 * k : nullptr, m - k);
}

__attribute__((target("avx2"))) int32_t reconstructTwoAvx2(const int32_t* acc, double scale, float* out, size_t m, int32_t mx) {
  int e = 0;
  std::frexp(scale, &e);  // scale = 2^(e − 1)
  const bool floatPath = e - 1 >= -126 && e - 1 <= 100;
  const __m256 sf = _mm256_set1_ps(float(scale));
  const __m256d sd = _mm256_set1_pd(scale);
  __m256i vmax = _mm256_set1_epi32(mx);
  size_t k = 0;
  for (; k + 8 <= m; k += 8) {
    const __m256i r = centre2Avx2(_mm256_loadu_si256(reinterpret_cast<const __m256i*>(acc + k)));
    vmax = _mm256_max_epi32(vmax, _mm256_abs_epi32(r));
    if (floatPath) {
      _mm256_storeu_ps(out + k, _mm256_mul_ps(_mm256_cvtepi32_ps(r), sf));
    } else {
      _mm_storeu_ps(out + k, _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_castsi256_si128(r)), sd)));
      _mm_storeu_ps(out + k + 4, _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtepi32_pd(_mm256_extracti128_si256(r, 1)), sd)));
    }
  }
  __m128i x = _mm_max_epi32(_mm256_castsi256_si128(vmax), _mm256_extracti128_si256(vmax, 1));
  x = _mm_max_epi32(x, _mm_shuffle_epi32(x, 0x4E));
  x = _mm_max_epi32(x, _mm_shuffle_epi32(x, 0xB1));
  return reconstructTwoScalar(acc + k, scale, out + k, m - k, _mm_cvtsi128_si32(x));
}
#endif

}  // namespace

void quantizeMaskPack(const float* x, const uint32_t* noise, double scale, const int32_t* s0, const int32_t* d, int32_t* q,
                      uint8_t* packed, size_t m) {
#ifdef GOTEN_LEAN_X86
  if (kAvx2) return quantizeMaskPackAvx2(x, noise, scale, s0, d, q, packed, m);
#endif
  quantizeMaskPackScalar(x, noise, scale, s0, d, q, packed, m);
}

int32_t reconstructTwo(const int32_t* acc, double scale, float* out, size_t m, int32_t maxIn) {
#ifdef GOTEN_LEAN_X86
  if (kAvx2) return reconstructTwoAvx2(acc, scale, out, m, maxIn);
#endif
  return reconstructTwoScalar(acc, scale, out, m, maxIn);
}

}  // namespace lean
}  // namespace goten
