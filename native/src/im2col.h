// im2col / col2im for one NCHW image, any kernel, stride and zero padding.
//
// Column matrix layout (Caffe order): row r = (c·kH + i)·kW + j, column q = oh·OW + ow,
//   col[r][q] = x[c][oh·sH − pH + i][ow·sW − pW + j]   (0 outside the image).
// With it, conv forward is  Y(O × OH·OW) = W(O × C·kH·kW) · col.
// The leading dimension ld of col may exceed OH·OW so that several images share one
// column matrix (image g at column offset g·OH·OW), which turns the per-image GEMMs
// of a batch into one wider GEMM.
#pragma once
#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace goten {

struct ConvShape {
  size_t N, C, H, W, O, kH, kW, sH, sW, pH, pW, OH, OW;
  size_t chw() const { return C * H * W; }
  size_t ohw() const { return OH * OW; }
  size_t ckk() const { return C * kH * kW; }
};

namespace detail {
// Output columns ow with 0 ≤ ow·s − p + j < W form one interval [lo, hi).
inline void validRange(const ConvShape& g, size_t j, size_t& lo, size_t& hi) {
  const int64_t s = int64_t(g.sW), a = int64_t(g.pW) - int64_t(j);  // need ow·s ≥ a
  const int64_t b = int64_t(g.W) - 1 + a;                            // and ow·s ≤ b
  int64_t l = a <= 0 ? 0 : (a + s - 1) / s;
  int64_t h = b < 0 ? 0 : b / s + 1;
  l = std::min<int64_t>(l, int64_t(g.OW));
  h = std::max<int64_t>(l, std::min<int64_t>(h, int64_t(g.OW)));
  lo = size_t(l), hi = size_t(h);
}
}  // namespace detail

// col (C·kH·kW rows, leading dimension ld) ← x (C×H×W), converting Tin → Tout.
template <class Tin, class Tout>
void im2col(const ConvShape& g, const Tin* x, Tout* col, size_t ld) {
  for (size_t c = 0; c < g.C; ++c)
    for (size_t i = 0; i < g.kH; ++i)
      for (size_t j = 0; j < g.kW; ++j) {
        Tout* row = col + ((c * g.kH + i) * g.kW + j) * ld;
        size_t lo, hi;
        detail::validRange(g, j, lo, hi);
        for (size_t oh = 0; oh < g.OH; ++oh) {
          Tout* d = row + oh * g.OW;
          const int64_t ih = int64_t(oh * g.sH) - int64_t(g.pH) + int64_t(i);
          if (ih < 0 || ih >= int64_t(g.H)) {
            std::fill(d, d + g.OW, Tout(0));
            continue;
          }
          const Tin* s = x + (c * g.H + size_t(ih)) * g.W;
          std::fill(d, d + lo, Tout(0));
          if (lo < hi) {
            // iw = ow·sW − pW + j ≥ 0 on [lo, hi)
            const Tin* base = s + (lo * g.sW + j - g.pW);
            if (g.sW == 1)
              for (size_t ow = lo; ow < hi; ++ow) d[ow] = Tout(base[ow - lo]);
            else
              for (size_t ow = lo; ow < hi; ++ow) d[ow] = Tout(base[(ow - lo) * g.sW]);
          }
          std::fill(d + hi, d + g.OW, Tout(0));
        }
      }
}

// x (C×H×W) += col2im(col): the adjoint of im2col; each column entry is added to
// the input pixel it was read from. The caller zeroes x first when it wants "=".
template <class Tcol, class Tx>
void col2imAdd(const ConvShape& g, const Tcol* col, size_t ld, Tx* x) {
  for (size_t c = 0; c < g.C; ++c)
    for (size_t i = 0; i < g.kH; ++i)
      for (size_t j = 0; j < g.kW; ++j) {
        const Tcol* row = col + ((c * g.kH + i) * g.kW + j) * ld;
        size_t lo, hi;
        detail::validRange(g, j, lo, hi);
        for (size_t oh = 0; oh < g.OH; ++oh) {
          const int64_t ih = int64_t(oh * g.sH) - int64_t(g.pH) + int64_t(i);
          if (ih < 0 || ih >= int64_t(g.H) || lo == hi) continue;
          const Tcol* sr = row + oh * g.OW;
          Tx* base = x + (c * g.H + size_t(ih)) * g.W + (lo * g.sW + j - g.pW);
          if (g.sW == 1)
            for (size_t ow = lo; ow < hi; ++ow) base[ow - lo] += Tx(sr[ow]);
          else
            for (size_t ow = lo; ow < hi; ++ow) base[(ow - lo) * g.sW] += Tx(sr[ow]);
        }
      }
}

// dst[o][g·L + p] = src[g][o][p] for g < G: G consecutive O×L blocks side by side.
template <class Tin, class Tout>
void gatherBlocks(const Tin* src, size_t G, size_t O, size_t L, Tout* dst) {
  for (size_t gi = 0; gi < G; ++gi)
    for (size_t o = 0; o < O; ++o) {
      const Tin* s = src + (gi * O + o) * L;
      Tout* d = dst + o * G * L + gi * L;
      for (size_t p = 0; p < L; ++p) d[p] = Tout(s[p]);
    }
}

// The inverse: dst[g][o][p] = src[o][g·L + p].
template <class T>
void scatterBlocks(const T* src, size_t G, size_t O, size_t L, T* dst) {
  for (size_t gi = 0; gi < G; ++gi)
    for (size_t o = 0; o < O; ++o) std::copy(src + o * G * L + gi * L, src + o * G * L + gi * L + L, dst + (gi * O + o) * L);
}

}  // namespace goten
