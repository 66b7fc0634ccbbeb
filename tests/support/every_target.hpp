// on_every_target(f): f() once per compiled Highway target this CPU supports, dispatch forced to
// that target (each check in a Boost.Test context naming it), then KILN_TARGETS' choice restored.
// For suites of kernels compiled once for every target (kiln_kernels), not of generated trainers.
#pragma once

#include <boost/test/unit_test.hpp>
#include <kiln/codegen/dispatch.hpp>

#include <hwy/targets.h>

#include <cstdint>

#include "targets.hpp"

namespace kiln::test {

template <class F>
void on_every_target(F f) {
  for (const std::int64_t target : codegen::available_targets()) {
    hwy::SetSupportedTargetsForTest(target);
    BOOST_TEST_CONTEXT("target " << codegen::target_name(target)) { f(); }
  }
  hwy::SetSupportedTargetsForTest(forced_targets());  // KILN_TARGETS, or the CPU's
}

}  // namespace kiln::test
