// Chooses the GEMM implementation at build time: GOTEN_USE_OPENBLAS is defined by
// binding.gyp when a cblas.h from OpenBLAS compiles and links (detect-blas.cjs).
#include "gemm.h"

#include <algorithm>

#ifdef GOTEN_USE_OPENBLAS
#include <cblas.h>
#endif

namespace goten {

namespace {
// Shared trivial cases, so that BLAS never sees k = 0 (cblas rejects lda = 0 and
// prints to stderr) and both implementations agree on them: C = beta·C.
template <class T>
bool trivial(size_t m, size_t n, size_t k, T beta, T* C, size_t ldc) {
  if (m == 0 || n == 0) return true;
  if (k != 0) return false;
  if (beta == T(0))
    for (size_t i = 0; i < m; ++i) std::fill(C + i * ldc, C + i * ldc + n, T(0));
  return true;
}
}  // namespace

#ifdef GOTEN_USE_OPENBLAS

void gemm(bool ta, bool tb, size_t m, size_t n, size_t k, const double* A, size_t lda, const double* B,
          size_t ldb, double beta, double* C, size_t ldc) {
  if (trivial(m, n, k, beta, C, ldc)) return;
  cblas_dgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(m), int(n), int(k),
              1.0, A, int(lda), B, int(ldb), beta, C, int(ldc));
}
void gemm(bool ta, bool tb, size_t m, size_t n, size_t k, const float* A, size_t lda, const float* B,
          size_t ldb, float beta, float* C, size_t ldc) {
  if (trivial(m, n, k, beta, C, ldc)) return;
  cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, int(m), int(n), int(k),
              1.0f, A, int(lda), B, int(ldb), beta, C, int(ldc));
}
size_t gemmPackBytes(size_t, size_t) { return 0; }
const char* blasName() { return "openblas"; }
int blasThreads() { return openblas_get_num_threads(); }
void setBlasThreads(int n) { openblas_set_num_threads(n); }
std::string blasConfig() {
  std::string s = openblas_get_config();
  s += " core=";
  s += openblas_get_corename();
  return s;
}

#else

void gemm(bool ta, bool tb, size_t m, size_t n, size_t k, const double* A, size_t lda, const double* B,
          size_t ldb, double beta, double* C, size_t ldc) {
  if (trivial(m, n, k, beta, C, ldc)) return;
  gemmBuiltin(ta, tb, m, n, k, A, lda, B, ldb, beta, C, ldc);
}
void gemm(bool ta, bool tb, size_t m, size_t n, size_t k, const float* A, size_t lda, const float* B,
          size_t ldb, float beta, float* C, size_t ldc) {
  if (trivial(m, n, k, beta, C, ldc)) return;
  gemmBuiltin(ta, tb, m, n, k, A, lda, B, ldb, beta, C, ldc);
}
size_t gemmPackBytes(size_t elemBytes, size_t limit) { return builtinPackBytes(elemBytes, limit); }
const char* blasName() { return "builtin"; }
int blasThreads() { return 1; }
void setBlasThreads(int) {}
std::string blasConfig() { return "built-in blocked C++ GEMM (single thread)"; }

#endif

}  // namespace goten
