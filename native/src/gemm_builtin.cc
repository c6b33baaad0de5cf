// Portable blocked GEMM, used when OpenBLAS is not available at build time.
//
// Goto/BLIS structure: C is updated in KC-deep slabs; for each slab a KC×NC block
// of op(B) is packed into NR-wide panels and an MC×KC block of op(A) into MR-tall
// panels, so the MR×NR micro-kernel streams both operands contiguously from cache
// and keeps its MR·NR accumulators in registers. Transposition is absorbed by the
// packing. Correctness first: no intrinsics, only GCC/clang vector extensions;
// on x86-64 GCC an AVX2/FMA clone is selected at load time (target_clones).
//
// Exactness for the mod-P path: with integer-valued doubles every partial sum is
// an integer, so as long as all of them stay below 2^53 in magnitude the result is
// exact in any summation order, FMA or not — the callers bound K accordingly.
//
// The packed panels live in the thread's workspace arena (workspace.h). Their
// widths MC and NC shrink to fit what the caller left free; KC never changes, so
// the summation order, and hence every float result, is the same for any width.
#include <algorithm>
#include <cstddef>
#include <cstring>

#include "gemm.h"
#include "workspace.h"

#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && defined(__linux__)
#define GOTEN_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define GOTEN_CLONES
#endif
#define GOTEN_INLINE inline __attribute__((always_inline))

namespace goten {
namespace {

// Micro-tile MR × NR with NR = two 32-byte vectors (8 doubles / 16 floats): 12
// vector accumulators + 2 loads of B + 1 broadcast fit the 16 AVX2 registers.
constexpr size_t MR = 6;
template <class T>
constexpr size_t NR = 64 / sizeof(T);
constexpr size_t KC = 256;  // depth of a packed slab (one A panel, MR·KC, stays in L1)
constexpr size_t MC = 120;  // rows of a packed A block (MC·KC in L2); a multiple of MR
constexpr size_t NC = 2048; // columns of a packed B block (KC·NC in L3)

// Widths of the packed blocks: mc rows of op(A) (a multiple of MR), nc columns of op(B).
struct PackDims {
  size_t mc, nc;
};

template <class T>
size_t packBytes(PackDims d) {
  return arenaBytes<T>(KC * d.mc) + arenaBytes<T>(KC * d.nc);
}

// The widest blocks whose panels fit in `bytes`: full MC × NC when possible, else
// NC narrowed first (in steps of NR), then MC (in steps of MR); at least MR × NR
// (which then exceeds `bytes`).
template <class T>
PackDims packDims(size_t bytes) {
  constexpr size_t NR = goten::NR<T>;
  const size_t words = bytes > 2 * kArenaAlign ? (bytes - 2 * kArenaAlign) / sizeof(T) / KC : 0;  // mc + nc
  if (words >= MC + NC) return {MC, NC};
  if (words >= MC + NR) return {MC, (words - MC) / NR * NR};
  if (words >= MR + NR) return {(words - NR) / MR * MR, NR};
  return {MR, NR};
}

// Blocks no wider than an m × n problem needs.
template <class T>
PackDims shrinkTo(PackDims d, size_t m, size_t n) {
  constexpr size_t NR = goten::NR<T>;
  return {std::min(d.mc, (m + MR - 1) / MR * MR), std::min(d.nc, (n + NR - 1) / NR * NR)};
}

// GCC/clang vector extension: 32 bytes of T; arithmetic on it is lane-wise and
// compiles to AVX2 in the haswell clone, to pairs of SSE2 ops otherwise.
// (Spelled per type: the attribute is ignored on a dependent type.)
template <class T>
struct VecOf;
template <>
struct VecOf<double> {
  typedef double type __attribute__((vector_size(32)));
};
template <>
struct VecOf<float> {
  typedef float type __attribute__((vector_size(32)));
};
template <class T>
using Vec = typename VecOf<T>::type;

// Packs rows [i0, i0+mc) × depth [p0, p0+kc) of op(A) into MR-row panels, zero-padded.
template <class T>
void packA(bool ta, const T* A, size_t lda, size_t i0, size_t mc, size_t p0, size_t kc, T* dst) {
  for (size_t ir = 0; ir < mc; ir += MR) {
    const size_t mr = std::min(MR, mc - ir);
    for (size_t p = 0; p < kc; ++p) {
      for (size_t i = 0; i < MR; ++i) {
        const size_t row = i0 + ir + i, col = p0 + p;
        dst[p * MR + i] = i < mr ? (ta ? A[col * lda + row] : A[row * lda + col]) : T(0);
      }
    }
    dst += MR * kc;
  }
}

// Packs depth [p0, p0+kc) × columns [j0, j0+nc) of op(B) into NR-column panels, zero-padded.
template <class T>
void packB(bool tb, const T* B, size_t ldb, size_t p0, size_t kc, size_t j0, size_t nc, T* dst) {
  constexpr size_t NR = goten::NR<T>;
  for (size_t jr = 0; jr < nc; jr += NR) {
    const size_t nr = std::min(NR, nc - jr);
    for (size_t p = 0; p < kc; ++p) {
      const size_t row = p0 + p;
      for (size_t j = 0; j < NR; ++j) {
        const size_t col = j0 + jr + j;
        dst[p * NR + j] = j < nr ? (tb ? B[col * ldb + row] : B[row * ldb + col]) : T(0);
      }
    }
    dst += NR * kc;
  }
}

// acc[MR×NR] = Σ_p a[p][·] ⊗ b[p][·] over one packed slab, accumulators in registers.
template <class T>
GOTEN_INLINE void micro(size_t kc, const T* __restrict a, const T* __restrict b, T* __restrict acc) {
  using V = Vec<T>;
  constexpr size_t L = sizeof(V) / sizeof(T);
  V c[MR][2];
  for (size_t i = 0; i < MR; ++i) c[i][0] = c[i][1] = V{};
  for (size_t p = 0; p < kc; ++p) {
    V b0, b1;
    std::memcpy(&b0, b + p * 2 * L, sizeof(V));
    std::memcpy(&b1, b + p * 2 * L + L, sizeof(V));
    for (size_t i = 0; i < MR; ++i) {
      const T ai = a[p * MR + i];
      c[i][0] += ai * b0;
      c[i][1] += ai * b1;
    }
  }
  for (size_t i = 0; i < MR; ++i) {
    std::memcpy(acc + i * 2 * L, &c[i][0], sizeof(V));
    std::memcpy(acc + i * 2 * L + L, &c[i][1], sizeof(V));
  }
}

// All micro-tiles of one packed (MC×KC, KC×NC) pair; overwrite C on the first slab
// when beta = 0, otherwise add.
template <class T>
GOTEN_INLINE void macro(size_t mc, size_t nc, size_t kc, const T* Ap, const T* Bp, bool overwrite, T* C,
                        size_t ldc) {
  constexpr size_t NR = goten::NR<T>;
  alignas(64) T acc[MR * NR];
  for (size_t jr = 0; jr < nc; jr += NR) {
    const size_t nr = std::min(NR, nc - jr);
    for (size_t ir = 0; ir < mc; ir += MR) {
      const size_t mr = std::min(MR, mc - ir);
      micro<T>(kc, Ap + ir * kc, Bp + jr * kc, acc);
      for (size_t i = 0; i < mr; ++i) {
        T* c = C + (ir + i) * ldc + jr;
        if (overwrite)
          for (size_t j = 0; j < nr; ++j) c[j] = acc[i * NR + j];
        else
          for (size_t j = 0; j < nr; ++j) c[j] += acc[i * NR + j];
      }
    }
  }
}

GOTEN_CLONES void macroD(size_t mc, size_t nc, size_t kc, const double* Ap, const double* Bp, bool ow, double* C,
                         size_t ldc) {
  macro<double>(mc, nc, kc, Ap, Bp, ow, C, ldc);
}
GOTEN_CLONES void macroS(size_t mc, size_t nc, size_t kc, const float* Ap, const float* Bp, bool ow, float* C,
                         size_t ldc) {
  macro<float>(mc, nc, kc, Ap, Bp, ow, C, ldc);
}
inline void macroT(size_t mc, size_t nc, size_t kc, const double* Ap, const double* Bp, bool ow, double* C,
                   size_t ldc) {
  macroD(mc, nc, kc, Ap, Bp, ow, C, ldc);
}
inline void macroT(size_t mc, size_t nc, size_t kc, const float* Ap, const float* Bp, bool ow, float* C,
                   size_t ldc) {
  macroS(mc, nc, kc, Ap, Bp, ow, C, ldc);
}

template <class T>
void blocked(bool ta, bool tb, size_t m, size_t n, size_t k, const T* A, size_t lda, const T* B, size_t ldb, T beta,
             T* C, size_t ldc) {
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (beta == T(0))
      for (size_t i = 0; i < m; ++i) std::fill(C + i * ldc, C + i * ldc + n, T(0));
    return;
  }
  // Inside a kernel call the panels use what the kernel left free (it reserved at
  // least gemmPackBytes); called on its own, the GEMM reserves that itself.
  Workspace& ws = workspace();
  const size_t room = ws.active() ? ws.available() : builtinPackBytes(sizeof(T), ws.limit());
  const PackDims d = shrinkTo<T>(packDims<T>(room), m, n);
  Frame frame(ws, packBytes<T>(d));
  T* Bp = frame.take<T>(KC * d.nc);
  T* Ap = frame.take<T>(KC * d.mc);
  for (size_t jc = 0; jc < n; jc += d.nc) {
    const size_t nc = std::min(d.nc, n - jc);
    for (size_t pc = 0; pc < k; pc += KC) {
      const size_t kc = std::min(KC, k - pc);
      const bool overwrite = pc == 0 && beta == T(0);
      packB(tb, B, ldb, pc, kc, jc, nc, Bp);
      for (size_t ic = 0; ic < m; ic += d.mc) {
        const size_t mc = std::min(d.mc, m - ic);
        packA(ta, A, lda, ic, mc, pc, kc, Ap);
        macroT(mc, nc, kc, Ap, Bp, overwrite, C + ic * ldc + jc, ldc);
      }
    }
  }
}

}  // namespace

size_t builtinPackBytes(size_t elemBytes, size_t limit) {
  // A third of the limit, which at the default 16 MiB holds the full blocks.
  return elemBytes == sizeof(float) ? packBytes<float>(packDims<float>(limit / 3))
                                    : packBytes<double>(packDims<double>(limit / 3));
}

void gemmBuiltin(bool ta, bool tb, size_t m, size_t n, size_t k, const double* A, size_t lda, const double* B,
                 size_t ldb, double beta, double* C, size_t ldc) {
  blocked<double>(ta, tb, m, n, k, A, lda, B, ldb, beta, C, ldc);
}
void gemmBuiltin(bool ta, bool tb, size_t m, size_t n, size_t k, const float* A, size_t lda, const float* B,
                 size_t ldb, float beta, float* C, size_t ldc) {
  blocked<float>(ta, tb, m, n, k, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace goten
