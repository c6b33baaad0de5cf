// Module entry: registers the GEMM, conv and housekeeping functions.
// All functions are synchronous and write into caller-provided typed arrays.
#include <napi.h>

#include "addon.h"
#include "conv.h"
#include "gemm.h"
#include "scratch.h"

namespace goten {

Workspace& workspace() {
  thread_local Workspace ws;
  return ws;
}

namespace {

// info() → { blas: "openblas" | "builtin", threads, config, scratchBytes }
Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("blas", blasName());
  o.Set("threads", blasThreads());
  o.Set("config", blasConfig());
  o.Set("scratchBytes", double(workspace().bytes()));
  return o;
}

// setThreads(n): BLAS thread count (no-op for the single-threaded built-in kernel).
Napi::Value SetThreads(const Napi::CallbackInfo& info) {
  Args a(info, "setThreads");
  setBlasThreads(int(a.dim(0, "n", 1)));
  return info.Env().Undefined();
}

// setConvGroup(n): images per conv GEMM, 0 = automatic (tests and tuning only).
Napi::Value SetConvGroup(const Napi::CallbackInfo& info) {
  Args a(info, "setConvGroup");
  setConvGroup(a.dim(0, "n", 0));
  return info.Env().Undefined();
}

// releaseScratch(): frees this thread's work buffers (they are re-created on demand).
Napi::Value ReleaseScratch(const Napi::CallbackInfo& info) {
  workspace().release();
  return info.Env().Undefined();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("setConvGroup", Napi::Function::New(env, SetConvGroup, "setConvGroup"));
  exports.Set("releaseScratch", Napi::Function::New(env, ReleaseScratch, "releaseScratch"));
  registerGemm(env, exports);
  registerConv(env, exports);
  registerEnclave(env, exports);
  return exports;
}

}  // namespace goten

// NODE_API_MODULE pastes the name into an identifier, so it needs an unqualified one.
static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return goten::Init(env, exports); }
NODE_API_MODULE(goten_native, InitModule)
