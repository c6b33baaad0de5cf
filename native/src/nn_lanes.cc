// Per-channel float64 sums in 8 lanes (the order is specified in nn_kernels.h).
//
// Every channel's lanes are accumulated at once, in memory order (image b, then channel c,
// then position j): one streaming pass over the tensor whatever the plane size, with the
// C·8 lanes in cache. Channel c still sees its planes in order b = 0, 1, …, so each lane
// adds its terms in the specified order.
//
// Portable loop: lane[j mod 8] += term(j) for every position j of a plane, in order.
// AVX2 loop: per plane, two 4-double accumulators hold lanes 0–3 and 4–7 while j steps by 8;
// the last S mod 8 positions go to lanes 0 … (S mod 8) − 1 one by one. Position j of a plane
// always goes to lane j mod 8, in the same order, so both loops (and the TypeScript
// reference) give the same bits.
#include "nn_simd.h"
// (nn_simd.h first: its pragmas must precede every function)
#include "nn_kernels.h"

namespace goten {
namespace nn {

double combineLanes(const double* l) { return ((l[0] + l[4]) + (l[1] + l[5])) + ((l[2] + l[6]) + (l[3] + l[7])); }

namespace {

void sumBase(ChannelShape s, const float* x, double* lanes) {
  for (size_t b = 0; b < s.B; b++) {
    for (size_t c = 0; c < s.C; c++) {
      const float* p = x + (b * s.C + c) * s.S;
      double* l = lanes + LANES * c;
      for (size_t j = 0; j < s.S; j++) l[j & 7] += double(p[j]);
    }
  }
}

void squaredDeviationBase(ChannelShape s, const float* x, const double* mean, double* lanes) {
  for (size_t b = 0; b < s.B; b++) {
    for (size_t c = 0; c < s.C; c++) {
      const float* p = x + (b * s.C + c) * s.S;
      double* l = lanes + LANES * c;
      for (size_t j = 0; j < s.S; j++) {
        const double d = double(p[j]) - mean[c];
        l[j & 7] += d * d;
      }
    }
  }
}

void gradSumsBase(ChannelShape s, const float* dy, const float* xhat, double* lanesDy, double* lanesXDy) {
  for (size_t b = 0; b < s.B; b++) {
    for (size_t c = 0; c < s.C; c++) {
      const size_t off = (b * s.C + c) * s.S;
      double* ld = lanesDy + LANES * c;
      double* lx = lanesXDy + LANES * c;
      for (size_t j = 0; j < s.S; j++) {
        const double d = double(dy[off + j]);
        ld[j & 7] += d;
        lx[j & 7] += double(xhat[off + j]) * d;  // exact: a product of two floats fits a double
      }
    }
  }
}

#if GOTEN_NN_X86
GOTEN_NN_AVX2 void sumAvx2(ChannelShape s, const float* x, double* lanes) {
  for (size_t b = 0; b < s.B; b++) {
    for (size_t c = 0; c < s.C; c++) {
      const float* p = x + (b * s.C + c) * s.S;
      double* l = lanes + LANES * c;
      size_t j = 0;
      if (s.S >= LANES) {
        __m256d a0 = _mm256_loadu_pd(l), a1 = _mm256_loadu_pd(l + 4);
        for (; j + LANES <= s.S; j += LANES) {
          a0 = _mm256_add_pd(a0, load4(p + j));
          a1 = _mm256_add_pd(a1, load4(p + j + 4));
        }
        _mm256_storeu_pd(l, a0);
        _mm256_storeu_pd(l + 4, a1);
      }
      for (; j < s.S; j++) l[j & 7] += double(p[j]);
    }
  }
}

GOTEN_NN_AVX2 void squaredDeviationAvx2(ChannelShape s, const float* x, const double* mean, double* lanes) {
  for (size_t b = 0; b < s.B; b++) {
    for (size_t c = 0; c < s.C; c++) {
      const float* p = x + (b * s.C + c) * s.S;
      double* l = lanes + LANES * c;
      size_t j = 0;
      if (s.S >= LANES) {
        const __m256d mu = _mm256_set1_pd(mean[c]);
        __m256d a0 = _mm256_loadu_pd(l), a1 = _mm256_loadu_pd(l + 4);
        for (; j + LANES <= s.S; j += LANES) {
          const __m256d d0 = _mm256_sub_pd(load4(p + j), mu);
          const __m256d d1 = _mm256_sub_pd(load4(p + j + 4), mu);
          a0 = _mm256_add_pd(a0, _mm256_mul_pd(d0, d0));
          a1 = _mm256_add_pd(a1, _mm256_mul_pd(d1, d1));
        }
        _mm256_storeu_pd(l, a0);
        _mm256_storeu_pd(l + 4, a1);
      }
      for (; j < s.S; j++) {
        const double d = double(p[j]) - mean[c];
        l[j & 7] += d * d;
      }
    }
  }
}

GOTEN_NN_AVX2 void gradSumsAvx2(ChannelShape s, const float* dy, const float* xhat, double* lanesDy,
                                double* lanesXDy) {
  for (size_t b = 0; b < s.B; b++) {
    for (size_t c = 0; c < s.C; c++) {
      const size_t off = (b * s.C + c) * s.S;
      const float* g = dy + off;
      const float* h = xhat + off;
      double* ld = lanesDy + LANES * c;
      double* lx = lanesXDy + LANES * c;
      size_t j = 0;
      if (s.S >= LANES) {
        __m256d d0 = _mm256_loadu_pd(ld), d1 = _mm256_loadu_pd(ld + 4);
        __m256d x0 = _mm256_loadu_pd(lx), x1 = _mm256_loadu_pd(lx + 4);
        for (; j + LANES <= s.S; j += LANES) {
          const __m256d g0 = load4(g + j), g1 = load4(g + j + 4);
          d0 = _mm256_add_pd(d0, g0);
          d1 = _mm256_add_pd(d1, g1);
          x0 = _mm256_add_pd(x0, _mm256_mul_pd(load4(h + j), g0));
          x1 = _mm256_add_pd(x1, _mm256_mul_pd(load4(h + j + 4), g1));
        }
        _mm256_storeu_pd(ld, d0);
        _mm256_storeu_pd(ld + 4, d1);
        _mm256_storeu_pd(lx, x0);
        _mm256_storeu_pd(lx + 4, x1);
      }
      for (; j < s.S; j++) {
        const double d = double(g[j]);
        ld[j & 7] += d;
        lx[j & 7] += double(h[j]) * d;
      }
    }
  }
}
#endif

}  // namespace

void channelSums(ChannelShape s, const float* x, double* lanes) {
#if GOTEN_NN_X86
  if (simd()) return sumAvx2(s, x, lanes);
#endif
  sumBase(s, x, lanes);
}

void channelSquaredDeviations(ChannelShape s, const float* x, const double* mean, double* lanes) {
#if GOTEN_NN_X86
  if (simd()) return squaredDeviationAvx2(s, x, mean, lanes);
#endif
  squaredDeviationBase(s, x, mean, lanes);
}

void channelGradSums(ChannelShape s, const float* dy, const float* xhat, double* lanesDy, double* lanesXDy) {
#if GOTEN_NN_X86
  if (simd()) return gradSumsAvx2(s, dy, xhat, lanesDy, lanesXDy);
#endif
  gradSumsBase(s, dy, xhat, lanesDy, lanesXDy);
}

}  // namespace nn
}  // namespace goten
