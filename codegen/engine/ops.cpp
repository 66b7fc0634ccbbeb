// engine::claim (ops.hpp), compiled once.
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

}  // namespace kiln::engine
