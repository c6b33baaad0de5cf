// Max, average and global average pooling, forward and backward (see nn_kernels.h).
// Max pooling is exact (comparisons only; backward adds one float32 per output); the
// averages sum in float64 in the reference's row-major order, so all are bit-identical.
#include "nn_simd.h"
// (nn_simd.h first: its pragmas must precede every function)
#include <cstring>

#include "nn_kernels.h"

namespace goten {
namespace nn {

namespace {

// One axis of a window: input range [start, end) clipped to [0, n), and the divisor
// factor min(a + k, n + pad) − a (its extent within the padded input), a = i·s − pad.
struct Span {
  size_t start, end, padded;
};
GOTEN_NN_INLINE Span span(size_t i, size_t n, size_t k, size_t s, size_t pad) {
  const ptrdiff_t a = ptrdiff_t(i * s) - ptrdiff_t(pad);
  const ptrdiff_t e = a + ptrdiff_t(k);
  const ptrdiff_t padEnd = ptrdiff_t(n + pad);
  return Span{size_t(a < 0 ? 0 : a), size_t(e > ptrdiff_t(n) ? ptrdiff_t(n) : e), size_t((e < padEnd ? e : padEnd) - a)};
}

// Compare-and-keep of the max-pool scan: v replaces the best only when strictly greater (false
// for NaN, and for −0 against +0). Branch-free on the bits: random data would defeat a branch.
GOTEN_NN_INLINE void keepMax(float v, int32_t i, float& best, int32_t& bi) {
  const int32_t gt = -int32_t(v > best);  // all ones when v wins
  best = floatOf((bitsOf(v) & gt) | (bitsOf(best) & ~gt));
  bi = (i & gt) | (bi & ~gt);
}

// 2×2 windows at stride 2 without padding, outputs [q0, q1) of one output row (input row r0).
GOTEN_NN_INLINE void max2x2Row(const float* x, size_t r0, size_t W, size_t q0, size_t q1, float* y, int32_t* idx) {
  for (size_t q = q0; q < q1; q++) {
    const int32_t c = int32_t(r0 + 2 * q), w = int32_t(W);
    float best = x[c];
    int32_t bi = c;
    keepMax(x[c + 1], c + 1, best, bi);
    keepMax(x[c + w], c + w, best, bi);
    keepMax(x[c + w + 1], c + w + 1, best, bi);
    y[q] = best;
    idx[q] = bi;
  }
}

#if GOTEN_NN_X86
// Even and odd elements of the 16 floats lo ‖ hi: [lo0, lo2, …, hi6] and [lo1, lo3, …, hi7].
GOTEN_NN_AVX2 GOTEN_NN_INLINE void deinterleave(__m256 lo, __m256 hi, __m256& even, __m256& odd) {
  const __m256 e = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(2, 0, 2, 0));  // per 128-bit half: lo0 lo2 hi0 hi2
  const __m256 o = _mm256_shuffle_ps(lo, hi, _MM_SHUFFLE(3, 1, 3, 1));
  even = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(e), _MM_SHUFFLE(3, 1, 2, 0)));
  odd = _mm256_castpd_ps(_mm256_permute4x64_pd(_mm256_castps_pd(o), _MM_SHUFFLE(3, 1, 2, 0)));
}

GOTEN_NN_AVX2 GOTEN_NN_INLINE void keepMax8(__m256 v, __m256i i, __m256& best, __m256i& bi) {
  const __m256 gt = _mm256_cmp_ps(v, best, _CMP_GT_OQ);  // false for NaN, as JS's >
  best = _mm256_blendv_ps(best, v, gt);
  bi = _mm256_castps_si256(_mm256_blendv_ps(_mm256_castsi256_ps(bi), _mm256_castsi256_ps(i), gt));
}

// Eight windows: top rows lo ‖ hi (even positions a, odd b), bottom rows lo ‖ hi (d, e); ia holds the
// flat index of each window's first element, w the row length.
GOTEN_NN_AVX2 GOTEN_NN_INLINE void max8(__m256 topLo, __m256 topHi, __m256 botLo, __m256 botHi, __m256i ia, __m256i w,
                                       float* y, int32_t* idx) {
  const __m256i one = _mm256_set1_epi32(1);
  __m256 a, b, d, e;
  deinterleave(topLo, topHi, a, b);
  deinterleave(botLo, botHi, d, e);
  const __m256i id = _mm256_add_epi32(ia, w);
  __m256 best = a;
  __m256i bi = ia;
  keepMax8(b, _mm256_add_epi32(ia, one), best, bi);
  keepMax8(d, id, best, bi);
  keepMax8(e, _mm256_add_epi32(id, one), best, bi);
  _mm256_storeu_ps(y, best);
  _mm256_storeu_si256(reinterpret_cast<__m256i*>(idx), bi);
}

// Rows of at least 16 inputs: eight windows of one output row at a time, then the rest one by one.
GOTEN_NN_AVX2 void max2x2RowsAvx2(const PoolShape& g, const float* x, float* y, int32_t* idx) {
  const __m256i step = _mm256_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14);
  const __m256i w = _mm256_set1_epi32(int32_t(g.W));
  for (size_t plane = 0, o = 0; plane < g.planes; plane++) {
    for (size_t p = 0; p < g.OH; p++, o += g.OW) {
      const size_t r0 = (plane * g.H + 2 * p) * g.W;
      size_t q = 0;
      for (; q + 8 <= g.OW && 2 * q + 16 <= g.W; q += 8) {
        const float* t = x + r0 + 2 * q;
        const __m256i ia = _mm256_add_epi32(_mm256_set1_epi32(int32_t(r0 + 2 * q)), step);
        max8(_mm256_loadu_ps(t), _mm256_loadu_ps(t + 8), _mm256_loadu_ps(t + g.W), _mm256_loadu_ps(t + g.W + 8), ia, w,
             y + o + q, idx + o + q);
      }
      max2x2Row(x, r0, g.W, q, g.OW, y + o, idx + o);
    }
  }
}

// Inputs exactly 2·OH × 2·OW with OW = 4 or 2: the tensor is a sequence of row pairs (top row,
// bottom row) of OW windows each, so 8 consecutive outputs read 32 consecutive inputs
// (2 row pairs of 16, or 4 of 8). Returns the outputs done; the caller finishes the rest.
GOTEN_NN_AVX2 size_t max2x2PairsAvx2(const PoolShape& g, const float* x, float* y, int32_t* idx) {
  const size_t n = g.planes * g.OH * g.OW;
  const __m256i w = _mm256_set1_epi32(int32_t(g.W));
  const __m256i step = g.OW == 4 ? _mm256_setr_epi32(0, 2, 4, 6, 16, 18, 20, 22) : _mm256_setr_epi32(0, 2, 8, 10, 16, 18, 24, 26);
  size_t o = 0;
  for (; o + 8 <= n; o += 8) {
    const float* t = x + 4 * o;
    const __m256i ia = _mm256_add_epi32(_mm256_set1_epi32(int32_t(4 * o)), step);
    if (g.OW == 4)
      max8(_mm256_loadu_ps(t), _mm256_loadu_ps(t + 16), _mm256_loadu_ps(t + 8), _mm256_loadu_ps(t + 24), ia, w, y + o, idx + o);
    else
      max8(_mm256_loadu2_m128(t + 8, t), _mm256_loadu2_m128(t + 24, t + 16), _mm256_loadu2_m128(t + 12, t + 4),
           _mm256_loadu2_m128(t + 28, t + 20), ia, w, y + o, idx + o);
  }
  return o;
}

GOTEN_NN_AVX2 void max2x2Avx2(const PoolShape& g, const float* x, float* y, int32_t* idx) {
  if (g.OW >= 8) return max2x2RowsAvx2(g, x, y, idx);
  const bool pairs = (g.OW == 4 || g.OW == 2) && g.H == 2 * g.OH && g.W == 2 * g.OW;
  const size_t done = pairs ? max2x2PairsAvx2(g, x, y, idx) : 0;
  // The rest, one output row (row pair) at a time: output o of row r starts at input 2·r·W + 2·q.
  for (size_t r = done / g.OW; r < g.planes * g.OH; r++) {
    const size_t plane = r / g.OH, p = r % g.OH;
    max2x2Row(x, (plane * g.H + 2 * p) * g.W, g.W, 0, g.OW, y + r * g.OW, idx + r * g.OW);
  }
}
#endif

void max2x2Base(const PoolShape& g, const float* x, float* y, int32_t* idx) {
  for (size_t plane = 0, o = 0; plane < g.planes; plane++)
    for (size_t p = 0; p < g.OH; p++, o += g.OW) max2x2Row(x, (plane * g.H + 2 * p) * g.W, g.W, 0, g.OW, y + o, idx + o);
}

// Any window geometry: the window's first element, replaced only by strictly greater ones.
void maxAny(const PoolShape& g, const float* x, float* y, int32_t* idx) {
  size_t o = 0;
  for (size_t plane = 0; plane < g.planes; plane++) {
    const size_t xb = plane * g.H * g.W;
    for (size_t p = 0; p < g.OH; p++) {
      const Span r = span(p, g.H, g.kH, g.sH, g.pH);
      for (size_t q = 0; q < g.OW; q++, o++) {
        const Span c = span(q, g.W, g.kW, g.sW, g.pW);
        int32_t bi = int32_t(xb + r.start * g.W + c.start);
        float best = x[bi];
        for (size_t h = r.start; h < r.end; h++)
          for (size_t i = xb + h * g.W + c.start; i < xb + h * g.W + c.end; i++) keepMax(x[i], int32_t(i), best, bi);
        y[o] = best;
        idx[o] = bi;
      }
    }
  }
}

}  // namespace

void maxPoolForward(const PoolShape& g, const float* x, float* y, int32_t* idx) {
  const bool is2x2 = g.kH == 2 && g.kW == 2 && g.sH == 2 && g.sW == 2 && g.pH == 0 && g.pW == 0 && 2 * g.OH <= g.H &&
                     2 * g.OW <= g.W;
  if (!is2x2) return maxAny(g, x, y, idx);
#if GOTEN_NN_X86
  if (simd()) return max2x2Avx2(g, x, y, idx);
#endif
  max2x2Base(g, x, y, idx);
}

// dx = 0, then dx[idx[o]] += dy[o] in order of o. The zeros are written just ahead of the adds
// (a frontier z: [0, z) is zeroed; a target at or past z first zeroes up to a chunk beyond it), so
// the fill happens in cache instead of as a separate pass over dx. Every element is zeroed exactly
// once before its first add, whatever the order of idx, so the result equals fill-then-scatter.
void maxPoolBackward(const int32_t* idx, const float* dy, size_t nOut, float* dx, size_t nIn) {
  constexpr size_t AHEAD = 4096;  // floats zeroed past a target that crosses the frontier (16 KiB)
  size_t z = 0;
  for (size_t o = 0; o < nOut; o++) {
    const size_t t = size_t(idx[o]);
    if (t >= z) {
      const size_t end = t + AHEAD < nIn ? t + AHEAD : nIn;
      std::memset(dx + z, 0, (end - z) * sizeof(float));
      z = end;
    }
    dx[t] += dy[o];
  }
  if (z < nIn) std::memset(dx + z, 0, (nIn - z) * sizeof(float));
}

void avgPoolForward(const PoolShape& g, const float* x, float* y) {
  size_t o = 0;
  for (size_t plane = 0; plane < g.planes; plane++) {
    const size_t xb = plane * g.H * g.W;
    for (size_t p = 0; p < g.OH; p++) {
      const Span r = span(p, g.H, g.kH, g.sH, g.pH);
      for (size_t q = 0; q < g.OW; q++, o++) {
        const Span c = span(q, g.W, g.kW, g.sW, g.pW);
        double s = 0;
        for (size_t h = r.start; h < r.end; h++)
          for (size_t i = xb + h * g.W + c.start; i < xb + h * g.W + c.end; i++) s += double(x[i]);
        y[o] = float(s / double(r.padded * c.padded));
      }
    }
  }
}

void avgPoolBackward(const PoolShape& g, const float* dy, float* dx) {
  std::memset(dx, 0, g.planes * g.H * g.W * sizeof(float));
  size_t o = 0;
  for (size_t plane = 0; plane < g.planes; plane++) {
    const size_t xb = plane * g.H * g.W;
    for (size_t p = 0; p < g.OH; p++) {
      const Span r = span(p, g.H, g.kH, g.sH, g.pH);
      for (size_t q = 0; q < g.OW; q++, o++) {
        const Span c = span(q, g.W, g.kW, g.sW, g.pW);
        const double v = double(dy[o]) / double(r.padded * c.padded);
        for (size_t h = r.start; h < r.end; h++)
          for (size_t i = xb + h * g.W + c.start; i < xb + h * g.W + c.end; i++) dx[i] = float(double(dx[i]) + v);
      }
    }
  }
}

void globalAvgPoolForward(size_t planes, size_t hw, const float* x, float* y) {
  const double inv = 1 / double(hw);
  for (size_t plane = 0; plane < planes; plane++) {
    double s = 0;
    for (size_t i = plane * hw; i < (plane + 1) * hw; i++) s += double(x[i]);
    y[plane] = float(s * inv);
  }
}

void globalAvgPoolBackward(size_t planes, size_t hw, const float* dy, float* dx) {
  const double inv = 1 / double(hw);
  for (size_t plane = 0; plane < planes; plane++) {
    const float v = float(double(dy[plane]) * inv);
    for (size_t i = plane * hw; i < (plane + 1) * hw; i++) dx[i] = v;
  }
}

}  // namespace nn
}  // namespace goten
