// Module entry: registers the GEMM, conv and housekeeping functions.
// All functions are synchronous and write into caller-provided typed arrays.
#include <napi.h>

#include "addon.h"
#include "conv.h"
#include "gemm.h"
#include "workspace.h"

namespace goten {

namespace {

// info() → { blas: "openblas" | "builtin", threads, config, scratchBytes, scratchPeakBytes, workspaceLimit }
// (the workspace numbers are the calling thread's).
Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Workspace& ws = workspace();
  Napi::Object o = Napi::Object::New(env);
  o.Set("blas", blasName());
  o.Set("threads", blasThreads());
  o.Set("config", blasConfig());
  o.Set("scratchBytes", double(ws.bytes()));
  o.Set("scratchPeakBytes", double(ws.peak()));
  o.Set("workspaceLimit", double(ws.limit()));
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

// releaseScratch(): frees this thread's workspace (re-created on demand) and resets its peak.
Napi::Value ReleaseScratch(const Napi::CallbackInfo& info) {
  workspace().release();
  return info.Env().Undefined();
}

// setWorkspaceLimit(bytes): this thread's workspace limit, an integer in [0, 2^53];
// a workspace above it is freed now.
Napi::Value SetWorkspaceLimit(const Napi::CallbackInfo& info) {
  Args a(info, "setWorkspaceLimit");
  workspace().setLimit(a.bytes(0, "bytes"));
  return info.Env().Undefined();
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("setConvGroup", Napi::Function::New(env, SetConvGroup, "setConvGroup"));
  exports.Set("releaseScratch", Napi::Function::New(env, ReleaseScratch, "releaseScratch"));
  exports.Set("setWorkspaceLimit", Napi::Function::New(env, SetWorkspaceLimit, "setWorkspaceLimit"));
  registerGemm(env, exports);
  registerConv(env, exports);
  registerEnclave(env, exports);
  return exports;
}

}  // namespace goten

// NODE_API_MODULE pastes the name into an identifier, so it needs an unqualified one.
static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return goten::Init(env, exports); }
NODE_API_MODULE(goten_native, InitModule)
