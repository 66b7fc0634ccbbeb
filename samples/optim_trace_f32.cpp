// optim_trace's float32 loops (see optim_trace_loops.hpp).
#include "optim_trace_loops.hpp"

template void optim_trace::trace<float>(const any_optimizer&, const options&);

std::vector<std::pair<std::string, std::int64_t>> optim_trace::targets() {
  std::vector<std::pair<std::string, std::int64_t>> out;
  for (const auto t : kiln::codegen::available_targets())
    out.emplace_back(kiln::codegen::target_name(t), t);
  return out;
}
