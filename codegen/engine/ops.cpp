// engine::claim and split_product (ops.hpp), compiled once.
#include "kiln/codegen/engine/ops.hpp"

#include <atomic>

namespace kiln::engine {

void claim(rt::team* team, long count, int most, chunk_fn f) {
  if (!team || team->size() == 1 || count == 1 || most == 1) {
    for (long i = 0; i < count; ++i) f(0, i);
    return;
  }
  std::atomic<long> next{0};
  team->run_some([&](int member) {
    if (member >= most) return;
    for (long i; (i = next.fetch_add(1, std::memory_order_relaxed)) < count;) f(member, i);
  });
}

split_product::split_product(product p, along cut, long align, const setup& s) : cut_(cut) {
  p.in = s.in;
  const long whole = cut == along::m ? p.m : p.n;
  parts_ = chunking(whole, s.threads, align);
  for (int tail = 0; tail < 2; ++tail) {
    const long len = tail ? parts_.len(parts_.count - 1) : parts_.size;
    if (tail && len == parts_.size) break;
    product q = p;
    (cut == along::m ? q.m : q.n) = len;
    product full = q;
    (full.m == 0 ? full.m : full.k) = s.batch;
    full_[tail] = matmul(full, s.threads);
    if (s.batch > 1) {
      q.most = s.batch - 1;
      part_[tail] = matmul(q, s.threads);
    }
  }
  batch_ = s.batch;
  p_ = p;
}

void split_product::run(int member, long chunk, const void* a, const void* b, float* c,
                        const float* bias, long n) const {
  const long lo = parts_.lo(chunk);
  const int tail = parts_.len(chunk) != parts_.size;
  const matmul& mm = n == batch_ ? full_[tail] : part_[tail];
  const std::size_t bytes = p_.in == precision::bf16 ? 2 : 4;
  if (cut_ == along::m) {
    a = static_cast<const char*>(a) + std::size_t(lo * p_.a_row) * bytes;
    c += lo * p_.c_row;
  } else {
    b = static_cast<const char*>(b) + std::size_t(lo * p_.b_col) * bytes;
    c += lo;
    if (bias) bias += lo;
  }
  if (n == 0) {  // no sample (a data-parallel rank's empty share): no rows, or a zero sum
    if (p_.m > 0 && !p_.accumulate) {
      const long rows = cut_ == along::m ? parts_.len(chunk) : p_.m;
      const long cols = cut_ == along::m ? p_.n : parts_.len(chunk);
      for (long r = 0; r < rows; ++r) std::fill(c + r * p_.c_row, c + r * p_.c_row + cols, 0.0f);
    }
    return;
  }
  mm.run(member, a, b, c, bias, n == batch_ ? 0 : n);
}

}  // namespace kiln::engine
