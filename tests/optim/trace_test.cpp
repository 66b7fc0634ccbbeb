// optim_trace against PyTorch 1.13 (tests/data/torch_optim/<optimizer>.json, written by
// make_fixtures.py; every optimizer of dsl/units.hpp has one): every optimizer configuration,
// both problems, float32 and float64, on
// every compiled Highway target. Targets with FMA (AVX2, AVX3, AVX3_DL) round exactly as
// PyTorch's CPU kernels do: the trajectories must be identical, bit for bit. Targets without
// FMA (SSE4, SSSE3, SCALAR) round a product and a sum separately where PyTorch fuses them:
// they must agree within 1e-6 (float32) and 1e-13 (float64) relative. Also: bad flags and
// values exit with code 2 and one line on stderr.
#define BOOST_TEST_MODULE optim_trace
#include <boost/test/unit_test.hpp>

#include <kiln/codegen/dispatch.hpp>
#include <kiln/dsl/optim/optimizers.hpp>
#include <nlohmann/json.hpp>

#include "../support/program.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using result = kiln::test::program_result;

result trace(const std::string& args) {
  return kiln::test::run_program(std::string(KILN_OPTIM_TRACE) + " " + args, "optim_trace_test");
}

std::string flag_value(const nlohmann::json& v) {
  std::ostringstream s;
  s.precision(17);
  s << v.get<double>();
  return s.str();
}

bool has_fma(std::int64_t target) { return (target & (HWY_AVX2 | HWY_AVX3 | HWY_AVX3_DL)) != 0; }

}  // namespace

// The fixture files, in name order.
std::vector<nlohmann::json> fixtures() {
  std::vector<std::filesystem::path> paths;
  for (const auto& e : std::filesystem::directory_iterator(KILN_TORCH_FIXTURES))
    if (e.path().extension() == ".json") paths.push_back(e.path());
  std::sort(paths.begin(), paths.end());
  std::vector<nlohmann::json> out;
  for (const auto& p : paths) {
    std::ifstream in(p);
    out.push_back(nlohmann::json::parse(in));
  }
  return out;
}

BOOST_AUTO_TEST_CASE(every_optimizer_has_pytorchs_trajectories) {
  std::vector<std::string> covered;
  for (const auto& f : fixtures())
    if (!f["cases"].empty()) covered.push_back(f["optimizer"]);
  const auto kinds = []<class... O>(kiln::dsl::type_list<O...>) {
    return std::vector<std::string>{std::string(O::kind)...};
  }(kiln::dsl::optimizers{});
  for (const std::string& kind : kinds)
    BOOST_TEST((std::find(covered.begin(), covered.end(), kind) != covered.end()), kind);
}

BOOST_AUTO_TEST_CASE(trajectories_match_pytorch_on_every_target) {
  std::size_t cases = 0, expected = 0;
  for (const auto& fixture : fixtures()) {
    const int steps = fixture["steps"];
    expected += fixture["cases"].size() * kiln::codegen::available_targets().size();
    for (const auto& c : fixture["cases"]) {
      const std::string dtype = c["dtype"];
      std::string args = "--optimizer " + c["optimizer"].get<std::string>() + " --problem " +
                         c["problem"].get<std::string>() + " --dtype " + dtype + " --steps " +
                         std::to_string(steps);
      for (const auto& [name, value] : c["flags"].items())
        args += " --" + name + " " + flag_value(value);
      for (const std::int64_t target : kiln::codegen::available_targets()) {
        const std::string name = kiln::codegen::target_name(target);
        const result r = trace(args + " --target " + name);
        BOOST_TEST_REQUIRE(r.code == 0, args << ": " << (r.err.empty() ? "" : r.err[0]));
        BOOST_TEST_REQUIRE(r.out.size() == std::size_t(steps), args);
        const double tolerance = has_fma(target) ? 0 : dtype == "float32" ? 1e-6 : 1e-13;
        double worst = 0;
        for (int t = 0; t < steps; ++t) {
          const auto kiln_p = nlohmann::json::parse(r.out[t]);
          const auto& torch_p = c["trajectory"][t];
          BOOST_TEST_REQUIRE(kiln_p.size() == torch_p.size());
          for (std::size_t i = 0; i < kiln_p.size(); ++i) {
            // float32 values are written with the fewest digits that read back as the float.
            const double k = kiln_p[i], p = torch_p[i];
            const double ref = dtype == "float32" ? double(float(p)) : p;
            worst = std::max(worst, std::abs(k - ref) / std::max(1.0, std::abs(ref)));
          }
        }
        BOOST_TEST(worst <= tolerance, args << " on " << name << ": worst relative " << worst);
        ++cases;
      }
    }
  }
  BOOST_TEST(cases == expected);
  BOOST_TEST(cases > 0u);
}

BOOST_AUTO_TEST_CASE(bad_flags_and_values_exit_2_with_one_line) {
  for (const char* args :
       {"--optimizer nope", "--optimizer adam --lr -1", "--optimizer adam --beta1 1",
        "--optimizer adam --beta2 1.5", "--optimizer adamw --eps -1e-8",
        "--optimizer sgd --lr 0.1 --momentum -0.5", "--optimizer sgd --lr 0.1 --nesterov 1",
        "--optimizer sgd --beta1 0.9", "--optimizer adam --amsgrad 2", "--optimizer adam --lr x",
        "--optimizer adam --lr nan", "--optimizer rmsprop --alpha 1.5",
        "--optimizer adagrad --lr_decay -1", "--optimizer adagrad --initial_accumulator_value -1",
        "--optimizer adam --steps -3", "--optimizer adam --problem nope",
        "--optimizer adam --dtype float16", "--optimizer adam --unknown 1", ""}) {
    const result r = trace(args);
    BOOST_TEST(r.code == 2, args);
    BOOST_TEST(r.out.empty(), args);
    BOOST_TEST_REQUIRE(r.err.size() == 1u, args);
    BOOST_TEST(r.err[0].starts_with("error: "), args << ": " << r.err[0]);
  }
  const result r = trace("--optimizer adam --beta1 1");
  BOOST_TEST(r.err[0] == "error: adam: .beta1 must be in [0, 1)");
}

BOOST_AUTO_TEST_CASE(help_and_zero_steps) {
  BOOST_TEST(trace("--help").code == 0);
  const result r = trace("--optimizer sgd --steps 0");
  BOOST_TEST(r.code == 0);
  BOOST_TEST(r.out.empty());
}
