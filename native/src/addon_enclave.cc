// JS bindings of the enclave's fused per-element kernels (src/protocol/enclave-kernels.ts
// holds the TypeScript reference they must match bit for bit). A stream reference is a
// 24-byte Uint8Array: AES-128 key (16 bytes) ‖ stream id (8 bytes, big-endian), read from
// the start of the stream (see prg_stream.h).
//
//   enclaveInfo() → { aes: "vaes512" | "vaes" | "aesni" | "none", simd, cpuSimd: "avx512" | "avx2" | "scalar" }
//   setEnclaveSimd(level) → level in use      tests: run the lean/pack/PRG loops at a lower SIMD level
//   prgCentred(ref, out: Int32Array)                      out ← centred field elements
//   prgNoise(ref, out: Float64Array, start = 0)           out ← rounding-noise values g_start … in [0, 1)
//                                                         (counter-based, noise_stream.h; not the AES keystream)
//   maxAbsF32(x: Float32Array) → number                   max |x_i|, NaN if any x_i is not finite
//   isCentredI32(v: Int32Array) → boolean                 every v_i in [−HALF, HALF]
//   quantizeMaskShare(x, scaleExp, noiseRef, uRef, s0Ref, q, e, s1)
//       q_i  = clamp(floor(x_i·2^scaleExp + g_i), −128, 127)    g from noiseRef (a NoiseStream)
//       e_i  = q_i − u_i  mod P (centred)                       u from uRef   (when uRef)
//       s1_i = q_i − s0_i mod P (centred)                       s0 from s0Ref (when s0Ref)
//     q, e, s1: Int32Array or null (q may be null when e is given; e/s1 are required with uRef/s0Ref)
//   quantizeMaskPack(x, scaleExp, noiseRef, s0Ref, dRef, q, packed)   (the lean protocol's operand sweep)
//       q_i = clamp(floor(x_i·2^scaleExp + g_i), −128, 127)             g from noiseRef (a NoiseStream)
//       e_i = q_i − s0_i − d_i mod P (centred), packed into 3 bytes       s0, d from s0Ref, dRef
//     q: Int32Array or null; packed: Uint8Array (3·n bytes) or null (then s0Ref/dRef are ignored)
//     → max |x_i| (NaN if some x_i is not finite), scanned on the way: a caller that quantized with a guessed
//       exponent learns whether the guess was the tensor's exponent
//   reconstructDequantize(parts: (Int32Array | Uint8Array)[], maskRefs: Uint8Array[], scaleExp, out: Float32Array, checkFirst?)
//       → max |C|, or −(k + 1) if part k < checkFirst holds a value outside [−HALF, HALF] (out is then garbage)
//       C_i = centre(Σ_k parts[k][i] + Σ_m mask_m[i]) mod P;   out_i = C_i · 2^scaleExp
//     a Uint8Array part holds its n elements packed (3·n bytes, pack24.h); 1 ≤ parts ≤ 4 and
//     0 ≤ masks ≤ 3 (|Σ| ≤ 7·HALF < 2^23, exact in int32 once the parts are checked; unchecked
//     parts must be centred, e.g. produced by the enclave itself)
//   packCentred24(v: Int32Array, packed: Uint8Array)                   packed ← v (3·n bytes)
//   unpackCentred24(packed: Uint8Array, v: Int32Array) → boolean       v ← packed; false if some value is not centred
#include <cmath>
#include <cstring>
#include <string>
#include <vector>

#include "addon.h"
#include "enclave_kernels.h"
#include "lean_kernels.h"
#include "noise_stream.h"
#include "pack24.h"
#include "prg_stream.h"
#include "simd_level.h"

namespace goten {
namespace {

constexpr size_t CHUNK = enclave::BLOCK;  // one L1 block size for every per-block sweep

void requireAes(const Args& a) {
  if (!aesAvailable()) a.rangeError("this CPU has no AES-NI; use the TypeScript enclave kernels");
}

// Reads a stream reference (or returns false for null/undefined when optional).
bool streamRef(const Args& a, const Napi::Value& v, const char* name, bool optional, uint8_t key[16], uint64_t* id) {
  if (optional && (v.IsNull() || v.IsUndefined())) return false;
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    a.typeError(std::string("'") + name + "' must be a 24-byte Uint8Array stream reference" + (optional ? " or null" : ""));
  Napi::Uint8Array u = v.As<Napi::Uint8Array>();
  if (u.ElementLength() != 24) a.rangeError(std::string("'") + name + "' must have 24 bytes (key ‖ id)");
  const uint8_t* d = u.Data();
  std::memcpy(key, d, 16);
  uint64_t x = 0;
  for (int i = 0; i < 8; i++) x = (x << 8) | d[16 + i];
  *id = x;
  return true;
}

// A typed array argument of any length (or exactly `len` elements unless SIZE_MAX);
// nullptr for null/undefined when optional. A present but empty array gives a
// non-null pointer that is never dereferenced, so nullptr always means "absent".
template <class T>
T* typed(const Args& a, const Napi::Value& v, napi_typedarray_type type, const char* name, size_t len, bool optional) {
  if (optional && (v.IsNull() || v.IsUndefined())) return nullptr;
  const Args::View t = a.view(v, name, type, optional ? " or null" : "");
  if (len != SIZE_MAX && t.length != len)
    a.rangeError(std::string("'") + name + "' has length " + std::to_string(t.length) + ", expected " + std::to_string(len));
  if (t.length == 0) return reinterpret_cast<T*>(alignof(T));
  return static_cast<T*>(t.data);
}

size_t lengthOf(const Napi::Value& v) { return v.As<Napi::TypedArray>().ElementLength(); }

// A noise stream's counter is 32 bits (noise_stream.h).
void requireNoiseRange(const Args& a, uint64_t start, size_t n) {
  if (start + n > (uint64_t(1) << 32)) a.rangeError("a noise stream has 2^32 elements");
}

// The power-of-two scale 2^scaleExp of argument v (scaleExp an integer in [−300, 300]).
double scaleArg(const Args& a, const Napi::Value& v) {
  if (!v.IsNumber()) a.typeError("scaleExp must be a number");
  const double se = v.As<Napi::Number>().DoubleValue();
  if (!(se == std::floor(se)) || se < -300 || se > 300) a.rangeError("scaleExp must be an integer in [-300, 300]");
  return std::ldexp(1.0, int(se));
}

Napi::Value EnclaveInfo(const Napi::CallbackInfo& info) {
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("aes", aesPath());
  o.Set("simd", simd::name(simd::level()));
  o.Set("cpuSimd", simd::name(simd::cpuLevel()));
  return o;
}

// setEnclaveSimd("avx512" | "avx2" | "scalar"): use at most this level (capped at the CPU's); returns the level now in use.
Napi::Value SetEnclaveSimd(const Napi::CallbackInfo& info) {
  Args a(info, "setEnclaveSimd");
  if (!info[0].IsString()) a.typeError("level must be \"avx512\", \"avx2\" or \"scalar\"");
  const std::string n = info[0].As<Napi::String>().Utf8Value();
  if (n != "avx512" && n != "avx2" && n != "scalar") a.rangeError("level must be \"avx512\", \"avx2\" or \"scalar\"");
  simd::setLevel(n == "avx512" ? simd::Avx512 : n == "avx2" ? simd::Avx2 : simd::Scalar);
  return Napi::String::New(info.Env(), simd::name(simd::level()));
}

Napi::Value PrgCentred(const Napi::CallbackInfo& info) {
  Args a(info, "prgCentred");
  requireAes(a);
  uint8_t key[16];
  uint64_t id;
  streamRef(a, info[0], "ref", false, key, &id);
  int32_t* out = typed<int32_t>(a, info[1], napi_int32_array, "out", SIZE_MAX, false);
  PrgStream s(key, id);
  s.centred(out, lengthOf(info[1]));
  return info.Env().Undefined();
}

Napi::Value PrgNoise(const Napi::CallbackInfo& info) {
  Args a(info, "prgNoise");
  requireAes(a);
  uint8_t key[16];
  uint64_t id;
  streamRef(a, info[0], "ref", false, key, &id);
  double* out = typed<double>(a, info[1], napi_float64_array, "out", SIZE_MAX, false);
  const size_t n = lengthOf(info[1]);
  const size_t start = info[2].IsUndefined() ? 0 : a.bytes(2, "start");  // any integer; range-checked below
  requireNoiseRange(a, start, n);
  NoiseStream s(key, id);
  s.seek(start);
  s.noise(out, n);
  return info.Env().Undefined();
}

Napi::Value MaxAbsF32(const Napi::CallbackInfo& info) {
  Args a(info, "maxAbsF32");
  const float* x = typed<float>(a, info[0], napi_float32_array, "x", SIZE_MAX, false);
  const size_t n = lengthOf(info[0]);
  bool finite = true;
  const float m = enclave::maxAbsBlock(x, n, &finite);
  return Napi::Number::New(info.Env(), finite ? double(m) : NAN);
}

Napi::Value IsCentredI32(const Napi::CallbackInfo& info) {
  Args a(info, "isCentredI32");
  const int32_t* v = typed<int32_t>(a, info[0], napi_int32_array, "v", SIZE_MAX, false);
  return Napi::Boolean::New(info.Env(), enclave::isCentred(v, lengthOf(info[0])));
}

Napi::Value QuantizeMaskShare(const Napi::CallbackInfo& info) {
  Args a(info, "quantizeMaskShare");
  requireAes(a);
  const float* x = typed<float>(a, info[0], napi_float32_array, "x", SIZE_MAX, false);
  const size_t n = lengthOf(info[0]);
  const double scale = scaleArg(a, info[1]);
  uint8_t kN[16], kU[16], kS[16];
  uint64_t iN, iU, iS;
  streamRef(a, info[2], "noiseRef", false, kN, &iN);
  const bool hasU = streamRef(a, info[3], "uRef", true, kU, &iU);
  const bool hasS = streamRef(a, info[4], "s0Ref", true, kS, &iS);
  if (hasS && !hasU) a.typeError("s0Ref needs uRef");
  int32_t* q = typed<int32_t>(a, info[5], napi_int32_array, "q", n, true);
  int32_t* e = typed<int32_t>(a, info[6], napi_int32_array, "e", n, !hasU);
  int32_t* s1 = typed<int32_t>(a, info[7], napi_int32_array, "s1", n, !hasS);
  if (!hasU && q == nullptr) a.typeError("'q' is required without uRef");
  if (!hasU) e = nullptr;
  if (!hasS) s1 = nullptr;

  requireNoiseRange(a, 0, n);
  NoiseStream sN(kN, iN);
  PrgStream sU, sS;
  if (hasU) sU.open(kU, iU);
  if (hasS) sS.open(kS, iS);
  alignas(64) double g[CHUNK];
  alignas(64) int32_t qb[CHUNK], u[CHUNK], s0[CHUNK];
  for (size_t start = 0; start < n; start += CHUNK) {
    const size_t m = n - start < CHUNK ? n - start : CHUNK;
    const float* xs = x + start;
    sN.noise(g, m);
    enclave::quantizeBlock(xs, g, scale, qb, m);
    if (q) std::memcpy(q + start, qb, m * sizeof(int32_t));
    if (hasU) {
      sU.centred(u, m);
      enclave::subCentredBlock(qb, u, e + start, m);
    }
    if (hasS) {
      sS.centred(s0, m);
      enclave::subCentredBlock(qb, s0, s1 + start, m);
    }
  }
  return info.Env().Undefined();
}

Napi::Value QuantizeMaskPack(const Napi::CallbackInfo& info) {
  Args a(info, "quantizeMaskPack");
  requireAes(a);
  const float* x = typed<float>(a, info[0], napi_float32_array, "x", SIZE_MAX, false);
  const size_t n = lengthOf(info[0]);
  const double scale = scaleArg(a, info[1]);
  uint8_t kN[16], kS[16], kD[16];
  uint64_t iN, iS, iD;
  streamRef(a, info[2], "noiseRef", false, kN, &iN);
  int32_t* q = typed<int32_t>(a, info[5], napi_int32_array, "q", n, true);
  uint8_t* packed = typed<uint8_t>(a, info[6], napi_uint8_array, "packed", 3 * n, true);
  if (q == nullptr && packed == nullptr) a.typeError("nothing to write: give q, packed or both");
  requireNoiseRange(a, 0, n);
  NoiseStream sN(kN, iN);
  PrgStream sS, sD;
  if (packed) {
    streamRef(a, info[3], "s0Ref", false, kS, &iS);
    streamRef(a, info[4], "dRef", false, kD, &iD);
    sS.open(kS, iS);
    sD.open(kD, iD);
  }
  alignas(64) uint32_t w[CHUNK];
  alignas(64) int32_t s0[CHUNK], d[CHUNK];
  uint32_t mxBits = 0;  // bits of max|x|, scanned by the sweep itself (lean_kernels.h)
  for (size_t start = 0; start < n; start += CHUNK) {
    const size_t m = n - start < CHUNK ? n - start : CHUNK;
    sN.words(w, m);
    if (packed) {
      sS.centred(s0, m);
      sD.centred(d, m);
    }
    mxBits = lean::quantizeMaskPack(x + start, w, scale, s0, d, q ? q + start : nullptr, packed ? packed + 3 * start : nullptr, m, mxBits);
  }
  if (mxBits >= 0x7F800000u) return Napi::Number::New(info.Env(), NAN);  // a NaN or an infinity
  float mx;
  __builtin_memcpy(&mx, &mxBits, 4);
  return Napi::Number::New(info.Env(), double(mx));
}

Napi::Value PackCentred24(const Napi::CallbackInfo& info) {
  Args a(info, "packCentred24");
  const int32_t* v = typed<int32_t>(a, info[0], napi_int32_array, "v", SIZE_MAX, false);
  const size_t n = lengthOf(info[0]);
  uint8_t* packed = typed<uint8_t>(a, info[1], napi_uint8_array, "packed", 3 * n, false);
  a.noOverlap("packed", packed, 3 * n, "v", v, 4 * n);
  pack24::pack(v, packed, n);
  return info.Env().Undefined();
}

Napi::Value UnpackCentred24(const Napi::CallbackInfo& info) {
  Args a(info, "unpackCentred24");
  int32_t* v = typed<int32_t>(a, info[1], napi_int32_array, "v", SIZE_MAX, false);
  const size_t n = lengthOf(info[1]);
  const uint8_t* packed = typed<uint8_t>(a, info[0], napi_uint8_array, "packed", 3 * n, false);
  a.noOverlap("v", v, 4 * n, "packed", packed, 3 * n);
  return Napi::Boolean::New(info.Env(), pack24::unpack(packed, v, n));
}

Napi::Value ReconstructDequantize(const Napi::CallbackInfo& info) {
  Args a(info, "reconstructDequantize");
  if (!info[0].IsArray()) a.typeError("parts must be an array of Int32Arrays");
  if (!info[1].IsArray()) a.typeError("maskRefs must be an array of stream references");
  Napi::Array pa = info[0].As<Napi::Array>(), ma = info[1].As<Napi::Array>();
  const size_t np = pa.Length(), nm = ma.Length();
  if (np < 1 || np > 4) a.rangeError("1 to 4 parts");
  if (nm > 3) a.rangeError("at most 3 mask streams");
  if (nm > 0) requireAes(a);
  float* out = typed<float>(a, info[3], napi_float32_array, "out", SIZE_MAX, false);
  const size_t n = lengthOf(info[3]);
  const int32_t* parts[4];
  const uint8_t* packedParts[4];
  for (size_t k = 0; k < np; k++) {
    const Napi::Value v = pa.Get(uint32_t(k));
    const bool packed = v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array;
    parts[k] = packed ? nullptr : typed<int32_t>(a, v, napi_int32_array, "part (Int32Array or packed Uint8Array)", n, false);
    packedParts[k] = packed ? typed<uint8_t>(a, v, napi_uint8_array, "packed part", 3 * n, false) : nullptr;
  }
  PrgStream ms[3];
  for (size_t k = 0; k < nm; k++) {
    uint8_t key[16];
    uint64_t id;
    streamRef(a, ma.Get(uint32_t(k)), "maskRef", false, key, &id);
    ms[k].open(key, id);
  }
  const double scale = scaleArg(a, info[2]);
  size_t checkFirst = 0;
  if (!info[4].IsUndefined()) {
    checkFirst = a.dim(4, "checkFirst");
    if (checkFirst > np) a.rangeError("checkFirst exceeds the number of parts");
  }
  alignas(64) int32_t acc[CHUNK];
  int32_t maxAbs = 0;
  for (size_t start = 0; start < n; start += CHUNK) {
    const size_t m = n - start < CHUNK ? n - start : CHUNK;
    if (nm > 0) {
      ms[0].centred(acc, m);
      for (size_t k = 1; k < nm; k++) ms[k].addCentred(acc, m);
    } else {
      std::memset(acc, 0, m * sizeof(int32_t));
    }
    for (size_t k = 0; k < np; k++) {
      // checked while the block is in L1; a bad part may have overflowed acc, so stop before using it
      if (packedParts[k]) {
        // a packed value is < 2^23 in magnitude: acc cannot overflow before the check fails
        if (!pack24::accumulate(acc, packedParts[k] + 3 * start, m) && k < checkFirst) return Napi::Number::New(info.Env(), -double(k + 1));
        continue;
      }
      if (k < checkFirst && !enclave::isCentred(parts[k] + start, m)) return Napi::Number::New(info.Env(), -double(k + 1));
      enclave::addBlock(acc, parts[k] + start, m);
    }
    // two terms (lean: S + T, or S + Z̃) are centred in integers; more take the general path
    maxAbs = np + nm <= 2 ? lean::reconstructTwo(acc, scale, out + start, m, maxAbs) : enclave::reconstructBlock(acc, scale, out + start, m, maxAbs);
  }
  return Napi::Number::New(info.Env(), double(maxAbs));
}

}  // namespace

void registerEnclave(Napi::Env env, Napi::Object exports) {
  exports.Set("enclaveInfo", Napi::Function::New(env, EnclaveInfo, "enclaveInfo"));
  exports.Set("setEnclaveSimd", Napi::Function::New(env, SetEnclaveSimd, "setEnclaveSimd"));
  exports.Set("prgCentred", Napi::Function::New(env, PrgCentred, "prgCentred"));
  exports.Set("prgNoise", Napi::Function::New(env, PrgNoise, "prgNoise"));
  exports.Set("maxAbsF32", Napi::Function::New(env, MaxAbsF32, "maxAbsF32"));
  exports.Set("isCentredI32", Napi::Function::New(env, IsCentredI32, "isCentredI32"));
  exports.Set("quantizeMaskShare", Napi::Function::New(env, QuantizeMaskShare, "quantizeMaskShare"));
  exports.Set("reconstructDequantize", Napi::Function::New(env, ReconstructDequantize, "reconstructDequantize"));
  exports.Set("quantizeMaskPack", Napi::Function::New(env, QuantizeMaskPack, "quantizeMaskPack"));
  exports.Set("packCentred24", Napi::Function::New(env, PackCentred24, "packCentred24"));
  exports.Set("unpackCentred24", Napi::Function::New(env, UnpackCentred24, "unpackCentred24"));
}

}  // namespace goten
