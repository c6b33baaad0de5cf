#pragma once
#include <new>
#include <stdexcept>

namespace goten {

template <class F>
void runKernel(const Args& a, F&& f) {
  try {
    f();
  } catch (const std::range_error& e) {
    a.rangeError(e.what());
  } catch (const std::bad_alloc&) {
    a.rangeError(std::string("out of memory allocating scratch buffers"));
  }
}

}  // namespace goten
