// Convolutions as GEMMs over column matrices, a group of G images at a time.
//
// Forward       Y[n]  (O × L)  = W (O × K) · col[n] (K × L)          K = C·kH·kW, L = OH·OW
// Grad-input    dcol  (K × L)  = Wᵀ · dY[n],  dX[n] = col2im(dcol)
// Grad-weight   dW    (O × K)  = Σ_n dY[n] · col[n]ᵀ                 reduction length N·L
//
// G images side by side (columns g·L … g·L+L−1) make one GEMM of width G·L instead
// of G narrow ones, which BLAS runs closer to peak. G is capped so the column matrix
// stays within a cache-friendly budget (it is written by im2col and read back at
// once) and so that everything the call takes from the workspace stays within the
// thread's limit (workspace.h).
//
// The mod-P kernels also hold float64 copies of the weights (forward, grad-input)
// or a float64 dW accumulator (grad-weight), O × K doubles (19 MB for 512→512 3×3).
// Under the limit these are split by input channels c0…c0+Cb, i.e. columns
// c0·kH·kW… of W and dW and rows of the column matrix; im2col and col2im of those
// channels are the same maps on a Cb-channel sub-image. Grad-input and grad-weight
// blocks are independent parts of the result (input channels of dX, columns of
// dW); the forward sums the blocks' products into Y exactly (ExactSum). Either way
// every mod-P result is the same residue for any limit. Float32 results may round
// differently with G (another GEMM width can change BLAS's summation order, and
// grad-weight adds G-image partial sums in float32).
#include "conv.h"

#include <algorithm>
#include <atomic>
#include <climits>

#include "gemm.h"
#include "modp.h"
#include "workspace.h"

namespace goten {

namespace {
// Column matrices of up to this many bytes per group. Measured on the VGG layer
// (2.4 MB of f64 columns per image): 1 image per GEMM ran at ~half the speed of
// 8-32 images, which were within noise of each other; 32 MB gives G = 11 there.
constexpr size_t kColBudgetBytes = size_t(32) << 20;
// Images per GEMM forced by setConvGroup (0 = automatic).
std::atomic<size_t> forcedGroup{0};

// Images per group before the workspace limit: forced, or the cache budget.
size_t preferredGroup(const ConvShape& g, size_t elemBytes) {
  const size_t forced = forcedGroup.load();
  if (forced > 0) return forced;
  const size_t perImage = std::max<size_t>(1, std::max(g.ckk(), g.O) * g.ohw() * elemBytes);
  return std::max<size_t>(1, kColBudgetBytes / perImage);
}

// The group size: at most `fit` (the limit) and the preferred size, balanced
// unless forced; G·L < 2^31 (BLAS dimensions are 32-bit ints).
size_t groupSize(const ConvShape& g, size_t elemBytes, size_t fit) {
  size_t G = std::min(std::max<size_t>(1, fit), preferredGroup(g, elemBytes));
  G = forcedGroup.load() > 0 ? std::min(G, g.N) : evenPieces(g.N, G);
  return std::max<size_t>(1, std::min(G, size_t(INT_MAX) / std::max<size_t>(1, g.ohw())));
}

// Bytes a conv may take for its own buffers under the thread's limit: the limit
// less the GEMM packs (reserved as headroom) and the takes' alignment.
size_t ownBudget(size_t elemBytes, size_t limit) {
  const size_t reserved = gemmPackBytes(elemBytes, limit) + 4 * kArenaAlign;
  return limit > reserved ? limit - reserved : 0;
}

// The input channels c0 … c0 + cc − 1 of g as a conv of their own: im2col / col2im
// of that sub-image (x + c0·H·W) give rows c0·kH·kW … of the full column matrix.
ConvShape channels(const ConvShape& g, size_t cc) {
  ConvShape s = g;
  s.C = cc;
  return s;
}

// ---------------------------------------------------------------- float32 ----

// A float32 pass's workspace: groups of G images, K×G·L floats (col or dcol) and,
// when G > 1, O×G·L more (the gathered dY or the GEMM output before scattering).
// G = 1 (one image's column matrix, written to / read from the caller's arrays) is
// the smallest piece.
struct F32Work {
  size_t G;
  Frame frame;
  float* cols;  // K × G·L
  float* wide;  // O × G·L, or nullptr when G = 1

  F32Work(const ConvShape& g, Workspace& ws)
      : G(groupSize(g, sizeof(float), ownBudget(sizeof(float), ws.limit()) / ((g.ckk() + g.O) * g.ohw() * sizeof(float)))),
        frame(ws, arenaBytes<float>(colFloats(g)) + arenaBytes<float>(wideFloats(g)), gemmPackBytes(sizeof(float), ws.limit())),
        cols(frame.take<float>(colFloats(g))),
        wide(G > 1 ? frame.take<float>(wideFloats(g)) : nullptr) {}

 private:
  size_t colFloats(const ConvShape& g) const { return g.ckk() * G * g.ohw(); }
  size_t wideFloats(const ConvShape& g) const { return G > 1 ? g.O * G * g.ohw() : 0; }
};

}  // namespace

void setConvGroup(size_t g) { forcedGroup.store(g); }

void conv2dF32(const ConvShape& g, const float* x, const float* w, float* y) {
  const size_t K = g.ckk(), L = g.ohw();
  F32Work work(g, workspace());
  float* col = work.cols;
  float* tmp = work.wide;
  for (size_t n0 = 0; n0 < g.N; n0 += work.G) {
    const size_t gc = std::min(work.G, g.N - n0), ld = gc * L;
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
  const size_t K = g.ckk(), L = g.ohw();
  F32Work work(g, workspace());
  float* dcol = work.cols;
  float* dyg = work.wide;
  for (size_t n0 = 0; n0 < g.N; n0 += work.G) {
    const size_t gc = std::min(work.G, g.N - n0), ld = gc * L;
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
  const size_t K = g.ckk(), L = g.ohw();
  F32Work work(g, workspace());
  float* col = work.cols;
  float* dyg = work.wide;
  for (size_t n0 = 0; n0 < g.N; n0 += work.G) {
    const size_t gc = std::min(work.G, g.N - n0), ld = gc * L;
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

// ------------------------------------------------------------------ mod P ----

namespace {

// A mod-P conv piece: Cb input channels and G images. Its doubles: Cb·f1 for the
// weight-sized buffer (and grad-input's image slice), plus G·(p0 + Cb·p1) for the
// per-image ones.
struct ModPCost {
  size_t f1, p0, p1;
};
struct ModPPlan {
  size_t G, Cb;
};

// Channel blocks of forward and grad-input keep at least this many GEMM rows or
// columns (Cb·kH·kW) when they are narrowed to make room for more images.
constexpr size_t kMinBlockK = 256;

// `wide`: the pass's GEMM is as wide as its image group (forward O × Kb × G·L,
// grad-input Kb × O × G·L), so BLAS gains from G more than from Kb; grad-weight's
// (O × Kb × G·L reduction) does not.
ModPPlan planModP(const ConvShape& g, const ModPCost& c, size_t limit, bool wide) {
  const size_t W = ownBudget(sizeof(double), limit) / sizeof(double);
  // Images per group next to Cb channels: (W − Cb·f1) / (p0 + Cb·p1).
  auto fitImages = [&](size_t Cb) { return W >= Cb * c.f1 ? (W - Cb * c.f1) / (c.p0 + Cb * c.p1) : 0; };
  // The weight-sized buffer gets at most half of the budget, so that groups of
  // several images still fit next to it.
  size_t Cb = evenPieces(g.C, g.C * c.f1 <= W / 2 ? g.C : (W / 2) / c.f1);
  size_t G = fitImages(Cb);
  const size_t want = evenPieces(g.N, preferredGroup(g, sizeof(double)));
  if (wide && G > 0 && G < want) {
    // Trade channels for images: the narrowest block that fits `want` images
    // (Cb·(f1 + want·p1) + want·p0 ≤ W), but not below kMinBlockK GEMM rows.
    const size_t kk = g.kH * g.kW, minCb = std::min(g.C, (kMinBlockK + kk - 1) / kk);
    const size_t cb = W > want * c.p0 ? (W - want * c.p0) / (c.f1 + want * c.p1) : 0;
    const size_t narrower = evenPieces(g.C, std::min(Cb, std::max(cb, minCb)));
    if (fitImages(narrower) > G) Cb = narrower, G = fitImages(narrower);
  }
  if (G == 0) {
    // Not even one image next to it: narrow the block until one image fits
    // (Cb·(f1 + p1) + p0 ≤ W); one channel of one image is the indivisible minimum.
    Cb = evenPieces(g.C, W > c.p0 ? (W - c.p0) / (c.f1 + c.p1) : 1);
    G = 1;
  }
  return {groupSize(g, sizeof(double), G), Cb};
}

// Doubles of column c0·kH·kW… of the O × K weights, widened: O × kb, dense.
void widenWeightColumns(const ConvShape& g, const int32_t* w, size_t c0, size_t cc, double* wd) {
  const size_t kk = g.kH * g.kW;
  widenBlock(w + c0 * kk, g.O, cc * kk, g.ckk(), wd);
}

}  // namespace

// Forward: per group of G images, Y (O × G·L) = Σ over channel blocks of
// W[:, block] (O × Kb) · col[block] (Kb × G·L), Kb = Cb·kH·kW, summed exactly and
// reduced into each Y[n]. The widened weight block is re-made per group unless all
// channels fit in one (then widened once).
void conv2dModP(const ConvShape& g, const int32_t* x, const int32_t* w, int32_t* y) {
  const size_t K = g.ckk(), L = g.ohw(), kk = g.kH * g.kW, HW = g.H * g.W;
  requireCentred("conv2dModP", "x", x, g.N * g.chw());
  requireCentred("conv2dModP", "w", w, g.O * K);
  Workspace& ws = workspace();
  const ModPPlan p = planModP(g, {g.O * kk, g.O * L, kk * L}, ws.limit(), true);
  const size_t Cb = p.Cb, Kb = Cb * kk;
  const size_t bytes = arenaBytes<double>(g.O * Kb) + arenaBytes<double>(Kb * p.G * L) + arenaBytes<double>(g.O * p.G * L);
  Frame frame(ws, bytes, gemmPackBytes(sizeof(double), ws.limit()));
  double* wd = frame.take<double>(g.O * Kb);
  double* col = frame.take<double>(Kb * p.G * L);
  double* tmp = frame.take<double>(g.O * p.G * L);
  const bool wholeW = Cb == g.C;
  if (wholeW) widenWeightColumns(g, w, 0, g.C, wd);
  for (size_t n0 = 0; n0 < g.N; n0 += p.G) {
    const size_t gc = std::min(p.G, g.N - n0), ld = gc * L;
    ExactSum sum(tmp, g.O, ld, ld);
    for (size_t c0 = 0; c0 < g.C; c0 += Cb) {
      const size_t cc = std::min(Cb, g.C - c0), kb = cc * kk;
      if (!wholeW) widenWeightColumns(g, w, c0, cc, wd);
      const ConvShape gs = channels(g, cc);
      for (size_t i = 0; i < gc; ++i) im2col(gs, x + (n0 + i) * g.chw() + c0 * HW, col + i * L, ld);
      // tmp (O × ld) += W[:, c0·kk…] (O × kb) · col (kb × ld)
      sum.add(false, false, kb, wd, kb, col, ld);
    }
    for (size_t i = 0; i < gc; ++i) reduceToInt32(tmp + i * L, g.O, L, ld, y + (n0 + i) * g.O * L, L);
  }
}

// Grad-input: input channels c0 … c0+Cb at a time (rows c0·kH·kW … of dcol, i.e.
// columns of W). Per group: dY gathered (O × G·L) once; per block: its Kb = Cb·kH·kW
// widened columns of W (unless all fit, widened once), dcol (Kb × G·L) = W[:, Kb]ᵀ·dYg,
// and per image col2im into a Cb-channel float64 slice reduced into dX[n].
void conv2dGradInputModP(const ConvShape& g, const int32_t* dy, const int32_t* w, int32_t* dx) {
  const size_t K = g.ckk(), L = g.ohw(), kk = g.kH * g.kW, HW = g.H * g.W;
  requireCentred("conv2dGradInputModP", "dy", dy, g.N * g.O * L);
  requireCentred("conv2dGradInputModP", "w", w, g.O * K);
  Workspace& ws = workspace();
  const ModPPlan p = planModP(g, {g.O * kk + HW, g.O * L, kk * L}, ws.limit(), true);
  const size_t Cb = p.Cb, Kb = Cb * kk;
  const size_t bytes = arenaBytes<double>(g.O * Kb) + arenaBytes<double>(g.O * p.G * L) +
                       arenaBytes<double>(Kb * p.G * L) + arenaBytes<double>(Cb * HW);
  Frame frame(ws, bytes, gemmPackBytes(sizeof(double), ws.limit()));
  double* wd = frame.take<double>(g.O * Kb);
  double* dyg = frame.take<double>(g.O * p.G * L);
  double* dcol = frame.take<double>(Kb * p.G * L);
  double* img = frame.take<double>(Cb * HW);
  const bool wholeW = Cb == g.C;
  if (wholeW) widenWeightColumns(g, w, 0, g.C, wd);
  // A dx pixel sums at most kH·kW dcol entries of O products each; while
  // O·kH·kW ≤ 8192 that whole sum is exact unreduced, else reduce dcol first.
  const bool reduceCol = g.O * kk > MAX_EXACT_K;
  for (size_t n0 = 0; n0 < g.N; n0 += p.G) {
    const size_t gc = std::min(p.G, g.N - n0), ld = gc * L;
    gatherBlocks(dy + n0 * g.O * L, gc, g.O, L, dyg);
    for (size_t c0 = 0; c0 < g.C; c0 += Cb) {
      const size_t cc = std::min(Cb, g.C - c0), kb = cc * kk;
      if (!wholeW) widenWeightColumns(g, w, c0, cc, wd);
      // dcol (kb × ld) = W[:, c0·kk…]ᵀ (kb × O) · dYg (O × ld), exact
      ExactSum(dcol, kb, ld, ld).add(true, false, g.O, wd, kb, dyg, ld);
      if (reduceCol) reduceInPlace(dcol, kb, ld, ld);
      const ConvShape gs = channels(g, cc);
      for (size_t i = 0; i < gc; ++i) {
        std::fill(img, img + cc * HW, 0.0);
        col2imAdd(gs, dcol + i * L, ld, img);
        reduceToInt32(img, 1, cc * HW, cc * HW, dx + (n0 + i) * g.chw() + c0 * HW, cc * HW);
      }
    }
  }
}

// Grad-weight: input channels c0 … c0+Cb at a time (columns c0·kH·kW … of dW).
// Per block: a float64 accumulator (O × Kb) summed exactly over all groups — dY
// gathered (O × G·L) and col (Kb × G·L) of those channels per group — then
// reduced into its dW columns.
void conv2dGradWeightModP(const ConvShape& g, const int32_t* dy, const int32_t* x, int32_t* dw) {
  const size_t K = g.ckk(), L = g.ohw(), kk = g.kH * g.kW, HW = g.H * g.W;
  requireCentred("conv2dGradWeightModP", "dy", dy, g.N * g.O * L);
  requireCentred("conv2dGradWeightModP", "x", x, g.N * g.chw());
  Workspace& ws = workspace();
  const ModPPlan p = planModP(g, {g.O * kk, g.O * L, kk * L}, ws.limit(), false);
  const size_t Cb = p.Cb, Kb = Cb * kk;
  const size_t bytes =
      arenaBytes<double>(g.O * Kb) + arenaBytes<double>(g.O * p.G * L) + arenaBytes<double>(Kb * p.G * L);
  Frame frame(ws, bytes, gemmPackBytes(sizeof(double), ws.limit()));
  double* acc = frame.take<double>(g.O * Kb);
  double* dyg = frame.take<double>(g.O * p.G * L);
  double* col = frame.take<double>(Kb * p.G * L);
  // With one group, dY is gathered once for all channel blocks.
  const bool oneGroup = p.G >= g.N;
  if (oneGroup) gatherBlocks(dy, g.N, g.O, L, dyg);
  for (size_t c0 = 0; c0 < g.C; c0 += Cb) {
    const size_t cc = std::min(Cb, g.C - c0), kb = cc * kk;
    const ConvShape gs = channels(g, cc);
    ExactSum sum(acc, g.O, kb, kb);
    for (size_t n0 = 0; n0 < g.N; n0 += p.G) {
      const size_t gc = std::min(p.G, g.N - n0), ld = gc * L;
      if (!oneGroup) gatherBlocks(dy + n0 * g.O * L, gc, g.O, L, dyg);
      for (size_t i = 0; i < gc; ++i) im2col(gs, x + (n0 + i) * g.chw() + c0 * HW, col + i * L, ld);
      // acc (O × kb) += dYg (O × ld) · colᵀ (ld × kb)
      sum.add(false, true, ld, dyg, ld, col, ld);
    }
    reduceToInt32(acc, g.O, kb, kb, dw + c0 * kk, K);
  }
}

}  // namespace goten
