// Runtime choice of the non-linear kernels' AVX2 loops (see nn_simd.h).
#include "nn_simd.h"
// (nn_simd.h first: its pragmas must precede every function)
#include "nn_kernels.h"

#include <atomic>

namespace goten {
namespace nn {

namespace {
bool detectAvx2() {
#if GOTEN_NN_X86
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx2") != 0;
#else
  return false;
#endif
}
const bool kCpuAvx2 = detectAvx2();
std::atomic<bool> useAvx2{kCpuAvx2};
}  // namespace

bool cpuHasAvx2() { return kCpuAvx2; }
bool simd() { return useAvx2.load(std::memory_order_relaxed); }
bool setSimd(bool enabled) {
  useAvx2.store(enabled && kCpuAvx2, std::memory_order_relaxed);
  return simd();
}

}  // namespace nn
}  // namespace goten
