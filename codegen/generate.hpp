// Compiles the kernel templates of generated-inl.h for every Highway target in this TU and
// builds their dispatch tables. A TU that includes kiln.hpp owns foreach_target.h: it cannot
// run Highway's foreach_target for its own kernels too.
#pragma once

#include "kiln/codegen/update/stages.hpp"
#include "kiln/codegen/update/update.hpp"

#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "kiln/codegen/generated-inl.h"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include "kiln/codegen/generated-inl.h"
#include "kiln/codegen/dispatch.hpp"

namespace kiln::codegen {

// update_table<update_cfg<Plan, Decay>>::table: fused_update for every compiled target.
KILN_EXPORT_T(update_table, fused_update);

// One fused update through run-time dispatch (best target), or on one explicit target.
template <class Cfg>
void update(const update_args<Cfg>& a) {
  dispatch<update_table<Cfg>>(a);
}
template <class Cfg>
void update_on(std::int64_t target, const update_args<Cfg>& a) {
  call_target<update_table<Cfg>>(target, a);
}

}  // namespace kiln::codegen
