// Mod-P passes and the chunked exact GEMM (see modp.h for the bounds).
#include "modp.h"

#include <algorithm>
#include <stdexcept>
#include <string>

#include "gemm.h"
#include "scratch.h"

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

bool widenCentred(const int32_t* src, double* dst, size_t n) {
  int32_t bad = 0;
  for (size_t i = 0; i < n; ++i) {
    const int32_t x = src[i];
    bad |= (HALF_I - x) | (x + HALF_I);
    dst[i] = double(x);
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

void gemmModP(bool ta, bool tb, size_t m, size_t n, size_t k, const int32_t* A, const int32_t* B, int32_t* C,
              const char* kernel) {
  if (m == 0 || n == 0) return;
  Workspace& ws = workspace();
  const size_t na = m * k, nb = k * n;
  double* a = ws.a.get(na);
  double* b = ws.b.get(nb);
  if (!widenCentred(A, a, na)) throwNonCentred(kernel, "a", A, firstNonCentred(A, na));
  if (!widenCentred(B, b, nb)) throwNonCentred(kernel, "b", B, firstNonCentred(B, nb));
  double* c = ws.c.get(m * n);
  gemmModPChunked(ta, tb, m, n, k, a, ta ? m : k, b, tb ? k : n, c, n);
  reduceToInt32(c, m, n, n, C, n);
}

}  // namespace goten
