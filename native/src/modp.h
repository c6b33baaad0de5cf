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

// Centred residue of an integer-valued double with |c| ≤ 2^53 − P, i.e. the
// r ≡ c (mod P) in [−HALF, HALF] that `c − floor(c/P)·P`, then centring, gives.
// Computed branch-free so that loops over it vectorise: x = c·(1/P) is within
// 2^−19 of c/P (|c/P| < 2^32); adding and subtracting 1.5·2^52 rounds x to the
// nearest integer q (exact for |x| < 2^51; needs strict IEEE semantics, i.e. no
// -ffast-math). q·P and r = c − q·P are exact integers below 2^53, and
// |r| ≤ P/2 + P·2^−19 < HALF + 5, so r fits an int32 and one conditional ±P per
// side (sign-mask arithmetic, no branches) centres it.
inline int32_t reduceCentredI(double c) {
  constexpr double ROUND = 6755399441055744.0;  // 1.5 · 2^52
  const double q = (c * INV_P + ROUND) - ROUND;
  int32_t r = int32_t(c - q * P_D);
  r -= P_I & ((HALF_I - r) >> 31);  // r > HALF  → r − P
  r += P_I & ((r + HALF_I) >> 31);  // r < −HALF → r + P
  return r;
}
inline double reduceCentred(double c) { return double(reduceCentredI(c)); }

// Index of the first element with |v| > HALF, or n when all are centred.
size_t firstNonCentred(const int32_t* v, size_t n);

// dst (rows × cols, dense) = double(src) for a rows × cols block of src with
// leading dimension ld; returns whether every element was centred (the check
// rides along at no extra pass; dst is fully written either way).
bool widenBlock(const int32_t* src, size_t rows, size_t cols, size_t ld, double* dst);

// In-place centred reduction of a rows×cols block with leading dimension ld.
void reduceInPlace(double* c, size_t rows, size_t cols, size_t ld);

// out[i][j] = reduceCentred(c[i][j]) for a rows×cols block (leading dims ld, ldo).
void reduceToInt32(const double* c, size_t rows, size_t cols, size_t ld, int32_t* out, size_t ldo);

// An exact float64 sum of products of centred values into C (rows × cols, leading
// dimension ld), for reductions of any length added in pieces: each add() runs
// its K terms as GEMMs of at most MAX_EXACT_K terms, and C is reduced in place
// just before a GEMM would take the terms added since the last reduction past
// MAX_EXACT_K. So |C| ≤ HALF + 8192·HALF² < 2^53 throughout and every partial sum
// is an exact integer. C is not read before the first add (which overwrites it);
// after at least one add it holds an exact, not necessarily reduced, value (the
// caller reduces, usually fused with its output conversion), and the result is
// the same residue however the terms were split.
class ExactSum {
 public:
  ExactSum(double* c, size_t rows, size_t cols, size_t ld) : c_(c), rows_(rows), cols_(cols), ld_(ld) {}
  // C += op(A)·op(B): op(A) is rows × k (stored k × rows when ta), op(B) is k × cols
  // (stored cols × k when tb), centred double operands.
  void add(bool ta, bool tb, size_t k, const double* A, size_t lda, const double* B, size_t ldb);

 private:
  double* c_;
  size_t rows_, cols_, ld_;
  size_t terms_ = 0;  // products added to C since it was last reduced (or overwritten)
  bool first_ = true;
};

// C(m×n) = op(A)·op(B) mod P, centred, for centred Int32 operands and any K.
// Throws std::range_error (naming the operand) if an input is not centred; C is then untouched.
// Within the thread's workspace limit: C is computed in output blocks, each summed
// over depth chunks of widened op(A) and op(B) panels (ExactSum), so every entry is
// the same exact residue whatever the blocks.
void gemmModP(bool ta, bool tb, size_t m, size_t n, size_t k, const int32_t* A, const int32_t* B, int32_t* C,
              const char* kernel);

// Throws std::range_error "<kernel>: '<name>'[i] = v is not a centred field element ...".
[[noreturn]] void throwNonCentred(const char* kernel, const char* name, const int32_t* v, size_t i);
// Checks a whole operand; throws as above.
void requireCentred(const char* kernel, const char* name, const int32_t* v, size_t n);

}  // namespace goten
