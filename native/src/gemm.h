// Dense GEMM entry points used by every kernel of the addon.
//
// Row-major C(m×n, ldc) = op(A)·op(B) + beta·C with beta ∈ {0, 1} (alpha is
// always 1). op(A) is m×k, stored k×m when ta; op(B) is k×n, stored n×k when tb.
// gemm() goes to OpenBLAS when the addon was built against it, otherwise to the
// built-in blocked kernel; both give exact results for integer-valued doubles
// whose partial sums stay below 2^53 (any summation order is then exact).
#pragma once
#include <cstddef>
#include <string>

namespace goten {

void gemm(bool ta, bool tb, size_t m, size_t n, size_t k, const double* A, size_t lda, const double* B,
          size_t ldb, double beta, double* C, size_t ldc);
void gemm(bool ta, bool tb, size_t m, size_t n, size_t k, const float* A, size_t lda, const float* B,
          size_t ldb, float beta, float* C, size_t ldc);

// The portable fallback (always compiled, so that it cannot rot).
void gemmBuiltin(bool ta, bool tb, size_t m, size_t n, size_t k, const double* A, size_t lda, const double* B,
                 size_t ldb, double beta, double* C, size_t ldc);
void gemmBuiltin(bool ta, bool tb, size_t m, size_t n, size_t k, const float* A, size_t lda, const float* B,
                 size_t ldb, float beta, float* C, size_t ldc);

// Bytes a kernel reserves in its workspace Frame for the GEMMs it calls on
// elemBytes-wide operands under workspace limit `limit`: the built-in GEMM's
// packed panels, 0 with OpenBLAS (whose packing buffers are its own).
size_t gemmPackBytes(size_t elemBytes, size_t limit);
// The built-in GEMM's share (always compiled): panels fitting limit / 3.
size_t builtinPackBytes(size_t elemBytes, size_t limit);

// "openblas" or "builtin".
const char* blasName();
int blasThreads();
void setBlasThreads(int n);
// Build/config string of the BLAS (e.g. OpenBLAS's "DYNAMIC_ARCH ... Haswell").
std::string blasConfig();

}  // namespace goten
