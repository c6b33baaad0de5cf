// Grow-only work buffers, one set per thread.
//
// First touch of fresh memory costs ~11 µs per 4 KiB page on these VMs (a 75 MB
// im2col buffer would pay ~0.2 s every call), so every large temporary of the
// kernels lives in a Scratch that is allocated once and reused by later calls.
// thread_local keeps concurrent calls from Node worker threads apart.
#pragma once
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace goten {

template <class T>
class Scratch {
 public:
  Scratch() = default;
  Scratch(const Scratch&) = delete;
  Scratch& operator=(const Scratch&) = delete;
  ~Scratch() { std::free(p_); }

  // A buffer of at least n elements; contents are unspecified (not zeroed).
  T* get(size_t n) {
    if (n <= cap_) return p_;
    if (n > (SIZE_MAX - 64) / sizeof(T)) throw std::bad_alloc();
    release();
    // 64-byte alignment (cache line / AVX-512 friendly); aligned_alloc needs a multiple of it.
    const size_t bytes = (n * sizeof(T) + 63) & ~size_t(63);
    p_ = static_cast<T*>(std::aligned_alloc(64, bytes));
    if (p_ == nullptr) throw std::bad_alloc();
    cap_ = n;
    return p_;
  }
  void release() {
    std::free(p_);
    p_ = nullptr;
    cap_ = 0;
  }
  size_t bytes() const { return cap_ * sizeof(T); }

 private:
  T* p_ = nullptr;
  size_t cap_ = 0;
};

// Named slots. A slot is used by at most one level of a call chain at a time:
// the mod-P kernels use a/b/c/col/img, the built-in GEMM uses the pack slots.
struct Workspace {
  Scratch<double> a, b, c, col, img, packA, packB;
  Scratch<float> fb, fc, fcol, fpackA, fpackB;

  size_t bytes() const {
    return a.bytes() + b.bytes() + c.bytes() + col.bytes() + img.bytes() + packA.bytes() + packB.bytes() +
           fb.bytes() + fc.bytes() + fcol.bytes() + fpackA.bytes() + fpackB.bytes();
  }
  void release() {
    a.release(), b.release(), c.release(), col.release(), img.release(), packA.release(), packB.release();
    fb.release(), fc.release(), fcol.release(), fpackA.release(), fpackB.release();
  }
};

// The calling thread's workspace.
Workspace& workspace();

}  // namespace goten
