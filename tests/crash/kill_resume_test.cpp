// Crash safety, end to end. A trainer built by kiln_add_trainer (model.cpp) runs on a small
// Fashion-MNIST-shaped dataset with a checkpoint after every step and is killed with SIGKILL
// several times, each time resumed from whatever checkpoint is on disk; the weights it finally
// writes must be byte for byte those of a run never interrupted, and after every kill the
// checkpoint must be whole. Separately, a process writing checkpoints over and over is killed
// mid-write: the file holds the old checkpoint or the new one, never a mix.
// Every kill is placed by the progress the test observes (the step of the checkpoint on disk,
// the saves a child reports), never by a fraction of a timed run: a slow, loaded or fast
// machine sees the same kills, a few random microseconds after the chosen point. The points
// come from a seed printed with the result (KILN_KILL_SEED=<n> replays them).
#define BOOST_TEST_MODULE crash_kill_resume
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../support/runtime.hpp"
#include "kiln/runtime/io/checkpoint.hpp"
#include "kiln/runtime/io/safetensors.hpp"

extern char** environ;

namespace fs = std::filesystem;
namespace rt = kiln::rt;
using kiln::test::bytes;

namespace {

// The four Fashion-MNIST files, made up: each image is noise brightened by its class.
void write_dataset(const fs::path& dir, int train, int test) {
  fs::create_directories(dir);
  rt::rng r(11, 1);
  for (const auto& [prefix, n] : {std::pair{"train", train}, std::pair{"t10k", test}}) {
    bytes images, labels;
    for (int i = 0; i < n; ++i) {
      const auto c = static_cast<std::uint8_t>(r.below(10));
      labels.push_back(c);
      for (int p = 0; p < 28 * 28; ++p)
        images.push_back(static_cast<std::uint8_t>(r.below(128) + (p % 10 == c ? 120 : 0)));
    }
    kiln::test::write_file(
        dir / (std::string(prefix) + "-images-idx3-ubyte.gz"),
        kiln::test::gzip(kiln::test::idx_file({std::uint32_t(n), 28, 28}, images)));
    kiln::test::write_file(dir / (std::string(prefix) + "-labels-idx1-ubyte.gz"),
                           kiln::test::gzip(kiln::test::idx_file({std::uint32_t(n)}, labels)));
  }
}

// Starts the trainer with stdout and stderr to /dev/null.
pid_t start(const std::vector<std::string>& args) {
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t quiet;
  posix_spawn_file_actions_init(&quiet);
  posix_spawn_file_actions_addopen(&quiet, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&quiet, 2, "/dev/null", O_WRONLY, 0);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &quiet, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&quiet);
  BOOST_TEST_REQUIRE(rc == 0, "cannot start " << argv[0]);
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return status;
}

std::vector<std::string> trainer(const fs::path& data, const fs::path& out, bool checkpoints,
                                 bool resume) {
  std::vector<std::string> a = {KILN_CRASH_TRAINER, "--data", data.string(), "--out",
                                out.string(),       "--quiet"};
  if (checkpoints) a.insert(a.end(), {"--checkpoint-every", "1"});
  if (resume) a.insert(a.end(), {"--resume", (out / "checkpoint.safetensors").string()});
  return a;
}

std::uint64_t kill_seed() {
  if (const char* s = std::getenv("KILN_KILL_SEED"); s && *s) return std::strtoull(s, nullptr, 10);
  return std::random_device{}();
}

// The step count of the checkpoint at `path`, -1 while there is none. A save replaces the file
// atomically (a rename), so whatever is there is a whole checkpoint.
long checkpoint_step(const fs::path& path) {
  if (!fs::exists(path)) return -1;
  return rt::read_checkpoint_metadata(rt::read_safetensors(path)).state.steps;
}

// Waits until the checkpoint at `path` has reached step `target` (true) or the process `pid` has
// ended first (false; its status in `status`). It reads the file again only when it changed.
bool wait_for_step(pid_t pid, const fs::path& path, long target, int& status) {
  fs::file_time_type seen{};
  for (;;) {
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    std::error_code e;
    const auto t = fs::last_write_time(path, e);
    if (!e && t != seen) {
      seen = t;
      if (checkpoint_step(path) >= target) return true;
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500));
  }
}

// Temporary files a killed save left beside `file` (never read by kiln).
int leftovers(const fs::path& file) {
  int n = 0;
  if (!fs::exists(file.parent_path())) return 0;
  for (const auto& e : fs::directory_iterator(file.parent_path()))
    if (e.path().filename().string().starts_with("." + file.filename().string() + ".")) ++n;
  return n;
}

}  // namespace

BOOST_AUTO_TEST_CASE(killed_and_resumed_runs_end_with_the_uninterrupted_weights) {
  kiln::test::temp_dir dir;
  // 4096 samples, batch 32, 3 epochs (model.cpp): 384 steps, a checkpoint after each.
  write_dataset(dir / "data", 4096, 512);
  constexpr long steps = 3 * 4096 / 32;

  BOOST_TEST_REQUIRE(wait_for(start(trainer(dir / "data", dir / "ref", false, false))) == 0);
  const std::string reference = kiln::test::read_text(dir / "ref" / "model.safetensors");
  BOOST_TEST_REQUIRE(!reference.empty());
  // Checkpointing every step changes nothing but the time a run takes.
  BOOST_TEST_REQUIRE(wait_for(start(trainer(dir / "data", dir / "saved", true, false))) == 0);
  BOOST_TEST_REQUIRE(kiln::test::read_text(dir / "saved" / "model.safetensors") == reference);

  const std::uint64_t seed = kill_seed();
  std::mt19937_64 gen(seed);
  // Each run is killed once its checkpoint is 1 to 40 steps past the one it started from (six
  // kills reach step 240 at most, of 384: every run is killed before it can finish), then a
  // random 0-3 ms later, so that kills land anywhere in a step, a save among them.
  std::uniform_int_distribution<long> ahead(1, 40);
  std::uniform_int_distribution<int> jitter_us(0, 3000);
  const fs::path run = dir / "run", checkpoint = run / "checkpoint.safetensors";
  constexpr int planned = 6;
  int kills = 0, resumed_kills = 0, interrupted_saves = 0;
  long last_steps = -1;
  std::string log;
  while (kills < planned) {
    const bool resume = fs::exists(checkpoint);
    const long target = std::max(last_steps, 0L) + ahead(gen);
    const int jitter = jitter_us(gen);
    const pid_t pid = start(trainer(dir / "data", run, true, resume));
    int status = 0;
    const bool reached = wait_for_step(pid, checkpoint, target, status);
    BOOST_TEST_REQUIRE(reached, "the trainer ended (status " << status << ") before step " << target
                                                             << "; " << log);
    std::this_thread::sleep_for(std::chrono::microseconds(jitter));
    ::kill(pid, SIGKILL);
    status = wait_for(pid);
    // It may have failed on its own within the jitter: only a kill counts as one.
    BOOST_TEST_REQUIRE(WIFSIGNALED(status), "the trainer ended (status " << status << "); " << log);
    ++kills;
    resumed_kills += resume;
    // Whatever the moment, the checkpoint on disk is a whole one, and never behind.
    const long now = checkpoint_step(checkpoint);
    BOOST_TEST(now >= target);
    BOOST_TEST(now < steps);
    last_steps = now;
    interrupted_saves = std::max(interrupted_saves, leftovers(checkpoint));
    log += "killed " + std::to_string(jitter) + " us after step " + std::to_string(target) +
           ": checkpoint at step " + std::to_string(now) + "; ";
  }
  BOOST_TEST_REQUIRE(wait_for(start(trainer(dir / "data", run, true, true))) == 0);
  BOOST_TEST_MESSAGE("seed " << seed << ": " << kills << " kills, " << resumed_kills
                             << " of resumed runs, " << interrupted_saves
                             << " left a save unfinished; " << log);
  // Every run after the first resumed from a checkpoint and was killed again.
  BOOST_TEST(resumed_kills == planned - 1, "seed " << seed << ": " << log);
  const std::string resumed = kiln::test::read_text(run / "model.safetensors");
  BOOST_TEST((resumed == reference), "seed " << seed << ": " << log);
}

BOOST_AUTO_TEST_CASE(a_save_killed_midway_leaves_the_old_checkpoint_or_the_new_one) {
  kiln::test::temp_dir dir;
  const fs::path path = dir / "checkpoint.safetensors";
  kiln::test::linear_softmax m({1 << 18}, 4, 1);  // 1M weights: a 4 MB file, written and synced
  const auto version = [&](std::uint64_t v) {
    for (const auto& t : m.tensors()) std::fill(t.data.begin(), t.data.end(), float(v));
    rt::save_checkpoint(path, m, {{}, v, 1});
  };
  version(1);
  const std::uint64_t seed = kill_seed();
  std::mt19937_64 gen(seed);
  // The child reports every save it finished; it is killed once it has finished 1 to 3 of them
  // in this round, a random 0-20 ms later: within one of the next saves (a 4 MB file written
  // and synced), or between two.
  std::uniform_int_distribution<int> saves(1, 3), jitter_us(0, 20000);
  int torn = 0;
  for (int round = 0; round < 12; ++round) {
    int report[2];
    BOOST_TEST_REQUIRE(pipe(report) == 0);
    const pid_t pid = fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {  // the child saves versions 2, 3, ... until killed
      close(report[0]);
      for (std::uint64_t v = 2; v < 1000; ++v) {
        version(v);
        if (write(report[1], &v, sizeof v) != sizeof v) _exit(1);
      }
      _exit(0);
    }
    close(report[1]);
    const int after = saves(gen), jitter = jitter_us(gen);
    for (int done = 0; done < after; ++done) {
      std::uint64_t v = 0;
      BOOST_TEST_REQUIRE(read(report[0], &v, sizeof v) == ssize_t(sizeof v),
                         "the saving process ended before its save " << done + 1);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(jitter));
    ::kill(pid, SIGKILL);
    wait_for(pid);
    close(report[0]);
    torn += leftovers(path) > 0;
    // One version, whole: its seed and every value agree.
    const rt::tensor_file f = rt::read_safetensors(path);
    const std::uint64_t v = rt::read_checkpoint_metadata(f).info.seed;
    for (const auto& t : f.tensors)
      for (float x : t.values) BOOST_TEST_REQUIRE(x == float(v));
  }
  BOOST_TEST_MESSAGE("seed " << seed << ": killed 12 times, " << torn
                             << " kills left a temporary file behind (a save in progress)");
}

namespace {

// Starts the trainer with stderr into a pipe (returned), stdout to /dev/null.
pid_t start_watched(const std::vector<std::string>& args, int& err) {
  int fds[2];
  BOOST_TEST_REQUIRE(::pipe(fds) == 0);
  std::vector<char*> argv;
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t io;
  posix_spawn_file_actions_init(&io);
  posix_spawn_file_actions_addopen(&io, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_adddup2(&io, fds[1], 2);
  posix_spawn_file_actions_addclose(&io, fds[0]);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &io, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&io);
  ::close(fds[1]);
  BOOST_TEST_REQUIRE(rc == 0, "cannot start " << argv[0]);
  err = fds[0];
  return pid;
}

// Reads `fd` until a line containing `what` has arrived (true) or the pipe ends (false); all
// that was read is appended to `log`.
bool read_until(int fd, const std::string& what, std::string& log) {
  char buf[512];
  while (log.find(what) == std::string::npos) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    log.append(buf, static_cast<std::size_t>(n));
  }
  return true;
}

void read_rest(int fd, std::string& log) {
  read_until(fd, std::string(1, '\0'), log);
  ::close(fd);
}

std::vector<std::string> progressing(const fs::path& data, const fs::path& out, bool resume) {
  std::vector<std::string> a = {KILN_CRASH_TRAINER, "--data", data.string(), "--out", out.string()};
  if (resume) a.insert(a.end(), {"--resume", (out / "checkpoint.safetensors").string()});
  return a;
}

}  // namespace

// SIGTERM after an observed step (the first progress line, a quarter into epoch 1): the run
// finishes that step, writes its checkpoint, says how to resume and exits 143; resumed, it
// ends with the weights of a run never interrupted, bit for bit. SIGINT twice: 130 at once, and
// the checkpoint on disk is still a whole one.
BOOST_AUTO_TEST_CASE(sigterm_checkpoints_and_the_resumed_run_ends_bit_identical) {
  kiln::test::temp_dir dir;
  write_dataset(dir / "data", 4096, 512);
  BOOST_TEST_REQUIRE(wait_for(start(trainer(dir / "data", dir / "ref", false, false))) == 0);
  const std::string reference = kiln::test::read_text(dir / "ref" / "model.safetensors");
  BOOST_TEST_REQUIRE(!reference.empty());

  const fs::path run = dir / "run", checkpoint = run / "checkpoint.safetensors";
  int err = -1;
  std::string log;
  pid_t pid = start_watched(progressing(dir / "data", run, false), err);
  BOOST_TEST_REQUIRE(read_until(err, "epoch 1/3   25%", log), log);
  ::kill(pid, SIGTERM);
  read_rest(err, log);
  int status = wait_for(pid);
  BOOST_TEST_MESSAGE("stopped run: " << log);
  BOOST_TEST_REQUIRE(WIFEXITED(status), log);
  BOOST_TEST(WEXITSTATUS(status) == 143);
  BOOST_TEST(log.find("kiln: SIGTERM after step ") != std::string::npos, log);
  BOOST_TEST(log.find("checkpoint written to " + checkpoint.string() +
                      "; continue with the same command and --resume " + checkpoint.string()) !=
                 std::string::npos,
             log);
  BOOST_TEST(!fs::exists(run / "model.safetensors"));
  const long steps = rt::read_checkpoint_metadata(rt::read_safetensors(checkpoint)).state.steps;
  BOOST_TEST(steps >= 32);  // at least the quarter of epoch 1 (128 steps) that was observed

  BOOST_TEST_REQUIRE(wait_for(start(trainer(dir / "data", run, false, true))) == 0);
  BOOST_TEST((kiln::test::read_text(run / "model.safetensors") == reference),
             "resumed from step " << steps);

  // Two SIGINTs: the second ends the process at once; whatever it interrupted, the checkpoint
  // on disk is whole (written atomically) and the exit status is 130.
  const fs::path twice = dir / "twice";
  log.clear();
  pid = start_watched(progressing(dir / "data", twice, false), err);
  BOOST_TEST_REQUIRE(read_until(err, "epoch 1/3   25%", log), log);
  ::kill(pid, SIGINT);
  ::kill(pid, SIGINT);
  read_rest(err, log);
  status = wait_for(pid);
  BOOST_TEST_REQUIRE(WIFEXITED(status), log);
  BOOST_TEST(WEXITSTATUS(status) == 130);
  if (fs::exists(twice / "checkpoint.safetensors"))
    BOOST_TEST(rt::read_checkpoint_metadata(rt::read_safetensors(twice / "checkpoint.safetensors"))
                   .state.steps >= 32);
}
