// optim_trace: one optimizer on a classic test function, printing the trajectory, so that kiln's
// numerics can be compared with any other implementation (tests/optim compares with PyTorch).
//
//   optim_trace --optimizer adam --problem rosenbrock --steps 20 --lr 0.05 --beta1 0.9
//   optim_trace --optimizer lbfgs --history_size 10 --line_search strong_wolfe --steps 3
//   optim_trace --optimizer newton_cg --max_cg_iters 2 --max_iter 50
//
// A step of lbfgs or newton_cg is PyTorch's optimizer.step(closure): up to --max_iter
// iterations, evaluating the function and its gradient as often as the method needs.
// Hyperparameter flags carry PyTorch's names (booleans as 0/1); each optimizer accepts its own
// (the field table of its DSL descriptor) and starts from PyTorch's defaults. stdout: one line
// per step, the parameters after it as a JSON array with 17 significant digits. A bad flag or
// value: exit code 2 and one line on stderr. The loops are optim_trace_loops.hpp.

#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "common/command_line.hpp"
#include "optim_trace.hpp"

namespace {

namespace dsl = kiln::dsl;

struct usage_error {
  std::string message;
};

// The problems: start point and gradient, evaluated in double at the current parameters (in
// this order of operations) and rounded to the element type, so that differences between
// implementations come from the optimizer alone.
void rosenbrock(const double* x, double* g) {  // f = (1 − x)² + 100 (y − x²)²
  g[0] = -2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] * x[0]);
  g[1] = 200 * (x[1] - x[0] * x[0]);
}
double rosenbrock_loss(const double* x) {
  const double a = 1 - x[0], b = x[1] - x[0] * x[0];
  return a * a + 100 * b * b;
}

constexpr double A[4][4] = {{3, .5, 0, .2}, {.5, 2, .3, 0}, {0, .3, 1, -.4}, {.2, 0, -.4, .5}};
constexpr double b[4] = {1, -2, .5, .25};

void quadratic(const double* x, double* g) {  // f = ½ xᵀAx − bᵀx, ∇f = Ax − b (A symmetric)
  for (int i = 0; i < 4; ++i) {
    double ax = 0;
    for (int j = 0; j < 4; ++j) ax += A[i][j] * x[j];
    g[i] = ax - b[i];
  }
}
double quadratic_loss(const double* x) {
  double f = 0;
  for (int i = 0; i < 4; ++i) {
    double ax = 0;
    for (int j = 0; j < 4; ++j) ax += A[i][j] * x[j];
    f += 0.5 * x[i] * ax - b[i] * x[i];
  }
  return f;
}

double parse_number(const std::string& flag, const std::string& text) {
  double v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v))
    throw usage_error{"--" + flag + ": expected a finite number, got '" + text + "'"};
  return v;
}

bool parse_flag(const std::string& flag, const std::string& text) {
  if (text == "0" || text == "1") return text == "1";
  throw usage_error{"--" + flag + ": expected 0 or 1, got '" + text + "'"};
}

int parse_count(const std::string& flag, const std::string& text) {
  int v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size())
    throw usage_error{"--" + flag + ": expected a whole number, got '" + text + "'"};
  return v;
}

dsl::line_search parse_line_search(const std::string& flag, const std::string& text) {
  if (text == "none") return dsl::line_search::none;
  if (text == "strong_wolfe") return dsl::line_search::strong_wolfe;
  throw usage_error{"--" + flag + ": expected none or strong_wolfe, got '" + text + "'"};
}

// O with PyTorch's defaults and the flags given, checked like a plan's constants are (the same
// check() and message). A flag of another optimizer is an error.
template <class O>
O configure(const std::map<std::string, std::string>& given) {
  O h{};
  for (const auto& [name, text] : given) {
    bool known = false;
    for (const auto& f : O::fields()) {
      if (f.name != name) continue;
      known = true;
      if (f.number)
        h.*f.number = parse_number(name, text);
      else if (f.flag)
        h.*f.flag = parse_flag(name, text);
      else if (f.count)
        h.*f.count = parse_count(name, text);
      else
        h.*f.search = parse_line_search(name, text);
    }
    if (!known) throw usage_error{"--" + name + " does not apply to " + std::string(O::kind)};
  }
  if (const char* problem = h.check()) throw usage_error{problem};
  return h;
}

int run(int argc, char** argv) {
  std::string optimizer, problem = "rosenbrock", dtype = "float32", target;
  long steps = 100;
  common::command_line app(
      "Runs one optimizer on a test function and prints the parameters after each step "
      "(one JSON array per line).",
      "optim_trace");
  std::vector<std::string> names;
  [&]<class... O>(dsl::type_list<O...>) {
    (names.emplace_back(O::kind), ...);
  }(optim_trace::all_optimizers{});
  app.add("--optimizer", optimizer, "Optimizer").required().one_of(names);
  app.add("--problem", problem,
          "rosenbrock: (1-x)^2 + 100(y-x^2)^2 from (-1.2, 1); "
          "quadratic: x'Ax/2 - b'x from (1, 1, -1, 2)")
      .one_of({"rosenbrock", "quadratic"})
      .show_default();
  app.add("--steps", steps, "Steps to take").show_default();
  app.add("--dtype", dtype, "float32 or float64 (both run the generated SIMD loop)")
      .one_of({"float32", "float64"})
      .show_default();
  std::vector<std::string> targets;
  for (const auto& t : optim_trace::targets()) targets.push_back(t.first);
  app.add("--target", target, "Highway target (default: the best this CPU has)").one_of(targets);

  // Every hyperparameter name once, saying which optimizers take it.
  std::map<std::string, std::string> users, values;
  [&]<class... O>(dsl::type_list<O...>) {
    auto add = [&](const auto& fields, std::string_view kind) {
      for (const auto& f : fields) {
        auto& u = users[std::string(f.name)];
        u += (u.empty() ? "" : ", ") + std::string(kind);
      }
    };
    (add(O::fields(), O::kind), ...);
  }(optim_trace::all_optimizers{});
  std::map<std::string, common::option> flags;
  for (const auto& [name, who] : users)
    flags.emplace(name, app.add("--" + name, values[name], "Hyperparameter of " + who));

  try {
    if (!app.parse_or_throw(argc, argv)) return 0;  // --help
  } catch (const std::invalid_argument& e) {
    throw usage_error{std::string(e.what()) + " (see --help)"};
  }
  if (steps < 0) throw usage_error{"--steps: must be >= 0, got " + std::to_string(steps)};
  std::map<std::string, std::string> given;
  for (const auto& [name, flag] : flags)
    if (flag.given()) given[name] = values[name];

  optim_trace::any_optimizer h;
  [&]<class... O>(dsl::type_list<O...>) {
    ((optimizer == O::kind ? void(h = configure<O>(given)) : void()), ...);
  }(optim_trace::all_optimizers{});

  optim_trace::options o;
  if (problem == "rosenbrock")
    o.start = {-1.2, 1}, o.grad = rosenbrock, o.loss = rosenbrock_loss;
  else
    o.start = {1, 1, -1, 2}, o.grad = quadratic, o.loss = quadratic_loss;
  o.steps = steps;
  for (const auto& [name, t] : optim_trace::targets())
    if (name == target) o.target = t;
  if (dtype == "float64")
    optim_trace::trace<double>(h, o);
  else
    optim_trace::trace<float>(h, o);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const usage_error& e) {
    std::fprintf(stderr, "error: %s\n", e.message.c_str());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
