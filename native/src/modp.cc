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

bool widenBlock(const int32_t* src, size_t rows, size_t cols, size_t ld, double* dst) {
  int32_t bad = 0;  // sign bit set iff some |x| > HALF (as in firstNonCentred)
  for (size_t i = 0; i < rows; ++i) {
    const int32_t* s = src + i * ld;
    double* d = dst + i * cols;
    for (size_t j = 0; j < cols; ++j) {
      bad |= (HALF_I - s[j]) | (s[j] + HALF_I);
      d[j] = double(s[j]);
    }
  }
  return bad >= 0;
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

void ExactSum::add(bool ta, bool tb, size_t k, const double* A, size_t lda, const double* B, size_t ldb) {
  if (k == 0 && first_) {
    gemm(ta, tb, rows_, cols_, 0, A, lda, B, ldb, 0.0, c_, ld_);  // C = 0
    first_ = false;
    return;
  }
  for (size_t k0 = 0; k0 < k; k0 += MAX_EXACT_K) {
    const size_t kc = std::min(MAX_EXACT_K, k - k0);
    if (!first_ && terms_ + kc > MAX_EXACT_K) {
      reduceInPlace(c_, rows_, cols_, ld_);
      terms_ = 0;
    }
    // Terms k0…k0+kc of op(A) are columns of a row-major rows × k A, rows of a stored k × rows one.
    const double* a = ta ? A + k0 * lda : A + k0;
    const double* b = tb ? B + k0 : B + k0 * ldb;
    gemm(ta, tb, rows_, cols_, kc, a, lda, b, ldb, first_ ? 0.0 : 1.0, c_, ld_);
    first_ = false;
    terms_ += kc;
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

// Blocks of a mod-P GEMM: output blocks of mb rows × nb columns, each summed over
// depth chunks of kb terms from an mb × kb panel of op(A) and a kb × nb panel of
// op(B), widened to double. bytes: the three buffers (GEMM packs come on top, as
// headroom).
struct GemmPlan {
  size_t mb, nb, kb, bytes;
};

GemmPlan planGemmModP(size_t m, size_t n, size_t k, size_t limit) {
  // Doubles for the three buffers: the limit less the GEMM's packs and the takes' alignment.
  const size_t reserved = gemmPackBytes(sizeof(double), limit) + 3 * kArenaAlign;
  const size_t W = limit > reserved ? (limit - reserved) / sizeof(double) : 0;
  // Output columns that fit next to all of op(A) in one panel (nb·(k + m) ≤ W − m·k),
  // and rows next to all of op(B); 0 when that operand takes more than half the budget.
  const size_t nbWithA = m * k <= W / 2 ? (W - m * k) / (k + m) : 0;
  const size_t mbWithB = k * n <= W / 2 ? (W - k * n) / (k + n) : 0;
  size_t mb = m, nb = n, kb = k;
  if (m * k + k * n + m * n <= W) {
    // One block: as without a limit.
  } else if (nbWithA > 0) {
    // op(A) widened once; op(B) by column blocks, each widened once.
    nb = evenPieces(n, nbWithA);
  } else if (mbWithB > 0) {
    // op(B) widened once; op(A) by row blocks, each widened once.
    mb = evenPieces(m, mbWithB);
  } else {
    // Output blocks of at most half the budget, as square as the shape allows (BLAS
    // gets wide GEMMs, each panel is reused widely), summed over depth chunks.
    const size_t half = W / 2;
    if (m * n > half) {
      const size_t s = size_t(std::sqrt(double(half)));
      if (m <= s)
        nb = half / m;
      else if (n <= s)
        mb = half / n;
      else
        mb = nb = s;
    }
    mb = evenPieces(m, mb), nb = evenPieces(n, nb);
    // The rest holds the two panels, (mb + nb)·kb doubles. The smallest piece is one
    // entry of C from one term, 3 doubles.
    kb = evenPieces(k, W > mb * nb ? (W - mb * nb) / (mb + nb) : 1);
  }
  const size_t bytes = arenaBytes<double>(mb * kb) + arenaBytes<double>(kb * nb) + arenaBytes<double>(mb * nb);
  return {mb, nb, kb, bytes};
}

// Rows [i0, i0 + rows) × terms [p0, p0 + depth) of op(A) (m × k; A stored k × m
// when ta) as a dense panel in the same orientation; returns its leading dimension.
size_t widenPanelA(bool ta, const int32_t* A, size_t m, size_t k, size_t i0, size_t rows, size_t p0, size_t depth,
                   double* dst) {
  if (ta) {
    widenBlock(A + p0 * m + i0, depth, rows, m, dst);  // depth × rows
    return rows;
  }
  widenBlock(A + i0 * k + p0, rows, depth, k, dst);  // rows × depth
  return depth;
}

// Terms [p0, p0 + depth) × columns [j0, j0 + cols) of op(B) (k × n; B stored n × k
// when tb) as a dense panel in the same orientation; returns its leading dimension.
// That is widenPanelA's copy on B seen as the n × k operand op'(B) = op(B)ᵀ (op'
// transposes exactly when op does not): rows j0… and terms p0… of it.
size_t widenPanelB(bool tb, const int32_t* B, size_t k, size_t n, size_t p0, size_t depth, size_t j0, size_t cols,
                   double* dst) {
  return widenPanelA(!tb, B, n, k, j0, cols, p0, depth, dst);
}

// Outputs at most this many rows take the direct path below (verification's row combinations S·X).
constexpr size_t kFewRows = 4;
// Columns per block of the direct path: kFewRows accumulator rows of doubles stay in L1.
constexpr size_t kFewRowsBlock = 512;

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define GOTEN_FEW_ROWS_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define GOTEN_FEW_ROWS_CLONES
#endif

// acc[j] += a · double(b[j]) for j < n: exact while the accumulated terms stay below 2^53.
GOTEN_FEW_ROWS_CLONES void axpyWiden(double a, const int32_t* b, double* acc, size_t n) {
  for (size_t j = 0; j < n; ++j) acc[j] += a * double(b[j]);
}

// C (m × n) = A (m × k) · B (k × n) mod P for m ≤ kFewRows, untransposed: one pass over B per column
// block, each element widened in registers instead of into a panel for BLAS, whose m-row GEMM would be
// bound by reading the widened panel anyway. Same exactness rule as ExactSum: a sum of at most
// MAX_EXACT_K products of centred elements stays below 2^53, then it is reduced.
void gemmModPFewRows(size_t m, size_t n, size_t k, const int32_t* A, const int32_t* B, int32_t* C) {
  double acc[kFewRows][kFewRowsBlock];
  for (size_t j0 = 0; j0 < n; j0 += kFewRowsBlock) {
    const size_t nj = std::min(kFewRowsBlock, n - j0);
    for (size_t i = 0; i < m; ++i) std::fill(acc[i], acc[i] + nj, 0.0);
    for (size_t p = 0; p < k; ++p) {
      if (p > 0 && p % MAX_EXACT_K == 0)
        for (size_t i = 0; i < m; ++i) reduceInPlace(acc[i], 1, nj, nj);
      const int32_t* b = B + p * n + j0;
      for (size_t i = 0; i < m; ++i) axpyWiden(double(A[i * k + p]), b, acc[i], nj);
    }
    for (size_t i = 0; i < m; ++i) reduceToInt32(acc[i], 1, nj, nj, C + i * n + j0, n);
  }
}

}  // namespace

void gemmModP(bool ta, bool tb, size_t m, size_t n, size_t k, const int32_t* A, const int32_t* B, int32_t* C,
              const char* kernel) {
  if (m == 0 || n == 0) return;
  if (m <= kFewRows && !ta && !tb && k > 0) {
    requireCentred(kernel, "a", A, m * k);
    requireCentred(kernel, "b", B, k * n);
    gemmModPFewRows(m, n, k, A, B, C);
    return;
  }
  Workspace& ws = workspace();
  const GemmPlan p = planGemmModP(m, n, k, ws.limit());
  // One block widens both operands whole before C is written, checking on the way;
  // blocks write C as they go, so the operands are checked first.
  const bool oneBlock = p.mb == m && p.nb == n && p.kb == k;
  if (!oneBlock || k == 0) {
    requireCentred(kernel, "a", A, m * k);
    requireCentred(kernel, "b", B, k * n);
  }
  if (k == 0) {
    std::fill(C, C + m * n, 0);
    return;
  }
  Frame frame(ws, p.bytes, gemmPackBytes(sizeof(double), ws.limit()));
  double* a = frame.take<double>(p.mb * p.kb);
  double* b = frame.take<double>(p.kb * p.nb);
  double* c = frame.take<double>(p.mb * p.nb);
  if (oneBlock) {
    // c = op(A)·op(B) on the operands widened whole, exact, then reduced into C.
    if (!widenBlock(A, 1, m * k, m * k, a)) throwNonCentred(kernel, "a", A, firstNonCentred(A, m * k));
    if (!widenBlock(B, 1, k * n, k * n, b)) throwNonCentred(kernel, "b", B, firstNonCentred(B, k * n));
    ExactSum(c, m, n, n).add(ta, tb, k, a, ta ? m : k, b, tb ? k : n);
    reduceToInt32(c, m, n, n, C, n);
    return;
  }
  // With the whole depth in one panel, a panel of op(A) serves a whole row of
  // output blocks, and a single column block's op(B) panel serves them all.
  const bool oneChunk = p.kb == k;
  size_t lda = 0, ldb = 0;
  if (oneChunk && p.nb == n) ldb = widenPanelB(tb, B, k, n, 0, k, 0, n, b);
  for (size_t i0 = 0; i0 < m; i0 += p.mb) {
    const size_t mi = std::min(p.mb, m - i0);
    if (oneChunk) lda = widenPanelA(ta, A, m, k, i0, mi, 0, k, a);
    for (size_t j0 = 0; j0 < n; j0 += p.nb) {
      const size_t nj = std::min(p.nb, n - j0);
      if (oneChunk && p.nb < n) ldb = widenPanelB(tb, B, k, n, 0, k, j0, nj, b);
      // c (mi × nj) = Σ over depth chunks of op(A)[i0…, p0…] · op(B)[p0…, j0…], exact
      ExactSum sum(c, mi, nj, nj);
      for (size_t p0 = 0; p0 < k; p0 += p.kb) {
        const size_t pc = std::min(p.kb, k - p0);
        if (!oneChunk) {
          lda = widenPanelA(ta, A, m, k, i0, mi, p0, pc, a);
          ldb = widenPanelB(tb, B, k, n, p0, pc, j0, nj, b);
        }
        sum.add(ta, tb, pc, a, lda, b, ldb);
      }
      reduceToInt32(c, mi, nj, nj, C + i0 * n + j0, n);
    }
  }
}

}  // namespace goten
