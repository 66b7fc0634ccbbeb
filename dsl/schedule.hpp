// The plan's earlier name: `schedule{...}` is `training_plan{...}` (dsl/plan.hpp), kept so that
// users' code compiles, with a deprecation warning. The name now says what the aggregate is:
// the whole training plan, while `dsl/lr/` holds the learning-rate schedules.
//
// Its own aggregate with the same members, not an alias: an alias template cannot be deduced
// from a designated initializer by clang, and g++ 12 ignores `[[deprecated]]` on a class
// template or alias named through deduction (`schedule{...}`). The defaulted member
// `renamed_to_training_plan` warns in that form, at this header's line: silent where kiln's
// headers are system headers (-isystem, a precompiled header). `[[deprecated]]` on the class
// warns at the user's line in the explicit form (`schedule<sgd>`). The trainer takes either: it
// reads a plan's members, not its type.
#pragma once

#include "kiln/dsl/plan.hpp"

namespace kiln::dsl {

struct renamed_to_training_plan {
  [[deprecated(
      "kiln: dsl::schedule is now dsl::training_plan "
      "(dsl/plan.hpp)")]] constexpr renamed_to_training_plan() {}
  constexpr bool operator==(const renamed_to_training_plan&) const = default;
};

template <optimizer Opt, class Reg = no_regularizer, class Lr = constant_lr, class Aug = no_augment,
          nonfinite_policy Fault = stop_run>
struct [[deprecated("kiln: dsl::schedule is now dsl::training_plan (dsl/plan.hpp)")]] schedule {
  KILN_TRAINING_PLAN_MEMBERS
  [[no_unique_address]] renamed_to_training_plan spelling = renamed_to_training_plan();
};

}  // namespace kiln::dsl
