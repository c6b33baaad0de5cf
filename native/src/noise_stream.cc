// Counter-based rounding noise (see noise_stream.h).
#include "noise_stream.h"

#include "enclave_kernels.h"
#include "prg_stream.h"
#include "simd_level.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define GOTEN_NOISE_X86 1
#endif

namespace goten {
namespace {

constexpr uint32_t M1 = 0x7feb352du, M2 = 0x846ca68bu;

inline uint32_t mix(uint32_t x) {
  x ^= x >> 16;
  x *= M1;
  x ^= x >> 15;
  x *= M2;
  return x ^ (x >> 16);
}

void wordsScalar(uint32_t base, uint32_t k1, uint32_t* out, size_t n) {
  for (size_t k = 0; k < n; k++) out[k] = mix(mix(base + uint32_t(k)) ^ k1);
}

#ifdef GOTEN_NOISE_X86
__attribute__((target("avx2"))) inline __m256i mixAvx2(__m256i x) {
  x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
  x = _mm256_mullo_epi32(x, _mm256_set1_epi32(int32_t(M1)));
  x = _mm256_xor_si256(x, _mm256_srli_epi32(x, 15));
  x = _mm256_mullo_epi32(x, _mm256_set1_epi32(int32_t(M2)));
  return _mm256_xor_si256(x, _mm256_srli_epi32(x, 16));
}

__attribute__((target("avx2"))) void wordsAvx2(uint32_t base, uint32_t k1, uint32_t* out, size_t n) {
  __m256i c = _mm256_add_epi32(_mm256_set1_epi32(int32_t(base)), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
  const __m256i key = _mm256_set1_epi32(int32_t(k1)), eight = _mm256_set1_epi32(8);
  size_t k = 0;
  for (; k + 8 <= n; k += 8) {
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + k), mixAvx2(_mm256_xor_si256(mixAvx2(c), key)));
    c = _mm256_add_epi32(c, eight);
  }
  wordsScalar(base + uint32_t(k), k1, out + k, n - k);
}

#define GOTEN_NOISE_AVX512 __attribute__((target("avx512f,avx512bw,avx512dq,avx512vl")))
GOTEN_NOISE_AVX512 inline __m512i mixAvx512(__m512i x) {
  x = _mm512_xor_si512(x, _mm512_srli_epi32(x, 16));
  x = _mm512_mullo_epi32(x, _mm512_set1_epi32(int32_t(M1)));
  x = _mm512_xor_si512(x, _mm512_srli_epi32(x, 15));
  x = _mm512_mullo_epi32(x, _mm512_set1_epi32(int32_t(M2)));
  return _mm512_xor_si512(x, _mm512_srli_epi32(x, 16));
}

GOTEN_NOISE_AVX512 void wordsAvx512(uint32_t base, uint32_t k1, uint32_t* out, size_t n) {
  __m512i c = _mm512_add_epi32(_mm512_set1_epi32(int32_t(base)), _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
  const __m512i key = _mm512_set1_epi32(int32_t(k1)), sixteen = _mm512_set1_epi32(16);
  size_t k = 0;
  for (; k + 16 <= n; k += 16) {
    _mm512_storeu_si512(out + k, mixAvx512(_mm512_xor_si512(mixAvx512(c), key)));
    c = _mm512_add_epi32(c, sixteen);
  }
  wordsScalar(base + uint32_t(k), k1, out + k, n - k);
}
#endif

}  // namespace

void NoiseStream::open(const uint8_t key[16], uint64_t streamId) {
  uint32_t w[4];
  prgFirstBlock(key, streamId, w);
  k0_ = w[0];
  k1_ = w[1];
  pos_ = 0;
}

void NoiseStream::words(uint32_t* out, size_t n) {
  const uint32_t base = k0_ + uint32_t(pos_);
  pos_ += n;
#ifdef GOTEN_NOISE_X86
  const simd::Level l = simd::level();
  if (l == simd::Avx512) return wordsAvx512(base, k1_, out, n);
  if (l == simd::Avx2) return wordsAvx2(base, k1_, out, n);
#endif
  wordsScalar(base, k1_, out, n);
}

void NoiseStream::noise(double* out, size_t n) {
  alignas(64) uint32_t w[enclave::BLOCK];
  enclave::inBlocks(n, [&](size_t start, size_t m) {
    words(w, m);
    enclave::mapNoise(w, out + start, m);
  });
}

}  // namespace goten
