// Fashion-MNIST with a small CNN: two convolution blocks with batch normalization and max
// pooling, a dense layer with batch normalization and dropout, random crops and horizontal flips
// in the loader, SGD with Nesterov momentum, L2, and a cosine schedule after a one-epoch warmup.
// Built by kiln_add_trainer(fmnist_cnn fmnist_cnn.hpp): run `fmnist_cnn --help` for the flags.
#include <kiln/kiln.hpp>

using namespace kiln::dsl;

constexpr auto model = input<1, 28, 28>                                                 //
                       | conv2d{.filters = 32, .kernel = 3, .pad = 1, .name = "conv1"}  //
                       | batch_norm{.name = "bn1"} | relu{} | max_pool{.size = 2}       //
                       | conv2d{.filters = 64, .kernel = 3, .pad = 1, .name = "conv2"}  //
                       | batch_norm{.name = "bn2"} | relu{} | max_pool{.size = 2}       //
                       | flatten{} | dense{.units = 256, .name = "fc1"}                 //
                       | batch_norm{.name = "bn3"} | relu{} | dropout{.p = 0.5}         //
                       | dense{.units = 10, .name = "head"} | softmax_cross_entropy{};

constexpr auto plan = schedule{
    .optimizer = sgd{.lr = 0.05, .momentum = 0.9, .nesterov = true},
    .regularizer = l2{5e-4},
    .lr = linear_warmup{.epochs = 1, .start = 0.1, .then = cosine_restarts{.period = 15}},
    .augment = random_crop{.pad = 2} | hflip{},
    .epochs = 15,
    .batch = 64,
};
