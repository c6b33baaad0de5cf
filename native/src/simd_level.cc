// Runtime choice of the enclave kernels' instruction set (see simd_level.h).
#include "simd_level.h"

#include <atomic>

namespace goten {
namespace simd {
namespace {

Level detect() {
#if defined(__x86_64__) && defined(__GNUC__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq") &&
      __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512vbmi"))
    return Avx512;
  if (__builtin_cpu_supports("avx2")) return Avx2;
#endif
  return Scalar;
}

const Level kCpu = detect();
std::atomic<int> gLevel{kCpu};

}  // namespace

Level cpuLevel() { return kCpu; }
Level level() { return Level(gLevel.load(std::memory_order_relaxed)); }
void setLevel(Level l) { gLevel.store(l < kCpu ? l : kCpu, std::memory_order_relaxed); }
const char* name(Level l) { return l == Avx512 ? "avx512" : l == Avx2 ? "avx2" : "scalar"; }

}  // namespace simd
}  // namespace goten
