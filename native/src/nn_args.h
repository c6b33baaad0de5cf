// Argument helpers of the non-linear kernels' bindings (addon_nn*.cc), on top of Args:
// numbers, float arrays of a checked length, optional arrays, and the rule that no output
// shares memory with any other argument.
#pragma once
#include <napi.h>

#include <cstdint>
#include <initializer_list>
#include <string>

#include "args.h"

namespace goten {

// bnForwardTrain, bnForwardEval, bnBackward, {max,avg,globalAvg}Pool{Forward,Backward} (addon_nn_layers.cc).
void registerNnLayers(Napi::Env env, Napi::Object exports);

namespace nnargs {

// A Number argument (any double, NaN and infinities included: the reference accepts them too).
inline double number(const Args& a, const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsNumber()) a.typeError(std::string(name) + " must be a number");
  return info[i].As<Napi::Number>().DoubleValue();
}

// A boolean argument that must be present.
inline bool boolean(const Args& a, const Napi::CallbackInfo& info, size_t i, const char* name) {
  if (!info[i].IsBoolean()) a.typeError(std::string(name) + " must be a boolean");
  return info[i].As<Napi::Boolean>().Value();
}

// x·y, or RangeError when the product overflows or exceeds 2^31 − 1 elements (indices are int32).
inline size_t mul(const Args& a, size_t x, size_t y) {
  size_t r;
  if (__builtin_mul_overflow(x, y, &r) || r > size_t(2147483647)) a.rangeError("tensor size exceeds 2^31-1 elements");
  return r;
}

// Element count of a typed-array argument of type `type`.
inline size_t length(const Args& a, const Napi::CallbackInfo& info, size_t i, const char* name,
                     napi_typedarray_type type) {
  return a.view(info[i], name, type).length;
}

// An optional typed array (null/undefined → nullptr) of exactly len elements.
template <class T>
T* optionalArray(const Args& a, const Napi::CallbackInfo& info, size_t i, const char* name, size_t len,
                 const std::string& formula) {
  if (info[i].IsNull() || info[i].IsUndefined()) return nullptr;
  return a.array<T>(i, name, len, formula);
}

// One argument's memory, for the overlap check.
struct Region {
  const char* name;
  const void* data;
  size_t bytes;
};

// Throws RangeError if the byte ranges of x and y overlap.
inline void apart(const Args& a, const Region& x, const Region& y, const char* what) {
  if (x.bytes == 0 || y.bytes == 0 || x.data == nullptr || y.data == nullptr) return;
  const uintptr_t x0 = uintptr_t(x.data), y0 = uintptr_t(y.data);
  if (x0 < y0 + y.bytes && y0 < x0 + x.bytes)
    a.rangeError(std::string("output '") + x.name + "' must not share memory with " + what + " '" + y.name + "'");
}

// Every output must be disjoint from every other argument (inputs and outputs alike).
inline void disjoint(const Args& a, std::initializer_list<Region> outputs, std::initializer_list<Region> inputs) {
  for (auto o = outputs.begin(); o != outputs.end(); ++o) {
    for (auto p = o + 1; p != outputs.end(); ++p) apart(a, *o, *p, "output");
    for (const Region& i : inputs) apart(a, *o, i, "input");
  }
}

}  // namespace nnargs
}  // namespace goten
