// One training epoch of the PyTorch peer's CNN (fmnist_cnn_peer.hpp: the model and plan are
// shared with that trainer), timed like the peer (../shared/peers/torch_fmnist_mlp.py): the
// training loop only (batch gather + forward + backward + update). scripts/bench_cnn.py runs it
// alternately with PyTorch.
//
//   cnn_bench [--threads 1,2] [--repeats 3] [--json] [--cpu-clock]
#include <kiln/runtime/data/loader.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstdio>
#include <string>
#include <vector>

#include "common/json.hpp"
#include "common/timing.hpp"
#include "fmnist_cnn_peer.hpp"

namespace {

// Wall time, or with --cpu-clock the calling thread's CPU time: steadier on a busy machine for
// one thread (it leaves out the time the thread waits for a core), wrong for several.
bool cpu_clock = false;

double now() { return common::now(cpu_clock ? CLOCK_THREAD_CPUTIME_ID : CLOCK_MONOTONIC); }
using common::median;

double epoch_seconds(kiln::trainer<model, plan>& t, kiln::rt::batch_loader& loader, int epoch) {
  const double t0 = now();
  loader.start_epoch(epoch);
  t.begin_epoch(epoch, loader.batches_per_epoch());
  while (auto b = loader.next()) t.train_step(*b);
  return now() - t0;
}

}  // namespace

int main(int argc, char** argv) {
  // A few flags, parsed by hand: CLI11 alone doubles this file's compile time.
  std::vector<int> threads{1};
  int repeats = 3;
  bool json = false;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--json") {
      json = true;
    } else if (flag == "--cpu-clock") {
      cpu_clock = true;
    } else if (flag == "--repeats" && i + 1 < argc && std::atoi(argv[i + 1]) > 0) {
      repeats = std::atoi(argv[++i]);
    } else if (flag == "--threads" && i + 1 < argc) {
      threads.clear();
      for (const char* p = argv[++i]; *p;) {
        threads.push_back(std::max(1, std::atoi(p)));
        while (*p && *p != ',') ++p;
        if (*p == ',') ++p;
      }
    } else {
      std::fprintf(stderr,
                   "usage: cnn_bench [--threads 1,2] [--repeats 3] [--json] [--cpu-clock]\n");
      return 2;
    }
  }

  const auto data = kiln::rt::fashion_mnist();
  std::vector<common::json_object> rows;
  if (!json) std::printf("threads  epoch s\n");
  for (const int th : threads) {
    auto t = kiln::compile<model, plan>({.threads = th});
    kiln::rt::batch_loader loader(data.train, {.batch = plan.batch, .seed = 0});
    epoch_seconds(t, loader, 0);  // warm-up: page faults, dispatch tables, BLAS buffers
    std::vector<double> s;
    for (int r = 0; r < repeats; ++r) s.push_back(epoch_seconds(t, loader, r + 1));
    if (!json) std::printf("%7d  %7.3f\n", th, median(s));
    rows.push_back(common::json_object().add("threads", th).add("kiln_epoch_s", median(s)));
  }
  if (json) std::printf("{\"runs\":%s}\n", common::json_array(rows).c_str());
}
