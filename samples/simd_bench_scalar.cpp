// simd_bench: the benchmarked plans as plain scalar loops, the baseline the generated loops are
// compared with. Compiled with -fno-math-errno (CMakeLists.txt), without -march: what a plain
// loop gets from GCC, which otherwise does not vectorize std::sqrt.
#include <kiln/codegen/update/reference.hpp>

#include <array>

#include "simd_bench.hpp"

namespace simd_bench {

namespace cg = kiln::codegen;

template <auto Plan>
void scalar_one(const tensor& t, long step) {
  using cfg = cg::update_cfg<Plan, true>;
  cg::update_args<cfg> a;
  a.p = t.p;
  a.g = t.g;
  for (int k = 0; k < cfg::states; ++k) a.state[k] = t.s[k];
  a.n = t.n;
  a.row = cfg::rows ? row : 0;
  cg::prepare(a, {step, Plan.optimizer.lr});
  cg::reference_update(a);
}

void scalar(std::size_t i, const tensor& t, long step) {
  using fn = void (*)(const tensor&, long);
  static constexpr auto table = []<auto... P>(plan_list<P...>) {
    return std::array<fn, sizeof...(P)>{&scalar_one<P>...};
  }
  (plans{});
  table[i](t, step);
}

}  // namespace simd_bench
