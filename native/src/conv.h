// Convolution kernels (NCHW, weights O×C×kH×kW) built from im2col + GEMM.
// Float32 versions go straight to sgemm; mod-P versions take centred Int32
// operands, widen to double and use the chunked exact GEMM of modp.h.
// All of them keep their temporaries within the thread's workspace limit
// (workspace.h), splitting the batch and, mod P, the channels into pieces.
#pragma once
#include <cstddef>
#include <cstdint>

#include "im2col.h"

namespace goten {

// Forces G images per GEMM (0 restores the automatic choice); for tests and tuning.
// The workspace limit still caps G (see conv.cc).
void setConvGroup(size_t g);

void conv2dF32(const ConvShape& g, const float* x, const float* w, float* y);
void conv2dGradInputF32(const ConvShape& g, const float* dy, const float* w, float* dx);
void conv2dGradWeightF32(const ConvShape& g, const float* dy, const float* x, float* dw);

// The mod-P kernels throw std::range_error (outputs untouched) on a non-centred input.
void conv2dModP(const ConvShape& g, const int32_t* x, const int32_t* w, int32_t* y);
void conv2dGradInputModP(const ConvShape& g, const int32_t* dy, const int32_t* w, int32_t* dx);
void conv2dGradWeightModP(const ConvShape& g, const int32_t* dy, const int32_t* x, int32_t* dw);

}  // namespace goten
