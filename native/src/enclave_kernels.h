// Per-block loops of the enclave's fused kernels (addon_enclave.cc). Each is a plain
// elementwise loop over at most a few thousand elements that stay in L1; on x86-64 an
// AVX2 clone is picked at load time. All arithmetic is exact (integers, or IEEE double
// operations whose results are exactly those of the TypeScript reference).
#pragma once
#include <cstddef>
#include <cstdint>

#include "modp.h"

namespace goten {
namespace enclave {

// The field of modp.h under the reference's names, and the bits of a keystream word
// that make a candidate element.
constexpr int32_t P = P_I;
constexpr int32_t HALF = HALF_I;
constexpr uint32_t MASK21 = 0x1FFFFF;

// Elements per block of the per-block sweeps (stays in L1).
constexpr size_t BLOCK = 1024;
// Calls f(start, m) for consecutive blocks [start, start + m) of [0, n), m ≤ BLOCK.
template <class F>
inline void inBlocks(size_t n, F f) {
  for (size_t start = 0; start < n; start += BLOCK) f(start, n - start < BLOCK ? n - start : BLOCK);
}

// Keystream words → centred elements, optimistically: out[k] = centre(w[k] & 0x1FFFFF) for all k,
// returning the AND of (v − P) over the block (negative iff no word was rejected).
int32_t mapCentredOptimistic(const uint32_t* w, int32_t* out, size_t m);
// g[k] = (w[k] >> 8) · 2^−24.
void mapNoise(const uint32_t* w, double* g, size_t m);
// q[k] = clamp(floor(x[k]·scale + g[k]), −128, 127)   (scale a power of two)
void quantizeBlock(const float* x, const double* g, double scale, int32_t* q, size_t m);
// out[k] = q[k] − u[k] mod P, centred (q small or centred, u centred).
void subCentredBlock(const int32_t* q, const int32_t* u, int32_t* out, size_t m);
// out[k] = q[k] − s[k] − d[k] mod P, centred (|q| ≤ 128, s and d centred).
void subTwoCentredBlock(const int32_t* q, const int32_t* s, const int32_t* d, int32_t* out, size_t m);
// acc[k] += p[k]
void addBlock(int32_t* acc, const int32_t* p, size_t m);
// out[k] = float(centre(acc[k]) · scale) for |acc[k]| ≤ 2^30; returns max(maxIn, max_k |centre(acc[k])|).
int32_t reconstructBlock(const int32_t* acc, double scale, float* out, size_t m, int32_t maxIn);
// True iff every v[k] is a centred field element, −HALF ≤ v[k] ≤ HALF.
bool isCentred(const int32_t* v, size_t n);
// max |x[k]|; *finite = false if some x[k] is NaN or ±Inf.
float maxAbsBlock(const float* x, size_t n, bool* finite);

}  // namespace enclave
}  // namespace goten
