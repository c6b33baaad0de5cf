// Exact arithmetic in Z_P, P = 2^21 − 9, on centred representatives [−HALF, HALF].
//
// Products of centred values are at most HALF² < 2^40 in magnitude, so a float64
// dot product of K ≤ MAX_EXACT_K = 8192 of them stays below 2^53 (8192·HALF² =
// 2^53 − 85 899 141 120) and is exact in any order. A reduced accumulator (|c| ≤
// HALF) plus one more such chunk is still below 2^53, so longer reductions run in
// chunks of at most 8192 terms with a centred reduction of C between chunks.
#pragma once
#include <cmath>
#include <cstddef>
#include <cstdint>

namespace goten {

constexpr int32_t P_I = 2097143;
constexpr int32_t HALF_I = 1048571;
constexpr double P_D = 2097143.0;
constexpr double HALF_D = 1048571.0;
constexpr double INV_P = 1.0 / 2097143.0;
constexpr size_t MAX_EXACT_K = 8192;

// Centred residue of an integer-valued double with |c| ≤ 2^53 − P.
// r = c − floor(c/P)·P: the quotient from c·(1/P) is within 2^−20 of the true one,
// so floor can be off by one and r lands in [−P, 2P); q·P and c − q·P are exact
// integers below 2^53. Two corrections bring r into [0, P), one more centres it.
inline double reduceCentred(double c) {
  const double q = std::floor(c * INV_P);
  double r = c - q * P_D;
  r += r < 0.0 ? P_D : 0.0;
  r -= r >= P_D ? P_D : 0.0;
  r -= r > HALF_D ? P_D : 0.0;
  return r;
}

// Index of the first element with |v| > HALF, or n when all are centred.
size_t firstNonCentred(const int32_t* v, size_t n);

// dst[i] = double(src[i]) for a centred operand; returns false (dst partly written)
// if some element is not centred.
bool widenCentred(const int32_t* src, double* dst, size_t n);

// In-place centred reduction of a rows×cols block with leading dimension ld.
void reduceInPlace(double* c, size_t rows, size_t cols, size_t ld);

// out[i][j] = reduceCentred(c[i][j]) for a rows×cols block (leading dims ld, ldo).
void reduceToInt32(const double* c, size_t rows, size_t cols, size_t ld, int32_t* out, size_t ldo);

// C(m×n, ldc) = op(A)·op(B) over centred double operands, K split into chunks of at
// most MAX_EXACT_K with C reduced in place between chunks. With accumulate, C must
// hold centred values on entry and the product is added. On return C is exact but
// NOT reduced (|C| ≤ HALF + 8192·HALF² < 2^53): the caller reduces, usually fused
// with its output conversion.
void gemmModPChunked(bool ta, bool tb, size_t m, size_t n, size_t k, const double* A, size_t lda,
                     const double* B, size_t ldb, double* C, size_t ldc, bool accumulate = false);

// C(m×n) = op(A)·op(B) mod P, centred, for centred Int32 operands and any K.
// Throws std::range_error (naming the operand) if an input is not centred; C is then untouched.
void gemmModP(bool ta, bool tb, size_t m, size_t n, size_t k, const int32_t* A, const int32_t* B, int32_t* C,
              const char* kernel);

// Throws std::range_error "<kernel>: '<name>'[i] = v is not a centred field element ...".
[[noreturn]] void throwNonCentred(const char* kernel, const char* name, const int32_t* v, size_t i);
// Checks a whole operand; throws as above.
void requireCentred(const char* kernel, const char* name, const int32_t* v, size_t n);

}  // namespace goten
