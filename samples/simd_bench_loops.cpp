// simd_bench: the generated loops of the benchmarked plans, every compiled target.
#include <kiln/codegen/generate.hpp>

#include "simd_bench.hpp"

namespace simd_bench {

namespace cg = kiln::codegen;

template <auto Plan>
void update_one(std::int64_t target, const tensor& t, long step) {
  using cfg = cg::update_cfg<Plan, true>;
  cg::update_args<cfg> a;
  a.p = t.p;
  a.g = t.g;
  for (int k = 0; k < cfg::states; ++k) a.state[k] = t.s[k];
  a.n = t.n;
  a.row = cfg::rows ? row : 0;
  cg::prepare(a, {step, Plan.optimizer.lr});
  cg::update_on(target, a);
}

void update(std::size_t i, std::int64_t target, const tensor& t, long step) {
  using fn = void (*)(std::int64_t, const tensor&, long);
  static constexpr auto table = []<auto... P>(plan_list<P...>) {
    return std::array<fn, sizeof...(P)>{&update_one<P>...};
  }
  (plans{});
  table[i](target, t, step);
}

std::vector<plan_info> plan_infos() {
  return []<auto... P>(plan_list<P...>) {
    std::size_t i = 0;
    return std::vector<plan_info>{
        {names[i++], P.optimizer.states(), cg::update_cfg<P, true>::rows}...};
  }
  (plans{});
}

std::vector<std::pair<std::string, std::int64_t>> targets() {
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto t : cg::available_targets()) out.emplace_back(cg::target_name(t), t);
  return out;
}

}  // namespace simd_bench
