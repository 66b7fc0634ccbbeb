// simd_bench: the generated update loops of every optimizer (and fused optimizer + regularizer
// combinations) on every compiled Highway target, in cache (N = 1e5) and out of cache (N = 3e7),
// on 1 and 2 threads (contiguous chunks per thread). For each: GB/s of the minimum traffic (every
// array the loop reads or writes, once), the fraction of a no-math loop with the same streams
// measured in the same run (the memory limit: the best target's GB/s for that N and thread
// count), and the speedup over a plain scalar loop of the same formulas compiled with
// -fno-math-errno. Rows named "copy:<plan>" are the no-math loops (--json keeps them).
//
//   simd_bench [--optimizers Adam,SGD] [--targets AVX2,SCALAR] [--sizes 1e5,3e7] [--threads 1,2]
//              [--reps N] [--rounds R] [--json] [--png chart.png]
#include <kiln/core/team.hpp>

#include <hwy/aligned_allocator.h>
#include <hwy/targets.h>
#include <time.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "common/command_line.hpp"
#include "common/json.hpp"
#include "kiln/codegen/update/width.hpp"
#include "common/plot.hpp"
#include "common/timing.hpp"
#include "simd_bench.hpp"

namespace {

using namespace simd_bench;

struct usage_error {
  std::string message;
};

using common::median;
using common::now;

// Two sets of five arrays of N floats (p, g and up to three state vectors): one for the update
// loops, one for the no-math loops (which would make state such as Adam's v negative), first
// touched by the team that will use them.
struct arrays {
  hwy::AlignedFreeUniquePtr<float[]> a[2][5];
  std::size_t n = 0;
  arrays(std::size_t n, kiln::rt::team& team) : n(n) {
    for (auto& set : a)
      for (auto& x : set) x = hwy::AllocateAligned<float>(n);
    team.run([&](int m) {
      const auto r = kiln::rt::share_of(n, team.size(), m, 16);
      std::mt19937 gen(unsigned(m + 1));
      std::normal_distribution<float> normal;
      for (auto& set : a)
        for (std::size_t i = r.lo; i < r.hi; ++i) {
          set[0][i] = normal(gen);
          set[1][i] = normal(gen) * 1e-3f;
          set[2][i] = set[3][i] = set[4][i] = 0;
        }
    });
  }
  tensor part(int set, std::size_t lo, std::size_t hi) const {
    tensor t;
    t.p = a[set][0].get() + lo;
    t.g = a[set][1].get() + lo;
    for (int k = 0; k < 3; ++k) t.s[k] = a[set][2 + k].get() + lo;
    t.n = hi - lo;
    return t;
  }
};

// Seconds per step of each f(part), per step cycle, run by the team, each member on its
// contiguous part (chunks aligned to a cache line, or to whole rows). The functions take turns
// step by step, so that a busy machine slows all of them alike, and ratios are taken within a
// cycle (paired), then their median.
struct timed {
  int set = 0;  // which arrays
  std::function<void(const tensor&)> f;
};
using cycles = std::vector<std::vector<double>>;  // [cycle][function]

cycles time_steps(kiln::rt::team& team, const arrays& x, std::size_t align, int reps,
                  const std::vector<timed>& fs) {
  cycles out;
  for (int r = -2; r < reps; ++r) {  // two warm-up cycles
    std::vector<double> t(fs.size());
    // Each cycle starts one function later, so that no function always follows the same one
    // (the write-back of what the previous one left dirty in cache falls on its successor).
    for (std::size_t k = 0; k < fs.size(); ++k) {
      const std::size_t i = (k + std::size_t(r + 2)) % fs.size();
      const double t0 = now();
      team.run([&](int m) {
        const auto s = kiln::rt::share_of(x.n, team.size(), m, align);
        if (s.size() > 0) fs[i].f(x.part(fs[i].set, s.lo, s.hi));
      });
      t[i] = now() - t0;
    }
    if (r >= 0) out.push_back(t);
  }
  return out;
}

// The median over cycles of g(cycle).
template <class G>
double over_cycles(const cycles& c, G g) {
  std::vector<double> v;
  for (const auto& t : c) v.push_back(g(t));
  return median(v);
}

struct result {
  std::string plan, target;  // target "scalar" for the plain loop, plan "copy<S>" for streams
  std::size_t n = 0;
  int threads = 0, round = 0;
  double seconds = 0, gbps = 0, of_copy = 0, vs_scalar = 0;
  bool picked = false;  // the target a trainer's update of a tensor of n weights runs on
};

std::string size_text(std::size_t n) {
  char b[32];
  const int e = int(std::floor(std::log10(double(n))));
  const double m = double(n) / std::pow(10.0, e);
  std::snprintf(b, sizeof b, m == std::floor(m) ? "%.0fe%d" : "%.1fe%d", m, e);
  return b;
}

std::vector<std::string> split_list(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

// One bar chart per (N, threads): GB/s per plan and target, the same-stream copy as points.
void chart(const std::string& png, const std::vector<result>& rows,
           const std::vector<std::string>& plans, const std::vector<std::string>& targets) {
  const std::string data = png + ".dat";
  std::ofstream out(data);
  std::vector<std::pair<std::size_t, int>> panels;
  for (const auto& r : rows)
    if (std::find(panels.begin(), panels.end(), std::pair{r.n, r.threads}) == panels.end())
      panels.emplace_back(r.n, r.threads);
  auto find = [&](const std::string& plan, const std::string& target, std::size_t n, int th) {
    std::vector<double> v;
    for (const auto& r : rows)
      if (r.plan == plan && r.target == target && r.n == n && r.threads == th) v.push_back(r.gbps);
    return v.empty() ? 0.0 : median(v);
  };
  for (const auto& [n, th] : panels) {
    for (const auto& p : plans) {
      out << '"' << p << '"';
      for (const auto& t : targets) out << ' ' << find(p, t, n, th);
      double copy = 0;
      for (const auto& r : rows)
        if (r.plan == p && r.n == n && r.threads == th && r.of_copy > 0) copy = r.gbps / r.of_copy;
      out << ' ' << copy << '\n';
    }
    out << "\n\n";
  }
  out.close();
  std::ostringstream gp;
  gp << "set terminal pngcairo size 1600," << 420 * panels.size() << " font ',10'\n"
     << "set output '" << png << "'\n"
     << "set multiplot layout " << panels.size() << ",1\n"
     << "set style data histograms\nset style histogram clustered gap 1\n"
     << "set style fill solid 0.85 border -1\nset boxwidth 0.9\n"
     << "set ylabel 'GB/s'\nset grid ytics\nset key outside right top\nset yrange [0:*]\n"
     << "set xtics rotate by -20 noenhanced\nset key noenhanced\n";
  for (std::size_t i = 0; i < panels.size(); ++i) {
    gp << "set title 'N = " << size_text(panels[i].first) << ", " << panels[i].second
       << (panels[i].second == 1 ? " thread" : " threads") << "'\nplot ";
    for (std::size_t t = 0; t < targets.size(); ++t)
      gp << "'" << data << "' index " << i << " using " << t + 2 << (t == 0 ? ":xtic(1)" : "")
         << " title '" << targets[t] << "', ";
    gp << "'" << data << "' index " << i << " using 0:" << targets.size() + 2
       << " with points pt 7 ps 1.5 lc rgb 'black' title 'same-stream copy (best target)'\n";
  }
  gp << "unset multiplot\n";
  if (!common::gnuplot(gp.str()))
    throw std::runtime_error("gnuplot failed to write " + png + " (apt-get install gnuplot-nox)");
  std::remove(data.c_str());
}

int run(int argc, char** argv) {
  const auto infos = plan_infos();
  const auto all_targets = simd_bench::targets();
  std::string plans_opt, targets_opt, sizes_opt = "1e5,3e7", threads_opt = "1,2", png;
  int reps = 0, rounds = 1;
  bool json = false, no_scalar = false;
  common::command_line app(
      "Benchmarks kiln's generated update loops per optimizer and Highway target.", "simd_bench");
  std::string plan_names, target_names;
  for (const auto& p : infos) plan_names += (plan_names.empty() ? "" : ",") + p.name;
  for (const auto& t : all_targets) target_names += (target_names.empty() ? "" : ",") + t.first;
  app.add("--optimizers", plans_opt, "Plans to run (default all): " + plan_names);
  app.add("--targets", targets_opt, "Targets to run (default all): " + target_names);
  app.add("--sizes", sizes_opt, "Parameter counts").show_default();
  app.add("--threads", threads_opt, "Thread counts").show_default();
  app.add("--reps", reps, "Timed steps per measurement (default: 3e8/N, 7 to 300)");
  app.add("--rounds", rounds, "Repeat the sweep; figures are medians over rounds").show_default();
  app.flag("--no-scalar", no_scalar, "Skip the plain scalar loops");
  app.flag("--json", json, "Machine-readable output (one JSON document on stdout)");
  app.add("--png", png, "Also draw GB/s per plan and target (gnuplot)");
  try {
    if (!app.parse_or_throw(argc, argv)) return 0;  // --help
  } catch (const std::invalid_argument& e) {
    throw usage_error{std::string(e.what()) + " (see --help)"};
  }

  std::vector<std::size_t> plans;
  for (const auto& name : plans_opt.empty() ? split_list(plan_names) : split_list(plans_opt)) {
    std::size_t i = 0;
    while (i < infos.size() && infos[i].name != name) ++i;
    if (i == infos.size())
      throw usage_error{"--optimizers: unknown plan '" + name + "' (" + plan_names + ")"};
    plans.push_back(i);
  }
  std::vector<std::pair<std::string, std::int64_t>> targets;
  for (const auto& name :
       targets_opt.empty() ? split_list(target_names) : split_list(targets_opt)) {
    auto it = std::find_if(all_targets.begin(), all_targets.end(),
                           [&](const auto& t) { return t.first == name; });
    if (it == all_targets.end())
      throw usage_error{"--targets: '" + name + "' is not compiled in or not supported here (" +
                        target_names + ")"};
    targets.push_back(*it);
  }
  std::vector<std::size_t> sizes;
  for (const auto& s : split_list(sizes_opt)) {
    char* end = nullptr;
    const double v = std::strtod(s.c_str(), &end);
    if (*end != '\0' || !(v >= 16 && v <= 2e9))
      throw usage_error{"--sizes: expected counts from 16 to 2e9, got '" + s + "'"};
    sizes.push_back(std::size_t(v));
  }
  std::vector<int> thread_counts;
  for (const auto& s : split_list(threads_opt)) {
    const int t = std::atoi(s.c_str());
    if (t < 1 || t > 256 || std::to_string(t) != s)
      throw usage_error{"--threads: expected counts from 1 to 256, got '" + s + "'"};
    thread_counts.push_back(t);
  }
  if (plans.empty() || targets.empty() || sizes.empty() || thread_counts.empty())
    throw usage_error{"nothing to run"};
  if (reps < 0 || rounds < 1) throw usage_error{"--reps and --rounds must be positive"};

  // What a trainer would run each tensor's update on (codegen/update/width.hpp): among every
  // compiled target this CPU supports, as a trainer's TU sees them.
  std::int64_t available = 0;
  for (const auto& t : all_targets) available |= t.second;
  const auto& cpu = kiln::codegen::this_cpu_streams();
  std::vector<result> rows;
  for (int round = 0; round < rounds; ++round)
    for (const int threads : thread_counts) {
      kiln::rt::team team(threads);
      for (const std::size_t n : sizes) {
        const arrays x(n, team);
        const int r = reps > 0 ? reps : int(std::clamp(3e8 / double(n), 7.0, 300.0));
        for (const std::size_t i : plans) {
          // Per target: the no-math loop with the plan's streams, then the plan's loop; then the
          // plain scalar loop. The limit is the best target's no-math loop.
          const auto& info = infos[i];
          const int states = info.states;
          const std::size_t traffic = kiln::codegen::update_traffic(n, states, false, false);
          const double bytes = double(traffic);
          const std::string picked =
              hwy::TargetName(kiln::codegen::update_target(available, traffic, cpu));
          long step = 0;
          std::vector<timed> fs;
          for (const auto& t : targets) {
            const std::int64_t target = t.second;
            fs.push_back({1, [=](const tensor& x) { stream(states, target, x); }});
            fs.push_back({0, [=, &step](const tensor& x) { update(i, target, x, ++step); }});
          }
          if (!no_scalar) fs.push_back({0, [=, &step](const tensor& x) { scalar(i, x, ++step); }});
          const auto c = time_steps(team, x, info.rows ? simd_bench::row : 16, r, fs);
          // The limit: the no-math loop of the target whose median is fastest (chosen once: a
          // minimum over noisy samples would be biased low), paired with each loop per cycle.
          std::size_t best = 0;
          for (std::size_t j = 1; j < targets.size(); ++j)
            if (over_cycles(c, [&](const auto& t) { return t[2 * j]; }) <
                over_cycles(c, [&](const auto& t) { return t[2 * best]; }))
              best = j;
          auto limit = [&](const std::vector<double>& t) { return t[2 * best]; };
          auto add = [&](std::string plan, std::string target, std::size_t f, bool scalar_ratio) {
            const double sec = over_cycles(c, [&](const auto& t) { return t[f]; });
            const double of = over_cycles(c, [&](const auto& t) { return limit(t) / t[f]; });
            const double vs = no_scalar || !scalar_ratio
                                  ? 0
                                  : over_cycles(c, [&](const auto& t) { return t.back() / t[f]; });
            const bool pick = target == picked && !plan.starts_with("copy:");
            rows.push_back({std::move(plan), std::move(target), n, threads, round, sec,
                            bytes / sec / 1e9, of, vs, pick});
          };
          for (std::size_t j = 0; j < targets.size(); ++j) {
            add("copy:" + info.name, targets[j].first, 2 * j, false);
            add(info.name, targets[j].first, 2 * j + 1, true);
          }
          if (!no_scalar) add(info.name, "scalar", fs.size() - 1, true);
          if (!json)
            std::fprintf(stderr, "simd_bench: %s N=%s threads=%d done\n", info.name.c_str(),
                         size_text(n).c_str(), threads);
        }
      }
    }

  // Medians over rounds.
  std::vector<result> table;
  for (const auto& r : rows) {
    auto same = [&](const result& o) {
      return o.plan == r.plan && o.target == r.target && o.n == r.n && o.threads == r.threads;
    };
    if (std::any_of(table.begin(), table.end(), same)) continue;
    std::vector<double> sec, of, vs;
    for (const auto& o : rows)
      if (same(o)) sec.push_back(o.seconds), of.push_back(o.of_copy), vs.push_back(o.vs_scalar);
    result m = r;
    m.seconds = median(sec);
    m.gbps = r.gbps * r.seconds / m.seconds;
    m.of_copy = median(of);
    m.vs_scalar = median(vs);
    table.push_back(m);
  }

  if (json) {
    double load[3] = {-1, -1, -1};
    getloadavg(load, 3);
    std::vector<common::json_object> results;
    for (const auto& r : table)
      results.push_back(common::json_object()
                            .add("plan", r.plan)
                            .add("target", r.target)
                            .add("n", long(r.n))
                            .add("threads", r.threads)
                            .add("ms", r.seconds * 1e3)
                            .add("GBps", r.gbps)
                            .add("of_copy", r.of_copy)
                            .add("vs_scalar", r.vs_scalar)
                            .add("picked", r.picked));
    std::printf(
        "{\"loadavg\": [%.2f, %.2f, %.2f], \"cpu\": \"%s\", \"rounds\": %d, \"results\": %s}\n",
        load[0], load[1], load[2], cpu.cpu.c_str(), rounds,
        common::json_array(results, true).c_str());
  } else {
    // '*': the target a trainer picks for a tensor of N weights on this CPU (width.hpp).
    std::printf("CPU: %s\n%-22s %-9s %6s %3s %10s %8s %8s %9s\n", cpu.cpu.c_str(), "plan", "target",
                "N", "thr", "ms/step", "GB/s", "of copy", "vs scalar");
    for (const auto& r : table) {
      if (r.plan.starts_with("copy:")) continue;
      std::printf("%-22s %-8s%c %6s %3d %10.4f %8.2f %7.1f%% %8.2fx\n", r.plan.c_str(),
                  r.target.c_str(), r.picked ? '*' : ' ', size_text(r.n).c_str(), r.threads,
                  r.seconds * 1e3, r.gbps, 100 * r.of_copy, r.vs_scalar);
    }
    std::printf("(* the target a trainer runs the update of a tensor of N weights on)\n");
    std::printf("\nno-math loops with each plan's streams (the limit is the best target's):\n");
    for (const auto& r : table)
      if (r.plan.starts_with("copy:"))
        std::printf("%-22s %-8s %6s %3d %10.4f %8.2f %7.1f%%\n", r.plan.substr(5).c_str(),
                    r.target.c_str(), size_text(r.n).c_str(), r.threads, r.seconds * 1e3, r.gbps,
                    100 * r.of_copy);
  }
  if (!png.empty()) {
    std::vector<std::string> plan_names_run, target_names_run;
    for (const std::size_t i : plans) plan_names_run.push_back(infos[i].name);
    for (const auto& t : targets) target_names_run.push_back(t.first);
    chart(png, table, plan_names_run, target_names_run);
  }
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
