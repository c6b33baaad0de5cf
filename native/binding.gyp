{
  "variables": {
    # "openblas" when <cblas.h> + -lopenblas compile and link (see detect-blas.cjs),
    # else "builtin". Override: GOTEN_NATIVE_BLAS=builtin npm rebuild @goten/native
    "goten_blas%": "<!(node detect-blas.cjs)"
  },
  "targets": [
    {
      "target_name": "goten_native",
      "sources": [
        "src/addon.cc",
        "src/addon_aead.cc",
        "src/addon_gemm.cc",
        "src/addon_conv.cc",
        "src/addon_enclave.cc",
        "src/args.cc",
        "src/conv.cc",
        "src/enclave_kernels.cc",
        "src/gemm_builtin.cc",
        "src/gemm_dispatch.cc",
        "src/lean_kernels.cc",
        "src/modp.cc",
        "src/pack24.cc",
        "src/noise_stream.cc",
        "src/prg_stream.cc",
        "src/simd_level.cc",
        "src/workspace.cc",
        "src/addon_nn.cc",
        "src/addon_nn_layers.cc",
        "src/nn_batchnorm.cc",
        "src/nn_elementwise.cc",
        "src/nn_lanes.cc",
        "src/nn_optim.cc",
        "src/nn_pool.cc",
        "src/nn_simd.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions"],
      # No -ffast-math: the mod-P reduction relies on IEEE rounding. FMA contraction
      # is harmless (all mod-P arithmetic is on integers below 2^53, exact either way).
      "cflags_cc": ["-O3", "-std=c++17", "-fexceptions"],
      "xcode_settings": { "GCC_ENABLE_CPP_EXCEPTIONS": "YES", "CLANG_CXX_LANGUAGE_STANDARD": "c++17" },
      "conditions": [
        ["goten_blas=='openblas'", {
          "defines": ["GOTEN_USE_OPENBLAS=1"],
          "include_dirs": ["<!@(node detect-blas.cjs --include)"],
          "libraries": ["-lopenblas"]
        }]
      ]
    }
  ]
}
