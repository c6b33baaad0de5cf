// Per-block loops of the lean protocol's enclave sweeps (addon_enclave.cc), each over at most
// a few thousand elements that stay in L1, bit-identical to the TypeScript reference
// (src/protocol/enclave-kernels.ts) and to the general loops of enclave_kernels.h. An AVX2
// version is picked at load time.
#pragma once
#include <cstddef>
#include <cstdint>

namespace goten {
namespace lean {

// For k < m, with g_k = (noise[k] >> 8) · 2^−24 (a raw keystream word, prg_stream.h):
//   q_k = clamp(floor(x_k · scale + g_k), −128, 127)            (scale a power of two; one
//                                                              rounding, in the addition)
//   e_k = centre(q_k − s0_k − d_k)  packed into packed[3k..3k+2] (pack24.h)
// q (if not null) receives q_k; packed may be null (then s0, d are not read).
// Returns max(maxBits, max_k bits(|x_k|)): the bit pattern of max|x| (|x| ordered as floats is ordered
// as integers; ≥ 0x7F800000 means a NaN or an infinity was seen), the operand's scan in the same pass.
uint32_t quantizeMaskPack(const float* x, const uint32_t* noise, double scale, const int32_t* s0, const int32_t* d, int32_t* q,
                          uint8_t* packed, size_t m, uint32_t maxBits);

// out_k = float(centre(acc_k) · scale) for |acc_k| ≤ P − 1 (a sum of two centred values);
// returns max(maxIn, max_k |centre(acc_k)|). Same results as enclave::reconstructBlock.
int32_t reconstructTwo(const int32_t* acc, double scale, float* out, size_t m, int32_t maxIn);

}  // namespace lean
}  // namespace goten
