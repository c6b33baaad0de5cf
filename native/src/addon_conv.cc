// JS bindings of the conv kernels; the first argument is a ConvGeometry object.
//   im2col(g, x, col)   x: N×C×H×W → col: (C·kH·kW) × (N·OH·OW), Float32Array or Float64Array
//   col2im(g, col, x)   x = adjoint of im2col (overwrites x; overlapping taps add up)
//   conv2dF32(g, x, w, y), conv2dGradInputF32(g, dy, w, dx), conv2dGradWeightF32(g, dy, x, dw)
//   conv2dModP / conv2dGradInputModP / conv2dGradWeightModP: same on centred Int32Arrays
#include <algorithm>
#include <string>

#include "addon.h"
#include "conv.h"

namespace goten {
namespace {

struct Sizes {
  size_t x, w, y, col;
  std::string fx, fw, fy, fcol;
};

Sizes sizes(const ConvShape& g) {
  Sizes s;
  auto str = [](size_t v) { return std::to_string(v); };
  s.x = g.N * g.chw(), s.w = g.O * g.ckk(), s.y = g.N * g.O * g.ohw(), s.col = g.ckk() * g.N * g.ohw();
  s.fx = "batch*inC*inH*inW (" + str(g.N) + "*" + str(g.C) + "*" + str(g.H) + "*" + str(g.W) + ")";
  s.fw = "outC*inC*kH*kW (" + str(g.O) + "*" + str(g.C) + "*" + str(g.kH) + "*" + str(g.kW) + ")";
  s.fy = "batch*outC*outH*outW (" + str(g.N) + "*" + str(g.O) + "*" + str(g.OH) + "*" + str(g.OW) + ")";
  s.fcol = "inC*kH*kW*batch*outH*outW (" + str(g.ckk()) + "*" + str(g.N * g.ohw()) + ")";
  return s;
}

template <class T>
void im2colT(const Args& a, const ConvShape& g, const Sizes& s, bool forward) {
  // forward: (x, col); adjoint: (col, x)
  const size_t ix = forward ? 1 : 2, ic = forward ? 2 : 1;
  T* x = a.array<T>(ix, "x", s.x, s.fx);
  T* col = a.array<T>(ic, "col", s.col, s.fcol);
  if (forward)
    a.noOverlap("col", col, s.col * sizeof(T), "x", x, s.x * sizeof(T));
  else
    a.noOverlap("x", x, s.x * sizeof(T), "col", col, s.col * sizeof(T));
  const size_t L = g.ohw(), ld = g.N * L;
  for (size_t n = 0; n < g.N; ++n) {
    if (forward) {
      im2col(g, x + n * g.chw(), col + n * L, ld);
    } else {
      T* img = x + n * g.chw();
      std::fill(img, img + g.chw(), T(0));
      col2imAdd(g, col + n * L, ld, img);
    }
  }
}

Napi::Value Im2colImpl(const Napi::CallbackInfo& info, bool forward) {
  Args a(info, forward ? "im2col" : "col2im");
  const ConvShape g = a.geometry(0);
  const Sizes s = sizes(g);
  const napi_typedarray_type t = a.arrayType(1, forward ? "x" : "col");
  if (t == napi_float32_array)
    im2colT<float>(a, g, s, forward);
  else if (t == napi_float64_array)
    im2colT<double>(a, g, s, forward);
  else
    a.typeError(std::string("'") + (forward ? "x" : "col") + "' must be a Float32Array or Float64Array");
  return info.Env().Undefined();
}
Napi::Value Im2col(const Napi::CallbackInfo& info) { return Im2colImpl(info, true); }
Napi::Value Col2im(const Napi::CallbackInfo& info) { return Im2colImpl(info, false); }

// Which tensor each argument slot holds, per kernel: (in1, in2, out).
enum class Role { X, W, Y };
size_t len(const Sizes& s, Role r) { return r == Role::X ? s.x : r == Role::W ? s.w : s.y; }
const std::string& formula(const Sizes& s, Role r) { return r == Role::X ? s.fx : r == Role::W ? s.fw : s.fy; }

template <class T, void (*K)(const ConvShape&, const T*, const T*, T*)>
Napi::Value Conv(const Napi::CallbackInfo& info, const char* fn, const char* n1, Role r1, const char* n2, Role r2,
                 const char* no, Role ro) {
  Args a(info, fn);
  const ConvShape g = a.geometry(0);
  const Sizes s = sizes(g);
  const T* in1 = a.array<T>(1, n1, len(s, r1), formula(s, r1));
  const T* in2 = a.array<T>(2, n2, len(s, r2), formula(s, r2));
  T* out = a.array<T>(3, no, len(s, ro), formula(s, ro));
  a.noOverlap(no, out, len(s, ro) * sizeof(T), n1, in1, len(s, r1) * sizeof(T));
  a.noOverlap(no, out, len(s, ro) * sizeof(T), n2, in2, len(s, r2) * sizeof(T));
  runKernel(a, [&] { K(g, in1, in2, out); });
  return info.Env().Undefined();
}

Napi::Value ConvF32(const Napi::CallbackInfo& i) {
  return Conv<float, conv2dF32>(i, "conv2dF32", "x", Role::X, "w", Role::W, "y", Role::Y);
}
Napi::Value ConvGradInputF32(const Napi::CallbackInfo& i) {
  return Conv<float, conv2dGradInputF32>(i, "conv2dGradInputF32", "dy", Role::Y, "w", Role::W, "dx", Role::X);
}
Napi::Value ConvGradWeightF32(const Napi::CallbackInfo& i) {
  return Conv<float, conv2dGradWeightF32>(i, "conv2dGradWeightF32", "dy", Role::Y, "x", Role::X, "dw", Role::W);
}
Napi::Value ConvModP(const Napi::CallbackInfo& i) {
  return Conv<int32_t, conv2dModP>(i, "conv2dModP", "x", Role::X, "w", Role::W, "y", Role::Y);
}
Napi::Value ConvGradInputModP(const Napi::CallbackInfo& i) {
  return Conv<int32_t, conv2dGradInputModP>(i, "conv2dGradInputModP", "dy", Role::Y, "w", Role::W, "dx", Role::X);
}
Napi::Value ConvGradWeightModP(const Napi::CallbackInfo& i) {
  return Conv<int32_t, conv2dGradWeightModP>(i, "conv2dGradWeightModP", "dy", Role::Y, "x", Role::X, "dw", Role::W);
}

}  // namespace

void registerConv(Napi::Env env, Napi::Object exports) {
  exports.Set("im2col", Napi::Function::New(env, Im2col, "im2col"));
  exports.Set("col2im", Napi::Function::New(env, Col2im, "col2im"));
  exports.Set("conv2dF32", Napi::Function::New(env, ConvF32, "conv2dF32"));
  exports.Set("conv2dGradInputF32", Napi::Function::New(env, ConvGradInputF32, "conv2dGradInputF32"));
  exports.Set("conv2dGradWeightF32", Napi::Function::New(env, ConvGradWeightF32, "conv2dGradWeightF32"));
  exports.Set("conv2dModP", Napi::Function::New(env, ConvModP, "conv2dModP"));
  exports.Set("conv2dGradInputModP", Napi::Function::New(env, ConvGradInputModP, "conv2dGradInputModP"));
  exports.Set("conv2dGradWeightModP", Napi::Function::New(env, ConvGradWeightModP, "conv2dGradWeightModP"));
}

}  // namespace goten
