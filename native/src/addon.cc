#include <napi.h>
static Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::String::New(env, "0"));
  return exports;
}
NODE_API_MODULE(goten_native, Init)
