// The packed wire form of field elements (src/field/pack.ts is the reference): a centred
// element v (|v| ≤ HALF < 2^20) travels as its 24-bit two's complement, little-endian,
// 3 bytes. Unpacking sign-extends bit 23 and reports whether every value is centred (any
// 3 bytes decode to some int in [−2^23, 2^23); untrusted input is valid only if centred).
// AVX2 versions are picked at load time; results are identical to the scalar loops.
#pragma once
#include <cstddef>
#include <cstdint>

namespace goten {
namespace pack24 {

// dst[3k..3k+2] ← v[k] (v centred), k < m.
void pack(const int32_t* v, uint8_t* dst, size_t m);
// v[k] ← the element packed at src[3k..]; true iff every one is in [−HALF, HALF].
bool unpack(const uint8_t* src, int32_t* v, size_t m);
// acc[k] += the element packed at src[3k..]; true iff every one is in [−HALF, HALF].
bool accumulate(int32_t* acc, const uint8_t* src, size_t m);

}  // namespace pack24
}  // namespace goten
