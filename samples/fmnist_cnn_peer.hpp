// The CNN of the PyTorch peer (../shared/peers/torch_fmnist_mlp.py --runs cnn), for the speed
// comparison in the README: conv3x3(1→16, pad 1)-ReLU-maxpool2-conv3x3(16→32, pad 1)-ReLU-
// maxpool2-fc(1568→10), batch 64, no augmentation, Adam lr 1e-3 (the peer's own optimizer).
// Built by kiln_add_trainer.
#include <kiln/kiln.hpp>

using namespace kiln::dsl;

constexpr auto model = input<1, 28, 28>                                         //
                       | conv2d{.filters = 16, .kernel = 3, .pad = 1} | relu{}  //
                       | max_pool{.size = 2}                                    //
                       | conv2d{.filters = 32, .kernel = 3, .pad = 1} | relu{}  //
                       | max_pool{.size = 2}                                    //
                       | flatten{} | dense{.units = 10} | softmax_cross_entropy{};

constexpr auto plan = training_plan{
    .optimizer = adam{.lr = 1e-3},
    .epochs = 2,
    .batch = 64,
};

static_assert(param_count(model) == 16 * 9 + 16 + 32 * 16 * 9 + 32 + 1568 * 10 + 10);
