// Fashion-MNIST with a multi-layer perceptron: 784-256-128-10, ReLU, dropout before the head,
// softmax cross-entropy with label smoothing 0.1; horizontal flips in the loader and at test time
// (evaluation, predict and the exported graph average each image with its mirror image), SGD
// with Nesterov momentum, a one-epoch warmup then cosine annealing over 30 epochs.
// README "Accuracy over seeds" has its figures.
// Built by kiln_add_trainer(fmnist_mlp fmnist_mlp.hpp): run `fmnist_mlp --help` for the flags.
#include <kiln/kiln.hpp>

using namespace kiln::dsl;

constexpr auto model = input<1, 28, 28> | flatten{}                   //
                       | dense{.units = 256, .name = "fc1"} | relu{}  //
                       | dense{.units = 128, .name = "fc2"} | relu{}  //
                       | dropout{.p = 0.2}                            //
                       | dense{.units = 10, .name = "head"}           //
                       | softmax_cross_entropy{.label_smoothing = 0.1};

constexpr auto plan = training_plan{
    .optimizer = sgd{.lr = 0.05, .momentum = 0.9, .nesterov = true},
    .lr = linear_warmup{.epochs = 1, .start = 0.1, .then = cosine_restarts{.period = 30}},
    .augment = hflip{},
    .epochs = 30,
    .batch = 64,
    .test_time = {.hflip = true},
};

static_assert(param_count(model) == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
