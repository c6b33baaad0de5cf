// Argument validation for the JS-facing functions. Every check throws a JS
// TypeError (wrong kind of value) or RangeError (wrong size / value) named after
// the function and the argument; nothing reaches a kernel unchecked, so bad
// input can never crash the process.
#pragma once
#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <stdexcept>
#include <string>

#include "im2col.h"

namespace goten {

class Args {
 public:
  Args(const Napi::CallbackInfo& info, const char* fn) : info_(info), fn_(fn) {}

  // An integer Number in [min, 2^31 − 1] (BLAS dimensions are 32-bit ints).
  size_t dim(size_t i, const char* name, size_t min = 0) const;
  // A byte count: an integer Number in [0, 2^53].
  size_t bytes(size_t i, const char* name) const;
  // A boolean; undefined gives `dflt`.
  bool flag(size_t i, const char* name, bool dflt = false) const;
  // A typed array of the given element type and exactly `len` elements; `formula`
  // explains len in the error message.
  template <class T>
  T* array(size_t i, const char* name, size_t len, const std::string& formula) const;
  // Element type of argument i, or throws TypeError if it is not a typed array.
  napi_typedarray_type arrayType(size_t i, const char* name) const;
  // A typed array of the given element type and any length in v (an argument, or
  // an element of an Array argument): its data and length. `orElse` extends the
  // TypeError's "must be a <type>" (e.g. " or null" for an optional one).
  struct View {
    void* data;  // not nullptr when length > 0
    size_t length;
  };
  View view(const Napi::Value& v, const char* name, napi_typedarray_type type, const char* orElse = "") const;
  // A ConvGeometry object: {batch, inC, inH, inW, outC, kH, kW, strideH, strideW, padH, padW}.
  ConvShape geometry(size_t i) const;
  // Throws RangeError if the byte ranges of output `out` and input `in` overlap.
  void noOverlap(const char* out, const void* po, size_t bo, const char* in, const void* pi, size_t bi) const;

  [[noreturn]] void typeError(const std::string& msg) const;
  [[noreturn]] void rangeError(const std::string& msg) const;
  const char* fn() const { return fn_; }
  Napi::Env env() const { return info_.Env(); }

 private:
  const Napi::CallbackInfo& info_;
  const char* fn_;
  void* arrayData(size_t i, const char* name, napi_typedarray_type type, size_t len, const std::string& formula) const;
};

template <>
inline float* Args::array<float>(size_t i, const char* name, size_t len, const std::string& f) const {
  return static_cast<float*>(arrayData(i, name, napi_float32_array, len, f));
}
template <>
inline double* Args::array<double>(size_t i, const char* name, size_t len, const std::string& f) const {
  return static_cast<double*>(arrayData(i, name, napi_float64_array, len, f));
}
template <>
inline int32_t* Args::array<int32_t>(size_t i, const char* name, size_t len, const std::string& f) const {
  return static_cast<int32_t*>(arrayData(i, name, napi_int32_array, len, f));
}

// Runs a kernel, turning C++ failures into JS errors: std::range_error (e.g. a
// non-centred operand) → RangeError, std::bad_alloc → RangeError (out of memory),
// std::logic_error (a workspace planning bug) → Error.
template <class F>
void runKernel(const Args& a, F&& f) {
  try {
    f();
  } catch (const std::range_error& e) {
    a.rangeError(e.what());
  } catch (const std::bad_alloc&) {
    a.rangeError("out of memory allocating the workspace");
  } catch (const std::logic_error& e) {
    throw Napi::Error::New(a.env(), std::string(a.fn()) + ": internal error: " + e.what());
  }
}

}  // namespace goten
