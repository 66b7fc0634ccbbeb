// Fashion-MNIST with a small residual CNN: two convolution blocks with batch normalization and
// max pooling, then a residual block of two convolutions at 7×7 with stochastic depth, a dense
// layer with batch normalization and dropout; random crops and horizontal flips in the loader,
// label smoothing 0.1, SGD with Nesterov momentum, L2, a one-epoch warmup then cosine annealing
// over 25 epochs, products in bf16 (f32 master weights; `--precision f32` for the f32 products),
// and test-time flip averaging (evaluation, predict and the exported graph average each image
// with its mirror image). docs/dsl.md "Accuracy over seeds" has its figures.
// Built by kiln_add_trainer(fmnist_cnn fmnist_cnn.hpp): run `fmnist_cnn --help` for the flags.
#include <kiln/kiln.hpp>

using namespace kiln::dsl;

constexpr auto block = chain | conv2d{.filters = 64, .kernel = 3, .pad = 1, .name = "conv1"}  //
                       | batch_norm{.name = "bn1"} | relu{}                                   //
                       | conv2d{.filters = 64, .kernel = 3, .pad = 1, .name = "conv2"}        //
                       | batch_norm{.name = "bn2"};

constexpr auto model = input<1, 28, 28>                                                 //
                       | conv2d{.filters = 32, .kernel = 3, .pad = 1, .name = "conv1"}  //
                       | batch_norm{.name = "bn1"} | relu{} | max_pool{.size = 2}       //
                       | conv2d{.filters = 64, .kernel = 3, .pad = 1, .name = "conv2"}  //
                       | batch_norm{.name = "bn2"} | relu{} | max_pool{.size = 2}       //
                       | residual{.body = block,                                        //
                                  .depth = stochastic_depth{.p_last = 0.9},             //
                                  .name = "res"}                                        //
                       | relu{} | flatten{} | dense{.units = 256, .name = "fc1"}        //
                       | batch_norm{.name = "bn3"} | relu{} | dropout{.p = 0.2}         //
                       | dense{.units = 10, .name = "head"}                             //
                       | softmax_cross_entropy{.label_smoothing = 0.1};

constexpr auto plan = training_plan{
    .optimizer = sgd{.lr = 0.05, .momentum = 0.9, .nesterov = true},
    .regularizer = l2{5e-4},
    .lr = linear_warmup{.epochs = 1, .start = 0.1, .then = cosine_restarts{.period = 25}},
    .augment = random_crop{.pad = 2} | hflip{},
    .epochs = 25,
    .batch = 64,
    .test_time = {.hflip = true},
    .precision = kiln::bf16,
};
