// KILN_TARGETS: the Highway targets a test program may dispatch to, for running the suites as on
// another CPU. `KILN_TARGETS=SCALAR ctest ...` makes every kernel and generated loop take its
// scalar path (hwy::SetSupportedTargetsForTest), so that a tolerance tuned to one target's
// arithmetic (FMA or not, 4, 8 or 16 lanes summed in another order) fails here first. Names are
// Highway's (hwy::TargetName: AVX3_DL, AVX3, AVX2, SSE4, SSSE3, SCALAR), separated by ',' or '|'.
// Every test program applies it before main() (targets.cpp); a test that resets the targets
// itself restores them with forced_targets() instead of 0.
#pragma once

#include <hwy/targets.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace kiln::test {

// The mask KILN_TARGETS names, or 0 when it is unset or empty (then the CPU decides). A name
// Highway does not know, or a target this CPU lacks, ends the program with one line. Read once,
// before main() (targets.cpp), while Highway still reports the CPU's own targets: a test that
// restricted them restores KILN_TARGETS' with it.
inline std::int64_t parse_forced_targets() {
  const char* env = std::getenv("KILN_TARGETS");
  if (env == nullptr || *env == '\0') return 0;
  std::int64_t mask = 0;
  const std::string list = env;
  for (std::size_t at = 0; at <= list.size();) {
    const std::size_t end = std::min(list.find_first_of(",|", at), list.size());
    const std::string name = list.substr(at, end - at);
    at = end + 1;
    if (name.empty()) continue;
    std::int64_t bit = 0;
    for (int b = 0; b < 63 && bit == 0; ++b)
      if (name == hwy::TargetName(std::int64_t{1} << b)) bit = std::int64_t{1} << b;
    if (bit == 0) {
      std::fprintf(stderr,
                   "KILN_TARGETS: '%s' is not a Highway target (AVX3_DL, AVX3, AVX2, "
                   "SSE4, SSSE3, SCALAR)\n",
                   name.c_str());
      std::exit(2);
    }
    if ((hwy::SupportedTargets() & bit) == 0) {
      std::fprintf(stderr, "KILN_TARGETS: this CPU does not support %s\n", name.c_str());
      std::exit(2);
    }
    mask |= bit;
  }
  return mask;
}
// Targets whose MulAdd is one fused rounding. An element-wise loop (no row constraint) is the
// same IEEE operations in every lane of every width, so these give the same bits: the trainer's
// choice of width per tensor (codegen/update/width.hpp) changes speed only.
inline constexpr std::int64_t fma_targets = HWY_AVX3_DL | HWY_AVX3 | HWY_AVX2;

inline std::int64_t forced_targets() {
  static const std::int64_t mask = parse_forced_targets();
  return mask;
}

}  // namespace kiln::test
