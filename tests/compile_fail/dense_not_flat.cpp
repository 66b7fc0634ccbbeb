// expect: invalid_layer<1, kiln::dsl::dense\{256, kiln::dsl::name_t\{"fc1[^}]*\}\}, kiln::dsl::shape\{3, int \[4\]\{1, 28, 28\}\}, kiln::dsl::text_t\{"dense: the input is not flat; put flatten\{\} before this layer"\}>
#include <kiln/kiln.hpp>
using namespace kiln::dsl;

constexpr auto model = input<1, 28, 28> | dense{.units = 256, .name = "fc1"} | relu{}
                       | dense{.units = 10} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1}};

int main() {
  auto trainer = kiln::compile<model, plan>();
  auto data = kiln::rt::fashion_mnist();
  trainer.fit(data.train, data.test);
}
