// Elementwise kernels: ReLU, accumulate, multiply, per-channel bias (see nn_kernels.h).
// Each loop is written once (an always-inline body) and compiled twice, for AVX2 and for
// the baseline; both are exact (integer bit operations, or single float32 operations,
// which are correctly rounded however they are vectorised).
#include "nn_simd.h"
// (nn_simd.h first: its pragmas must precede every function)
#include <algorithm>

#include "nn_kernels.h"
#include "workspace.h"

namespace goten {
namespace nn {

namespace {

GOTEN_NN_INLINE void reluForwardBody(const float* __restrict x, float* __restrict y, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const int32_t v = bitsOf(x[i]);
    y[i] = floatOf(v & ~(v >> 31));
  }
}

GOTEN_NN_INLINE void reluBackwardBody(const float* __restrict y, const float* __restrict dy, float* __restrict dx,
                                      size_t n) {
  for (size_t i = 0; i < n; i++) {
    // −y on uint32 wraps as JS's (−y | 0) does; y ≥ 0 after the forward, so the sign of −y is [y > 0].
    const int32_t negY = int32_t(0u - uint32_t(bitsOf(y[i])));
    dx[i] = floatOf(bitsOf(dy[i]) & (negY >> 31));
  }
}

GOTEN_NN_INLINE void accumulateBody(float* __restrict acc, const float* __restrict d, size_t n) {
  for (size_t i = 0; i < n; i++) acc[i] += d[i];
}

GOTEN_NN_INLINE void multiplyBody(const float* __restrict x, const float* __restrict m, float* __restrict y, size_t n) {
  for (size_t i = 0; i < n; i++) y[i] = x[i] * m[i];
}

GOTEN_NN_INLINE void addBiasBody(float* __restrict y, const float* __restrict b, size_t batch, size_t channels,
                                 size_t plane) {
  for (size_t n = 0; n < batch; n++) {
    for (size_t c = 0; c < channels; c++) {
      const float v = b[c];
      float* p = y + (n * channels + c) * plane;
      for (size_t i = 0; i < plane; i++) p[i] += v;
    }
  }
}

void reluForwardBase(const float* x, float* y, size_t n) { reluForwardBody(x, y, n); }
void reluBackwardBase(const float* y, const float* dy, float* dx, size_t n) { reluBackwardBody(y, dy, dx, n); }
void accumulateBase(float* acc, const float* d, size_t n) { accumulateBody(acc, d, n); }

// Whether every x[i] is +0 or −0: the OR of the bits without the sign, in blocks that stop at the first
// block holding anything else (a gradient that is not zero usually shows it in its first block).
bool isZeroBody(const float* x, size_t n) {
  const uint32_t* b = reinterpret_cast<const uint32_t*>(x);
  for (size_t i = 0; i < n;) {
    const size_t end = n - i < 4096 ? n : i + 4096;
    uint32_t any = 0;
    for (; i < end; i++) any |= b[i];
    if ((any & 0x7FFFFFFFu) != 0) return false;
  }
  return true;
}
void multiplyBase(const float* x, const float* m, float* y, size_t n) { multiplyBody(x, m, y, n); }
void addBiasBase(float* y, const float* b, size_t batch, size_t channels, size_t plane) {
  addBiasBody(y, b, batch, channels, plane);
}

#if GOTEN_NN_X86
GOTEN_NN_AVX2 void reluForwardAvx2(const float* x, float* y, size_t n) { reluForwardBody(x, y, n); }
GOTEN_NN_AVX2 void reluBackwardAvx2(const float* y, const float* dy, float* dx, size_t n) {
  reluBackwardBody(y, dy, dx, n);
}
GOTEN_NN_AVX2 void accumulateAvx2(float* acc, const float* d, size_t n) { accumulateBody(acc, d, n); }
GOTEN_NN_AVX2 void multiplyAvx2(const float* x, const float* m, float* y, size_t n) { multiplyBody(x, m, y, n); }
GOTEN_NN_AVX2 void addBiasAvx2(float* y, const float* b, size_t batch, size_t channels, size_t plane) {
  addBiasBody(y, b, batch, channels, plane);
}
#define GOTEN_NN_DISPATCH(avx2, base, ...) return simd() ? avx2(__VA_ARGS__) : base(__VA_ARGS__)
#else
#define GOTEN_NN_DISPATCH(avx2, base, ...) return base(__VA_ARGS__)
#endif

}  // namespace

void reluForward(const float* x, float* y, size_t n) { GOTEN_NN_DISPATCH(reluForwardAvx2, reluForwardBase, x, y, n); }
void reluBackward(const float* y, const float* dy, float* dx, size_t n) {
  GOTEN_NN_DISPATCH(reluBackwardAvx2, reluBackwardBase, y, dy, dx, n);
}
void accumulate(float* acc, const float* d, size_t n) { GOTEN_NN_DISPATCH(accumulateAvx2, accumulateBase, acc, d, n); }
bool isZero(const float* x, size_t n) { return isZeroBody(x, n); }
void multiply(const float* x, const float* m, float* y, size_t n) {
  GOTEN_NN_DISPATCH(multiplyAvx2, multiplyBase, x, m, y, n);
}
void addChannelBias(float* y, const float* b, size_t batch, size_t channels, size_t plane) {
  GOTEN_NN_DISPATCH(addBiasAvx2, addBiasBase, y, b, batch, channels, plane);
}

// g[c] += Σ over channel c of dy, in the lane order of nn_lanes.cc (as the reference).
void reduceChannelBias(float* g, const float* dy, size_t batch, size_t channels, size_t plane) {
  Frame frame(workspace(), arenaBytes<double>(LANES * channels));
  double* lanes = frame.take<double>(LANES * channels);
  std::fill(lanes, lanes + LANES * channels, 0.0);
  channelSums(ChannelShape{batch, channels, plane}, dy, lanes);
  for (size_t c = 0; c < channels; c++) g[c] = float(double(g[c]) + combineLanes(lanes + LANES * c));
}

}  // namespace nn
}  // namespace goten
