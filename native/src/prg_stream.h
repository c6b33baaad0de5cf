// The project's PRG streams (src/field/prg.ts) in C++, bit-identical to the
// TypeScript FieldStream over node:crypto:
//
//   keystream   AES-128-CTR, initial counter block IV = streamId (8 bytes, big-endian) ‖ 0^8,
//               incremented as one big-endian 128-bit integer (block j = E_k(IV + j));
//               read as little-endian uint32 words w_0, w_1, …
//   centred     v = w & 0x1FFFFF, rejected when v ≥ P, output v (v ≤ HALF) or v − P
//   noise       g = (w >>> 8) · 2^−24 ∈ [0, 1), one word per value
//
// Blocks are encrypted with AES-NI, eight at a time (VAES with 256-bit vectors when
// the CPU has it). `aesAvailable()` says whether this CPU can run these kernels at
// all; callers fall back to the TypeScript reference when it cannot.
#pragma once
#include <cstddef>
#include <cstdint>

namespace goten {

// True when the CPU has AES-NI (and this build targets x86-64).
bool aesAvailable();
// "vaes", "aesni" or "none": which block routine the streams use.
const char* aesPath();

// One stream (key, id) positioned at its start; draws keystream in buffered pieces.
// The first keystream block of stream (key, streamId) as four little-endian words: what a PrgStream's
// first words() call returns, without its 8 KiB refill (the noise streams need only these).
void prgFirstBlock(const uint8_t key[16], uint64_t streamId, uint32_t out[4]);

class PrgStream {
 public:
  static constexpr size_t BUF_WORDS = 2048;  // 8 KiB of keystream per refill

  PrgStream(const uint8_t key[16], uint64_t streamId);
  PrgStream() = default;
  void open(const uint8_t key[16], uint64_t streamId);

  // Fills out[0..n) with centred field elements (rejection sampling).
  void centred(int32_t* out, size_t n);
  // Adds n centred field elements to acc[0..n) (acc[i] += next element), for mask sums.
  void addCentred(int32_t* acc, size_t n);
  // Copies the next n raw keystream words (callers that map them themselves, e.g. to noise).
  void words(uint32_t* out, size_t n);

 private:
  alignas(16) uint8_t rk_[11 * 16];  // expanded key
  uint64_t idBE_ = 0;                // counter high half (stream id), as stored
  uint64_t block_ = 0;               // next block number (counter low half)
  alignas(64) uint32_t buf_[BUF_WORDS];
  size_t pos_ = BUF_WORDS;
  void refill();
};

}  // namespace goten
