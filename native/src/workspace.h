// The kernels' work memory: one bounded arena per thread.
//
// Every temporary of a kernel call (widened mod-P operands, column matrices,
// float64 accumulators, the built-in GEMM's packed panels) is carved out of one
// 64-byte-aligned arena owned by the calling thread (thread_local: concurrent
// calls from Node worker threads stay apart). The arena is kept between calls,
// because first touch of fresh memory costs ~11 µs per 4 KiB page on these VMs,
// but between calls it never holds more than the thread's limit:
//
// - kernels plan their pieces (image groups, channel / row / column blocks) so
//   that a call needs at most the limit, and reserve that in one Frame;
// - a call whose smallest piece (one image's column matrix, one row × column of
//   a GEMM) does not fit gets what it needs, and the arena is freed when the
//   call returns; peak() keeps the honest high-water mark.
#pragma once
#include <cstddef>
#include <cstdint>

namespace goten {

// Default limit of a thread's arena (the TS wrapper passes its own on every call).
constexpr size_t kDefaultWorkspaceLimit = size_t(16) << 20;
constexpr size_t kArenaAlign = 64;

// Bytes that n elements of T occupy in the arena (each take is 64-byte aligned).
template <class T>
constexpr size_t arenaBytes(size_t n) {
  return (n * sizeof(T) + kArenaAlign - 1) & ~(kArenaAlign - 1);
}

// Piece size when n items are cut into the fewest pieces of at most `most`
// items, balanced: 32 items, at most 13 a piece → 11 (11 + 11 + 10, not 13 + 13 + 6).
inline size_t evenPieces(size_t n, size_t most) {
  if (n == 0) return 1;
  most = most < 1 ? 1 : most > n ? n : most;
  const size_t pieces = (n + most - 1) / most;
  return (n + pieces - 1) / pieces;
}

class Workspace {
 public:
  Workspace() = default;
  Workspace(const Workspace&) = delete;
  Workspace& operator=(const Workspace&) = delete;
  ~Workspace();

  size_t limit() const { return limit_; }
  // Sets the limit; outside a call, an arena holding more is freed at once.
  void setLimit(size_t bytes);
  // Bytes held now (the arena's capacity).
  size_t bytes() const { return cap_; }
  // Most bytes held at any time since the thread started or the last release().
  size_t peak() const { return peak_; }
  // Bytes of the arena not taken by the open frames.
  size_t available() const { return cap_ - top_; }
  // Whether a kernel call (an outermost Frame) is running on this thread.
  bool active() const { return depth_ > 0; }
  // Frees the arena and resets peak() (ignored during a call).
  void release();

 private:
  friend class Frame;
  void freeArena();
  unsigned char* p_ = nullptr;
  size_t cap_ = 0;   // arena bytes
  size_t top_ = 0;   // bytes taken by the open frames
  size_t limit_ = kDefaultWorkspaceLimit;
  size_t peak_ = 0;
  int depth_ = 0;    // open frames
};

// A stack frame of the arena: the bytes one kernel call (or one nested GEMM)
// takes, plus `headroom` bytes kept free above it for the frames of the GEMMs it
// calls. The outermost frame of a call makes the arena hold at least bytes +
// headroom (reallocating it when smaller: nothing survives between calls); a
// nested frame must fit into what the open frames left (its caller reserved it),
// otherwise it throws std::logic_error. Destruction pops the frame; the
// outermost one then frees an arena that is above the limit.
class Frame {
 public:
  Frame(Workspace& ws, size_t bytes, size_t headroom = 0);
  ~Frame();
  Frame(const Frame&) = delete;
  Frame& operator=(const Frame&) = delete;

  // n elements of T, 64-byte aligned, contents unspecified; std::logic_error
  // if the frame has fewer than arenaBytes<T>(n) bytes left (a planning bug).
  template <class T>
  T* take(size_t n) {
    return static_cast<T*>(takeBytes(arenaBytes<T>(n)));
  }

 private:
  void* takeBytes(size_t bytes);
  Workspace& ws_;
  size_t base_, next_, end_;
};

// The calling thread's workspace.
Workspace& workspace();

}  // namespace goten
