// Run-time dispatch for kernel *templates*. Highway 1.0.3's HWY_EXPORT cannot name a template
// (HWY_EXPORT_T came in 1.2), so KILN_EXPORT_T builds the same table per instantiation:
// entry 0 picks the best target on first use, then one entry per compiled target.
// Include after <hwy/highway.h> (and after foreach_target.h in a kernel TU).
#pragma once

#include <hwy/highway.h>

#include <cstdint>
#include <string>
#include <vector>

#include "kiln/core/error.hpp"

namespace kiln::codegen {

// Index of `target` (one HWY_* bit) in a dispatch table.
inline std::size_t table_index(std::int64_t target) {
  return hwy::Num0BitsBelowLS1Bit_Nonzero64(
      static_cast<std::uint64_t>(HWY_CHOSEN_TARGET_SHIFT(target) | HWY_CHOSEN_TARGET_MASK_SCALAR));
}

// Targets compiled into kiln's kernels that this CPU supports, best first.
// (Every kiln TU is built with the same HWY_TARGETS: see cmake/kilnDependencies.cmake.)
inline std::vector<std::int64_t> available_targets() {
  std::vector<std::int64_t> out;
  for (std::int64_t t = hwy::SupportedTargets() & HWY_TARGETS; t != 0; t &= t - 1)
    out.push_back(t & -t);
  return out;
}

inline std::string target_name(std::int64_t target) { return hwy::TargetName(target); }

// The target dispatch uses now: the best one compiled and supported (tests may restrict it with
// hwy::SetSupportedTargetsForTest). On x86 a lower bit is a better target.
inline std::int64_t chosen_target() {
  const std::int64_t t = hwy::SupportedTargets() & HWY_TARGETS;
  return t & -t;
}

// Calls `Table::table` for the best target (dispatch), or for one named target.
template <class Table, class... Args>
decltype(auto) dispatch(Args&&... args) {
  return Table::table[hwy::GetChosenTarget().GetIndex()](static_cast<Args&&>(args)...);
}
// hwy::SupportedTargets() runs CPUID and timer checks on every call (Highway 1.0.3): an explicit
// call per tensor (tests, benchmarks) reads the answer it gave first.
inline std::int64_t cpu_targets() {
  static const std::int64_t supported = hwy::SupportedTargets();
  return supported;
}

template <class Table, class... Args>
decltype(auto) call_target(std::int64_t target, Args&&... args) {
  const auto fn = (target & HWY_TARGETS) ? Table::table[table_index(target)] : nullptr;
  if (fn == nullptr || (target & cpu_targets()) == 0)
    throw kiln::config_error("target",
                             target_name(target) + " is not compiled in or not supported");
  return fn(static_cast<Args&&>(args)...);
}

}  // namespace kiln::codegen

// Defines `template <class Cfg> struct TABLE { static fn const table[]; }` holding
// &N_<target>::KERNEL<Cfg> for every compiled target. KERNEL is a function template of one type
// parameter defined in namespace kiln::codegen::HWY_NAMESPACE; use at namespace kiln::codegen.
#define KILN_EXPORT_T(TABLE, KERNEL)                                                      \
  template <class Cfg>                                                                    \
  struct TABLE {                                                                          \
    using fn = decltype(&HWY_STATIC_DISPATCH(KERNEL<Cfg>));                               \
    static fn const table[HWY_MAX_DYNAMIC_TARGETS + 2];                                   \
  };                                                                                      \
  template <class Cfg>                                                                    \
  typename TABLE<Cfg>::fn const TABLE<Cfg>::table[HWY_MAX_DYNAMIC_TARGETS + 2] = {        \
      &decltype(hwy::DeduceFunctionCache(                                                 \
          &HWY_STATIC_DISPATCH(KERNEL<Cfg>)))::template ChooseAndCall<TABLE<Cfg>::table>, \
      HWY_CHOOSE_TARGET_LIST(KERNEL<Cfg>), HWY_CHOOSE_FALLBACK(KERNEL<Cfg>)}
