// kiln: declare a model and its plan in the DSL, get a trainer generated for exactly them.
//
//   #include <kiln/kiln.hpp>
//   using namespace kiln::dsl;
//   constexpr auto model = input<1, 28, 28> | flatten{} | dense{.units = 10} |
//   softmax_cross_entropy{}; constexpr auto plan = schedule{.optimizer = sgd{.lr = 0.1}, .epochs =
//   5}; auto trainer = kiln::compile<model, plan>();
//
// Include this header in one translation unit per trainer: it compiles the trainer's fused
// update loops for every Highway target (foreach_target.h), which a TU can do only once.
#pragma once

#include "kiln/codegen/trainer.hpp"
#include "kiln/codegen/transfer.hpp"
#include "kiln/dsl/dsl.hpp"
#include "kiln/runtime/app/cli.hpp"
#include "kiln/runtime/app/predict.hpp"
#include "kiln/runtime/data/dataset.hpp"
#include "kiln/runtime/data/fashion_mnist.hpp"
#include "kiln/runtime/data/idx.hpp"
#include "kiln/runtime/data/load.hpp"
#include "kiln/runtime/data/standardize.hpp"
#include "kiln/runtime/data/subset.hpp"
#include "kiln/runtime/io/checkpoint.hpp"
#include "kiln/runtime/io/import.hpp"
#include "kiln/runtime/io/onnx_export.hpp"
#include "kiln/runtime/io/trained.hpp"
#include "kiln/runtime/io/safetensors.hpp"
#include "kiln/runtime/train/fit.hpp"

namespace kiln {

using codegen::trainer;

// What compile<>() returns for an invalid model or plan, after the static_assert has named the
// problem: it accepts any call, so that the one readable error is not buried under others.
struct invalid_trainer {
  template <class... A>
  constexpr invalid_trainer& operator()(A&&...) {
    return *this;
  }
  template <class... A>
  constexpr invalid_trainer fit(A&&...) const {
    return {};
  }
  template <class... A>
  constexpr invalid_trainer train_step(A&&...) const {
    return {};
  }
  template <class... A>
  constexpr invalid_trainer eval_step(A&&...) const {
    return {};
  }
};

template <auto Model, auto Plan>
inline constexpr bool valid =
    dsl::report_model<Model>() && dsl::report_plan<Plan>() && dsl::report_pairing<Model, Plan>();

// The trainer generated for (Model, Plan). A wrong model or plan stops compilation with one
// static_assert whose note names the layer (or plan entry), its input shape and the problem.
template <auto Model, auto Plan>
auto compile(const trainer_options& options = {}) {
  if constexpr (valid<Model, Plan>)
    return trainer<Model, Plan>(options);
  else
    return invalid_trainer{};
}

// Plan with its products in `T` (f32, or bf16 with f32 accumulation).
template <auto Plan, dsl::numeric_type T>
inline constexpr auto with_precision = [] {
  auto p = Plan;
  p.precision = T;
  return p;
}();

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
