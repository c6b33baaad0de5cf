// Elementwise loops of the enclave's fused kernels (see enclave_kernels.h).
#include "enclave_kernels.h"

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define GOTEN_ENCLAVE_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define GOTEN_ENCLAVE_CLONES
#endif

namespace goten {
namespace enclave {

namespace {
constexpr double NOISE_STEP = 1.0 / 16777216.0;
}  // namespace

GOTEN_ENCLAVE_CLONES int32_t mapCentredOptimistic(const uint32_t* w, int32_t* out, size_t m) {
  int32_t acc = -1;
  for (size_t k = 0; k < m; k++) {
    const int32_t v = int32_t(w[k] & MASK21);
    acc &= v - P;
    out[k] = v - (P & ((HALF - v) >> 31));  // v > HALF → v − P
  }
  return acc;
}

GOTEN_ENCLAVE_CLONES void mapNoise(const uint32_t* w, double* g, size_t m) {
  for (size_t k = 0; k < m; k++) g[k] = double(int32_t(w[k] >> 8)) * NOISE_STEP;
}

namespace {
// Scalar reference loops (any CPU); the AVX2 versions below give identical results.
void quantizeScalar(const float* x, const double* g, double scale, int32_t* q, size_t m) {
  for (size_t k = 0; k < m; k++) {
    // x·scale is exact (power of two): one rounding, in the addition, as in the reference
    double t = double(x[k]) * scale + g[k];
    t = t < -129.0 ? -129.0 : t;
    t = t > 128.0 ? 128.0 : t;
    int32_t i = int32_t(t);       // toward zero
    i -= int32_t(double(i) > t);  // floor
    i = i < -128 ? -128 : i;
    i = i > 127 ? 127 : i;
    q[k] = i;
  }
}

int32_t reconstructScalar(const int32_t* acc, double scale, float* out, size_t m, int32_t mx) {
  for (size_t k = 0; k < m; k++) {
    const int32_t r = reduceCentredI(double(acc[k]));
    out[k] = float(double(r) * scale);
    const int32_t a = r < 0 ? -r : r;
    mx = a > mx ? a : mx;
  }
  return mx;
}

#if defined(__x86_64__) && defined(__GNUC__)
const bool kAvx2 = [] {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") != 0;
}();

__attribute__((target("avx2"))) void quantizeAvx2(const float* x, const double* g, double scale, int32_t* q, size_t m) {
  const __m256d s = _mm256_set1_pd(scale), lo = _mm256_set1_pd(-128.0), hi = _mm256_set1_pd(127.0);
  size_t k = 0;
  for (; k + 4 <= m; k += 4) {
    const __m256d xd = _mm256_cvtps_pd(_mm_loadu_ps(x + k));
    __m256d t = _mm256_add_pd(_mm256_mul_pd(xd, s), _mm256_loadu_pd(g + k));
    t = _mm256_floor_pd(t);
    t = _mm256_min_pd(_mm256_max_pd(t, lo), hi);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(q + k), _mm256_cvttpd_epi32(t));
  }
  quantizeScalar(x + k, g + k, scale, q + k, m - k);
}

__attribute__((target("avx2"))) int32_t reconstructAvx2(const int32_t* acc, double scale, float* out, size_t m, int32_t mx) {
  const __m256d invp = _mm256_set1_pd(INV_P), pd = _mm256_set1_pd(double(P)), sc = _mm256_set1_pd(scale);
  const __m128i p = _mm_set1_epi32(P), half = _mm_set1_epi32(HALF);
  __m128i vmax = _mm_set1_epi32(mx);
  size_t k = 0;
  for (; k + 4 <= m; k += 4) {
    const __m256d c = _mm256_cvtepi32_pd(_mm_loadu_si128(reinterpret_cast<const __m128i*>(acc + k)));
    const __m256d qd = _mm256_round_pd(_mm256_mul_pd(c, invp), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
    __m128i r = _mm256_cvttpd_epi32(_mm256_sub_pd(c, _mm256_mul_pd(qd, pd)));  // exact integers
    r = _mm_sub_epi32(r, _mm_and_si128(p, _mm_srai_epi32(_mm_sub_epi32(half, r), 31)));
    r = _mm_add_epi32(r, _mm_and_si128(p, _mm_srai_epi32(_mm_add_epi32(r, half), 31)));
    _mm_storeu_ps(out + k, _mm256_cvtpd_ps(_mm256_mul_pd(_mm256_cvtepi32_pd(r), sc)));
    vmax = _mm_max_epi32(vmax, _mm_abs_epi32(r));
  }
  alignas(16) int32_t lanes[4];
  _mm_store_si128(reinterpret_cast<__m128i*>(lanes), vmax);
  for (int i = 0; i < 4; i++) mx = lanes[i] > mx ? lanes[i] : mx;
  return reconstructScalar(acc + k, scale, out + k, m - k, mx);
}
#else
const bool kAvx2 = false;
#endif
}  // namespace

void quantizeBlock(const float* x, const double* g, double scale, int32_t* q, size_t m) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (kAvx2) return quantizeAvx2(x, g, scale, q, m);
#endif
  quantizeScalar(x, g, scale, q, m);
}

GOTEN_ENCLAVE_CLONES void subCentredBlock(const int32_t* q, const int32_t* u, int32_t* out, size_t m) {
  for (size_t k = 0; k < m; k++) {
    int32_t d = q[k] - u[k];
    d -= P & ((HALF - d) >> 31);
    d += P & ((d + HALF) >> 31);
    out[k] = d;
  }
}

GOTEN_ENCLAVE_CLONES void subTwoCentredBlock(const int32_t* q, const int32_t* s, const int32_t* d, int32_t* out, size_t m) {
  for (size_t k = 0; k < m; k++) {
    // |q − s − d| ≤ 128 + 2·HALF = P + 127: one correction either way lands in [−HALF, HALF]
    int32_t t = q[k] - s[k] - d[k];
    t -= P & ((HALF - t) >> 31);
    t += P & ((t + HALF) >> 31);
    out[k] = t;
  }
}

GOTEN_ENCLAVE_CLONES void addBlock(int32_t* acc, const int32_t* p, size_t m) {
  for (size_t k = 0; k < m; k++) acc[k] += p[k];
}

int32_t reconstructBlock(const int32_t* acc, double scale, float* out, size_t m, int32_t maxIn) {
#if defined(__x86_64__) && defined(__GNUC__)
  if (kAvx2) return reconstructAvx2(acc, scale, out, m, maxIn);
#endif
  return reconstructScalar(acc, scale, out, m, maxIn);
}

GOTEN_ENCLAVE_CLONES bool isCentred(const int32_t* v, size_t n) {
  int32_t bad = 0;  // sign bit set iff some HALF − v or v + HALF is negative
  for (size_t k = 0; k < n; k++) bad |= (HALF - v[k]) | (v[k] + HALF);
  return bad >= 0;
}

GOTEN_ENCLAVE_CLONES float maxAbsBlock(const float* x, size_t n, bool* finite) {
  // on the bit patterns: |x| ordered as floats is ordered as integers; exponent all-ones = NaN/Inf
  const uint32_t* b = reinterpret_cast<const uint32_t*>(x);
  uint32_t mx = 0, bad = 0;
  for (size_t i = 0; i < n; i++) {
    const uint32_t a = b[i] & 0x7FFFFFFFu;
    mx = a > mx ? a : mx;
    bad |= uint32_t(a >= 0x7F800000u);
  }
  *finite = bad == 0;
  float m;
  __builtin_memcpy(&m, &mx, 4);
  return m;
}

}  // namespace enclave
}  // namespace goten
