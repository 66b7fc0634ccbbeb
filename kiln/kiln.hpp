// kiln: declare a model and its plan in the DSL, get a trainer generated for exactly them.
//
//   #include <kiln/kiln.hpp>
//   using namespace kiln::dsl;
//   constexpr auto model =
//       input<1, 28, 28> | flatten{} | dense{.units = 10} | softmax_cross_entropy{};
//   constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}, .epochs = 5};
//   auto trainer = kiln::compile<model, plan>();
//
// Include this header in one translation unit per trainer: it compiles the trainer's fused
// update loops for every Highway target (foreach_target.h), which a TU can do only once.
// The standard command line (kiln::run, kiln_add_trainer) is <kiln/run.hpp>; the model zoo
// <kiln/zoo.hpp>.
#pragma once

#include "kiln/codegen/concepts.hpp"
#include "kiln/codegen/trainer.hpp"
#include "kiln/dsl/dsl.hpp"
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
#include "kiln/transfer.hpp"

namespace kiln {

// The trainer generated for (Model, Plan) (codegen/trainer.hpp), with the runtime's epoch loop
// at hand: fit() trains with the plan's epochs, batch and seed; predict() gives the logits.
template <auto Model, auto Plan>
class trainer : public codegen::trainer<Model, Plan> {
 public:
  using codegen::trainer<Model, Plan>::trainer;

  // Trains with the plan's epochs, batch and seed (progress on stderr).
  rt::fit_result fit(const rt::dataset& train, const rt::dataset& test) {
    return rt::fit(*this, train, &test, {Plan.epochs, this->batch(), this->info().seed, {}, true});
  }
  rt::fit_result fit(const rt::dataset& train, const rt::dataset* test, rt::fit_options o) {
    return rt::fit(*this, train, test, o);
  }

  // The outputs before the loss (logits) of any number of samples (whole samples of the input
  // shape, features as the model takes them: standardize first, or use rt::predictor), in
  // evaluation mode, batch by batch; `out` gets samples × outputs floats. Allocates nothing
  // (the second form: the result only).
  void predict(std::span<const float> x, std::span<float> out) { rt::predict(*this, x, out); }
  std::vector<float> predict(std::span<const float> x) { return rt::predict(*this, x); }
};

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

// The DSL's checks of the model and the plan, then (on a valid declaration) that every unit the
// trainer picks up is there: each layer's op, the optimizer's stage, each regularizer's
// (codegen/concepts.hpp).
template <auto Model, auto Plan>
inline constexpr bool valid = [] {
  if constexpr (dsl::report_model<Model>() && dsl::report_plan<Plan>() &&
                dsl::report_pairing<Model, Plan>())
    return codegen::report_units<Model, Plan>();
  else
    return false;
}();

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

}  // namespace kiln
