// What the variants' translation units share: the training of one variant, the network's
// pieces and the base plan.
#pragma once

#include <kiln/kiln.hpp>

#include "tour.hpp"

namespace tour {

// Trains Model with Plan (epochs and seed from the settings) and measures the result.
template <auto Model, auto Plan>
result train(const std::string& name, const kiln::rt::dataset& train, const kiln::rt::dataset& test,
             const settings& s) {
  auto t = kiln::compile<Model, Plan>({.seed = s.seed, .seed_set = true, .threads = s.threads});
  return run(t, name, train, test, s);
}

// The shared pieces. The network: conv 3×3 (16) – ReLU – max pool – residual block of two
// conv 3×3 (16) – ReLU – max pool – residual block – ReLU – dense 128 – ReLU – dense 10.
using namespace kiln::dsl;
inline constexpr auto stem =
    input<1, 28, 28> | conv2d{.filters = 16, .kernel = 3, .pad = 1} | relu{};
inline constexpr auto block = chain | conv2d{.filters = 16, .kernel = 3, .pad = 1} | relu{} |
                              conv2d{.filters = 16, .kernel = 3, .pad = 1};
inline constexpr auto head =
    chain | flatten{} | dense{.units = 128} | relu{} | dense{.units = 10} | softmax_cross_entropy{};
inline constexpr auto base = stem | max_pool{.size = 2} | residual{block} | relu{} |
                             max_pool{.size = 2} | residual{block} | relu{} | head;

// SGD with momentum, a cosine schedule over the default budget of 12 epochs.
inline constexpr auto sgdm = sgd{.lr = 0.05, .momentum = 0.9};
inline constexpr auto cosine = cosine_restarts{.period = 12};
inline constexpr auto plain = training_plan{.optimizer = sgdm, .lr = cosine, .batch = 64};

}  // namespace tour
