// Which tensors decay inside a trainer: the optimizer's weight_decay (coupled or decoupled) and
// the penalties reach weights, not biases, unless the plan says decay_on::all.
#define BOOST_TEST_MODULE optim_decay
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include <cmath>
#include <string>
#include <vector>

#include "../support/data.hpp"

using namespace kiln::dsl;

namespace {

constexpr auto mlp = input<6> | dense{.units = 5, .name = "fc1"} | relu{} |
                     dense{.units = 3, .name = "head"} | softmax_cross_entropy{};

const auto data = kiln::test::synthetic_classes(32, {6}, 3);
const auto batch = kiln::test::first_batch(data, 16);

std::vector<float> copy(std::span<const float> s) { return {s.begin(), s.end()}; }

}  // namespace

// Two trainers from the same seed, one step: what differs is what decayed.
template <auto Decayed, auto Plain>
void check_decay(bool biases_decay) {
  auto a = kiln::compile<mlp, Decayed>();
  auto b = kiln::compile<mlp, Plain>();
  a.train_step(batch);
  b.train_step(batch);
  for (const char* name : {"fc1.weight", "head.weight"})
    BOOST_TEST(copy(a.tensor(name)) != copy(b.tensor(name)), name);
  for (const char* name : {"fc1.bias", "head.bias"})
    BOOST_TEST((copy(a.tensor(name)) != copy(b.tensor(name))) == biases_decay, name);
}

BOOST_AUTO_TEST_CASE(weight_decay_and_penalties_skip_biases_unless_the_plan_says_all) {
  constexpr auto plain = training_plan{.optimizer = sgd{.lr = 0.1, .momentum = 0.9}};
  check_decay<training_plan{.optimizer = sgd{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.5}},
              plain>(false);
  check_decay<training_plan{.optimizer = sgd{.lr = 0.1, .momentum = 0.9}, .regularizer = l2{0.5}},
              plain>(false);
  check_decay<training_plan{.optimizer = sgd{.lr = 0.1, .momentum = 0.9}, .regularizer = l1{0.5}},
              plain>(false);
  check_decay<training_plan{.optimizer = sgd{.lr = 0.1, .momentum = 0.9, .weight_decay = 0.5},
                            .regularizer = l2{0.5},
                            .decay = decay_on::all},
              plain>(true);
  constexpr auto adamw_plain = training_plan{.optimizer = adamw{.lr = 0.1, .weight_decay = 0}};
  check_decay<training_plan{.optimizer = adamw{.lr = 0.1, .weight_decay = 0.5}}, adamw_plain>(
      false);
  check_decay<training_plan{.optimizer = adamw{.lr = 0.1, .weight_decay = 0.5},
                            .decay = decay_on::all},
              adamw_plain>(true);
}
