// optim_trace's two halves: the command line (optim_trace.cpp, no Highway) and the generated
// loops (optim_trace_loops.hpp, compiled in one TU per element type to keep each compile short).
#pragma once

#include <kiln/dsl/optim/optimizers.hpp>

#include <cstdint>
#include <cstdio>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace optim_trace {

// Every optimizer the DSL offers: first-order (a generated loop) and full batch (a solver).
using all_optimizers = decltype(kiln::dsl::optimizers{} + kiln::dsl::full_batch_optimizers{});

// Any of them, with its values (checked).
template <class List>
struct variant_of;
template <class... O>
struct variant_of<kiln::dsl::type_list<O...>> {
  using type = std::variant<O...>;
};
using any_optimizer = variant_of<all_optimizers>::type;

struct options {
  std::vector<double> start;
  void (*grad)(const double* x, double* g) = nullptr;  // in double, at the current point
  double (*loss)(const double* x) = nullptr;           // the function (full-batch solvers)
  long steps = 0;
  std::int64_t target = 0;  // a Highway target, or 0: the best this CPU has
};

// The Highway targets compiled in and supported here, best first: {name, target}.
std::vector<std::pair<std::string, std::int64_t>> targets();

// Runs the optimizer from `start` and prints the parameters after each step (element type T).
template <class T>
void trace(const any_optimizer& h, const options& o);

}  // namespace optim_trace
