// The target-independent half of the optimizer generator: descriptors (PyTorch's defaults and
// names), per-step scalars, the forms a run-time tool compiles, regularizer rules. No kernel is
// compiled here.
#define BOOST_TEST_MODULE optim_descriptors
#include <boost/test/unit_test.hpp>

#include <kiln/codegen/update/stages.hpp>
#include <kiln/dsl/dsl.hpp>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

using namespace kiln::dsl;
namespace cg = kiln::codegen;

BOOST_AUTO_TEST_CASE(defaults_are_pytorchs) {
  static_assert(adagrad{} == adagrad{.lr = 1e-2,
                                     .lr_decay = 0,
                                     .weight_decay = 0,
                                     .initial_accumulator_value = 0,
                                     .eps = 1e-10});
  static_assert(rmsprop{} == rmsprop{.lr = 1e-2,
                                     .alpha = 0.99,
                                     .eps = 1e-8,
                                     .weight_decay = 0,
                                     .momentum = 0,
                                     .centered = false});
  static_assert(adam{} == adam{.lr = 1e-3,
                               .beta1 = 0.9,
                               .beta2 = 0.999,
                               .eps = 1e-8,
                               .weight_decay = 0,
                               .amsgrad = false});
  static_assert(adamw{} == adamw{.lr = 1e-3,
                                 .beta1 = 0.9,
                                 .beta2 = 0.999,
                                 .eps = 1e-8,
                                 .weight_decay = 1e-2,
                                 .amsgrad = false});
  static_assert(sgd{}.momentum == 0 && sgd{}.dampening == 0 && !sgd{}.nesterov);
  static_assert(adam{}.check() == nullptr && adamw{}.check() == nullptr &&
                rmsprop{}.check() == nullptr && adagrad{}.check() == nullptr &&
                sgd{}.check() == nullptr);
}

// Every field is reachable by its PyTorch name (what optim_trace's flags use).
template <class O>
std::vector<std::string> names_after_setting_each() {
  std::vector<std::string> names;
  for (const auto& f : O::fields()) {
    O o{};
    if (f.number) {
      o.*f.number = 0.125;
      BOOST_TEST((o.*f.number == 0.125));
    } else {
      o.*f.flag = true;
      BOOST_TEST((o.*f.flag));
    }
    BOOST_TEST(!(o == O{}), f.name);
    names.emplace_back(f.name);
  }
  return names;
}

BOOST_AUTO_TEST_CASE(fields_carry_pytorchs_names) {
  using v = std::vector<std::string>;
  BOOST_TEST((names_after_setting_each<sgd>() ==
              v{"lr", "momentum", "dampening", "nesterov", "weight_decay"}));
  BOOST_TEST((names_after_setting_each<adagrad>() ==
              v{"lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"}));
  BOOST_TEST((names_after_setting_each<rmsprop>() ==
              v{"lr", "alpha", "eps", "weight_decay", "momentum", "centered"}));
  const v adam_names{"lr", "beta1", "beta2", "eps", "weight_decay", "amsgrad"};
  BOOST_TEST(names_after_setting_each<adam>() == adam_names);
  BOOST_TEST(names_after_setting_each<adamw>() == adam_names);
}

// Every optimizer of the list (dsl/units.hpp), whatever their number: a kind of its own, valid
// defaults, each field reachable by a name of its own.
BOOST_AUTO_TEST_CASE(every_listed_optimizer_is_complete) {
  const auto kinds = []<class... O>(type_list<O...>) {
    return std::vector<std::string>{std::string(O::kind)...};
  }(optimizers{} + full_batch_optimizers{});
  for (std::size_t i = 0; i < kinds.size(); ++i)
    for (std::size_t j = i + 1; j < kinds.size(); ++j) BOOST_TEST(kinds[i] != kinds[j]);
  []<class... O>(type_list<O...>) {
    (
        [] {
          BOOST_TEST(O{}.check() == nullptr, O::kind);
          std::vector<std::string_view> names;
          for (const auto& f : O::fields()) names.push_back(f.name);
          std::sort(names.begin(), names.end());
          BOOST_TEST((std::adjacent_find(names.begin(), names.end()) == names.end()), O::kind);
        }(),
        ...);
  }(optimizers{} + full_batch_optimizers{});
}

BOOST_AUTO_TEST_CASE(every_combination_of_switches_has_a_compiled_form) {
  auto has = [](const auto& forms, const auto& f) {
    return std::find(forms.begin(), forms.end(), f) != forms.end();
  };
  for (double mu : {0.0, 0.9})
    for (bool nesterov : {false, true}) {
      const sgd o{.lr = 0.1, .momentum = mu, .nesterov = nesterov && mu != 0, .weight_decay = 0.3};
      BOOST_TEST(has(cg::optim<sgd{}>::forms, cg::optim<sgd{}>::form(o)));
    }
  for (double mu : {0.0, 0.5})
    for (bool centered : {false, true}) {
      const rmsprop o{.momentum = mu, .centered = centered};
      BOOST_TEST(has(cg::optim<rmsprop{}>::forms, cg::optim<rmsprop{}>::form(o)));
      BOOST_TEST(cg::optim<rmsprop{}>::form(o).states() == o.states());
    }
  for (bool ams : {false, true}) {
    BOOST_TEST(has(cg::optim<adam{}>::forms, cg::optim<adam{}>::form(adam{.amsgrad = ams})));
    BOOST_TEST(has(cg::optim<adamw{}>::forms, cg::optim<adamw{}>::form(adamw{.amsgrad = ams})));
  }
  BOOST_TEST(has(cg::optim<adagrad{}>::forms, cg::optim<adagrad{}>::form(adagrad{.lr = 3})));
}

BOOST_AUTO_TEST_CASE(per_step_scalars) {
  constexpr adam a{.beta1 = 0.8, .beta2 = 0.9};
  for (long t : {1L, 2L, 10L}) {
    const auto k = cg::optim<a>::at({t, 0.5}, a);
    BOOST_TEST(k.step_size == 0.5 / (1 - std::pow(0.8, double(t))));
    BOOST_TEST(k.bc2_sqrt == std::sqrt(1 - std::pow(0.9, double(t))));
    BOOST_TEST(k.decay == 1.0);
  }
  constexpr adamw w{.weight_decay = 0.1};
  BOOST_TEST(cg::optim<w>::at({3, 0.5}, w).decay == 1 - 0.5 * 0.1);
  constexpr adagrad g{.lr_decay = 0.25};
  BOOST_TEST(cg::optim<g>::at({1, 0.5}, g).clr == 0.5);
  BOOST_TEST(cg::optim<g>::at({5, 0.5}, g).clr == 0.5 / (1 + 4 * 0.25));
  constexpr sgd s{.momentum = 0.9, .dampening = 0.25};
  const auto first = cg::optim<s>::at({1, 0.1}, s), later = cg::optim<s>::at({2, 0.1}, s);
  BOOST_TEST((first.mu == 0 && first.keep == 1));  // the buffer starts as the gradient
  BOOST_TEST((later.mu == 0.9 && later.keep == 0.75));
}

BOOST_AUTO_TEST_CASE(state_vectors_in_pytorchs_order) {
  constexpr rmsprop both{.momentum = 0.9, .centered = true};
  BOOST_TEST(both.states() == 3);
  BOOST_TEST(both.state_name(0) == "square_avg");
  BOOST_TEST(both.state_name(1) == "momentum_buffer");
  BOOST_TEST(both.state_name(2) == "grad_avg");
  BOOST_TEST(rmsprop{.centered = true}.state_name(1) == "grad_avg");
  BOOST_TEST(adam{.amsgrad = true}.state_name(2) == "max_exp_avg_sq");
  BOOST_TEST(adagrad{.initial_accumulator_value = 0.5}.state_init(0) == 0.5);
  BOOST_TEST(sgd{}.states() == 0);
}

BOOST_AUTO_TEST_CASE(regularizer_rules) {
  // Phases decide the order in the fused pass, whatever the order written.
  constexpr auto r = max_norm{2} + l1{1e-3} + clip_value{1} + l2{1e-2};
  static_assert(r.count(phase::clip) == 1 && r.count(phase::penalty) == 2 &&
                r.count(phase::constraint) == 1 && !r.global);
  static_assert((l2{} + clip_norm{1}).global);
  BOOST_TEST(cg::regular<clip_norm{2}>::scale(1.0) == 1.0);
  BOOST_TEST(cg::regular<clip_norm{2}>::scale(8.0) == 2 / (8.0 + 1e-6));
  BOOST_TEST(cg::regular<max_norm{3}>::row_factor(4.0) == 1.0);
  BOOST_TEST(cg::regular<max_norm{3}>::row_factor(25.0) == 3 / (5.0 + 1e-7));
  BOOST_TEST(cg::regular<clip_value{0.5}>::grad(0.0, 2.0, 1) == 0.5);
  BOOST_TEST(cg::regular<clip_value{0.5}>::grad(0.0, -2.0, 1) == -0.5);
  BOOST_TEST(cg::regular<l1{0.1}>::grad(0.0, 1.0, 1) == 1.0);  // sign(0) = 0
  BOOST_TEST(cg::regular<l1{0.1}>::grad(-3.0, 1.0, 1) == 0.9);
  BOOST_TEST(std::string((l2{} + l2{}).check()) ==
             "regularizers: each kind may appear once in a plan");
}
