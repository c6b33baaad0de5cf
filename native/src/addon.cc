// Module entry: registers the GEMM, conv and housekeeping functions.
// All functions are synchronous and write into caller-provided typed arrays.
#include <napi.h>

#include "addon.h"
#include "conv.h"
#include "gemm.h"
#include "workspace.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

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

// tuneMallocForBudget() → bool: glibc only (false elsewhere). A fixed mmap threshold of 128 KiB (which also
// turns off glibc's dynamic threshold) and one malloc arena: every tensor-sized block is its own mapping,
// returned to the kernel when freed, instead of staying in an arena after the first large free raised the
// threshold — so the process's RSS follows the enclave's budgeted tensor memory (docs/memory.md).
Napi::Value TuneMallocForBudget(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  const bool ok = mallopt(M_MMAP_THRESHOLD, 128 * 1024) == 1 && mallopt(M_ARENA_MAX, 1) == 1;
  return Napi::Boolean::New(info.Env(), ok);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

// mallocTrim() → bool: glibc's malloc_trim(0), giving free heap memory back to the kernel.
Napi::Value MallocTrim(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  return Napi::Boolean::New(info.Env(), malloc_trim(0) == 1);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

}  // namespace

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("setThreads", Napi::Function::New(env, SetThreads, "setThreads"));
  exports.Set("setConvGroup", Napi::Function::New(env, SetConvGroup, "setConvGroup"));
  exports.Set("releaseScratch", Napi::Function::New(env, ReleaseScratch, "releaseScratch"));
  exports.Set("setWorkspaceLimit", Napi::Function::New(env, SetWorkspaceLimit, "setWorkspaceLimit"));
  exports.Set("tuneMallocForBudget", Napi::Function::New(env, TuneMallocForBudget, "tuneMallocForBudget"));
  exports.Set("mallocTrim", Napi::Function::New(env, MallocTrim, "mallocTrim"));
  registerGemm(env, exports);
  registerConv(env, exports);
  registerEnclave(env, exports);
  registerAead(env, exports);
  registerNn(env, exports);
  return exports;
}

}  // namespace goten

// NODE_API_MODULE pastes the name into an identifier, so it needs an unqualified one.
static Napi::Object InitModule(Napi::Env env, Napi::Object exports) { return goten::Init(env, exports); }
NODE_API_MODULE(goten_native, InitModule)
