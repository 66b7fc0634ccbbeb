// Linked into every test program (kiln_test, kiln_mpi_test): KILN_TARGETS applies before main(),
// so that each suite runs on the targets it names from its first dispatch on (targets.hpp).
#include "targets.hpp"

namespace {

const std::int64_t forced = [] {
  const std::int64_t mask = kiln::test::forced_targets();
  if (mask != 0) hwy::SetSupportedTargetsForTest(mask);
  return mask;
}();

}  // namespace
