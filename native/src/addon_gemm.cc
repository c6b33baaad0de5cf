// JS bindings of the GEMMs:
//   sgemm(m, k, n, transA, transB, a: Float32Array, b, c, accumulate?)
//   dgemm(m, k, n, transA, transB, a: Float64Array, b, c, accumulate?)
//   gemmModP(m, k, n, transA, transB, a: Int32Array, b, c)
// C[m×n] (+)= op(A)·op(B); op(A) is m×k (stored k×m when transA), op(B) is k×n
// (stored n×k when transB). Positional arguments keep per-call overhead low.
#include <string>

#include "addon.h"
#include "gemm.h"
#include "modp.h"

namespace goten {
namespace {

struct GemmArgs {
  size_t m, k, n;
  bool ta, tb;
};

GemmArgs gemmShape(const Args& a) {
  GemmArgs s;
  s.m = a.dim(0, "m"), s.k = a.dim(1, "k"), s.n = a.dim(2, "n");
  s.ta = a.flag(3, "transA"), s.tb = a.flag(4, "transB");
  return s;
}

std::string prod(const char* x, size_t vx, const char* y, size_t vy) {
  return std::string(x) + "*" + y + " (" + std::to_string(vx) + "*" + std::to_string(vy) + ")";
}

template <class T>
Napi::Value Gemm(const Napi::CallbackInfo& info, const char* fn) {
  Args a(info, fn);
  const GemmArgs s = gemmShape(a);
  const T* A = a.array<T>(5, "a", s.m * s.k, prod("m", s.m, "k", s.k));
  const T* B = a.array<T>(6, "b", s.k * s.n, prod("k", s.k, "n", s.n));
  T* C = a.array<T>(7, "c", s.m * s.n, prod("m", s.m, "n", s.n));
  const bool acc = a.flag(8, "accumulate");
  a.noOverlap("c", C, s.m * s.n * sizeof(T), "a", A, s.m * s.k * sizeof(T));
  a.noOverlap("c", C, s.m * s.n * sizeof(T), "b", B, s.k * s.n * sizeof(T));
  runKernel(a, [&] {
    gemm(s.ta, s.tb, s.m, s.n, s.k, A, s.ta ? s.m : s.k, B, s.tb ? s.k : s.n, acc ? T(1) : T(0), C, s.n);
  });
  return info.Env().Undefined();
}

Napi::Value Sgemm(const Napi::CallbackInfo& info) { return Gemm<float>(info, "sgemm"); }
Napi::Value Dgemm(const Napi::CallbackInfo& info) { return Gemm<double>(info, "dgemm"); }

Napi::Value GemmModP(const Napi::CallbackInfo& info) {
  Args a(info, "gemmModP");
  const GemmArgs s = gemmShape(a);
  const int32_t* A = a.array<int32_t>(5, "a", s.m * s.k, prod("m", s.m, "k", s.k));
  const int32_t* B = a.array<int32_t>(6, "b", s.k * s.n, prod("k", s.k, "n", s.n));
  int32_t* C = a.array<int32_t>(7, "c", s.m * s.n, prod("m", s.m, "n", s.n));
  // C is written only after both operands are widened, so aliasing would be safe;
  // it is still rejected for consistency with the other kernels.
  a.noOverlap("c", C, s.m * s.n * 4, "a", A, s.m * s.k * 4);
  a.noOverlap("c", C, s.m * s.n * 4, "b", B, s.k * s.n * 4);
  runKernel(a, [&] { gemmModP(s.ta, s.tb, s.m, s.n, s.k, A, B, C, "gemmModP"); });
  return info.Env().Undefined();
}

}  // namespace

void registerGemm(Napi::Env env, Napi::Object exports) {
  exports.Set("sgemm", Napi::Function::New(env, Sgemm, "sgemm"));
  exports.Set("dgemm", Napi::Function::New(env, Dgemm, "dgemm"));
  exports.Set("gemmModP", Napi::Function::New(env, GemmModP, "gemmModP"));
}

}  // namespace goten
