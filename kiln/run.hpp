// The standard command line of a trainer: kiln::run<model, plan>(argc, argv) parses --data
// --epochs --batch --seed --threads --out (and more: --help), trains, evaluates and saves.
// kiln_add_trainer(NAME file.cpp) writes the main() that calls it.
#pragma once

#include <memory>
#include <string>

#include "kiln/kiln.hpp"
#include "kiln/runtime/app/cli.hpp"

namespace kiln {

// The trainer for --precision (empty: the plan's own). Both: Plan is compiled in f32 and in bf16
// (the samples do); otherwise only the plan's own precision is there.
template <auto Model, auto Plan, bool Both>
std::unique_ptr<rt::model> make_for(const std::string& precision, const trainer_options& t) {
  const bool own =
      precision.empty() || (precision == "bf16") == (Plan.precision == dsl::numeric_type::bf16);
  if (own) return std::make_unique<trainer<Model, Plan>>(t);
  if constexpr (Both) {
    constexpr auto other = Plan.precision == dsl::numeric_type::bf16 ? dsl::numeric_type::f32
                                                                     : dsl::numeric_type::bf16;
    return std::make_unique<trainer<Model, with_precision<Plan, other>>>(t);
  } else {
    throw config_error("--precision",
                       "this trainer was compiled for its plan's precision only (" +
                           std::string(Plan.precision == dsl::numeric_type::bf16 ? "bf16" : "f32") +
                           "), got " + precision);
  }
}

// The standard command line (kiln_add_trainer): --data --epochs --batch --seed --threads --out
// --precision. Both: compile the plan in f32 and bf16 (kiln_add_trainer(... BOTH_PRECISIONS)).
template <auto Model, auto Plan, bool Both = false>
int run(int argc, char** argv) {
  if constexpr (valid<Model, Plan>) {
    const rt::model_info defaults = trainer<Model, Plan>(trainer_options{.batch = 1}).info();
    rt::model_info info = defaults;
    info.batch = Plan.batch;
    return rt::run_cli(argc, argv, info, [](const rt::run_options& o) {
      trainer_options t{.batch = o.batch,
                        .seed = o.seed,
                        .seed_set = o.seed_set,
                        .threads = o.threads,
                        .layers = {},
                        .overlap = o.overlap};
      return make_for<Model, Plan, Both>(o.precision, t);
    });
  } else {
    return 2;
  }
}

}  // namespace kiln
