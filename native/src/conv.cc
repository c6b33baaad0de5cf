// Convolutions as GEMMs over column matrices, a group of G images at a time.
//
// Forward       Y[n]  (O × L)  = W (O × K) · col[n] (K × L)          K = C·kH·kW, L = OH·OW
// Grad-input    dcol  (K × L)  = Wᵀ · dY[n],  dX[n] = col2im(dcol)
// Grad-weight   dW    (O × K)  = Σ_n dY[n] · col[n]ᵀ                 reduction length N·L
//
// G images side by side (columns g·L … g·L+L−1) make one GEMM of width G·L instead
// of G narrow ones, which BLAS runs closer to peak; G is capped so the column matrix
// stays within a cache-friendly budget (it is written by im2col and read back at once).
#include "conv.h"

#include <algorithm>
#include <atomic>
#include <climits>

#include "gemm.h"
#include "modp.h"
#include "scratch.h"

namespace goten {

namespace {
// Column matrices of up to this many bytes per group. Measured on the VGG layer
// (2.4 MB of f64 columns per image): 1 image per GEMM ran at ~half the speed of
// 8-32 images, which were within noise of each other; 32 MB gives G = 11 there.
constexpr size_t kColBudgetBytes = size_t(32) << 20;
// Images per GEMM forced by setConvGroup (0 = automatic).
std::atomic<size_t> forcedGroup{0};
}  // namespace

void setConvGroup(size_t g) { forcedGroup.store(g); }

size_t convGroupSize(const ConvShape& g, size_t elemBytes) {
  const size_t perImage = std::max<size_t>(1, std::max(g.ckk(), g.O) * g.ohw() * elemBytes);
  const size_t forced = forcedGroup.load();
  size_t G = forced > 0 ? forced : std::max<size_t>(1, kColBudgetBytes / perImage);
  G = std::min(G, g.N);
  // Balance the groups: 32 images with G = 13 become 11 + 11 + 10, not 13 + 13 + 6.
  if (forced == 0) G = (g.N + (g.N + G - 1) / G - 1) / ((g.N + G - 1) / G);
  // BLAS dimensions are 32-bit ints: keep G·L below 2^31.
  return std::max<size_t>(1, std::min(G, size_t(INT_MAX) / std::max<size_t>(1, g.ohw())));
}

void conv2dF32(const ConvShape& g, const float* x, const float* w, float* y) {
  Workspace& ws = workspace();
  const size_t K = g.ckk(), L = g.ohw(), G = convGroupSize(g, sizeof(float));
  float* col = ws.fcol.get(K * G * L);
  float* tmp = G > 1 ? ws.fc.get(g.O * G * L) : nullptr;
  for (size_t n0 = 0; n0 < g.N; n0 += G) {
    const size_t gc = std::min(G, g.N - n0), ld = gc * L;
    for (size_t i = 0; i < gc; ++i) im2col(g, x + (n0 + i) * g.chw(), col + i * L, ld);
    float* yn = y + n0 * g.O * L;
    if (gc == 1) {
      gemm(false, false, g.O, L, K, w, K, col, L, 0.0f, yn, L);
    } else {
      gemm(false, false, g.O, ld, K, w, K, col, ld, 0.0f, tmp, ld);
      scatterBlocks(tmp, gc, g.O, L, yn);
    }
  }
}

void conv2dGradInputF32(const ConvShape& g, const float* dy, const float* w, float* dx) {
  Workspace& ws = workspace();
  const size_t K = g.ckk(), L = g.ohw(), G = convGroupSize(g, sizeof(float));
  float* dcol = ws.fcol.get(K * G * L);
  float* dyg = G > 1 ? ws.fb.get(g.O * G * L) : nullptr;
  for (size_t n0 = 0; n0 < g.N; n0 += G) {
    const size_t gc = std::min(G, g.N - n0), ld = gc * L;
    const float* b = dy + n0 * g.O * L;
    if (gc > 1) {
      gatherBlocks(b, gc, g.O, L, dyg);
      b = dyg;
    }
    gemm(true, false, K, ld, g.O, w, K, b, ld, 0.0f, dcol, ld);
    for (size_t i = 0; i < gc; ++i) {
      float* img = dx + (n0 + i) * g.chw();
      std::fill(img, img + g.chw(), 0.0f);
      col2imAdd(g, dcol + i * L, ld, img);
    }
  }
}

void conv2dGradWeightF32(const ConvShape& g, const float* dy, const float* x, float* dw) {
  Workspace& ws = workspace();
  const size_t K = g.ckk(), L = g.ohw(), G = convGroupSize(g, sizeof(float));
  float* col = ws.fcol.get(K * G * L);
  float* dyg = G > 1 ? ws.fb.get(g.O * G * L) : nullptr;
  for (size_t n0 = 0; n0 < g.N; n0 += G) {
    const size_t gc = std::min(G, g.N - n0), ld = gc * L;
    const float* a = dy + n0 * g.O * L;
    if (gc > 1) {
      gatherBlocks(a, gc, g.O, L, dyg);
      a = dyg;
    }
    for (size_t i = 0; i < gc; ++i) im2col(g, x + (n0 + i) * g.chw(), col + i * L, ld);
    // dW (O × K) (+)= dYg (O × ld) · colᵀ (ld × K)
    gemm(false, true, g.O, K, ld, a, ld, col, ld, n0 == 0 ? 0.0f : 1.0f, dw, K);
  }
}

void conv2dModP(const ConvShape& g, const int32_t* x, const int32_t* w, int32_t* y) {
  const size_t K = g.ckk(), L = g.ohw(), G = convGroupSize(g, sizeof(double));
  requireCentred("conv2dModP", "x", x, g.N * g.chw());
  requireCentred("conv2dModP", "w", w, g.O * K);
  Workspace& ws = workspace();
  double* wd = ws.a.get(g.O * K);
  widenCentred(w, wd, g.O * K);
  double* col = ws.col.get(K * G * L);
  double* tmp = ws.c.get(g.O * G * L);
  for (size_t n0 = 0; n0 < g.N; n0 += G) {
    const size_t gc = std::min(G, g.N - n0), ld = gc * L;
    for (size_t i = 0; i < gc; ++i) im2col(g, x + (n0 + i) * g.chw(), col + i * L, ld);
    gemmModPChunked(false, false, g.O, ld, K, wd, K, col, ld, tmp, ld);
    for (size_t i = 0; i < gc; ++i) reduceToInt32(tmp + i * L, g.O, L, ld, y + (n0 + i) * g.O * L, L);
  }
}

void conv2dGradInputModP(const ConvShape& g, const int32_t* dy, const int32_t* w, int32_t* dx) {
  const size_t K = g.ckk(), L = g.ohw(), G = convGroupSize(g, sizeof(double));
  requireCentred("conv2dGradInputModP", "dy", dy, g.N * g.O * L);
  requireCentred("conv2dGradInputModP", "w", w, g.O * K);
  Workspace& ws = workspace();
  double* wd = ws.a.get(g.O * K);
  widenCentred(w, wd, g.O * K);
  double* dyg = ws.b.get(g.O * G * L);
  double* dcol = ws.col.get(K * G * L);
  double* img = ws.img.get(g.chw());
  // A dx pixel sums at most kH·kW dcol entries of O products each; while
  // O·kH·kW ≤ 8192 that whole sum is exact unreduced, else reduce dcol first.
  const bool reduceCol = g.O * g.kH * g.kW > MAX_EXACT_K;
  for (size_t n0 = 0; n0 < g.N; n0 += G) {
    const size_t gc = std::min(G, g.N - n0), ld = gc * L;
    gatherBlocks(dy + n0 * g.O * L, gc, g.O, L, dyg);
    gemmModPChunked(true, false, K, ld, g.O, wd, K, dyg, ld, dcol, ld);
    if (reduceCol) reduceInPlace(dcol, K, ld, ld);
    for (size_t i = 0; i < gc; ++i) {
      std::fill(img, img + g.chw(), 0.0);
      col2imAdd(g, dcol + i * L, ld, img);
      reduceToInt32(img, 1, g.chw(), g.chw(), dx + (n0 + i) * g.chw(), g.chw());
    }
  }
}

void conv2dGradWeightModP(const ConvShape& g, const int32_t* dy, const int32_t* x, int32_t* dw) {
  const size_t K = g.ckk(), L = g.ohw(), G = convGroupSize(g, sizeof(double));
  requireCentred("conv2dGradWeightModP", "dy", dy, g.N * g.O * L);
  requireCentred("conv2dGradWeightModP", "x", x, g.N * g.chw());
  Workspace& ws = workspace();
  double* dyg = ws.b.get(g.O * G * L);
  double* col = ws.col.get(K * G * L);
  double* acc = ws.c.get(g.O * K);
  // The reduction runs over N·L terms; `terms` counts those added since acc was
  // last reduced, and acc is reduced before a chunk would take it past 8192.
  size_t terms = 0;
  bool first = true;
  for (size_t n0 = 0; n0 < g.N; n0 += G) {
    const size_t gc = std::min(G, g.N - n0), ld = gc * L;
    gatherBlocks(dy + n0 * g.O * L, gc, g.O, L, dyg);
    for (size_t i = 0; i < gc; ++i) im2col(g, x + (n0 + i) * g.chw(), col + i * L, ld);
    for (size_t k0 = 0; k0 < ld; k0 += MAX_EXACT_K) {
      const size_t kc = std::min(MAX_EXACT_K, ld - k0);
      if (!first && terms + kc > MAX_EXACT_K) {
        reduceInPlace(acc, g.O, K, K);
        terms = 0;
      }
      // acc (O × K) (+)= dYg[:, k0:k0+kc] · col[:, k0:k0+kc]ᵀ
      gemm(false, true, g.O, K, kc, dyg + k0, ld, col + k0, ld, first ? 0.0 : 1.0, acc, K);
      first = false;
      terms += kc;
    }
  }
  reduceToInt32(acc, g.O, K, K, dw, K);
}

}  // namespace goten
