// Every other layer kind in one exported graph -- a strided padded conv2d alone, leaky ReLU, a
// padded avg_pool (padding counted as zeros), conv2d | relu fused, overlapping fractional max
// pooling (its fixed evaluation regions), a padded strided max_pool, tanh, flatten, batch norm
// on flat features, DropConnect (its stored weights), sigmoid, dropout (gone) -- behind the
// standardization's nodes; and a layer with no ONNX form refused in one line.
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>
#include <kiln/runtime/zoo/zoo.hpp>

#include "../support/onnx.hpp"

using namespace kiln;
using namespace kiln::dsl;
using namespace kiln::test;

namespace {

constexpr auto tour =
    input<1, 28, 28> | conv2d{.filters = 6, .kernel = 5, .stride = 2, .pad = 2, .name = "c1"} |
    leaky_relu{.slope = 0.1f} | avg_pool{.size = 3, .stride = 1, .pad = 1} |
    conv2d{.filters = 8, .kernel = 3, .pad = 1, .name = "c2"} | relu{} |
    fractional_max_pool{.ratio = 1.4, .overlapping = true} |
    max_pool{.size = 3, .stride = 2, .pad = 1} | tanh_{} | flatten{} | batch_norm{.name = "bn"} |
    dropconnect{.units = 32, .p = 0.5, .name = "dc"} | sigmoid{} | dropout{.p = 0.3} |
    dense{.units = 10, .name = "head"} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.05, .momentum = 0.9}, .batch = 64};

static_assert(in_shapes(tour)[7] == image(8, 10, 10));  // what the fractional pool makes
static_assert(in_shapes(tour)[9] == image(8, 5, 5));

}  // namespace

// A user's own layer kind with kernels but no to_onnx (codegen/layers/onnx.hpp).
namespace kiln::dsl {
struct negate {
  static constexpr std::string_view kind = "negate";
  constexpr shape out(shape in) const { return in; }
  constexpr const char* check(shape) const { return nullptr; }
};
}  // namespace kiln::dsl
namespace kiln::codegen {
template <dsl::negate L, dsl::shape In>
struct op<L, In> {
  static constexpr dsl::shape out = In;
  static constexpr int aux = 0;
  static constexpr bool view = false;
  static void forward(const op_args& c) {
    for (int i = 0; i < c.n * In.size(); ++i) c.y[i] = -c.x[i];
  }
  static void backward(const op_args& c) {
    if (c.dx)
      for (int i = 0; i < c.n * In.size(); ++i) c.dx[i] = -c.dy[i];
  }
};
}  // namespace kiln::codegen

BOOST_AUTO_TEST_CASE(every_layer_kind_behind_the_standardization_in_onnx_runtime) {
  auto m = compile<tour, plan>();
  rt::dataset part = fashion().train;
  part.x.resize(2048 * part.sample_size());
  part.labels.resize(2048);
  const rt::standardization stats = rt::standardization::of(part);
  train_a_little(m, 30, stats);
  const std::vector<float> x = test_images(512);  // raw pixels: the graph standardizes them
  rt::predictor p(m, stats);
  exported_equals_kiln(m, stats, x, p.run(x), "tour");

  // The statistics travel in the graph: read back, they standardize exactly as before.
  auto back = compile<tour, plan>();
  const rt::standardization again = rt::load_trained(back, "tour.onnx");
  BOOST_TEST(again.mean == stats.mean, boost::test_tools::per_element());
  BOOST_TEST(again.stddev == stats.stddev, boost::test_tools::per_element());
  BOOST_TEST(rt::predictor(back, again).run(x) == p.run(x), boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(a_layer_without_an_onnx_form_is_refused_and_nothing_is_written) {
  constexpr auto odd = input<4> | dense{.units = 3, .name = "fc"} | negate{} |
                       dense{.units = 2, .name = "head"} | mse{};
  auto m = compile<odd, plan>();
  std::filesystem::remove("odd.onnx");
  try {
    rt::write_onnx("odd.onnx", m);
    BOOST_ERROR("no exception");
  } catch (const config_error& e) {
    BOOST_TEST(std::string(e.what()) ==
               "export: layer '1' (negate) has no ONNX form; nothing was written");
  }
  BOOST_TEST(!std::filesystem::exists("odd.onnx"));
}

BOOST_AUTO_TEST_CASE(weights_of_another_model_are_refused_naming_the_tensor) {
  auto m = compile<tour, plan>();
  const std::filesystem::path file = kiln::zoo::directory() / "fmnist_mlp.safetensors";
  try {
    rt::load_trained(m, file);
    BOOST_ERROR("no exception");
  } catch (const file_error& e) {
    BOOST_TEST_MESSAGE(e.what());
    BOOST_TEST(std::string(e.what()).find(file.string() + ": tensor '") == 0u);
  }
}
