// The trainer the kill-and-resume test kills: everything a resume must restore exactly --
// Adam's moments and step counts, batch norm's running statistics, dropout's generator, a
// step-decay schedule -- on a model small enough to train in a second or two.
#include <kiln/kiln.hpp>

using namespace kiln::dsl;

constexpr auto model = input<1, 28, 28> | flatten{}                                 //
                       | dense{.units = 48, .name = "fc1"} | batch_norm{} | relu{}  //
                       | dropout{.p = 0.2} | dense{.units = 10, .name = "head"} |
                       softmax_cross_entropy{};

constexpr auto plan = training_plan{
    .optimizer = adam{.lr = 1e-3},
    .lr = step_decay{.every_epochs = 1, .gamma = 0.5},
    .epochs = 3,
    .batch = 32,
};
