// SGD and Adam/AdamW updates (formulas in nn_kernels.h). Element i of w and of the state
// depends only on element i and per-step scalars; every element is computed in float64
// with the reference's operations in the reference's order (src/nn/kernels/reference-optim.ts)
// and rounded once per store, so any chunking of the parameter gives the same bits.
// AVX2 runs 4 elements per step in double lanes (mul/add/sub/div/sqrt are correctly rounded,
// so a lane computes exactly what the scalar loop does).
#include "nn_simd.h"
// (nn_simd.h first: its pragmas must precede every function)
#include <cmath>

#include "nn_kernels.h"

namespace goten {
namespace nn {

namespace {

// One element of SGD; returns the new w (b updated in place when momentum > 0).
GOTEN_NN_INLINE float sgdOne(const SgdStep& s, float w, float grad, float* b) {
  const double wd = double(w);
  const double g = double(grad) + s.weightDecay * wd;
  if (b == nullptr) return float(wd - s.lr * g);
  const double bi = s.first ? g : s.momentum * double(*b) + s.dampFactor * g;
  const float bf = float(bi);
  *b = bf;
  const double d = s.nesterov ? g + s.momentum * double(bf) : double(bf);
  return float(wd - s.lr * d);
}

void sgdBase(const SgdStep& s, float* w, const float* g, float* buf, size_t i0, size_t n) {
  for (size_t i = i0; i < n; i++) w[i] = sgdOne(s, w[i], g[i], buf == nullptr ? nullptr : buf + i);
}

GOTEN_NN_INLINE void adamOne(const AdamStep& s, float* w, float g0, float* m, float* v) {
  const double wd = double(*w);
  const double wi = wd * s.shrink;
  const double g = double(g0) + s.l2 * wd;
  const float mi = float(s.beta1 * double(*m) + (1 - s.beta1) * g);
  const float vi = float(s.beta2 * double(*v) + (1 - s.beta2) * g * g);
  *m = mi;
  *v = vi;
  *w = float(wi - (s.stepSize * double(mi)) / (std::sqrt(double(vi)) / s.sqrtBc2 + s.eps));
}

void adamBase(const AdamStep& s, float* w, const float* g, float* m, float* v, size_t i0, size_t n) {
  for (size_t i = i0; i < n; i++) adamOne(s, w + i, g[i], m + i, v + i);
}

#if GOTEN_NN_X86
// Elements [0, n − n mod 4); returns where the scalar tail starts.
GOTEN_NN_AVX2 size_t sgdAvx2(const SgdStep& s, float* w, const float* g, float* buf, size_t n) {
  const __m256d lr = _mm256_set1_pd(s.lr), wdc = _mm256_set1_pd(s.weightDecay);
  const __m256d mu = _mm256_set1_pd(s.momentum), damp = _mm256_set1_pd(s.dampFactor);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d wv = load4(w + i);
    const __m256d gv = _mm256_add_pd(load4(g + i), _mm256_mul_pd(wdc, wv));
    __m256d d = gv;
    if (buf != nullptr) {
      const __m256d bi = s.first ? gv : _mm256_add_pd(_mm256_mul_pd(mu, load4(buf + i)), _mm256_mul_pd(damp, gv));
      const __m128 bf = _mm256_cvtpd_ps(bi);
      _mm_storeu_ps(buf + i, bf);
      const __m256d bd = _mm256_cvtps_pd(bf);
      d = s.nesterov ? _mm256_add_pd(gv, _mm256_mul_pd(mu, bd)) : bd;
    }
    store4(w + i, _mm256_sub_pd(wv, _mm256_mul_pd(lr, d)));
  }
  return i;
}

GOTEN_NN_AVX2 size_t adamAvx2(const AdamStep& s, float* w, const float* g, float* m, float* v, size_t n) {
  const __m256d shrink = _mm256_set1_pd(s.shrink), l2 = _mm256_set1_pd(s.l2);
  const __m256d b1 = _mm256_set1_pd(s.beta1), c1 = _mm256_set1_pd(1 - s.beta1);
  const __m256d b2 = _mm256_set1_pd(s.beta2), c2 = _mm256_set1_pd(1 - s.beta2);
  const __m256d step = _mm256_set1_pd(s.stepSize), bc2 = _mm256_set1_pd(s.sqrtBc2), eps = _mm256_set1_pd(s.eps);
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    const __m256d wv = load4(w + i);
    const __m256d wi = _mm256_mul_pd(wv, shrink);
    const __m256d gv = _mm256_add_pd(load4(g + i), _mm256_mul_pd(l2, wv));
    const __m128 mf = _mm256_cvtpd_ps(_mm256_add_pd(_mm256_mul_pd(b1, load4(m + i)), _mm256_mul_pd(c1, gv)));
    const __m128 vf =
        _mm256_cvtpd_ps(_mm256_add_pd(_mm256_mul_pd(b2, load4(v + i)), _mm256_mul_pd(_mm256_mul_pd(c2, gv), gv)));
    _mm_storeu_ps(m + i, mf);
    _mm_storeu_ps(v + i, vf);
    const __m256d den = _mm256_add_pd(_mm256_div_pd(_mm256_sqrt_pd(_mm256_cvtps_pd(vf)), bc2), eps);
    store4(w + i, _mm256_sub_pd(wi, _mm256_div_pd(_mm256_mul_pd(step, _mm256_cvtps_pd(mf)), den)));
  }
  return i;
}
#endif

}  // namespace

void sgdUpdate(const SgdStep& s, float* w, const float* g, float* buf, size_t n) {
  size_t i = 0;
#if GOTEN_NN_X86
  if (simd()) i = sgdAvx2(s, w, g, buf, n);
#endif
  sgdBase(s, w, g, buf, i, n);
}

void adamUpdate(const AdamStep& s, float* w, const float* g, float* m, float* v, size_t n) {
  size_t i = 0;
#if GOTEN_NN_X86
  if (simd()) i = adamAvx2(s, w, g, m, v, n);
#endif
  adamBase(s, w, g, m, v, i, n);
}

}  // namespace nn
}  // namespace goten
