// What the generated trainer asks of each unit it picks up, as concepts, checked before any
// trainer is instantiated (kiln::compile, kiln::run): a layer descriptor without its op, an
// optimizer without its update stage or a regularizer without its formula stops compilation
// with one static_assert whose note names the descriptor and what it lacks — not an incomplete
// type deep inside the trainer. (The learning-rate schedule's concept, dsl::lr_schedule, is
// checked with the plan: dsl/plan.hpp.)
#pragma once

#include <concepts>
#include <cstddef>
#include <type_traits>
#include <utility>

#include "kiln/codegen/layers/layers.hpp"
#include "kiln/codegen/lower.hpp"
#include "kiln/codegen/update/stages.hpp"
#include "kiln/core/batch.hpp"
#include "kiln/dsl/model.hpp"
#include "kiln/dsl/plan.hpp"

namespace kiln::codegen {

// A layer op (codegen/layers/op.hpp): its output shape, scratch and whether it aliases its
// input, then forward and backward over an op_args — or, for a loss, loss_forward and
// loss_backward.
template <class Op>
concept layer_op = requires {
  { Op::out } -> std::convertible_to<dsl::shape>;
  { Op::aux } -> std::convertible_to<int>;
  { Op::view } -> std::convertible_to<bool>;
}
&&(
    requires(const op_args& c) {
      Op::forward(c);
      Op::backward(c);
    } ||
    requires(const op_args& c, const rt::batch& b) {
      { Op::loss_forward(c, b) } -> std::same_as<rt::step_result>;
      Op::loss_backward(c, b);
    });

// An optimizer's update stage (codegen/update/update.hpp, optim<Optimizer>): its per-step
// scalars and how they follow from the step, the loop forms it compiles, and its formula one
// element at a time (the reference of its vector body).
template <auto Optimizer>
concept optimizer_stage = requires(const step_info& s, float* const* state) {
  typename optim<Optimizer>::scalars;
  { optim<Optimizer>::at(s, Optimizer) } -> std::same_as<typename optim<Optimizer>::scalars>;
  optim<Optimizer>::form(Optimizer);
  optim<Optimizer>::forms;
  {
    optim<Optimizer>::template apply<float>(0.f, 0.f, state, std::size_t{},
                                            typename optim<Optimizer>::scalars{}, Optimizer)
    } -> std::same_as<float>;
};

// A regularizer's stage (regular<Regularizer>): a term of the gradient one element at a time,
// or for a row constraint the factor of a row from its squared norm.
template <auto Regularizer>
concept regularizer_stage = requires(float p, float g, double x) {
  { regular<Regularizer>::template grad<float>(p, g, x) } -> std::same_as<float>;
}
|| requires(double sumsq) {
  { regular<Regularizer>::row_factor(sumsq) } -> std::convertible_to<double>;
};

// The note of the one error: the descriptor and what it lacks.
template <auto Descriptor, dsl::text_t Problem>
inline constexpr bool missing_unit = false;

// Every layer of a chain (the model, or a residual block's body from the shape Start) has its
// op, as the layout will pick it (lowered: fused where an op does its successor's work).
template <auto Chain, dsl::shape Start = dsl::shape{}>
struct ops_of {
  static constexpr auto in = [] {
    if constexpr (Start.rank == 0)
      return dsl::in_shapes(Chain);
    else
      return dsl::in_shapes(Chain, Start);
  }();
  static constexpr auto lowered = lower<dsl::resolve(Chain)>();

  // A block's body first: its layers are picked up when the block's op is.
  template <auto Layer, dsl::shape In>
  static constexpr bool body_complete() {
    if constexpr (requires { Layer.body; })
      return ops_of<Layer.body, In>::complete;
    else
      return true;
  }
  template <std::size_t I>
  static constexpr bool one() {
    constexpr auto layer = dsl::at<I>(lowered);
    if constexpr (Start.rank == 0 && I == 0) {
      return true;  // the model's input layer: the batch itself, no op to run
    } else if constexpr (!body_complete<layer, in[I]>()) {
      return false;
    } else if constexpr (!layer_op<op<layer, in[I]>>) {
      static_assert(missing_unit<layer, dsl::text_t("a layer without its op: specialize "
                                                    "codegen::op<L, In> (codegen/layers/)")>,
                    "kiln: a unit is missing (see the note)");
      return false;
    } else {
      return true;
    }
  }
  static constexpr bool complete =
      dsl::all_index<Chain.size>([]<std::size_t I>(dsl::index_c<I>) { return one<I>(); });
};

template <auto Regularizer>
constexpr bool one_regularizer() {
  if constexpr (!regularizer_stage<Regularizer>) {
    static_assert(
        missing_unit<Regularizer, dsl::text_t("a regularizer without its stage: "
                                              "specialize codegen::regular<R> (codegen/update/)")>,
        "kiln: a unit is missing (see the note)");
    return false;
  } else {
    return true;
  }
}

// Every regularizer of the plan has its stage.
template <auto Plan>
struct regularizers_of {
  static constexpr auto regs = dsl::as_regs(Plan.regularizer);
  static constexpr bool complete = dsl::all_index<regs.size>(
      []<std::size_t I>(dsl::index_c<I>) { return one_regularizer<dsl::at<I>(regs)>(); });
};

// The units of (Model, Plan) the trainer will pick up, each checked once; false after the
// static_assert that names the first missing one.
template <auto Model, auto Plan>
constexpr bool report_units() {
  if constexpr (!ops_of<Model>::complete) {
    return false;
  } else {
    constexpr auto opt = Plan.optimizer;
    if constexpr (!dsl::is_full_batch<std::remove_cvref_t<decltype(opt)>> &&
                  !optimizer_stage<opt>) {
      static_assert(
          missing_unit<opt, dsl::text_t("an optimizer without its update stage: "
                                        "specialize codegen::optim<O> (codegen/update/)")>,
          "kiln: a unit is missing (see the note)");
      return false;
    } else {
      return regularizers_of<Plan>::complete;
    }
  }
}

}  // namespace kiln::codegen
