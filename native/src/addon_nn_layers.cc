// JS bindings of batch normalisation and pooling (nn_kernels.h; TypeScript references in
// src/nn/kernels/). Tensors are Float32Arrays; an output may not share memory with any
// other argument.
//
//   bnForwardTrain(batch, channels, spatial, eps, momentum, x, gamma, beta, runMean, runVar, xhat, y, invStd)
//   bnForwardEval(batch, channels, spatial, eps, x, gamma, beta, runMean, runVar, xhat, y, invStd)
//   bnBackward(batch, channels, spatial, trained, dy, xhat, gamma, invStd, dgamma, dbeta, dx | null)
//       x, xhat, y, dy, dx: batch·channels·spatial; gamma, beta, run*, dgamma, dbeta: channels;
//       invStd: Float64Array of channels (written by the forwards, read by backward)
//   maxPoolForward(g, x, y, idx: Int32Array)    maxPoolBackward(idx, dy, dx)   (idx in [0, dx.length))
//   avgPoolForward(g, x, y)                     avgPoolBackward(g, dy, dx)
//       g = { planes, inH, inW, outH, outW, kH, kW, strideH, strideW, padH, padW } with 2·pad ≤ kernel
//       and (out − 1)·stride − pad < in per axis (every window holds an input element);
//       x, dx: planes·inH·inW; y, dy, idx: planes·outH·outW
//   globalAvgPoolForward(planes, hw, x, y)      globalAvgPoolBackward(planes, hw, dy, dx)
#include <cmath>
#include <string>

#include "nn_args.h"
#include "nn_kernels.h"

namespace goten {
namespace {

using nnargs::Region;

nn::ChannelShape channelShape(const Args& a, size_t* size) {
  nn::ChannelShape s{a.dim(0, "batch", 1), a.dim(1, "channels", 1), a.dim(2, "spatial", 1)};
  *size = nnargs::mul(a, nnargs::mul(a, s.B, s.C), s.S);
  return s;
}

const char* const kBnSize = "batch*channels*spatial";

Napi::Value BnForward(const Napi::CallbackInfo& info, bool training) {
  Args a(info, training ? "bnForwardTrain" : "bnForwardEval");
  size_t n;
  const nn::ChannelShape s = channelShape(a, &n);
  const size_t C = s.C;
  nn::BnParams p{nnargs::number(a, info, 3, "eps"), training ? nnargs::number(a, info, 4, "momentum") : 0.0};
  const size_t i = training ? 5 : 4;  // first array argument
  const float* x = a.array<float>(i, "x", n, kBnSize);
  const float* gamma = a.array<float>(i + 1, "gamma", C, "channels");
  const float* beta = a.array<float>(i + 2, "beta", C, "channels");
  float* rm = a.array<float>(i + 3, "runMean", C, "channels");
  float* rv = a.array<float>(i + 4, "runVar", C, "channels");
  float* xhat = a.array<float>(i + 5, "xhat", n, kBnSize);
  float* y = a.array<float>(i + 6, "y", n, kBnSize);
  double* inv = a.array<double>(i + 7, "invStd", C, "channels");
  const Region rmR{"runMean", rm, 4 * C}, rvR{"runVar", rv, 4 * C};
  const Region ins[] = {{"x", x, 4 * n}, {"gamma", gamma, 4 * C}, {"beta", beta, 4 * C}};
  if (training) {
    nnargs::disjoint(a, {rmR, rvR, {"xhat", xhat, 4 * n}, {"y", y, 4 * n}, {"invStd", inv, 8 * C}},
                     {ins[0], ins[1], ins[2]});
    runKernel(a, [&] { nn::bnForwardTrain(s, p, x, gamma, beta, rm, rv, xhat, y, inv); });
  } else {
    nnargs::disjoint(a, {{"xhat", xhat, 4 * n}, {"y", y, 4 * n}, {"invStd", inv, 8 * C}}, {ins[0], ins[1], ins[2], rmR, rvR});
    runKernel(a, [&] { nn::bnForwardEval(s, p, x, gamma, beta, rm, rv, xhat, y, inv); });
  }
  return info.Env().Undefined();
}

Napi::Value BnForwardTrain(const Napi::CallbackInfo& info) { return BnForward(info, true); }
Napi::Value BnForwardEval(const Napi::CallbackInfo& info) { return BnForward(info, false); }

Napi::Value BnBackward(const Napi::CallbackInfo& info) {
  Args a(info, "bnBackward");
  size_t n;
  const nn::ChannelShape s = channelShape(a, &n);
  const size_t C = s.C;
  const bool trained = nnargs::boolean(a, info, 3, "trained");
  const float* dy = a.array<float>(4, "dy", n, kBnSize);
  const float* xhat = a.array<float>(5, "xhat", n, kBnSize);
  const float* gamma = a.array<float>(6, "gamma", C, "channels");
  const double* inv = a.array<double>(7, "invStd", C, "channels");
  float* dgamma = a.array<float>(8, "dgamma", C, "channels");
  float* dbeta = a.array<float>(9, "dbeta", C, "channels");
  float* dx = nnargs::optionalArray<float>(a, info, 10, "dx", n, kBnSize);
  nnargs::disjoint(a, {{"dgamma", dgamma, 4 * C}, {"dbeta", dbeta, 4 * C}, {"dx", dx, dx ? 4 * n : 0}},
                   {{"dy", dy, 4 * n}, {"xhat", xhat, 4 * n}, {"gamma", gamma, 4 * C}, {"invStd", inv, 8 * C}});
  runKernel(a, [&] { nn::bnBackward(s, dy, xhat, gamma, inv, trained, dgamma, dbeta, dx); });
  return info.Env().Undefined();
}

// The pooling geometry object of argument 0, checked so that every window read stays inside the input.
nn::PoolShape poolShape(const Args& a, const Napi::CallbackInfo& info, size_t* inSize, size_t* outSize) {
  const Napi::Value v = info[0];
  if (!v.IsObject() || v.IsTypedArray() || v.IsArray()) a.typeError("geometry must be a pool geometry object");
  const Napi::Object o = v.As<Napi::Object>();
  auto field = [&](const char* key, size_t min) -> size_t {
    const Napi::Value f = o.Get(key);
    if (!f.IsNumber()) a.typeError(std::string("geometry.") + key + " must be a number");
    const double d = f.As<Napi::Number>().DoubleValue();
    if (!(d == std::floor(d)) || d < double(min) || d > 2147483647.0)
      a.rangeError(std::string("geometry.") + key + " must be an integer in [" + std::to_string(min) + ", 2^31-1]");
    return size_t(d);
  };
  nn::PoolShape g{};
  g.planes = field("planes", 1), g.H = field("inH", 1), g.W = field("inW", 1);
  g.OH = field("outH", 1), g.OW = field("outW", 1), g.kH = field("kH", 1), g.kW = field("kW", 1);
  g.sH = field("strideH", 1), g.sW = field("strideW", 1), g.pH = field("padH", 0), g.pW = field("padW", 0);
  if (2 * g.pH > g.kH || 2 * g.pW > g.kW) a.rangeError("geometry: padding must be at most half the kernel");
  // The last window must start inside the input: (out − 1)·stride − pad < in (all terms < 2^62).
  if ((g.OH - 1) * g.sH >= g.H + g.pH || (g.OW - 1) * g.sW >= g.W + g.pW)
    a.rangeError("geometry: the last window starts beyond the input (outH/outW too large for the input)");
  *inSize = nnargs::mul(a, nnargs::mul(a, g.planes, g.H), g.W);
  *outSize = nnargs::mul(a, nnargs::mul(a, g.planes, g.OH), g.OW);
  return g;
}

const char* const kIn = "planes*inH*inW";
const char* const kOut = "planes*outH*outW";

Napi::Value MaxPoolForward(const Napi::CallbackInfo& info) {
  Args a(info, "maxPoolForward");
  size_t ni, no;
  const nn::PoolShape g = poolShape(a, info, &ni, &no);
  const float* x = a.array<float>(1, "x", ni, kIn);
  float* y = a.array<float>(2, "y", no, kOut);
  int32_t* idx = a.array<int32_t>(3, "idx", no, kOut);
  nnargs::disjoint(a, {{"y", y, 4 * no}, {"idx", idx, 4 * no}}, {{"x", x, 4 * ni}});
  nn::maxPoolForward(g, x, y, idx);
  return info.Env().Undefined();
}

Napi::Value MaxPoolBackward(const Napi::CallbackInfo& info) {
  Args a(info, "maxPoolBackward");
  const size_t no = nnargs::length(a, info, 0, "idx", napi_int32_array);
  const int32_t* idx = a.array<int32_t>(0, "idx", no, "idx.length");
  const float* dy = a.array<float>(1, "dy", no, "idx.length");
  const size_t ni = nnargs::length(a, info, 2, "dx", napi_float32_array);
  float* dx = a.array<float>(2, "dx", ni, "dx.length");
  nnargs::disjoint(a, {{"dx", dx, 4 * ni}}, {{"idx", idx, 4 * no}, {"dy", dy, 4 * no}});
  for (size_t o = 0; o < no; o++)
    if (idx[o] < 0 || size_t(idx[o]) >= ni)
      a.rangeError("idx[" + std::to_string(o) + "] = " + std::to_string(idx[o]) + " is outside [0, dx.length = " +
                   std::to_string(ni) + ")");
  nn::maxPoolBackward(idx, dy, no, dx, ni);
  return info.Env().Undefined();
}

Napi::Value AvgPoolForward(const Napi::CallbackInfo& info) {
  Args a(info, "avgPoolForward");
  size_t ni, no;
  const nn::PoolShape g = poolShape(a, info, &ni, &no);
  const float* x = a.array<float>(1, "x", ni, kIn);
  float* y = a.array<float>(2, "y", no, kOut);
  nnargs::disjoint(a, {{"y", y, 4 * no}}, {{"x", x, 4 * ni}});
  nn::avgPoolForward(g, x, y);
  return info.Env().Undefined();
}

Napi::Value AvgPoolBackward(const Napi::CallbackInfo& info) {
  Args a(info, "avgPoolBackward");
  size_t ni, no;
  const nn::PoolShape g = poolShape(a, info, &ni, &no);
  const float* dy = a.array<float>(1, "dy", no, kOut);
  float* dx = a.array<float>(2, "dx", ni, kIn);
  nnargs::disjoint(a, {{"dx", dx, 4 * ni}}, {{"dy", dy, 4 * no}});
  nn::avgPoolBackward(g, dy, dx);
  return info.Env().Undefined();
}

// (planes, hw, in, out): in has planes·hw elements in the forward, planes in the backward.
Napi::Value GlobalAvgPool(const Napi::CallbackInfo& info, bool forward) {
  Args a(info, forward ? "globalAvgPoolForward" : "globalAvgPoolBackward");
  const size_t planes = a.dim(0, "planes", 1), hw = a.dim(1, "hw", 1);
  const size_t n = nnargs::mul(a, planes, hw);
  const float* in = a.array<float>(2, forward ? "x" : "dy", forward ? n : planes, forward ? "planes*hw" : "planes");
  float* out = a.array<float>(3, forward ? "y" : "dx", forward ? planes : n, forward ? "planes" : "planes*hw");
  const size_t inBytes = 4 * (forward ? n : planes), outBytes = 4 * (forward ? planes : n);
  nnargs::disjoint(a, {{forward ? "y" : "dx", out, outBytes}}, {{forward ? "x" : "dy", in, inBytes}});
  if (forward)
    nn::globalAvgPoolForward(planes, hw, in, out);
  else
    nn::globalAvgPoolBackward(planes, hw, in, out);
  return info.Env().Undefined();
}

Napi::Value GlobalAvgPoolForward(const Napi::CallbackInfo& info) { return GlobalAvgPool(info, true); }
Napi::Value GlobalAvgPoolBackward(const Napi::CallbackInfo& info) { return GlobalAvgPool(info, false); }

}  // namespace

void registerNnLayers(Napi::Env env, Napi::Object exports) {
  exports.Set("bnForwardTrain", Napi::Function::New(env, BnForwardTrain, "bnForwardTrain"));
  exports.Set("bnForwardEval", Napi::Function::New(env, BnForwardEval, "bnForwardEval"));
  exports.Set("bnBackward", Napi::Function::New(env, BnBackward, "bnBackward"));
  exports.Set("maxPoolForward", Napi::Function::New(env, MaxPoolForward, "maxPoolForward"));
  exports.Set("maxPoolBackward", Napi::Function::New(env, MaxPoolBackward, "maxPoolBackward"));
  exports.Set("avgPoolForward", Napi::Function::New(env, AvgPoolForward, "avgPoolForward"));
  exports.Set("avgPoolBackward", Napi::Function::New(env, AvgPoolBackward, "avgPoolBackward"));
  exports.Set("globalAvgPoolForward", Napi::Function::New(env, GlobalAvgPoolForward, "globalAvgPoolForward"));
  exports.Set("globalAvgPoolBackward", Napi::Function::New(env, GlobalAvgPoolBackward, "globalAvgPoolBackward"));
}

}  // namespace goten
