// JS bindings of the elementwise non-linear kernels and the optimizers (nn_kernels.h;
// the TypeScript references are in src/nn/kernels/). All write into caller arrays; an
// output may not share memory with any other argument.
//
//   nnInfo() → { simd: "avx2" | "scalar", cpuAvx2 }      setNnSimd(enabled) → whether AVX2 runs now
//   reluForward(x, y)                       y = max(x, 0) on the bit patterns
//   reluBackward(y, dy, dx)                 dx = dy · [y > 0]
//   accumulateF32(acc, d)                   acc += d
//   isZeroF32(x) → boolean                  every x[i] is ±0
//   multiplyF32(x, m, y)                    y = x ⊙ m
//   addChannelBias(y, b, batch, channels, plane)        y[n, c, ·] += b[c]
//   reduceChannelBias(g, dy, batch, channels, plane)    g[c] += Σ dy[·, c, ·] (float64, 8 lanes)
//   sgdUpdate(w, g, buf | null, lr, momentum, dampFactor, weightDecay, first, nesterov)
//   adamUpdate(w, g, m, v, beta1, beta2, eps, l2, shrink, stepSize, sqrtBc2)
// Every array is a Float32Array; lengths must match as stated.
#include "addon.h"
#include "nn_args.h"
#include "nn_kernels.h"

namespace goten {
namespace {

using nnargs::Region;

Napi::Value NnInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("simd", nn::simd() ? "avx2" : "scalar");
  o.Set("cpuAvx2", nn::cpuHasAvx2());
  return o;
}

Napi::Value SetNnSimd(const Napi::CallbackInfo& info) {
  Args a(info, "setNnSimd");
  return Napi::Boolean::New(info.Env(), nn::setSimd(nnargs::boolean(a, info, 0, "enabled")));
}

// (x, y) or (acc, d): two Float32Arrays of one length; returns it.
size_t pairLength(const Args& a, const Napi::CallbackInfo& info, const char* first, const char* second) {
  const size_t n = nnargs::length(a, info, 0, first, napi_float32_array);
  a.array<float>(1, second, n, std::string(first) + ".length");
  return n;
}

Napi::Value ReluForward(const Napi::CallbackInfo& info) {
  Args a(info, "reluForward");
  const size_t n = pairLength(a, info, "x", "y");
  const float* x = a.array<float>(0, "x", n, "x.length");
  float* y = a.array<float>(1, "y", n, "x.length");
  nnargs::disjoint(a, {{"y", y, 4 * n}}, {{"x", x, 4 * n}});
  nn::reluForward(x, y, n);
  return info.Env().Undefined();
}

Napi::Value ReluBackward(const Napi::CallbackInfo& info) {
  Args a(info, "reluBackward");
  const size_t n = pairLength(a, info, "y", "dy");
  const float* y = a.array<float>(0, "y", n, "y.length");
  const float* dy = a.array<float>(1, "dy", n, "y.length");
  float* dx = a.array<float>(2, "dx", n, "y.length");
  nnargs::disjoint(a, {{"dx", dx, 4 * n}}, {{"y", y, 4 * n}, {"dy", dy, 4 * n}});
  nn::reluBackward(y, dy, dx, n);
  return info.Env().Undefined();
}

Napi::Value AccumulateF32(const Napi::CallbackInfo& info) {
  Args a(info, "accumulateF32");
  const size_t n = pairLength(a, info, "acc", "d");
  float* acc = a.array<float>(0, "acc", n, "acc.length");
  const float* d = a.array<float>(1, "d", n, "acc.length");
  nnargs::disjoint(a, {{"acc", acc, 4 * n}}, {{"d", d, 4 * n}});
  nn::accumulate(acc, d, n);
  return info.Env().Undefined();
}

Napi::Value IsZeroF32(const Napi::CallbackInfo& info) {
  Args a(info, "isZeroF32");
  const Args::View x = a.view(info[0], "x", napi_float32_array);
  return Napi::Boolean::New(info.Env(), nn::isZero(static_cast<const float*>(x.data), x.length));
}

Napi::Value MultiplyF32(const Napi::CallbackInfo& info) {
  Args a(info, "multiplyF32");
  const size_t n = pairLength(a, info, "x", "m");
  const float* x = a.array<float>(0, "x", n, "x.length");
  const float* m = a.array<float>(1, "m", n, "x.length");
  float* y = a.array<float>(2, "y", n, "x.length");
  nnargs::disjoint(a, {{"y", y, 4 * n}}, {{"x", x, 4 * n}, {"m", m, 4 * n}});
  nn::multiply(x, m, y, n);
  return info.Env().Undefined();
}

// (y | g, b | dy, batch, channels, plane): the per-channel array and the [batch, channels, plane] tensor.
struct BiasArgs {
  size_t batch, channels, plane, size;
};
BiasArgs biasShape(const Args& a) {
  BiasArgs s;
  s.batch = a.dim(2, "batch", 1), s.channels = a.dim(3, "channels", 1), s.plane = a.dim(4, "plane", 1);
  s.size = nnargs::mul(a, nnargs::mul(a, s.batch, s.channels), s.plane);
  return s;
}

Napi::Value AddChannelBias(const Napi::CallbackInfo& info) {
  Args a(info, "addChannelBias");
  const BiasArgs s = biasShape(a);
  float* y = a.array<float>(0, "y", s.size, "batch*channels*plane");
  const float* b = a.array<float>(1, "b", s.channels, "channels");
  nnargs::disjoint(a, {{"y", y, 4 * s.size}}, {{"b", b, 4 * s.channels}});
  nn::addChannelBias(y, b, s.batch, s.channels, s.plane);
  return info.Env().Undefined();
}

Napi::Value ReduceChannelBias(const Napi::CallbackInfo& info) {
  Args a(info, "reduceChannelBias");
  const BiasArgs s = biasShape(a);
  float* g = a.array<float>(0, "g", s.channels, "channels");
  const float* dy = a.array<float>(1, "dy", s.size, "batch*channels*plane");
  nnargs::disjoint(a, {{"g", g, 4 * s.channels}}, {{"dy", dy, 4 * s.size}});
  runKernel(a, [&] { nn::reduceChannelBias(g, dy, s.batch, s.channels, s.plane); });
  return info.Env().Undefined();
}

Napi::Value SgdUpdate(const Napi::CallbackInfo& info) {
  Args a(info, "sgdUpdate");
  const size_t n = pairLength(a, info, "w", "g");
  float* w = a.array<float>(0, "w", n, "w.length");
  const float* g = a.array<float>(1, "g", n, "w.length");
  float* buf = nnargs::optionalArray<float>(a, info, 2, "buf", n, "w.length");
  nn::SgdStep s;
  s.lr = nnargs::number(a, info, 3, "lr");
  s.momentum = nnargs::number(a, info, 4, "momentum");
  s.dampFactor = nnargs::number(a, info, 5, "dampFactor");
  s.weightDecay = nnargs::number(a, info, 6, "weightDecay");
  s.first = nnargs::boolean(a, info, 7, "first");
  s.nesterov = nnargs::boolean(a, info, 8, "nesterov");
  nnargs::disjoint(a, {{"w", w, 4 * n}, {"buf", buf, buf ? 4 * n : 0}}, {{"g", g, 4 * n}});
  nn::sgdUpdate(s, w, g, buf, n);
  return info.Env().Undefined();
}

Napi::Value AdamUpdate(const Napi::CallbackInfo& info) {
  Args a(info, "adamUpdate");
  const size_t n = pairLength(a, info, "w", "g");
  float* w = a.array<float>(0, "w", n, "w.length");
  const float* g = a.array<float>(1, "g", n, "w.length");
  float* m = a.array<float>(2, "m", n, "w.length");
  float* v = a.array<float>(3, "v", n, "w.length");
  nn::AdamStep s;
  s.beta1 = nnargs::number(a, info, 4, "beta1");
  s.beta2 = nnargs::number(a, info, 5, "beta2");
  s.eps = nnargs::number(a, info, 6, "eps");
  s.l2 = nnargs::number(a, info, 7, "l2");
  s.shrink = nnargs::number(a, info, 8, "shrink");
  s.stepSize = nnargs::number(a, info, 9, "stepSize");
  s.sqrtBc2 = nnargs::number(a, info, 10, "sqrtBc2");
  nnargs::disjoint(a, {{"w", w, 4 * n}, {"m", m, 4 * n}, {"v", v, 4 * n}}, {{"g", g, 4 * n}});
  nn::adamUpdate(s, w, g, m, v, n);
  return info.Env().Undefined();
}

}  // namespace

void registerNn(Napi::Env env, Napi::Object exports) {
  exports.Set("nnInfo", Napi::Function::New(env, NnInfo, "nnInfo"));
  exports.Set("setNnSimd", Napi::Function::New(env, SetNnSimd, "setNnSimd"));
  exports.Set("reluForward", Napi::Function::New(env, ReluForward, "reluForward"));
  exports.Set("reluBackward", Napi::Function::New(env, ReluBackward, "reluBackward"));
  exports.Set("accumulateF32", Napi::Function::New(env, AccumulateF32, "accumulateF32"));
  exports.Set("isZeroF32", Napi::Function::New(env, IsZeroF32, "isZeroF32"));
  exports.Set("multiplyF32", Napi::Function::New(env, MultiplyF32, "multiplyF32"));
  exports.Set("addChannelBias", Napi::Function::New(env, AddChannelBias, "addChannelBias"));
  exports.Set("reduceChannelBias", Napi::Function::New(env, ReduceChannelBias, "reduceChannelBias"));
  exports.Set("sgdUpdate", Napi::Function::New(env, SgdUpdate, "sgdUpdate"));
  exports.Set("adamUpdate", Napi::Function::New(env, AdamUpdate, "adamUpdate"));
  registerNnLayers(env, exports);
}

}  // namespace goten
