// 3-byte packing of field elements (see pack24.h).
//
// AVX2, 8 elements at a time. Packing: per 128-bit lane, a byte shuffle keeps bytes 0–2 of
// each int32 (12 bytes, then 4 zero bytes); a dword permutation joins the two lanes' 12
// bytes into the low 24 bytes, stored as 16 + 8. Unpacking: the 24 bytes are loaded as
// 16 + 8, a dword permutation gives each lane its 12 bytes, a byte shuffle puts each
// element's 3 bytes into the top of an int32, and an arithmetic shift by 8 sign-extends.
#include "pack24.h"

#include "modp.h"
#include "simd_level.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define GOTEN_PACK_X86 1
#endif

namespace goten {
namespace pack24 {
namespace {

constexpr int32_t HALF = HALF_I;

inline int32_t load24(const uint8_t* s) {
  return int32_t(uint32_t(s[0]) << 8 | uint32_t(s[1]) << 16 | uint32_t(s[2]) << 24) >> 8;
}

void packScalar(const int32_t* v, uint8_t* d, size_t m) {
  for (size_t k = 0; k < m; k++, d += 3) {
    const uint32_t x = uint32_t(v[k]);
    d[0] = uint8_t(x);
    d[1] = uint8_t(x >> 8);
    d[2] = uint8_t(x >> 16);
  }
}

// `bad`: OR of (HALF − v) | (v + HALF): its sign bit is set iff some v is not centred
int32_t unpackScalar(const uint8_t* s, int32_t* v, size_t m, int32_t bad) {
  for (size_t k = 0; k < m; k++, s += 3) {
    const int32_t x = load24(s);
    v[k] = x;
    bad |= (HALF - x) | (x + HALF);
  }
  return bad;
}

int32_t accumulateScalar(int32_t* acc, const uint8_t* s, size_t m, int32_t bad) {
  for (size_t k = 0; k < m; k++, s += 3) {
    const int32_t x = load24(s);
    acc[k] += x;
    bad |= (HALF - x) | (x + HALF);
  }
  return bad;
}

#ifdef GOTEN_PACK_X86

__attribute__((target("avx2"))) inline __m256i unpack8(const uint8_t* s) {
  const __m128i lo = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s));        // bytes 0–15
  const __m128i hi = _mm_loadl_epi64(reinterpret_cast<const __m128i*>(s + 16));   // bytes 16–23
  const __m256i raw = _mm256_set_m128i(hi, lo);                                    // dwords 0–5 used
  const __m256i spread = _mm256_permutevar8x32_epi32(raw, _mm256_setr_epi32(0, 1, 2, 0, 3, 4, 5, 0));
  const __m256i top = _mm256_shuffle_epi8(
      spread, _mm256_setr_epi8(-1, 0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11,  //
                               -1, 0, 1, 2, -1, 3, 4, 5, -1, 6, 7, 8, -1, 9, 10, 11));
  return _mm256_srai_epi32(top, 8);
}

__attribute__((target("avx2"))) inline __m256i badBits(__m256i x) {
  const __m256i half = _mm256_set1_epi32(HALF);
  return _mm256_or_si256(_mm256_sub_epi32(half, x), _mm256_add_epi32(x, half));
}

__attribute__((target("avx2"))) int32_t horizontalOr(__m256i v) {
  __m128i x = _mm_or_si128(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
  x = _mm_or_si128(x, _mm_shuffle_epi32(x, 0x4E));
  x = _mm_or_si128(x, _mm_shuffle_epi32(x, 0xB1));
  return _mm_cvtsi128_si32(x);
}

__attribute__((target("avx2"))) void packAvx2(const int32_t* v, uint8_t* d, size_t m) {
  const __m256i keep3 = _mm256_setr_epi8(0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1,  //
                                         0, 1, 2, 4, 5, 6, 8, 9, 10, 12, 13, 14, -1, -1, -1, -1);
  const __m256i join = _mm256_setr_epi32(0, 1, 2, 4, 5, 6, 3, 7);
  size_t k = 0;
  for (; k + 8 <= m; k += 8, d += 24) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(v + k));
    const __m256i p = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(x, keep3), join);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(d), _mm256_castsi256_si128(p));
    _mm_storel_epi64(reinterpret_cast<__m128i*>(d + 16), _mm256_extracti128_si256(p, 1));
  }
  packScalar(v + k, d, m - k);
}

__attribute__((target("avx2"))) int32_t unpackAvx2(const uint8_t* s, int32_t* v, size_t m) {
  __m256i bad = _mm256_setzero_si256();
  size_t k = 0;
  for (; k + 8 <= m; k += 8, s += 24) {
    const __m256i x = unpack8(s);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(v + k), x);
    bad = _mm256_or_si256(bad, badBits(x));
  }
  return unpackScalar(s, v + k, m - k, horizontalOr(bad));
}

__attribute__((target("avx2"))) int32_t accumulateAvx2(int32_t* acc, const uint8_t* s, size_t m) {
  __m256i bad = _mm256_setzero_si256();
  size_t k = 0;
  for (; k + 8 <= m; k += 8, s += 24) {
    const __m256i x = unpack8(s);
    __m256i* a = reinterpret_cast<__m256i*>(acc + k);
    _mm256_storeu_si256(a, _mm256_add_epi32(_mm256_loadu_si256(a), x));
    bad = _mm256_or_si256(bad, badBits(x));
  }
  return accumulateScalar(acc + k, s, m - k, horizontalOr(bad));
}

// AVX-512 (F, BW, VBMI), 16 elements at a time: packing is one byte permutation and a 48-byte
// masked store; unpacking a 48-byte masked load, a zeroing byte permutation that puts each
// element's 3 bytes into the top of an int32, and an arithmetic shift by 8.
#define GOTEN_PACK_AVX512 __attribute__((target("avx512f,avx512bw,avx512vbmi")))
constexpr __mmask64 kFirst48 = (__mmask64(1) << 48) - 1;
// byte j of the result: 0 for j % 4 == 0, else source byte 3·(j / 4) + (j % 4) − 1
constexpr __mmask64 kNotLow = 0xEEEEEEEEEEEEEEEEull;

GOTEN_PACK_AVX512 inline __m512i unpack16(const uint8_t* s) {
  alignas(64) static const uint8_t kIdx[64] = {
      0, 0,  1,  2,  0, 3,  4,  5,  0, 6,  7,  8,  0, 9,  10, 11, 0, 12, 13, 14, 0, 15, 16, 17, 0, 18, 19, 20, 0, 21, 22, 23,
      0, 24, 25, 26, 0, 27, 28, 29, 0, 30, 31, 32, 0, 33, 34, 35, 0, 36, 37, 38, 0, 39, 40, 41, 0, 42, 43, 44, 0, 45, 46, 47};
  const __m512i raw = _mm512_maskz_loadu_epi8(kFirst48, s);
  return _mm512_srai_epi32(_mm512_maskz_permutexvar_epi8(kNotLow, _mm512_load_si512(kIdx), raw), 8);
}

GOTEN_PACK_AVX512 inline __mmask16 badMask(__m512i x) {
  return _mm512_cmpgt_epi32_mask(x, _mm512_set1_epi32(HALF)) | _mm512_cmplt_epi32_mask(x, _mm512_set1_epi32(-HALF));
}

GOTEN_PACK_AVX512 void packAvx512(const int32_t* v, uint8_t* d, size_t m) {
  alignas(64) static const uint8_t kIdx[64] = {0,  1,  2,  4,  5,  6,  8,  9,  10, 12, 13, 14, 16, 17, 18, 20,
                                               21, 22, 24, 25, 26, 28, 29, 30, 32, 33, 34, 36, 37, 38, 40, 41,
                                               42, 44, 45, 46, 48, 49, 50, 52, 53, 54, 56, 57, 58, 60, 61, 62};
  const __m512i idx = _mm512_load_si512(kIdx);
  size_t k = 0;
  for (; k + 16 <= m; k += 16, d += 48) _mm512_mask_storeu_epi8(d, kFirst48, _mm512_permutexvar_epi8(idx, _mm512_loadu_si512(v + k)));
  packScalar(v + k, d, m - k);
}

GOTEN_PACK_AVX512 bool unpackAvx512(const uint8_t* s, int32_t* v, size_t m) {
  __mmask16 bad = 0;
  size_t k = 0;
  for (; k + 16 <= m; k += 16, s += 48) {
    const __m512i x = unpack16(s);
    _mm512_storeu_si512(v + k, x);
    bad |= badMask(x);
  }
  return unpackScalar(s, v + k, m - k, bad ? -1 : 0) >= 0;
}

GOTEN_PACK_AVX512 bool accumulateAvx512(int32_t* acc, const uint8_t* s, size_t m) {
  __mmask16 bad = 0;
  size_t k = 0;
  for (; k + 16 <= m; k += 16, s += 48) {
    const __m512i x = unpack16(s);
    _mm512_storeu_si512(acc + k, _mm512_add_epi32(_mm512_loadu_si512(acc + k), x));
    bad |= badMask(x);
  }
  return accumulateScalar(acc + k, s, m - k, bad ? -1 : 0) >= 0;
}
#endif

}  // namespace

void pack(const int32_t* v, uint8_t* dst, size_t m) {
#ifdef GOTEN_PACK_X86
  if (simd::level() == simd::Avx512) return packAvx512(v, dst, m);
  if (simd::level() == simd::Avx2) return packAvx2(v, dst, m);
#endif
  packScalar(v, dst, m);
}

bool unpack(const uint8_t* src, int32_t* v, size_t m) {
#ifdef GOTEN_PACK_X86
  if (simd::level() == simd::Avx512) return unpackAvx512(src, v, m);
  if (simd::level() == simd::Avx2) return unpackAvx2(src, v, m) >= 0;
#endif
  return unpackScalar(src, v, m, 0) >= 0;
}

bool accumulate(int32_t* acc, const uint8_t* src, size_t m) {
#ifdef GOTEN_PACK_X86
  if (simd::level() == simd::Avx512) return accumulateAvx512(acc, src, m);
  if (simd::level() == simd::Avx2) return accumulateAvx2(acc, src, m) >= 0;
#endif
  return accumulateScalar(acc, src, m, 0) >= 0;
}

}  // namespace pack24
}  // namespace goten
