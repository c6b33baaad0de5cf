// The enclave's non-linear layers and optimizer as plain C++ loops (no N-API; the
// bindings in addon_nn*.cc check every argument first). Each kernel is the C++ twin
// of a TypeScript reference in src/nn/kernels/ and matches it bit for bit: the same
// float64 operations in the same order, one rounding to float32 per store (see
// nn_simd.h). Tensors are NCHW float32; a "plane" is one (image, channel) slice.
#pragma once
#include <cstddef>
#include <cstdint>

namespace goten {
namespace nn {

// True when the AVX2 loops run: the CPU has AVX2 and setSimd(false) was not called (nn_simd.cc).
bool simd();
// Enables (when the CPU has AVX2) or disables the AVX2 loops, for all threads; returns simd().
bool setSimd(bool enabled);
// Whether this CPU has AVX2 at all.
bool cpuHasAvx2();

// ---- elementwise (nn_elementwise.cc) ----

// y = max(x, 0) on the bit patterns: y = x & ~(x >> 31) (−0 and negative NaNs → +0).
void reluForward(const float* x, float* y, size_t n);
// dx = dy · [y > 0] on the bit patterns: dx = dy & ((−y) >> 31).
void reluBackward(const float* y, const float* dy, float* dx, size_t n);
// acc += d (float32 adds).
void accumulate(float* acc, const float* d, size_t n);
// true iff every x[i] is ±0
bool isZero(const float* x, size_t n);
// y = x ⊙ m (float32 products; dropout's mask).
void multiply(const float* x, const float* m, float* y, size_t n);
// y[n, c, i] += b[c] for i < plane (float32 adds).
void addChannelBias(float* y, const float* b, size_t batch, size_t channels, size_t plane);
// g[c] += Σ_n Σ_{i<plane} dy[n, c, i], the sum in float64 lanes (channelSums below); takes
// channels·64 bytes of the thread's workspace (may throw std::bad_alloc).
void reduceChannelBias(float* g, const float* dy, size_t batch, size_t channels, size_t plane);

// ---- per-channel sums in 8 float64 lanes (nn_lanes.cc) ----
//
// A channel c of x shaped [B, C, S] has B planes of S values. Lane k (0 ≤ k < 8) adds, in
// order, the values at positions j ≡ k (mod 8) of plane 0, then of plane 1, …; the sum is
//   ((l0 + l4) + (l1 + l5)) + ((l2 + l6) + (l3 + l7)).
// This order is the contract with the TypeScript reference: it lets the AVX2 loop keep two
// 4-lane accumulators and still be bit-identical.
constexpr size_t LANES = 8;
struct ChannelShape {
  size_t B, C, S;
};
double combineLanes(const double* l);
// The functions below add onto `lanes`: C·LANES doubles, channel c's lanes at lanes + LANES·c
// (zero them first for a fresh sum).
// Σ x per channel.
void channelSums(ChannelShape s, const float* x, double* lanes);
// Σ (x − mean[c])² per channel (each square rounded before the add).
void channelSquaredDeviations(ChannelShape s, const float* x, const double* mean, double* lanes);
// Σ dy and Σ xhat·dy per channel (one pass).
void channelGradSums(ChannelShape s, const float* dy, const float* xhat, double* lanesDy, double* lanesXDy);

// ---- batch normalisation (nn_batchnorm.cc), x shaped [B, C, S] ----

// Each takes at most channels·168 bytes of the thread's workspace for per-channel lanes and
// constants (may throw std::bad_alloc).
struct BnParams {
  double eps, momentum;
};
// Training: batch statistics μ, σ² (biased), invStd = 1/√(σ²+ε), running-stat update
//   rm ← (1−m)·rm + m·μ,   rv ← (1−m)·rv + m·(N>1 ? Σ(x−μ)²/(N−1) : σ²)
// then xhat = (x−μ)·invStd, y = γ·xhat + β (xhat and y from the same unrounded float64 h).
void bnForwardTrain(ChannelShape s, BnParams p, const float* x, const float* gamma, const float* beta, float* runMean,
                    float* runVar, float* xhat, float* y, double* invStd);
// Inference: μ = rm, invStd = 1/√(rv+ε), then as above.
void bnForwardEval(ChannelShape s, BnParams p, const float* x, const float* gamma, const float* beta,
                   const float* runMean, const float* runVar, float* xhat, float* y, double* invStd);
// dβ += Σdy, dγ += Σ xhat·dy; dx (when not null):
//   trained:  dx = (γ·invStd/N) · ((N·dy − Σdy) − xhat·Σ(xhat·dy))
//   eval:     dx = (γ·invStd) · dy
void bnBackward(ChannelShape s, const float* dy, const float* xhat, const float* gamma, const double* invStd,
                bool trained, float* dgamma, float* dbeta, float* dx);

// ---- pooling (nn_pool.cc) ----

// planes = B·C input planes of H×W pooled to OH×OW. Row p's window covers input rows
// [p·sH − pH, p·sH − pH + kH) clipped to [0, H) (columns alike). The caller guarantees
// (OH−1)·sH − pH < H and (OW−1)·sW − pW < W (every window holds an input element).
struct PoolShape {
  size_t planes, H, W, OH, OW, kH, kW, sH, sW, pH, pW;
};
// y = the window's maximum, idx = its flat input index (first maximum in row-major
// order; a later element replaces it only when strictly greater).
void maxPoolForward(const PoolShape& g, const float* x, float* y, int32_t* idx);
// dx = 0, then dx[idx[o]] += dy[o] in order o = 0, 1, … (float32 adds). idx must lie in [0, nIn).
void maxPoolBackward(const int32_t* idx, const float* dy, size_t nOut, float* dx, size_t nIn);
// y = (Σ_window x, float64 in row-major order) / n, n = the window's extent clipped to the padded
// input, rows × columns: min(a + k, size + pad) − a per axis, a = first (possibly padded) index.
void avgPoolForward(const PoolShape& g, const float* x, float* y);
// dx = 0, then for every output o (in order), v = dy[o] / n (float64) and dx[i] = f32(dx[i] + v)
// over its window in row-major order.
void avgPoolBackward(const PoolShape& g, const float* dy, float* dx);
// [planes, hw] → [planes]: y = (Σ x, float64 in order) · (1/hw).
void globalAvgPoolForward(size_t planes, size_t hw, const float* x, float* y);
// dx[plane, ·] = f32(dy[plane] · (1/hw)).
void globalAvgPoolBackward(size_t planes, size_t hw, const float* dy, float* dx);

// ---- optimizers (nn_optim.cc), elementwise over n values, float64 then one rounding ----

// SGD (lr η, momentum μ, dampFactor 1−τ, weight decay λ already 0 for parameters without decay):
//   g = ∇ + λ·w
//   μ = 0:  w ← w − η·g
//   μ > 0:  b ← (first ? g : μ·b + (1−τ)·g);   d = nesterov ? g + μ·f32(b) : f32(b);   w ← w − η·d
struct SgdStep {
  double lr, momentum, dampFactor, weightDecay;
  bool first, nesterov;
};
void sgdUpdate(const SgdStep& s, float* w, const float* g, float* buf, size_t n);
// Adam / AdamW (stepSize = η/(1−β1ᵗ), sqrtBc2 = √(1−β2ᵗ), shrink = 1 − η·λ for AdamW else 1,
// l2 = λ for Adam with L2 else 0):
//   w' = w·shrink;  g = ∇ + l2·w;  m ← f32(β1·m + (1−β1)·g);  v ← f32(β2·v + ((1−β2)·g)·g)
//   w ← w' − (stepSize·m) / (√v / sqrtBc2 + ε)
struct AdamStep {
  double beta1, beta2, eps, l2, shrink, stepSize, sqrtBc2;
};
void adamUpdate(const AdamStep& s, float* w, const float* g, float* m, float* v, size_t n);

}  // namespace nn
}  // namespace goten
