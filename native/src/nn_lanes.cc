// Per-channel float64 sums in 8 lanes (the order is specified in nn_kernels.h).
//
// Portable loop: lane[j mod 8] += term(j) for every position j of every plane, in order.
// AVX2 loop: per plane, two 4-double accumulators hold lanes 0–3 and 4–7 while j steps by 8;
// the last S mod 8 positions go to lanes 0 … (S mod 8) − 1 one by one, before the next plane.
// Position j of a plane is always added to lane j mod 8, in the same order, so the two loops
// (and the TypeScript reference) give the same bits.
#include "nn_simd.h"
// (nn_simd.h first: its pragmas must precede every function)
#include "nn_kernels.h"

namespace goten {
namespace nn {

double combineLanes(const double* l) { return ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7])); }

namespace {

// Start of plane b of channel c.
GOTEN_NN_INLINE size_t planeOffset(ChannelShape s, size_t b, size_t c) { return (b * s.C + c) * s.S; }

void sumBase(ChannelShape s, const float* x, size_t c, double* lane) {
  for (size_t b = 0; b < s.B; b++) {
    const float* p = x + planeOffset(s, b, c);
    for (size_t j = 0; j < s.S; j++) lane[j & 7] += double(p[j]);
  }
}

void squaredDeviationBase(ChannelShape s, const float* x, size_t c, double mean, double* lane) {
  for (size_t b = 0; b < s.B; b++) {
    const float* p = x + planeOffset(s, b, c);
    for (size_t j = 0; j < s.S; j++) {
      const double d = double(p[j]) - mean;
      lane[j & 7] += d * d;
    }
  }
}

void gradSumsBase(ChannelShape s, const float* dy, const float* xhat, size_t c, double* laneDy, double* laneXDy) {
  for (size_t b = 0; b < s.B; b++) {
    const size_t off = planeOffset(s, b, c);
    const float* g = dy + off;
    const float* h = xhat + off;
    for (size_t j = 0; j < s.S; j++) {
      const double d = double(g[j]);
      laneDy[j & 7] += d;
      laneXDy[j & 7] += double(h[j]) * d;  // exact: a product of two floats fits a double
    }
  }
}

#if GOTEN_NN_X86
GOTEN_NN_AVX2 void sumAvx2(ChannelShape s, const float* x, size_t c, double* lane) {
  for (size_t b = 0; b < s.B; b++) {
    const float* p = x + planeOffset(s, b, c);
    __m256d a0 = _mm256_loadu_pd(lane), a1 = _mm256_loadu_pd(lane + 4);
    size_t j = 0;
    for (; j + 8 <= s.S; j += 8) {
      a0 = _mm256_add_pd(a0, load4(p + j));
      a1 = _mm256_add_pd(a1, load4(p + j + 4));
    }
    _mm256_storeu_pd(lane, a0);
    _mm256_storeu_pd(lane + 4, a1);
    for (; j < s.S; j++) lane[j & 7] += double(p[j]);
  }
}

GOTEN_NN_AVX2 void squaredDeviationAvx2(ChannelShape s, const float* x, size_t c, double mean, double* lane) {
  const __m256d mu = _mm256_set1_pd(mean);
  for (size_t b = 0; b < s.B; b++) {
    const float* p = x + planeOffset(s, b, c);
    __m256d a0 = _mm256_loadu_pd(lane), a1 = _mm256_loadu_pd(lane + 4);
    size_t j = 0;
    for (; j + 8 <= s.S; j += 8) {
      const __m256d d0 = _mm256_sub_pd(load4(p + j), mu);
      const __m256d d1 = _mm256_sub_pd(load4(p + j + 4), mu);
      a0 = _mm256_add_pd(a0, _mm256_mul_pd(d0, d0));
      a1 = _mm256_add_pd(a1, _mm256_mul_pd(d1, d1));
    }
    _mm256_storeu_pd(lane, a0);
    _mm256_storeu_pd(lane + 4, a1);
    for (; j < s.S; j++) {
      const double d = double(p[j]) - mean;
      lane[j & 7] += d * d;
    }
  }
}

GOTEN_NN_AVX2 void gradSumsAvx2(ChannelShape s, const float* dy, const float* xhat, size_t c, double* laneDy,
                                double* laneXDy) {
  for (size_t b = 0; b < s.B; b++) {
    const size_t off = planeOffset(s, b, c);
    const float* g = dy + off;
    const float* h = xhat + off;
    __m256d d0 = _mm256_loadu_pd(laneDy), d1 = _mm256_loadu_pd(laneDy + 4);
    __m256d x0 = _mm256_loadu_pd(laneXDy), x1 = _mm256_loadu_pd(laneXDy + 4);
    size_t j = 0;
    for (; j + 8 <= s.S; j += 8) {
      const __m256d g0 = load4(g + j), g1 = load4(g + j + 4);
      d0 = _mm256_add_pd(d0, g0);
      d1 = _mm256_add_pd(d1, g1);
      x0 = _mm256_add_pd(x0, _mm256_mul_pd(load4(h + j), g0));
      x1 = _mm256_add_pd(x1, _mm256_mul_pd(load4(h + j + 4), g1));
    }
    _mm256_storeu_pd(laneDy, d0);
    _mm256_storeu_pd(laneDy + 4, d1);
    _mm256_storeu_pd(laneXDy, x0);
    _mm256_storeu_pd(laneXDy + 4, x1);
    for (; j < s.S; j++) {
      const double d = double(g[j]);
      laneDy[j & 7] += d;
      laneXDy[j & 7] += double(h[j]) * d;
    }
  }
}
#endif

// The AVX2 loop only pays when a plane holds at least one full step of 8.
GOTEN_NN_INLINE bool vectorPlanes(ChannelShape s) { return simd() && s.S >= LANES; }

}  // namespace

double channelSum(ChannelShape s, const float* x, size_t c) {
  double lane[LANES] = {};
#if GOTEN_NN_X86
  if (vectorPlanes(s)) sumAvx2(s, x, c, lane);
  else
#endif
    sumBase(s, x, c, lane);
  return combineLanes(lane);
}

double channelSquaredDeviation(ChannelShape s, const float* x, size_t c, double mean) {
  double lane[LANES] = {};
#if GOTEN_NN_X86
  if (vectorPlanes(s)) squaredDeviationAvx2(s, x, c, mean, lane);
  else
#endif
    squaredDeviationBase(s, x, c, mean, lane);
  return combineLanes(lane);
}

void channelGradSums(ChannelShape s, const float* dy, const float* xhat, size_t c, double* sumDy, double* sumXhatDy) {
  double laneDy[LANES] = {}, laneXDy[LANES] = {};
#if GOTEN_NN_X86
  if (vectorPlanes(s)) gradSumsAvx2(s, dy, xhat, c, laneDy, laneXDy);
  else
#endif
    gradSumsBase(s, dy, xhat, c, laneDy, laneXDy);
  *sumDy = combineLanes(laneDy);
  *sumXhatDy = combineLanes(laneXDy);
}

}  // namespace nn
}  // namespace goten
