// Batch normalisation forward (training and inference) and backward (see nn_kernels.h for
// the formulas). Channel by channel: the statistics pass(es) over the channel's B planes,
// then one elementwise pass; a channel of a VGG layer (B·S ≤ 32 K floats) stays in L2
// between the passes. Every expression is evaluated in float64 in the reference's order.
#include "nn_simd.h"
// (nn_simd.h first: its pragmas must precede every function)
#include <cmath>

#include "nn_kernels.h"

namespace goten {
namespace nn {

namespace {

// Per-channel constants of the elementwise passes.
struct Affine {
  double mean, inv, gamma, beta;
};

// h = (x − μ)·inv;  xhat = f32(h);  y = f32(γ·h + β)   over the B planes of channel c.
void normalizeBase(ChannelShape s, size_t c, Affine a, const float* x, float* xhat, float* y) {
  for (size_t b = 0; b < s.B; b++) {
    const size_t off = (b * s.C + c) * s.S;
    for (size_t j = off; j < off + s.S; j++) {
      const double h = (double(x[j]) - a.mean) * a.inv;
      xhat[j] = float(h);
      y[j] = float(a.gamma * h + a.beta);
    }
  }
}

// trained: dx = f32(k·((N·dy − Σdy) − xhat·Σ(xhat·dy))), k = γ·inv/N;  eval: dx = f32(k·dy), k = γ·inv.
void gradInputBase(ChannelShape s, size_t c, bool trained, double k, double n, double sdy, double sxdy,
                   const float* dy, const float* xhat, float* dx) {
  for (size_t b = 0; b < s.B; b++) {
    const size_t off = (b * s.C + c) * s.S;
    if (trained)
      for (size_t j = off; j < off + s.S; j++) dx[j] = float(k * ((n * double(dy[j]) - sdy) - double(xhat[j]) * sxdy));
    else
      for (size_t j = off; j < off + s.S; j++) dx[j] = float(k * double(dy[j]));
  }
}

#if GOTEN_NN_X86
GOTEN_NN_AVX2 void normalizeAvx2(ChannelShape s, size_t c, Affine a, const float* x, float* xhat, float* y) {
  const __m256d mu = _mm256_set1_pd(a.mean), inv = _mm256_set1_pd(a.inv);
  const __m256d g = _mm256_set1_pd(a.gamma), bt = _mm256_set1_pd(a.beta);
  for (size_t b = 0; b < s.B; b++) {
    const size_t off = (b * s.C + c) * s.S, end = off + s.S;
    size_t j = off;
    for (; j + 4 <= end; j += 4) {
      const __m256d h = _mm256_mul_pd(_mm256_sub_pd(load4(x + j), mu), inv);
      store4(xhat + j, h);
      store4(y + j, _mm256_add_pd(_mm256_mul_pd(g, h), bt));
    }
    for (; j < end; j++) {
      const double h = (double(x[j]) - a.mean) * a.inv;
      xhat[j] = float(h);
      y[j] = float(a.gamma * h + a.beta);
    }
  }
}

GOTEN_NN_AVX2 void gradInputAvx2(ChannelShape s, size_t c, bool trained, double k, double n, double sdy, double sxdy,
                                 const float* dy, const float* xhat, float* dx) {
  const __m256d kv = _mm256_set1_pd(k), nv = _mm256_set1_pd(n), sd = _mm256_set1_pd(sdy), sx = _mm256_set1_pd(sxdy);
  for (size_t b = 0; b < s.B; b++) {
    const size_t off = (b * s.C + c) * s.S, end = off + s.S;
    size_t j = off;
    if (trained) {
      for (; j + 4 <= end; j += 4) {
        const __m256d t = _mm256_sub_pd(_mm256_mul_pd(nv, load4(dy + j)), sd);
        store4(dx + j, _mm256_mul_pd(kv, _mm256_sub_pd(t, _mm256_mul_pd(load4(xhat + j), sx))));
      }
      for (; j < end; j++) dx[j] = float(k * ((n * double(dy[j]) - sdy) - double(xhat[j]) * sxdy));
    } else {
      for (; j + 4 <= end; j += 4) store4(dx + j, _mm256_mul_pd(kv, load4(dy + j)));
      for (; j < end; j++) dx[j] = float(k * double(dy[j]));
    }
  }
}
#endif

void normalize(ChannelShape s, size_t c, Affine a, const float* x, float* xhat, float* y) {
#if GOTEN_NN_X86
  if (simd()) return normalizeAvx2(s, c, a, x, xhat, y);
#endif
  normalizeBase(s, c, a, x, xhat, y);
}

void gradInput(ChannelShape s, size_t c, bool trained, double k, double n, double sdy, double sxdy, const float* dy,
               const float* xhat, float* dx) {
#if GOTEN_NN_X86
  if (simd()) return gradInputAvx2(s, c, trained, k, n, sdy, sxdy, dy, xhat, dx);
#endif
  gradInputBase(s, c, trained, k, n, sdy, sxdy, dy, xhat, dx);
}

}  // namespace

void bnForwardTrain(ChannelShape s, BnParams p, const float* x, const float* gamma, const float* beta, float* runMean,
                    float* runVar, float* xhat, float* y, double* invStd) {
  const double n = double(s.B * s.S);
  const double m = p.momentum;
  for (size_t c = 0; c < s.C; c++) {
    const double mean = channelSum(s, x, c) / n;
    const double q = channelSquaredDeviation(s, x, c, mean);
    const double variance = q / n;
    const double inv = 1 / std::sqrt(variance + p.eps);
    runMean[c] = float((1 - m) * double(runMean[c]) + m * mean);
    runVar[c] = float((1 - m) * double(runVar[c]) + m * (n > 1 ? q / (n - 1) : variance));
    invStd[c] = inv;
    normalize(s, c, Affine{mean, inv, double(gamma[c]), double(beta[c])}, x, xhat, y);
  }
}

void bnForwardEval(ChannelShape s, BnParams p, const float* x, const float* gamma, const float* beta,
                   const float* runMean, const float* runVar, float* xhat, float* y, double* invStd) {
  for (size_t c = 0; c < s.C; c++) {
    const double inv = 1 / std::sqrt(double(runVar[c]) + p.eps);
    invStd[c] = inv;
    normalize(s, c, Affine{double(runMean[c]), inv, double(gamma[c]), double(beta[c])}, x, xhat, y);
  }
}

void bnBackward(ChannelShape s, const float* dy, const float* xhat, const float* gamma, const double* invStd,
                bool trained, float* dgamma, float* dbeta, float* dx) {
  const double n = double(s.B * s.S);
  for (size_t c = 0; c < s.C; c++) {
    double sdy, sxdy;
    channelGradSums(s, dy, xhat, c, &sdy, &sxdy);
    dbeta[c] = float(double(dbeta[c]) + sdy);
    dgamma[c] = float(double(dgamma[c]) + sxdy);
    if (dx == nullptr) continue;
    const double k = trained ? (double(gamma[c]) * invStd[c]) / n : double(gamma[c]) * invStd[c];
    gradInput(s, c, trained, k, n, sdy, sxdy, dy, xhat, dx);
  }
}

}  // namespace nn
}  // namespace goten
