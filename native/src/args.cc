#include "args.h"

#include <cmath>
#include <limits>

namespace goten {

namespace {
const char* typeName(napi_typedarray_type t) {
  switch (t) {
    case napi_int8_array: return "Int8Array";
    case napi_uint8_array: return "Uint8Array";
    case napi_uint8_clamped_array: return "Uint8ClampedArray";
    case napi_int16_array: return "Int16Array";
    case napi_uint16_array: return "Uint16Array";
    case napi_int32_array: return "Int32Array";
    case napi_uint32_array: return "Uint32Array";
    case napi_float32_array: return "Float32Array";
    case napi_float64_array: return "Float64Array";
    case napi_bigint64_array: return "BigInt64Array";
    case napi_biguint64_array: return "BigUint64Array";
  }
  return "typed array";
}

std::string describe(const Napi::Value& v) {
  if (v.IsUndefined()) return "undefined";
  if (v.IsNull()) return "null";
  if (v.IsTypedArray()) return typeName(v.As<Napi::TypedArray>().TypedArrayType());
  if (v.IsArray()) return "Array";
  if (v.IsNumber()) {
    const double d = v.As<Napi::Number>().DoubleValue();
    if (std::isnan(d)) return "NaN";
    std::string s = std::to_string(d);
    if (d == std::floor(d) && std::fabs(d) < 1e15) s = std::to_string(int64_t(d));
    return s;
  }
  if (v.IsBoolean()) return v.As<Napi::Boolean>().Value() ? "true" : "false";
  if (v.IsString()) return "a string";
  if (v.IsFunction()) return "a function";
  if (v.IsObject()) return "an object";
  return "an unsupported value";
}

constexpr double kMaxDim = 2147483647.0;

size_t checkedMul(const Args& a, size_t x, size_t y) {
  size_t r;
  if (__builtin_mul_overflow(x, y, &r)) a.rangeError("tensor dimensions overflow");
  return r;
}
}  // namespace

void Args::typeError(const std::string& msg) const { throw Napi::TypeError::New(env(), std::string(fn_) + ": " + msg); }
void Args::rangeError(const std::string& msg) const {
  // Messages from kernels already start with the kernel name.
  if (msg.rfind(fn_, 0) == 0) throw Napi::RangeError::New(env(), msg);
  throw Napi::RangeError::New(env(), std::string(fn_) + ": " + msg);
}

size_t Args::dim(size_t i, const char* name, size_t min) const {
  const Napi::Value v = info_[i];
  if (!v.IsNumber()) typeError(std::string(name) + " must be a number, got " + describe(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == std::floor(d)) || d < double(min) || d > kMaxDim)
    rangeError(std::string(name) + " must be an integer in [" + std::to_string(min) + ", 2^31-1], got " + describe(v));
  return size_t(d);
}

size_t Args::bytes(size_t i, const char* name) const {
  const Napi::Value v = info_[i];
  if (!v.IsNumber()) typeError(std::string(name) + " must be a number, got " + describe(v));
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d == std::floor(d)) || d < 0 || d > 9007199254740992.0)
    rangeError(std::string(name) + " must be an integer in [0, 2^53], got " + describe(v));
  return size_t(d);
}

bool Args::flag(size_t i, const char* name, bool dflt) const {
  const Napi::Value v = info_[i];
  if (v.IsUndefined()) return dflt;
  if (!v.IsBoolean()) typeError(std::string(name) + " must be a boolean, got " + describe(v));
  return v.As<Napi::Boolean>().Value();
}

napi_typedarray_type Args::arrayType(size_t i, const char* name) const {
  const Napi::Value v = info_[i];
  if (!v.IsTypedArray()) typeError(std::string("'") + name + "' must be a typed array, got " + describe(v));
  return v.As<Napi::TypedArray>().TypedArrayType();
}

Args::View Args::view(const Napi::Value& v, const char* name, napi_typedarray_type type, const char* orElse) const {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != type)
    typeError(std::string("'") + name + "' must be a " + typeName(type) + orElse + ", got " + describe(v));
  // napi_get_typedarray_info gives the data pointer (already offset) for views of
  // ArrayBuffers and SharedArrayBuffers alike; ArrayBuffer().Data() rejects the latter.
  napi_typedarray_type t;
  View r{nullptr, 0};
  if (napi_get_typedarray_info(env(), v, &t, &r.length, &r.data, nullptr, nullptr) != napi_ok)
    typeError(std::string("cannot read typed array '") + name + "'");
  if (r.length > 0 && r.data == nullptr) rangeError(std::string("buffer '") + name + "' is detached");
  return r;
}

void* Args::arrayData(size_t i, const char* name, napi_typedarray_type type, size_t len,
                      const std::string& formula) const {
  const View v = view(info_[i], name, type);
  if (v.length != len)
    rangeError(std::string("buffer '") + name + "' has length " + std::to_string(v.length) + ", expected " + formula +
               " = " + std::to_string(len));
  return len == 0 ? nullptr : v.data;
}

void Args::noOverlap(const char* out, const void* po, size_t bo, const char* in, const void* pi, size_t bi) const {
  if (bo == 0 || bi == 0 || po == nullptr || pi == nullptr) return;
  const uintptr_t o0 = uintptr_t(po), i0 = uintptr_t(pi);
  if (o0 < i0 + bi && i0 < o0 + bo)
    rangeError(std::string("output '") + out + "' must not share memory with input '" + in + "'");
}

ConvShape Args::geometry(size_t i) const {
  const Napi::Value v = info_[i];
  if (!v.IsObject() || v.IsTypedArray() || v.IsArray())
    typeError("geometry must be a ConvGeometry object, got " + describe(v));
  const Napi::Object o = v.As<Napi::Object>();
  auto field = [&](const char* key, size_t min) -> size_t {
    const Napi::Value f = o.Get(key);
    if (!f.IsNumber()) typeError(std::string("geometry.") + key + " must be a number, got " + describe(f));
    const double d = f.As<Napi::Number>().DoubleValue();
    if (!(d == std::floor(d)) || d < double(min) || d > kMaxDim)
      rangeError(std::string("geometry.") + key + " must be an integer in [" + std::to_string(min) +
                 ", 2^31-1], got " + describe(f));
    return size_t(d);
  };
  ConvShape g{};
  g.N = field("batch", 1), g.C = field("inC", 1), g.H = field("inH", 1), g.W = field("inW", 1);
  g.O = field("outC", 1), g.kH = field("kH", 1), g.kW = field("kW", 1);
  g.sH = field("strideH", 1), g.sW = field("strideW", 1), g.pH = field("padH", 0), g.pW = field("padW", 0);
  // OH = floor((H + 2·pH − kH) / sH) + 1 must be ≥ 1 (all terms < 2^33: no overflow).
  if (g.H + 2 * g.pH < g.kH || g.W + 2 * g.pW < g.kW)
    rangeError("geometry: kernel " + std::to_string(g.kH) + "x" + std::to_string(g.kW) + " does not fit input " +
               std::to_string(g.H) + "x" + std::to_string(g.W) + " with padding " + std::to_string(g.pH) + "x" +
               std::to_string(g.pW));
  g.OH = (g.H + 2 * g.pH - g.kH) / g.sH + 1;
  g.OW = (g.W + 2 * g.pW - g.kW) / g.sW + 1;
  // Every size the kernels form must fit size_t, and GEMM dimensions must fit int.
  const size_t chw = checkedMul(*this, checkedMul(*this, g.C, g.H), g.W);
  const size_t ohw = checkedMul(*this, g.OH, g.OW);
  const size_t ckk = checkedMul(*this, checkedMul(*this, g.C, g.kH), g.kW);
  checkedMul(*this, g.N, chw);
  checkedMul(*this, checkedMul(*this, g.N, g.O), ohw);
  checkedMul(*this, checkedMul(*this, ckk, ohw), g.N);
  checkedMul(*this, ckk, g.O);
  if (ohw > size_t(kMaxDim) || ckk > size_t(kMaxDim)) rangeError("geometry: a GEMM dimension exceeds 2^31-1");
  return g;
}

}  // namespace goten
