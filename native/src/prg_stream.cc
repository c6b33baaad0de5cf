// AES-128-CTR keystream and the field/noise mappings of src/field/prg.ts (see prg_stream.h).
#include "prg_stream.h"

#include <cstring>

#include "enclave_kernels.h"
#include "simd_level.h"

#if defined(__x86_64__) || defined(_M_X64)
#include <immintrin.h>
#define GOTEN_X86 1
#endif

namespace goten {
namespace {

using enclave::HALF;
using enclave::MASK21;
using enclave::P;

#ifdef GOTEN_X86
int detectPath() {
  __builtin_cpu_init();
  if (!__builtin_cpu_supports("aes") || !__builtin_cpu_supports("sse4.1")) return 0;
  if (__builtin_cpu_supports("vaes") && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw")) return 3;
  if (__builtin_cpu_supports("vaes") && __builtin_cpu_supports("avx2")) return 2;
  return 1;
}
const int kPath = detectPath();

// One step of the AES-128 key schedule (FIPS-197 §5.2): w[i] = w[i−4] ⊕ SubWord(RotWord(w[i−1])) ⊕ Rcon,
// with aeskeygenassist providing SubWord(RotWord(·)) ⊕ Rcon in its top word.
__attribute__((target("aes,sse4.1"))) inline __m128i expandStep(__m128i k, __m128i gen) {
  gen = _mm_shuffle_epi32(gen, 0xff);
  k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
  k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
  k = _mm_xor_si128(k, _mm_slli_si128(k, 4));
  return _mm_xor_si128(k, gen);
}

__attribute__((target("aes,sse4.1"))) void expandKey(const uint8_t key[16], uint8_t* rkOut) {
  __m128i rk[11];
  rk[0] = _mm_loadu_si128(reinterpret_cast<const __m128i*>(key));
#define GOTEN_EXP(i, rcon) rk[i] = expandStep(rk[i - 1], _mm_aeskeygenassist_si128(rk[i - 1], rcon))
  GOTEN_EXP(1, 0x01); GOTEN_EXP(2, 0x02); GOTEN_EXP(3, 0x04); GOTEN_EXP(4, 0x08); GOTEN_EXP(5, 0x10);
  GOTEN_EXP(6, 0x20); GOTEN_EXP(7, 0x40); GOTEN_EXP(8, 0x80); GOTEN_EXP(9, 0x1b); GOTEN_EXP(10, 0x36);
#undef GOTEN_EXP
  for (int i = 0; i < 11; i++) _mm_storeu_si128(reinterpret_cast<__m128i*>(rkOut + 16 * i), rk[i]);
}

// Encrypts counter blocks (idBE ‖ BE(block + i)) for i in [0, nBlocks) into out (nBlocks × 16 bytes).
__attribute__((target("aes,sse4.1"))) void ctrAesni(const uint8_t* rkb, uint64_t idBE, uint64_t block, size_t nBlocks,
                                                      uint8_t* out) {
  __m128i rk[11];
  for (int i = 0; i < 11; i++) rk[i] = _mm_load_si128(reinterpret_cast<const __m128i*>(rkb + 16 * i));
  const long long hi = static_cast<long long>(idBE);
  size_t b = 0;
  for (; b + 8 <= nBlocks; b += 8) {
    __m128i x[8];
    for (int j = 0; j < 8; j++) {
      x[j] = _mm_set_epi64x(static_cast<long long>(__builtin_bswap64(block + b + j)), hi);
      x[j] = _mm_xor_si128(x[j], rk[0]);
    }
    for (int r = 1; r < 10; r++)
      for (int j = 0; j < 8; j++) x[j] = _mm_aesenc_si128(x[j], rk[r]);
    for (int j = 0; j < 8; j++) {
      x[j] = _mm_aesenclast_si128(x[j], rk[10]);
      _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * (b + j)), x[j]);
    }
  }
  for (; b < nBlocks; b++) {
    __m128i x = _mm_xor_si128(_mm_set_epi64x(static_cast<long long>(__builtin_bswap64(block + b)), hi), rk[0]);
    for (int r = 1; r < 10; r++) x = _mm_aesenc_si128(x, rk[r]);
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + 16 * b), _mm_aesenclast_si128(x, rk[10]));
  }
}

// Same with VAES on 256-bit vectors: two blocks per instruction, eight vectors in flight.
// The counters live in vector registers as little-endian 64-bit lanes (block j in the
// high lane of its 128-bit half) and are byte-swapped into place with one shuffle.
__attribute__((target("aes,sse4.1,avx2,vaes"))) void ctrVaes(const uint8_t* rkb, uint64_t idBE, uint64_t block,
                                                               size_t nBlocks, uint8_t* out) {
  __m256i rk[11];
  for (int i = 0; i < 11; i++)
    rk[i] = _mm256_broadcastsi128_si256(_mm_load_si128(reinterpret_cast<const __m128i*>(rkb + 16 * i)));
  const __m256i bswap64 = _mm256_set_epi8(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7,  //
                                          8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
  const __m256i hiLanes = _mm256_set_epi64x(-1, 0, -1, 0);
  const __m256i idLanes = _mm256_set_epi64x(0, static_cast<long long>(idBE), 0, static_cast<long long>(idBE));
  const __m256i two = _mm256_set_epi64x(2, 0, 2, 0);
  __m256i ctr = _mm256_set_epi64x(static_cast<long long>(block + 1), 0, static_cast<long long>(block), 0);
  size_t b = 0;
  for (; b + 16 <= nBlocks; b += 16) {
    __m256i x[8];
    for (int j = 0; j < 8; j++) {
      const __m256i be = _mm256_and_si256(_mm256_shuffle_epi8(ctr, bswap64), hiLanes);
      x[j] = _mm256_xor_si256(_mm256_or_si256(be, idLanes), rk[0]);
      ctr = _mm256_add_epi64(ctr, two);
    }
    for (int r = 1; r < 10; r++)
      for (int j = 0; j < 8; j++) x[j] = _mm256_aesenc_epi128(x[j], rk[r]);
    for (int j = 0; j < 8; j++)
      _mm256_storeu_si256(reinterpret_cast<__m256i*>(out + 16 * (b + 2 * j)), _mm256_aesenclast_epi128(x[j], rk[10]));
  }
  if (b < nBlocks) ctrAesni(rkb, idBE, block + b, nBlocks - b, out + 16 * b);
}

// Same with VAES on 512-bit vectors: four blocks per instruction, eight vectors in flight.
__attribute__((target("aes,sse4.1,avx2,avx512f,avx512bw,vaes"))) void ctrVaes512(const uint8_t* rkb, uint64_t idBE, uint64_t block,
                                                                          size_t nBlocks, uint8_t* out) {
  __m512i rk[11];
  for (int i = 0; i < 11; i++) rk[i] = _mm512_broadcast_i32x4(_mm_load_si128(reinterpret_cast<const __m128i*>(rkb + 16 * i)));
  const __m512i bswap64 = _mm512_broadcast_i32x4(_mm_set_epi8(8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7));
  const __m512i hiLanes = _mm512_set_epi64(-1, 0, -1, 0, -1, 0, -1, 0);
  const long long id = static_cast<long long>(idBE);
  const __m512i idLanes = _mm512_set_epi64(0, id, 0, id, 0, id, 0, id);
  const __m512i four = _mm512_set_epi64(4, 0, 4, 0, 4, 0, 4, 0);
  const long long b0 = static_cast<long long>(block);
  __m512i ctr = _mm512_set_epi64(b0 + 3, 0, b0 + 2, 0, b0 + 1, 0, b0, 0);
  size_t b = 0;
  for (; b + 32 <= nBlocks; b += 32) {
    __m512i x[8];
    for (int j = 0; j < 8; j++) {
      const __m512i be = _mm512_and_si512(_mm512_shuffle_epi8(ctr, bswap64), hiLanes);
      x[j] = _mm512_xor_si512(_mm512_or_si512(be, idLanes), rk[0]);
      ctr = _mm512_add_epi64(ctr, four);
    }
    for (int r = 1; r < 10; r++)
      for (int j = 0; j < 8; j++) x[j] = _mm512_aesenc_epi128(x[j], rk[r]);
    for (int j = 0; j < 8; j++)
      _mm512_storeu_si512(reinterpret_cast<__m512i*>(out + 16 * (b + 4 * j)), _mm512_aesenclast_epi128(x[j], rk[10]));
  }
  if (b < nBlocks) ctrVaes(rkb, idBE, block + b, nBlocks - b, out + 16 * b);
}
#else
const int kPath = 0;
#endif

}  // namespace

bool aesAvailable() { return kPath > 0; }
const char* aesPath() { return kPath == 3 ? "vaes512" : kPath == 2 ? "vaes" : kPath == 1 ? "aesni" : "none"; }

void prgFirstBlock(const uint8_t key[16], uint64_t streamId, uint32_t out[4]) {
#ifdef GOTEN_X86
  alignas(16) uint8_t rk[11 * 16];
  expandKey(key, rk);
  ctrAesni(rk, __builtin_bswap64(streamId), 0, 1, reinterpret_cast<uint8_t*>(out));
#else
  PrgStream s(key, streamId);
  s.words(out, 4);
#endif
}

PrgStream::PrgStream(const uint8_t key[16], uint64_t streamId) { open(key, streamId); }

void PrgStream::open(const uint8_t key[16], uint64_t streamId) {
#ifdef GOTEN_X86
  if (kPath > 0) expandKey(key, rk_);
#endif
  idBE_ = __builtin_bswap64(streamId);
  block_ = 0;
  pos_ = BUF_WORDS;
}

void PrgStream::refill() {
#ifdef GOTEN_X86
  const size_t blocks = BUF_WORDS / 4;
  uint8_t* out = reinterpret_cast<uint8_t*>(buf_);
  // the AES path follows the SIMD level (tests run every path against the reference)
  const simd::Level l = simd::level();
  if (kPath == 3 && l == simd::Avx512) ctrVaes512(rk_, idBE_, block_, blocks, out);
  else if (kPath >= 2 && l >= simd::Avx2) ctrVaes(rk_, idBE_, block_, blocks, out);
  else ctrAesni(rk_, idBE_, block_, blocks, out);
  block_ += blocks;
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
  for (size_t i = 0; i < BUF_WORDS; i++) buf_[i] = __builtin_bswap32(buf_[i]);
#endif
#endif
  pos_ = 0;
}

void PrgStream::centred(int32_t* out, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (pos_ >= BUF_WORDS) refill();
    // each word yields at most one element
    const size_t m = (n - i) < (BUF_WORDS - pos_) ? (n - i) : (BUF_WORDS - pos_);
    const uint32_t* w = buf_ + pos_;
    // optimistic branch-free pass; redo exactly if any word was rejected (≈ 0.4 % of 1024-word runs)
    const int32_t acc = enclave::mapCentredOptimistic(w, out + i, m);
    if (acc < 0) {
      i += m;
    } else {
      for (size_t k = 0; k < m; k++) {
        const int32_t v = int32_t(w[k] & MASK21);
        if (v < P) out[i++] = v - (P & ((HALF - v) >> 31));
      }
    }
    pos_ += m;
  }
}

void PrgStream::addCentred(int32_t* acc, size_t n) {
  // sum in place: draw into a small local block, then add (keeps the rejection logic in one place)
  alignas(64) int32_t tmp[enclave::BLOCK];
  enclave::inBlocks(n, [&](size_t start, size_t m) {
    centred(tmp, m);
    enclave::addBlock(acc + start, tmp, m);
  });
}

void PrgStream::words(uint32_t* out, size_t n) {
  size_t i = 0;
  while (i < n) {
    if (pos_ >= BUF_WORDS) refill();
    const size_t m = (n - i) < (BUF_WORDS - pos_) ? (n - i) : (BUF_WORDS - pos_);
    std::memcpy(out + i, buf_ + pos_, m * sizeof(uint32_t));
    pos_ += m;
    i += m;
  }
}

}  // namespace goten
