// What a layer op needs from the compute engine: its engine objects made once when the trainer
// is built (op::prepare(setup) → holder, passed back in op_args::prims every step), products cut
// into chunks that the team's members claim as they come (a member the OS put aside holds up
// one chunk, not a fixed share), and the walk that prepares every op of a layout.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>

#include "kiln/codegen/engine/matmul.hpp"
#include "kiln/core/team.hpp"
#include "kiln/dsl/core.hpp"

namespace kiln::engine {

// What an op's engine objects are made for: the largest batch a step takes, the team's size,
// the products' input precision.
struct setup {
  int batch = 1;
  int threads = 1;
  precision in = precision::f32;
};

// The owner of one op's engine objects (type-erased: the trainer holds one per layer).
struct drop {
  void (*free)(void*) = nullptr;
  void operator()(void* p) const {
    if (free) free(p);
  }
};
using holder = std::unique_ptr<void, drop>;
template <class T, class... A>
holder hold(A&&... a) {
  return holder(new T(std::forward<A>(a)...), drop{[](void* p) { delete static_cast<T*>(p); }});
}

// [0, total) in `count` chunks of `size` (the last one possibly shorter). One thread: one chunk
// (the product whole, at its best speed); more: one per thread, a multiple of `align`, at least
// `least` wide. Two per thread, so that a descheduled member would leave more to the others,
// made the MLP's 2-thread epoch slower than one thread's even on an idle machine (0.490 s against
// 0.430; one per thread: 0.404 s, the same run): the smaller products lose more than balance
// wins. A member descheduled mid-chunk is the team's straggler_guard's to handle.
struct chunks {
  long total = 0, size = 0, count = 0;
  long lo(long i) const { return i * size; }
  long len(long i) const { return std::min(size, total - i * size); }
};
inline chunks chunking(long total, int threads, long align = 16, long least = 32) {
  if (threads <= 1 || total <= least) return {total, total, 1};
  const long want = threads;
  long size = (total + want - 1) / want;
  size = std::max(least, (size + align - 1) / align * align);
  return {total, size, (total + size - 1) / size};
}

// f(member, chunk), by reference and type-erased: claim() is compiled once (ops.cpp) instead of
// once per lambda in every trainer's TU (with team::run_some under it, 300 copies in a suite).
class chunk_fn {
 public:
  template <class F>
  requires(!std::is_same_v<std::remove_cvref_t<F>, chunk_fn>)
      chunk_fn(F&& f)  // NOLINT: converts, as std::function_ref will
      : ctx_(const_cast<void*>(static_cast<const void*>(&f))),
        call_([](void* c, int member, long chunk) {
          (*static_cast<std::remove_reference_t<F>*>(c))(member, chunk);
        }) {}
  void operator()(int member, long chunk) const { call_(ctx_, member, chunk); }

 private:
  void* ctx_;
  void (*call_)(void*, int, long);
};

// Runs f(member, chunk) for chunk = 0 .. count-1, each exactly once, the members (those below
// `most`) claiming chunks in turn; a member that joins late finds fewer (or none) left. Which
// member runs a chunk changes nothing in its result: products are cut where no sum is split.
// f lives until claim returns (a lambda argument does: it is a temporary of the call).
void claim(rt::team* team, long count, int most, chunk_fn f);
inline void claim(rt::team* team, long count, chunk_fn f) { claim(team, count, 1 << 30, f); }

// Which dimension of a product is cut into chunks: C's rows (m) or its columns (n).
enum class along { m, n };

// A product whose batch dimension (m or k, given as 0 in `p`) is the step's sample count, cut
// into chunks along m or n: one primitive per distinct chunk size, for a full batch and for any
// smaller one. Compiled once (ops.cpp), not in every trainer's TU.
class split_product {
 public:
  split_product() = default;
  split_product(product p, along cut, long align, const setup& s);
  long count() const { return parts_.count; }
  long lo(long chunk) const { return parts_.lo(chunk); }
  long len(long chunk) const { return parts_.len(chunk); }

  // Chunk `chunk` of the product for a batch of n samples; a, b: f32 or bf16 as set up.
  void run(int member, long chunk, const void* a, const void* b, float* c, const float* bias,
           long n) const;

 private:
  along cut_ = along::n;
  chunks parts_;
  matmul full_[2], part_[2];
  long batch_ = 0;
  product p_;
};

// The engine objects of every op of a layout that has any (op::prepare), one holder per layer.
template <class Lay, std::size_t N>
void prepare_ops(holder (&out)[N], const setup& s) {
  dsl::for_each_index<N>([&]<std::size_t I>(dsl::index_c<I>) {
    using op_t = typename Lay::template op_at<I>;
    if constexpr (requires { op_t::prepare(s); })
      out[I] = op_t::prepare(s);
    else
      out[I] = holder{};
  });
}

}  // namespace kiln::engine
