#pragma once
#include <napi.h>

#include "args.h"

namespace goten {
// sgemm, dgemm, gemmModP
void registerGemm(Napi::Env env, Napi::Object exports);
// im2col, col2im, conv2d{,GradInput,GradWeight}{F32,ModP}
void registerConv(Napi::Env env, Napi::Object exports);
// enclaveInfo, prgCentred, prgNoise, maxAbsF32, isCentredI32, quantizeMaskShare, reconstructDequantize
void registerEnclave(Napi::Env env, Napi::Object exports);
// nnInfo, setNnSimd, the enclave's non-linear layers and optimizers (addon_nn.cc, addon_nn_layers.cc)
void registerNn(Napi::Env env, Napi::Object exports);
// aeadAvailable, aesGcmSeal, aesGcmOpen (sealing into caller buffers, Node's OpenSSL)
void registerAead(Napi::Env env, Napi::Object exports);
}  // namespace goten
