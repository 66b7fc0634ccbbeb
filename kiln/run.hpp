// The standard command line of a trainer: kiln::run<model, plan>(argc, argv) parses --data
// --epochs --batch --seed --threads --out (and more: --help), trains, evaluates and saves.
// kiln_add_trainer(NAME file.cpp) writes the main() that calls it.
#pragma once

#include <memory>

#include "kiln/kiln.hpp"
#include "kiln/runtime/app/cli.hpp"

namespace kiln {

// The standard command line (kiln_add_trainer): --data --epochs --batch --seed --threads --out.
template <auto Model, auto Plan>
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
      return std::unique_ptr<rt::model>(std::make_unique<trainer<Model, Plan>>(t));
    });
  } else {
    return 2;
  }
}

}  // namespace kiln
