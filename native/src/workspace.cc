// The per-thread bounded arena (see workspace.h).
#include "workspace.h"

#include <algorithm>
#include <cstdlib>
#include <new>
#include <stdexcept>

namespace goten {

Workspace& workspace() {
  thread_local Workspace ws;
  return ws;
}

Workspace::~Workspace() { std::free(p_); }

void Workspace::freeArena() {
  std::free(p_);
  p_ = nullptr;
  cap_ = 0;
}

void Workspace::setLimit(size_t bytes) {
  limit_ = bytes;
  if (!active() && cap_ > limit_) freeArena();
}

void Workspace::release() {
  if (active()) return;
  freeArena();
  peak_ = 0;
}

Frame::Frame(Workspace& ws, size_t bytes, size_t headroom) : ws_(ws) {
  if (bytes > SIZE_MAX - kArenaAlign - headroom) throw std::bad_alloc();
  const size_t need = bytes + headroom;
  if (ws.depth_ == 0) {
    // Outermost: the arena is empty of live data, so it may be replaced.
    if (ws.cap_ < need) {
      ws.freeArena();
      const size_t cap = (need + kArenaAlign - 1) & ~(kArenaAlign - 1);
      ws.p_ = static_cast<unsigned char*>(std::aligned_alloc(kArenaAlign, cap));
      if (ws.p_ == nullptr) throw std::bad_alloc();
      ws.cap_ = cap;
      ws.peak_ = std::max(ws.peak_, cap);
    }
  } else if (ws.available() < need) {
    throw std::logic_error("workspace: a nested frame does not fit into what its caller reserved");
  }
  base_ = next_ = ws.top_;
  end_ = ws.top_ + bytes;
  ws.top_ = end_;
  ++ws.depth_;
}

Frame::~Frame() {
  ws_.top_ = base_;
  if (--ws_.depth_ == 0 && ws_.cap_ > ws_.limit_) ws_.freeArena();
}

void* Frame::takeBytes(size_t bytes) {
  if (bytes > end_ - next_) throw std::logic_error("workspace: a kernel took more than it planned");
  void* p = bytes == 0 ? nullptr : ws_.p_ + next_;
  next_ += bytes;
  return p;
}

}  // namespace goten
