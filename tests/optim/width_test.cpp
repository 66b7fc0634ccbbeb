// The update loops' width per CPU (codegen/update/width.hpp): the rule that picks a tensor's
// target from the CPU and the tensor's traffic, the trainer's use of it (one target per tensor,
// chosen at construction, or the one trainer_options names), and checkpoints that record it so
// that a resumed run keeps the loops of the run it continues.
#define BOOST_TEST_MODULE optim_width
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>

#include <string>
#include <vector>

#include "../support/data.hpp"
#include "../support/runtime.hpp"
#include "../support/targets.hpp"
#include "kiln/runtime/io/checkpoint.hpp"
#include "kiln/runtime/io/safetensors.hpp"

using namespace kiln::dsl;
namespace cg = kiln::codegen;
namespace rt = kiln::rt;
using kiln::test::all_tensors;
using kiln::test::bitwise_equal;

namespace {

constexpr auto mlp = input<6> | dense{.units = 5, .name = "fc1"} | relu{} |
                     dense{.units = 3, .name = "head"} | softmax_cross_entropy{};
constexpr auto adam_plan = training_plan{.optimizer = adam{.lr = 0.01}, .batch = 16, .seed = 4};

const auto data = kiln::test::synthetic_classes(48, {6}, 3);

// Trains 6 steps with every tensor's update on `target` (empty: the trainer's own choice).
template <auto Plan>
std::vector<float> trained(const std::string& target) {
  auto t = kiln::compile<mlp, Plan>({.update_target = target});
  for (int i = 0; i < 6; ++i) t.train_step(kiln::test::first_batch(data, 6 + 5 * (i % 3)));
  return all_tensors(t);
}

std::vector<std::string> split(const std::string& list) {
  std::vector<std::string> out(1);
  for (const char c : list)
    if (c == ',')
      out.emplace_back();
    else
      out.back().push_back(c);
  return out;
}

constexpr std::int64_t x86_targets = HWY_AVX3_DL | HWY_AVX3 | HWY_AVX2 | HWY_SSE4 | HWY_SCALAR;

}  // namespace

BOOST_AUTO_TEST_CASE(a_narrow_streaming_core_runs_large_tensors_at_256_bits) {
  const cg::stream_profile narrow{"test", true, 32 << 20}, wide{"test", false, 0};
  const std::size_t big = (32u << 20) + 1, small = 32u << 20;  // just out of, just in cache
  BOOST_TEST(cg::update_target(x86_targets, big, narrow) == HWY_AVX2);
  BOOST_TEST(cg::update_target(x86_targets, small, narrow) == HWY_AVX3_DL);
  BOOST_TEST(cg::update_target(x86_targets, big, wide) == HWY_AVX3_DL);  // dispatch's choice
  // Only ever from a 512-bit target to AVX2, and only when AVX2 is there.
  BOOST_TEST(cg::update_target(x86_targets & ~HWY_AVX2, big, narrow) == HWY_AVX3_DL);
  BOOST_TEST(cg::update_target(HWY_SSE4 | HWY_SCALAR, big, narrow) == HWY_SSE4);
  BOOST_TEST(cg::update_target(HWY_AVX2 | HWY_SCALAR, big, narrow) == HWY_AVX2);
}

BOOST_AUTO_TEST_CASE(traffic_counts_every_stream_of_the_loop) {
  // SGD: p read and written, g read: 12 bytes a weight. Adam: + m and v read and written.
  BOOST_TEST(cg::update_traffic(1000, 0, false, false) == 12000u);
  BOOST_TEST(cg::update_traffic(1000, 2, false, false) == 28000u);
  // Polyak averaging reads and writes the average; a bf16 plan writes 2 bytes more.
  BOOST_TEST(cg::update_traffic(1000, 2, true, true) == 38000u);
}

BOOST_AUTO_TEST_CASE(the_trainer_picks_one_target_per_tensor_by_the_rule) {
  auto t = kiln::compile<mlp, adam_plan>();
  const auto names = split(t.update_loops());
  std::vector<std::size_t> sizes;
  for (const auto& x : t.tensors())
    if (x.role == rt::tensor_role::param) sizes.push_back(x.data.size());
  BOOST_TEST_REQUIRE(names.size() == sizes.size());
  const std::int64_t available = hwy::SupportedTargets() & HWY_TARGETS;
  for (std::size_t i = 0; i < names.size(); ++i)
    BOOST_TEST(names[i] == hwy::TargetName(cg::update_target(
                               available, cg::update_traffic(sizes[i], 2, false, false),
                               cg::this_cpu_streams())));
}

BOOST_AUTO_TEST_CASE(element_wise_updates_are_the_same_bits_on_every_fma_target) {
  // Each weight's update is the same sequence of IEEE operations in every lane of every width
  // (no lane interacts; FMA where the loop writes MulAdd), so a width choice changes speed only.
  // Targets without FMA (SSE4, SCALAR) round a MulAdd twice: another trajectory. The suites
  // compile their trainers for one FMA target (KILN_TEST_TARGETS); the loops of every plan on
  // every FMA target are compared bit for bit in the EVERY_TARGET suites (update_loops.hpp).
  const std::int64_t available = hwy::SupportedTargets() & HWY_TARGETS;
  const std::int64_t fma = available & kiln::test::fma_targets;
  if (fma == 0) {  // scripts/test.sh's second profile: KILN_TARGETS=SCALAR, no FMA target left
    BOOST_TEST(kiln::test::forced_targets() != 0, "machines of this kind have AVX2 at least");
    return;
  }
  const auto reference = trained<adam_plan>(hwy::TargetName(fma & -fma));
  for (std::int64_t t = fma & (fma - 1); t != 0; t &= t - 1)
    BOOST_TEST(bitwise_equal(trained<adam_plan>(hwy::TargetName(t & -t)), reference),
               hwy::TargetName(t & -t));
  // The named target is the one that runs: scalar's separate multiply and add round otherwise.
  if (available & HWY_SCALAR) BOOST_TEST(!bitwise_equal(trained<adam_plan>("SCALAR"), reference));
}

// Where Highway may dispatch to none of the trainer's compiled targets (a test's forced set),
// the steps run on the static fallback, and the loops are named after it (not "Unknown", which
// a checkpoint could not be resumed from).
BOOST_AUTO_TEST_CASE(with_no_compiled_target_allowed_the_loops_are_the_fallbacks) {
  BOOST_TEST_REQUIRE((HWY_TARGETS & HWY_SSE4) == 0, "the suites compile SSE4 out");
  hwy::SetSupportedTargetsForTest(HWY_SSE4);
  auto t = kiln::compile<mlp, adam_plan>();
  t.train_step(kiln::test::first_batch(data, 16));
  hwy::SetSupportedTargetsForTest(kiln::test::forced_targets());
  const std::string fallback = hwy::TargetName(HWY_STATIC_TARGET);
  BOOST_TEST(t.update_loops() == fallback + "," + fallback + "," + fallback + "," + fallback);
}

BOOST_AUTO_TEST_CASE(a_target_not_available_is_refused_by_name) {
  kiln::test::expect_error<kiln::config_error>(
      [] { kiln::compile<mlp, adam_plan>({.update_target = "AVX9"}); }, "update_target",
      "'AVX9' is not a target compiled in and supported by this CPU");
}

BOOST_AUTO_TEST_CASE(checkpoints_record_the_loops_and_resume_with_them) {
  kiln::test::temp_dir dir;
  const auto path = dir / "c.safetensors";
  // A run on the least of this CPU's targets (as if another CPU had chosen it) is resumed on it.
  const std::int64_t available = hwy::SupportedTargets() & HWY_TARGETS;
  const std::string least = hwy::TargetName(std::int64_t(1) << (63 - __builtin_clzll(available)));
  const std::string loops = least + "," + least + "," + least + "," + least;
  auto first = kiln::compile<mlp, adam_plan>({.update_target = least});
  first.train_step(kiln::test::first_batch(data, 16));
  rt::save_checkpoint(path, first, {{}, 1, 16});
  BOOST_TEST(rt::read_safetensors(path).metadata.at("kiln.update_loops") == loops);
  auto resumed = kiln::compile<mlp, adam_plan>();
  rt::load_checkpoint(path, resumed);
  BOOST_TEST(resumed.update_loops() == loops);
  // ... and continues on them bit for bit.
  for (int i = 0; i < 3; ++i) {
    first.train_step(kiln::test::first_batch(data, 8));
    resumed.train_step(kiln::test::first_batch(data, 8));
  }
  BOOST_TEST(bitwise_equal(all_tensors(first), all_tensors(resumed)));

  const auto edited = dir / "edited.safetensors";
  auto rewrite = [&](const std::string& loops) {
    auto f = rt::read_safetensors(path);
    f.metadata["kiln.update_loops"] = loops;
    std::vector<rt::tensor_ref> refs;
    for (const auto& n : f.tensors) refs.push_back({n.name, n.shape, n.values});
    rt::write_safetensors(edited, refs, f.metadata);
    return edited;
  };
  // A target this CPU cannot run keeps this run's own choice (and says so on stderr).
  auto other = kiln::compile<mlp, adam_plan>();
  const std::string own = other.update_loops();
  rt::load_checkpoint(rewrite("AVX9,AVX9,AVX9,AVX9"), other);
  BOOST_TEST(other.update_loops() == own);
  // Damaged lists are refused before anything changes.
  kiln::test::expect_error<kiln::file_error>(
      [&] { rt::load_checkpoint(rewrite(least + "," + least), other); }, edited.string(),
      "checkpoint metadata 'kiln.update_loops': names the loops of 2 tensors, this model has 4");
  kiln::test::expect_error<kiln::file_error>(
      [&] { rt::load_checkpoint(rewrite("AVX2;rm -rf"), other); }, edited.string(),
      "checkpoint metadata 'kiln.update_loops': expected target names separated by commas");
}
