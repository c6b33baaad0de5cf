// Mod-P passes and the chunked exact GEMM (see modp.h for the bounds).
#include "modp.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "gemm.h"
#include "workspace.h"

namespace goten {

size_t firstNonCentred(const int32_t* v, size_t n) {
  // Branchless scan in blocks: the sign bit of (HALF − x) | (x + HALF) is set iff
  // |x| > HALF; only a block that fails is searched element by element.
  constexpr size_t B = 4096;
  for (size_t i0 = 0; i0 < n; i0 += B) {
    const size_t i1 = std::min(n, i0 + B);
    int32_t bad = 0;
    for (size_t i = i0; i < i1; ++i) bad |= (HALF_I - v[i]) | (v[i] + HALF_I);
    if (bad < 0)
      for (size_t i = i0; i < i1; ++i)
        if (v[i] > HALF_I || v[i] < -HALF_I) return i;
  }
  return n;
}

void widenBlock(const int32_t* src, size_t rows, size_t cols, size_t ld, double* dst) {
  for (size_t i = 0; i < rows; ++i) {
    const int32_t* s = src + i * ld;
    double* d = dst + i * cols;
    for (size_t j = 0; j < cols; ++j) d[j] = double(s[j]);
  }
}

void reduceInPlace(double* c, size_t rows, size_t cols, size_t ld) {
  for (size_t i = 0; i < rows; ++i) {
    double* r = c + i * ld;
    for (size_t j = 0; j < cols; ++j) r[j] = reduceCentred(r[j]);
  }
}

void reduceToInt32(const double* c, size_t rows, size_t cols, size_t ld, int32_t* out, size_t ldo) {
  for (size_t i = 0; i < rows; ++i) {
    const double* r = c + i * ld;
    int32_t* o = out + i * ldo;
    for (size_t j = 0; j < cols; ++j) o[j] = reduceCentredI(r[j]);
  }
}

void gemmModPChunked(bool ta, bool tb, size_t m, size_t n, size_t k, const double* A, size_t lda,
                     const double* B, size_t ldb, double* C, size_t ldc, bool accumulate) {
  if (k == 0) {
    gemm(ta, tb, m, n, 0, A, lda, B, ldb, accumulate ? 1.0 : 0.0, C, ldc);
    return;
  }
  for (size_t k0 = 0; k0 < k; k0 += MAX_EXACT_K) {
    const size_t kc = std::min(MAX_EXACT_K, k - k0);
    // Chunk k0..k0+kc of op(A) is columns of a row-major m×k A, rows of a stored k×m one.
    const double* a = ta ? A + k0 * lda : A + k0;
    const double* b = tb ? B + k0 : B + k0 * ldb;
    if (k0 > 0) reduceInPlace(C, m, n, ldc);
    gemm(ta, tb, m, n, kc, a, lda, b, ldb, (k0 > 0 || accumulate) ? 1.0 : 0.0, C, ldc);
  }
}

void throwNonCentred(const char* kernel, const char* name, const int32_t* v, size_t i) {
  throw std::range_error(std::string(kernel) + ": '" + name + "'[" + std::to_string(i) + "] = " +
                         std::to_string(v[i]) + " is not a centred field element (|v| <= " +
                         std::to_string(HALF_I) + ")");
}

void requireCentred(const char* kernel, const char* name, const int32_t* v, size_t n) {
  const size_t i = firstNonCentred(v, n);
  if (i < n) throwNonCentred(kernel, name, v, i);
}

namespace {

// Output blocks of a mod-P GEMM: mb rows × nb columns of C, each computed from
// mb widened rows of op(A) (mb × k) and nb widened columns of op(B) (k × nb)
// into an mb × nb float64 accumulator. bytes: their arena size (+ GEMM packs
// separately, as headroom).
struct GemmPlan {
  size_t mb, nb, bytes;
};

GemmPlan planGemmModP(size_t m, size_t n, size_t k, size_t limit) {
  // Words (doubles) for the three blocks: limit less the GEMM's packs and the
  // three takes' alignment.
  const size_t reserved = gemmPackBytes(sizeof(double), limit) + 3 * kArenaAlign;
  const size_t W = limit > reserved ? (limit - reserved) / sizeof(double) : 0;
  size_t mb, nb;
  if (m * k + k * n + m * n <= W) {
    mb = m, nb = n;  // one block: as without a limit
  } else if (k * n <= W / 2) {
    // All of op(B) widened once, A by row blocks: mb·(k + n) ≤ W − k·n.
    nb = n, mb = (W - k * n) / (k + n);
  } else if (m * k <= W / 2) {
    // All of op(A) widened once, B by column blocks: nb·(k + m) ≤ W − m·k.
    mb = m, nb = (W - m * k) / (k + m);
  } else {
    // Near-square blocks s × s: 2·s·k + s² ≤ W, i.e. s = √(k² + W) − k.
    const double s = std::sqrt(double(k) * double(k) + double(W)) - double(k);
    mb = std::min(m, size_t(std::max(1.0, s)));
    mb = evenPieces(m, mb);
    nb = W > mb * k ? (W - mb * k) / (k + mb) : 1;
  }
  // Smallest piece: one row of op(A) and one column of op(B), (2k + 1) doubles.
  mb = evenPieces(m, mb), nb = evenPieces(n, nb);
  const size_t bytes = arenaBytes<double>(mb * k) + arenaBytes<double>(k * nb) + arenaBytes<double>(mb * nb);
  return {mb, nb, bytes};
}

// Rows [i0, i0 + rows) of op(A) (m × k; A stored k × m when ta) as a dense block;
// returns its leading dimension (k, or rows when transposed).
size_t widenRowsOfOpA(bool ta, const int32_t* A, size_t m, size_t k, size_t i0, size_t rows, double* dst) {
  if (ta) {
    widenBlock(A + i0, k, rows, m, dst);  // k × rows
    return rows;
  }
  widenBlock(A + i0 * k, rows, k, k, dst);  // rows × k
  return k;
}

// Columns [j0, j0 + cols) of op(B) (k × n; B stored n × k when tb) as a dense
// block; returns its leading dimension (cols, or k when transposed).
size_t widenColsOfOpB(bool tb, const int32_t* B, size_t k, size_t n, size_t j0, size_t cols, double* dst) {
  if (tb) {
    widenBlock(B + j0 * k, cols, k, k, dst);  // cols × k
    return k;
  }
  widenBlock(B + j0, k, cols, n, dst);  // k × cols
  return cols;
}

}  // namespace

void gemmModP(bool ta, bool tb, size_t m, size_t n, size_t k, const int32_t* A, const int32_t* B, int32_t* C,
              const char* kernel) {
  if (m == 0 || n == 0) return;
  requireCentred(kernel, "a", A, m * k);
  requireCentred(kernel, "b", B, k * n);
  Workspace& ws = workspace();
  const GemmPlan p = planGemmModP(m, n, k, ws.limit());
  Frame frame(ws, p.bytes, gemmPackBytes(sizeof(double), ws.limit()));
  double* a = frame.take<double>(p.mb * k);
  double* b = frame.take<double>(k * p.nb);
  double* c = frame.take<double>(p.mb * p.nb);
  // With a single column block, op(B) is widened once for all row blocks.
  const bool wholeB = p.nb == n;
  size_t ldb = wholeB ? widenColsOfOpB(tb, B, k, n, 0, n, b) : 0;
  for (size_t i0 = 0; i0 < m; i0 += p.mb) {
    const size_t mi = std::min(p.mb, m - i0);
    const size_t lda = widenRowsOfOpA(ta, A, m, k, i0, mi, a);
    for (size_t j0 = 0; j0 < n; j0 += p.nb) {
      const size_t nj = std::min(p.nb, n - j0);
      if (!wholeB) ldb = widenColsOfOpB(tb, B, k, n, j0, nj, b);
      // c (mi × nj) = op(A)[i0.., :] · op(B)[:, j0..], exact, then reduced into C's block.
      gemmModPChunked(ta, tb, mi, nj, k, a, lda, b, ldb, c, nj);
      reduceToInt32(c, mi, nj, nj, C + i0 * n + j0, n);
    }
  }
}

}  // namespace goten
