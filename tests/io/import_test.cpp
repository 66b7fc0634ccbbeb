// Name mapping into a generated trainer: DSL names, nn.Sequential positions, an explicit map,
// strict and lenient modes, kept (replaced) layers, optimizer state, and the promise that a
// failed import changes nothing.
#define BOOST_TEST_MODULE io_import
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include <cstring>

#include "../support/runtime.hpp"
#include "kiln/runtime/io/bytes.hpp"
#include "kiln/runtime/io/import.hpp"
#include "kiln/runtime/io/safetensors.hpp"

using namespace kiln::dsl;
using kiln::config_error;
using kiln::file_error;
using kiln::test::expect_error;
namespace rt = kiln::rt;

namespace {

constexpr auto mlp = input<1, 4, 4> | flatten{} | dense{.units = 8, .name = "fc1"} | relu{} |
                     dense{.units = 3} | softmax_cross_entropy{};
constexpr auto plan = training_plan{.optimizer = sgd{.lr = 0.1, .momentum = 0.9}, .batch = 4};
using trainer_t = kiln::trainer<mlp, plan>;

// A file holding every parameter of `mlp` under the given names, values 0.5, 1.5, 2.5, ...
rt::tensor_file file_with(const std::vector<std::pair<std::string, std::vector<std::size_t>>>& ts) {
  rt::tensor_file f;
  f.path = "weights.safetensors";
  float next = 0.5f;
  for (const auto& [name, shape] : ts) {
    rt::named_tensor t{name, rt::dtype::f32, shape, {}};
    t.values.resize(*kiln::rt::io::checked_count(shape));
    for (float& v : t.values) v = next++;
    f.tensors.push_back(std::move(t));
  }
  return f;
}

const std::vector<std::pair<std::string, std::vector<std::size_t>>> dsl_names = {
    {"fc1.weight", {8, 16}}, {"fc1.bias", {8}}, {"3.weight", {3, 8}}, {"3.bias", {3}}};
const std::vector<std::pair<std::string, std::vector<std::size_t>>> torch_names = {
    {"1.weight", {8, 16}}, {"1.bias", {8}}, {"3.weight", {3, 8}}, {"3.bias", {3}}};

std::vector<float> arena(trainer_t& t) {
  const auto p = t.parameters();
  return {p.begin(), p.end()};
}

bool holds(trainer_t& t, const std::string& name, const rt::named_tensor& f) {
  const auto v = t.tensor(name);
  return v.size() == f.values.size() && std::memcmp(v.data(), f.values.data(), v.size_bytes()) == 0;
}

}  // namespace

BOOST_AUTO_TEST_CASE(tensors_know_their_nn_sequential_names) {
  trainer_t t;
  BOOST_TEST(t.tensors()[0].sequential_name == "1.weight");  // flatten is module 0
  BOOST_TEST(t.tensors()[2].sequential_name == "3.weight");
  BOOST_TEST(t.tensors()[4].sequential_name == "1.weight.momentum_buffer");
}

BOOST_AUTO_TEST_CASE(loads_by_dsl_names_and_by_sequential_positions) {
  for (const auto& names : {dsl_names, torch_names}) {
    trainer_t t;
    auto f = file_with(names);
    f.tensors.push_back({"1.num_batches_tracked", rt::dtype::i64, {}, {3}});  // ignored
    const auto r = rt::load_weights(t, f);
    BOOST_TEST(r.loaded.size() == 4u);
    BOOST_TEST(holds(t, "fc1.weight", f.tensors[0]));
    BOOST_TEST(holds(t, "3.bias", f.tensors[3]));
  }
  trainer_t t;
  expect_error<file_error>(
      [&] { rt::load_weights(t, file_with(torch_names), {.names = rt::naming::dsl}); },
      "weights.safetensors", "tensor '1.weight' matches no tensor of the model");
  expect_error<file_error>(
      [&] { rt::load_weights(t, file_with(dsl_names), {.names = rt::naming::sequential}); },
      "weights.safetensors", "tensor 'fc1.weight' matches no tensor of the model");
}

BOOST_AUTO_TEST_CASE(explicit_map_comes_first) {
  trainer_t t;
  const auto f = file_with({{"W1", {8, 16}}, {"b1", {8}}, {"W2", {3, 8}}, {"b2", {3}}});
  rt::import_options o;
  o.rename = {{"W1", "fc1.weight"}, {"b1", "fc1.bias"}, {"W2", "3.weight"}, {"b2", "3.bias"}};
  rt::load_weights(t, f, o);
  BOOST_TEST(holds(t, "3.weight", f.tensors[2]));
  o.rename["W2"] = "head.weight";
  expect_error<config_error>([&] { rt::load_weights(t, f, o); }, "rename",
                             "the model has no tensor 'head.weight'");
  o.rename["W2"] = "fc1.weight";
  expect_error<file_error>([&] { rt::load_weights(t, f, o); }, "weights.safetensors",
                           "tensors 'W1' and 'W2' both map to the model's 'fc1.weight'");
}

BOOST_AUTO_TEST_CASE(strict_refuses_missing_and_unexpected_lenient_reports_them) {
  trainer_t t;
  const auto before = arena(t);
  auto missing = file_with({dsl_names[0], dsl_names[1], dsl_names[2]});
  expect_error<file_error>([&] { rt::load_weights(t, missing); }, "weights.safetensors",
                           "tensor '3.bias' is missing");
  auto extra = file_with(dsl_names);
  extra.tensors.push_back({"fc9.weight", rt::dtype::f32, {1}, {1}});
  expect_error<file_error>([&] { rt::load_weights(t, extra); }, "weights.safetensors",
                           "tensor 'fc9.weight' matches no tensor of the model");
  BOOST_TEST(arena(t) == before, boost::test_tools::per_element());  // nothing written

  const auto r1 = rt::load_weights(t, missing, {.strict = false});
  BOOST_TEST(r1.missing == std::vector<std::string>({"3.bias"}), boost::test_tools::per_element());
  const auto r2 = rt::load_weights(t, extra, {.strict = false});
  BOOST_TEST(r2.unused == std::vector<std::string>({"fc9.weight"}),
             boost::test_tools::per_element());
  BOOST_TEST(r2.loaded.size() == 4u);
}

BOOST_AUTO_TEST_CASE(a_shape_mismatch_loads_nothing) {
  trainer_t t;
  const auto before = arena(t);
  auto f = file_with(dsl_names);
  f.tensors[2].shape = {8, 3};  // transposed head: same count, wrong layout
  expect_error<file_error>([&] { rt::load_weights(t, f, {.strict = false}); },
                           "weights.safetensors",
                           "tensor '3.weight': shape 8x3, the model's '3.weight' is 3x8");
  BOOST_TEST(arena(t) == before, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(kept_layers_keep_their_values) {
  trainer_t t;
  const std::vector<float> head(t.tensor("3.weight").begin(), t.tensor("3.weight").end());
  rt::import_options o;
  o.keep = {"3"};
  auto f = file_with(dsl_names);
  f.tensors[2].shape = {5, 8};  // the head of another task: skipped, never compared
  f.tensors[2].values.resize(40);
  rt::load_weights(t, f, o);
  BOOST_TEST(holds(t, "fc1.weight", f.tensors[0]));
  BOOST_TEST(std::equal(head.begin(), head.end(), t.tensor("3.weight").begin()));
}

BOOST_AUTO_TEST_CASE(optimizer_state_only_when_asked_and_weights_round_trip) {
  kiln::test::temp_dir dir;
  trainer_t a({.seed = 1, .seed_set = true});
  std::fill(a.tensor("fc1.weight.momentum_buffer").begin(),
            a.tensor("fc1.weight.momentum_buffer").end(), 3.0f);
  rt::save_weights(a, dir / "w.safetensors");
  const auto file = rt::read_safetensors(dir / "w.safetensors");
  BOOST_TEST(file.tensors.size() == 4u);  // parameters and buffers only
  BOOST_TEST(file.metadata.at("format") == "pt");
  trainer_t b({.seed = 2, .seed_set = true});
  rt::load_weights(b, dir / "w.safetensors");
  BOOST_TEST(arena(a) == arena(b), boost::test_tools::per_element());

  trainer_t c({.seed = 3, .seed_set = true});
  rt::load_weights(c, rt::snapshot(a, true));  // state in the source, not asked: skipped
  BOOST_TEST(c.tensor("fc1.weight.momentum_buffer")[0] == 0.0f);
  rt::load_weights(c, rt::snapshot(a, true), {.optimizer_state = true});
  BOOST_TEST(c.tensor("fc1.weight.momentum_buffer")[0] == 3.0f);
}
