// Counts every allocation through operator new in the process, except those oneDNN makes inside
// a primitive's execute (its per-call argument map; engine::inside_onednn). Include in exactly one
// TU of a test executable (it replaces the global operator new/delete).
#pragma once

#include <atomic>
#include <cstdlib>
#include <new>

#include "kiln/codegen/engine/matmul.hpp"

namespace kiln::test {
inline std::atomic<long> allocations{0};
}

// GCC's mismatched-new-delete check cannot see that malloc and free pair up here.
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  if (!kiln::engine::inside_onednn())
    kiln::test::allocations.fetch_add(1, std::memory_order_relaxed);
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t size) { return operator new(size); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
