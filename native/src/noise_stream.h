// Counter-based stochastic-rounding noise, bit-identical to src/field/noise.ts (the
// argument for it is in docs/protocol.md, "Rounding noise"):
//
//   (k0, k1) = first two little-endian words of AES-128_key(streamId BE ‖ 0^8)   (PrgStream's first block)
//   w_i      = mix(mix(i + k0) ⊕ k1),  mix = lowbias32,  i < 2^32
//   g_i      = (w_i >> 8) · 2^−24
//
// Words are produced 16 (AVX-512) or 8 (AVX2) lanes at a time, following simd::level().
#pragma once
#include <cstddef>
#include <cstdint>

namespace goten {

class NoiseStream {
 public:
  NoiseStream(const uint8_t key[16], uint64_t streamId) { open(key, streamId); }
  // Needs AES-NI (aesAvailable()) for the per-stream keys.
  void open(const uint8_t key[16], uint64_t streamId);
  // Positions the stream at element i.
  void seek(uint64_t i) { pos_ = i; }
  // The next n raw words w_i (callers map them: g = (w >> 8)·2^−24).
  void words(uint32_t* out, size_t n);
  // The next n noise values g_i as doubles.
  void noise(double* out, size_t n);

 private:
  uint32_t k0_ = 0, k1_ = 0;
  uint64_t pos_ = 0;
};

}  // namespace goten
