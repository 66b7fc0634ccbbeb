// A solver's working memory: `count` vectors of n elements in one 64-byte-aligned block,
// allocated once at construction (a step allocates nothing).
#pragma once

#include <hwy/aligned_allocator.h>

#include <cstddef>
#include <string>

#include "kiln/core/error.hpp"

namespace kiln::second_order {

template <class T>
class vectors {
 public:
  vectors() = default;
  vectors(std::size_t count, std::size_t n) : count_(count), stride_(padded(n)) {
    if (count == 0) return;
    memory_ = hwy::AllocateAligned<T>(count * stride_);
    if (!memory_)
      throw error("kiln: cannot allocate " + std::to_string(count * stride_ * sizeof(T)) +
                  " bytes for a solver");
    for (std::size_t i = 0; i < count * stride_; ++i) memory_[i] = T(0);
  }
  T* operator[](std::size_t i) const { return memory_.get() + i * stride_; }
  std::size_t count() const { return count_; }

 private:
  static std::size_t padded(std::size_t n) {
    constexpr std::size_t block = 64 / sizeof(T);
    return (n + block - 1) / block * block;
  }
  std::size_t count_ = 0, stride_ = 0;
  hwy::AlignedFreeUniquePtr<T[]> memory_;
};

}  // namespace kiln::second_order
