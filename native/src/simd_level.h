// Which vector instruction set the enclave's kernels (lean_kernels, pack24, the PRG's AES
// path) use: the best the CPU has, or a lower level chosen for testing — every level gives
// identical results, and tests compare each against the TypeScript reference.
#pragma once

namespace goten {
namespace simd {

enum Level { Scalar = 0, Avx2 = 1, Avx512 = 2 };

// The best level this CPU supports (AVX-512 means F, BW, DQ, VL and VBMI; VAES for the PRG is checked apart).
Level cpuLevel();
// The level in use now (≤ cpuLevel()).
Level level();
// Use at most `l` from now on (capped at cpuLevel()).
void setLevel(Level l);
const char* name(Level l);

}  // namespace simd
}  // namespace goten
