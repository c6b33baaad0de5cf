// Batch normalisation forward (training and inference) and backward (see nn_kernels.h for
// the formulas). Each pass streams over the whole tensor in memory order with per-channel
// state (lanes, constants) in a workspace frame: the statistics pass(es), then one
// elementwise pass. Every expression is evaluated in float64 in the reference's order.
#include "nn_simd.h"
// (nn_simd.h first: its pragmas must precede every function)
#include <algorithm>
#include <cmath>

#include "nn_kernels.h"
#include "workspace.h"

namespace goten {
namespace nn {

namespace {

// Per-channel constants of an elementwise pass: (mean, inv, γ, β) to normalise,
// (k, unused, Σdy, Σxhat·dy) for the input gradient.
struct Constants {
  double a, b, c, d;
};

// Normalise:  h = (x − mean)·inv;  xhat = f32(h);  y = f32(γ·h + β).
GOTEN_NN_INLINE void normalizeOne(const Constants& k, float x, float* xhat, float* y) {
  const double h = (double(x) - k.a) * k.b;
  *xhat = float(h);
  *y = float(k.c * h + k.d);
}

// Input gradient, trained:  dx = f32(k·((N·dy − Σdy) − xhat·Σ(xhat·dy)));  eval:  dx = f32(k·dy).
GOTEN_NN_INLINE float gradOne(const Constants& k, bool trained, double n, float dy, float xhat) {
  return trained ? float(k.a * ((n * double(dy) - k.c) - double(xhat) * k.d)) : float(k.a * double(dy));
}

void normalizeBase(ChannelShape s, const Constants* k, const float* x, float* xhat, float* y) {
  for (size_t b = 0, i = 0; b < s.B; b++)
    for (size_t c = 0; c < s.C; c++)
      for (size_t j = 0; j < s.S; j++, i++) normalizeOne(k[c], x[i], xhat + i, y + i);
}

void gradInputBase(ChannelShape s, const Constants* k, bool trained, const float* dy, const float* xhat, float* dx) {
  const double n = double(s.B * s.S);
  for (size_t b = 0, i = 0; b < s.B; b++)
    for (size_t c = 0; c < s.C; c++)
      for (size_t j = 0; j < s.S; j++, i++) dx[i] = gradOne(k[c], trained, n, dy[i], xhat[i]);
}

#if GOTEN_NN_X86
GOTEN_NN_AVX2 void normalizeAvx2(ChannelShape s, const Constants* k, const float* x, float* xhat, float* y) {
  for (size_t b = 0, i = 0; b < s.B; b++) {
    for (size_t c = 0; c < s.C; c++) {
      const __m256d mu = _mm256_set1_pd(k[c].a), inv = _mm256_set1_pd(k[c].b);
      const __m256d g = _mm256_set1_pd(k[c].c), bt = _mm256_set1_pd(k[c].d);
      const size_t end = i + s.S;
      for (; i + 4 <= end; i += 4) {
        const __m256d h = _mm256_mul_pd(_mm256_sub_pd(load4(x + i), mu), inv);
        store4(xhat + i, h);
        store4(y + i, _mm256_add_pd(_mm256_mul_pd(g, h), bt));
      }
      for (; i < end; i++) normalizeOne(k[c], x[i], xhat + i, y + i);
    }
  }
}

GOTEN_NN_AVX2 void gradInputAvx2(ChannelShape s, const Constants* k, bool trained, const float* dy, const float* xhat,
                                 float* dx) {
  const double n = double(s.B * s.S);
  const __m256d nv = _mm256_set1_pd(n);
  for (size_t b = 0, i = 0; b < s.B; b++) {
    for (size_t c = 0; c < s.C; c++) {
      const __m256d kv = _mm256_set1_pd(k[c].a), sd = _mm256_set1_pd(k[c].c), sx = _mm256_set1_pd(k[c].d);
      const size_t end = i + s.S;
      if (trained) {
        for (; i + 4 <= end; i += 4) {
          const __m256d t = _mm256_sub_pd(_mm256_mul_pd(nv, load4(dy + i)), sd);
          store4(dx + i, _mm256_mul_pd(kv, _mm256_sub_pd(t, _mm256_mul_pd(load4(xhat + i), sx))));
        }
      } else {
        for (; i + 4 <= end; i += 4) store4(dx + i, _mm256_mul_pd(kv, load4(dy + i)));
      }
      for (; i < end; i++) dx[i] = gradOne(k[c], trained, n, dy[i], xhat[i]);
    }
  }
}
#endif

void normalize(ChannelShape s, const Constants* k, const float* x, float* xhat, float* y) {
#if GOTEN_NN_X86
  if (simd()) return normalizeAvx2(s, k, x, xhat, y);
#endif
  normalizeBase(s, k, x, xhat, y);
}

void gradInput(ChannelShape s, const Constants* k, bool trained, const float* dy, const float* xhat, float* dx) {
#if GOTEN_NN_X86
  if (simd()) return gradInputAvx2(s, k, trained, dy, xhat, dx);
#endif
  gradInputBase(s, k, trained, dy, xhat, dx);
}

// The workspace of one call: `lanes` of LANES doubles per channel (zeroed), `constants` and
// `mean` per channel.
struct Scratch {
  Scratch(size_t channels, size_t laneSets)
      : frame(workspace(), laneSets * arenaBytes<double>(LANES * channels) + arenaBytes<Constants>(channels) +
                               arenaBytes<double>(channels)),
        constants(frame.take<Constants>(channels)),
        mean(frame.take<double>(channels)) {
    for (size_t i = 0; i < laneSets; i++) lanes[i] = zeroed(LANES * channels);
  }
  double* zeroed(size_t n) {
    double* p = frame.take<double>(n);
    std::fill(p, p + n, 0.0);
    return p;
  }
  Frame frame;
  Constants* constants;
  double* mean;
  double* lanes[2] = {nullptr, nullptr};
};

}  // namespace

void bnForwardTrain(ChannelShape s, BnParams p, const float* x, const float* gamma, const float* beta, float* runMean,
                    float* runVar, float* xhat, float* y, double* invStd) {
  const double n = double(s.B * s.S);
  const double m = p.momentum;
  Scratch w(s.C, 2);
  channelSums(s, x, w.lanes[0]);
  for (size_t c = 0; c < s.C; c++) w.mean[c] = combineLanes(w.lanes[0] + LANES * c) / n;
  channelSquaredDeviations(s, x, w.mean, w.lanes[1]);
  for (size_t c = 0; c < s.C; c++) {
    const double q = combineLanes(w.lanes[1] + LANES * c);
    const double variance = q / n;
    const double inv = 1 / std::sqrt(variance + p.eps);
    runMean[c] = float((1 - m) * double(runMean[c]) + m * w.mean[c]);
    runVar[c] = float((1 - m) * double(runVar[c]) + m * (n > 1 ? q / (n - 1) : variance));
    invStd[c] = inv;
    w.constants[c] = Constants{w.mean[c], inv, double(gamma[c]), double(beta[c])};
  }
  normalize(s, w.constants, x, xhat, y);
}

void bnForwardEval(ChannelShape s, BnParams p, const float* x, const float* gamma, const float* beta,
                   const float* runMean, const float* runVar, float* xhat, float* y, double* invStd) {
  Scratch w(s.C, 0);
  for (size_t c = 0; c < s.C; c++) {
    const double inv = 1 / std::sqrt(double(runVar[c]) + p.eps);
    invStd[c] = inv;
    w.constants[c] = Constants{double(runMean[c]), inv, double(gamma[c]), double(beta[c])};
  }
  normalize(s, w.constants, x, xhat, y);
}

void bnBackward(ChannelShape s, const float* dy, const float* xhat, const float* gamma, const double* invStd,
                bool trained, float* dgamma, float* dbeta, float* dx) {
  const double n = double(s.B * s.S);
  Scratch w(s.C, 2);
  channelGradSums(s, dy, xhat, w.lanes[0], w.lanes[1]);
  for (size_t c = 0; c < s.C; c++) {
    const double sdy = combineLanes(w.lanes[0] + LANES * c);
    const double sxdy = combineLanes(w.lanes[1] + LANES * c);
    dbeta[c] = float(double(dbeta[c]) + sdy);
    dgamma[c] = float(double(dgamma[c]) + sxdy);
    const double k = trained ? (double(gamma[c]) * invStd[c]) / n : double(gamma[c]) * invStd[c];
    w.constants[c] = Constants{k, 0, sdy, sxdy};
  }
  if (dx != nullptr) gradInput(s, w.constants, trained, dy, xhat, dx);
}

}  // namespace nn
}  // namespace goten
