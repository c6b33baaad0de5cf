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
#include "simd_level.h"

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

uint32_t absBits(float v) {
  uint32_t b;
  __builtin_memcpy(&b, &v, 4);
  return b & 0x7FFFFFFFu;
}

uint32_t quantizeMaskPackScalar(const float* x, const uint32_t* noise, double scale, const int32_t* s0, const int32_t* d, int32_t* q,
                                uint8_t* packed, size_t m, uint32_t mx) {
  for (size_t k = 0; k < m; k++) {
    const uint32_t a = absBits(x[k]);
    mx = a > mx ? a : mx;
    const int32_t qk = quantizeOne(x[k], noise[k], scale);
    if (q) q[k] = qk;
    if (!packed) continue;
    const uint32_t e = uint32_t(centre2(qk - s0[k] - d[k]));
    packed[3 * k] = uint8_t(e);
    packed[3 * k + 1] = uint8_t(e >> 8);
    packed[3 * k + 2] = uint8_t(e >> 16);
  }
  return mx;
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

__attribute__((target("avx2"))) uint32_t quantizeMaskPackAvx2(const float* x, const uint32_t* noise, double scale, const int32_t* s0,
                                                               const int32_t* d, int32_t* q, uint8_t* packed, size_t m, uint32_t mx) {
  const __m256d s = _mm256_set1_pd(scale);
  const __m256i absMask = _mm256_set1_epi32(0x7FFFFFFF);
  __m256i vmax = _mm256_set1_epi32(int32_t(mx));
  const __m256i keep3 = _mm256_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1,  //
                                         0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
  const __m256i join = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
  size_t k = 0;
  for (; k + 8 <= m; k += 8) {
    const __m256 xv = _mm256_loadu_ps(x + k);
    vmax = _mm256_max_epu32(vmax, _mm256_and_si256(_mm256_castps_si256(xv), absMask));
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
  __m128i h = _mm_max_epu32(_mm256_castsi256_si128(vmax), _mm256_extracti128_si256(vmax, 1));
  h = _mm_max_epu32(h, _mm_shuffle_epi32(h, 0x4E));
  h = _mm_max_epu32(h, _mm_shuffle_epi32(h, 0xB1));
  return quantizeMaskPackScalar(x + k, noise + k, scale, s0 + k, d + k, q ? q + k : nullptr, packed ? packed + 3 * k : nullptr, m - k,
                                uint32_t(_mm_cvtsi128_si32(h)));
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

// AVX-512 (F, BW, DQ, VL, VBMI), 16 elements at a time: the same operations in 8-lane doubles,
// the centring with compare masks, and the packing as one byte permutation (bytes 0–2 of each
// int32 into the first 48 bytes) and a 48-byte masked store.
#define GOTEN_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl,avx512vbmi")))

GOTEN_AVX512 inline __m512i centre2Avx512(__m512i t) {
  const __m512i p = _mm512_set1_epi32(P), half = _mm512_set1_epi32(HALF), nhalf = _mm512_set1_epi32(-HALF);
  t = _mm512_mask_sub_epi32(t, _mm512_cmpgt_epi32_mask(t, half), t, p);
  return _mm512_mask_add_epi32(t, _mm512_cmplt_epi32_mask(t, nhalf), t, p);
}

GOTEN_AVX512 inline __m256i quantize8(__m256 x, __m256i g24, __m512d s) {
  const __m512d step = _mm512_set1_pd(NOISE_STEP), lo = _mm512_set1_pd(-128.0), hi = _mm512_set1_pd(127.0);
  __m512d t = _mm512_add_pd(_mm512_mul_pd(_mm512_cvtps_pd(x), s), _mm512_mul_pd(_mm512_cvtepi32_pd(g24), step));
  t = _mm512_roundscale_pd(t, _MM_FROUND_TO_NEG_INF | _MM_FROUND_NO_EXC);
  return _mm512_cvttpd_epi32(_mm512_min_pd(_mm512_max_pd(t, lo), hi));
}

GOTEN_AVX512 uint32_t quantizeMaskPackAvx512(const float* x, const uint32_t* noise, double scale, const int32_t* s0, const int32_t* d,
                                              int32_t* q, uint8_t* packed, size_t m, uint32_t mx) {
  const __m512d s = _mm512_set1_pd(scale);
  const __m512i absMask = _mm512_set1_epi32(0x7FFFFFFF);
  __m512i vmax = _mm512_set1_epi32(int32_t(mx));
  alignas(64) static const uint8_t kIdx[64] = {0,  1,  2,  4,  5,  6,  8,  9,  10, 12, 13, 14, 16, 17, 18, 20,
                                               21, 22, 24, 25, 26, 28, 29, 30, 32, 33, 34, 36, 37, 38, 40, 41,
                                               42, 44, 45, 46, 48, 49, 50, 52, 53, 54, 56, 57, 58, 60, 61, 62};
  const __m512i idx = _mm512_load_si512(kIdx);
  const __mmask64 first48 = (__mmask64(1) << 48) - 1;
  size_t k = 0;
  for (; k + 16 <= m; k += 16) {
    const __m512 xv = _mm512_loadu_ps(x + k);
    vmax = _mm512_max_epu32(vmax, _mm512_and_si512(_mm512_castps_si512(xv), absMask));
    const __m512i g = _mm512_srli_epi32(_mm512_loadu_si512(noise + k), 8);
    const __m256i q0 = quantize8(_mm512_castps512_ps256(xv), _mm512_castsi512_si256(g), s);
    const __m256i q1 = quantize8(_mm256_castpd_ps(_mm512_extractf64x4_pd(_mm512_castps_pd(xv), 1)), _mm512_extracti64x4_epi64(g, 1), s);
    const __m512i qv = _mm512_inserti64x4(_mm512_castsi256_si512(q0), q1, 1);
    if (q) _mm512_storeu_si512(q + k, qv);
    if (!packed) continue;
    const __m512i e = centre2Avx512(_mm512_sub_epi32(_mm512_sub_epi32(qv, _mm512_loadu_si512(s0 + k)), _mm512_loadu_si512(d + k)));
    _mm512_mask_storeu_epi8(packed + 3 * k, first48, _mm512_permutexvar_epi8(idx, e));
  }
  return quantizeMaskPackScalar(x + k, noise + k, scale, s0 + k, d + k, q ? q + k : nullptr, packed ? packed + 3 * k : nullptr, m - k,
                                _mm512_reduce_max_epu32(vmax));
}

GOTEN_AVX512 int32_t reconstructTwoAvx512(const int32_t* acc, double scale, float* out, size_t m, int32_t mx) {
  int e = 0;
  std::frexp(scale, &e);  // scale = 2^(e − 1)
  const bool floatPath = e - 1 >= -126 && e - 1 <= 100;
  const __m512 sf = _mm512_set1_ps(float(scale));
  const __m512d sd = _mm512_set1_pd(scale);
  __m512i vmax = _mm512_set1_epi32(mx);
  size_t k = 0;
  for (; k + 16 <= m; k += 16) {
    const __m512i r = centre2Avx512(_mm512_loadu_si512(acc + k));
    vmax = _mm512_max_epi32(vmax, _mm512_abs_epi32(r));
    if (floatPath) {
      _mm512_storeu_ps(out + k, _mm512_mul_ps(_mm512_cvtepi32_ps(r), sf));
    } else {
      _mm256_storeu_ps(out + k, _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_castsi512_si256(r)), sd)));
      _mm256_storeu_ps(out + k + 8, _mm512_cvtpd_ps(_mm512_mul_pd(_mm512_cvtepi32_pd(_mm512_extracti64x4_epi64(r, 1)), sd)));
    }
  }
  return reconstructTwoScalar(acc + k, scale, out + k, m - k, _mm512_reduce_max_epi32(vmax));
}
#endif

}  // namespace

uint32_t quantizeMaskPack(const float* x, const uint32_t* noise, double scale, const int32_t* s0, const int32_t* d, int32_t* q,
                          uint8_t* packed, size_t m, uint32_t maxBits) {
#ifdef GOTEN_LEAN_X86
  const simd::Level l = simd::level();
  if (l == simd::Avx512) return quantizeMaskPackAvx512(x, noise, scale, s0, d, q, packed, m, maxBits);
  if (l == simd::Avx2) return quantizeMaskPackAvx2(x, noise, scale, s0, d, q, packed, m, maxBits);
#endif
  return quantizeMaskPackScalar(x, noise, scale, s0, d, q, packed, m, maxBits);
}

int32_t reconstructTwo(const int32_t* acc, double scale, float* out, size_t m, int32_t maxIn) {
#ifdef GOTEN_LEAN_X86
  const simd::Level l = simd::level();
  if (l == simd::Avx512) return reconstructTwoAvx512(acc, scale, out, m, maxIn);
  if (l == simd::Avx2) return reconstructTwoAvx2(acc, scale, out, m, maxIn);
#endif
  return reconstructTwoScalar(acc, scale, out, m, maxIn);
}

}  // namespace lean
}  // namespace goten
