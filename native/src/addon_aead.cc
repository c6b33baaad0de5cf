// AES-256-GCM into caller-provided buffers, for sealing (src/tee/seal.ts). node:crypto's
// Cipher.update() returns a fresh Buffer for every call, so sealing and unsealing the
// enclave's chunks (hundreds of MiB per VGG-11 step once parameters are sealed too) leaves
// that much garbage behind; here the ciphertext/plaintext goes straight into the caller's
// buffer. The cipher is Node's own OpenSSL (its symbols are exported to addons): the same
// implementation node:crypto uses, so the two paths give identical bytes (tested).
//
//   aeadAvailable() → true (false when the addon was built without Node's OpenSSL headers; then only it exists)
//   aesGcmSeal(key32, iv12, aad, plain, out, tag16)      out ← E(plain), tag16 ← GCM tag
//   aesGcmOpen(key32, iv12, aad, ct, tag16, out) → bool  out ← D(ct) when the tag verifies;
//       false (out zeroed) when it does not
// `out` must have exactly the input's length and must not overlap it partially (in place,
// out === input, is allowed: GCM is a stream mode).
#if __has_include(<openssl/evp.h>)
#include <openssl/evp.h>
#define GOTEN_HAVE_OPENSSL 1
#endif

#include <cstring>
#include <memory>
#include <string>

#include "addon.h"

namespace goten {
#ifdef GOTEN_HAVE_OPENSSL
namespace {

struct CtxFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};
using Ctx = std::unique_ptr<EVP_CIPHER_CTX, CtxFree>;

struct Bytes {
  uint8_t* data;
  size_t len;
};

Bytes bytesArg(const Args& a, const Napi::CallbackInfo& info, size_t i, const char* name) {
  const Args::View v = a.view(info[i], name, napi_uint8_array);
  return {static_cast<uint8_t*>(v.data), v.length};
}

Bytes sized(const Args& a, const Napi::CallbackInfo& info, size_t i, const char* name, size_t len) {
  Bytes b = bytesArg(a, info, i, name);
  if (b.len != len) a.rangeError(std::string("'") + name + "' must have " + std::to_string(len) + " bytes, got " + std::to_string(b.len));
  return b;
}

// Output equal to the input (in place) or disjoint from it.
void checkOverlap(const Args& a, Bytes in, Bytes out) {
  if (out.data == in.data) return;
  if (out.data < in.data + in.len && in.data < out.data + out.len) a.rangeError("output overlaps the input (only exact in-place use is allowed)");
}

// OpenSSL's update takes an int length: feed ≤ 1 GiB at a time.
constexpr size_t STEP = size_t(1) << 30;

Ctx begin(const Args& a, bool encrypt, Bytes key, Bytes iv, Bytes aad) {
  Ctx c(EVP_CIPHER_CTX_new());
  if (!c) a.rangeError("out of memory for a cipher context");
  auto init = encrypt ? EVP_EncryptInit_ex : EVP_DecryptInit_ex;
  if (init(c.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_IVLEN, int(iv.len), nullptr) != 1 ||
      init(c.get(), nullptr, nullptr, key.data, iv.data) != 1)
    a.rangeError("AES-256-GCM initialisation failed");
  int n = 0;
  auto update = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate;
  for (size_t off = 0; off < aad.len; off += STEP) {
    if (update(c.get(), nullptr, &n, aad.data + off, int(std::min(STEP, aad.len - off))) != 1) a.rangeError("AES-256-GCM: AAD rejected");
  }
  return c;
}

// Runs the payload through; GCM writes exactly as many bytes as it reads.
bool run(EVP_CIPHER_CTX* c, bool encrypt, Bytes in, Bytes out) {
  auto update = encrypt ? EVP_EncryptUpdate : EVP_DecryptUpdate;
  for (size_t off = 0; off < in.len; off += STEP) {
    int n = 0;
    const int len = int(std::min(STEP, in.len - off));
    if (update(c, out.data + off, &n, in.data + off, len) != 1 || n != len) return false;
  }
  return true;
}

Napi::Value AeadAvailable(const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), true); }

Napi::Value AesGcmSeal(const Napi::CallbackInfo& info) {
  Args a(info, "aesGcmSeal");
  Bytes key = sized(a, info, 0, "key", 32), iv = sized(a, info, 1, "iv", 12);
  Bytes aad = bytesArg(a, info, 2, "aad"), plain = bytesArg(a, info, 3, "plain");
  Bytes out = sized(a, info, 4, "out", plain.len), tag = sized(a, info, 5, "tag", 16);
  checkOverlap(a, plain, out);
  Ctx c = begin(a, true, key, iv, aad);
  int n = 0;
  if (!run(c.get(), true, plain, out) || EVP_EncryptFinal_ex(c.get(), out.data + out.len, &n) != 1 || n != 0 ||
      EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_GET_TAG, 16, tag.data) != 1)
    a.rangeError("AES-256-GCM encryption failed");
  return info.Env().Undefined();
}

Napi::Value AesGcmOpen(const Napi::CallbackInfo& info) {
  Args a(info, "aesGcmOpen");
  Bytes key = sized(a, info, 0, "key", 32), iv = sized(a, info, 1, "iv", 12);
  Bytes aad = bytesArg(a, info, 2, "aad"), ct = bytesArg(a, info, 3, "ct");
  Bytes tag = sized(a, info, 4, "tag", 16), out = sized(a, info, 5, "out", ct.len);
  checkOverlap(a, ct, out);
  Ctx c = begin(a, false, key, iv, aad);
  uint8_t end[16];
  int n = 0;
  const bool ok = run(c.get(), false, ct, out) && EVP_CIPHER_CTX_ctrl(c.get(), EVP_CTRL_GCM_SET_TAG, 16, tag.data) == 1 &&
                  EVP_DecryptFinal_ex(c.get(), end, &n) == 1;
  if (!ok) std::memset(out.data, 0, out.len);  // never hand back unauthenticated plaintext
  return Napi::Boolean::New(info.Env(), ok);
}

}  // namespace

void registerAead(Napi::Env env, Napi::Object exports) {
  exports.Set("aeadAvailable", Napi::Function::New(env, AeadAvailable, "aeadAvailable"));
  exports.Set("aesGcmSeal", Napi::Function::New(env, AesGcmSeal, "aesGcmSeal"));
  exports.Set("aesGcmOpen", Napi::Function::New(env, AesGcmOpen, "aesGcmOpen"));
}
#else
// Node's headers without OpenSSL: the rest of the addon still builds; sealing uses node:crypto.
void registerAead(Napi::Env env, Napi::Object exports) {
  exports.Set("aeadAvailable", Napi::Function::New(env, [](const Napi::CallbackInfo& info) { return Napi::Boolean::New(info.Env(), false); }, "aeadAvailable"));
}
#endif

}  // namespace goten
