// Crash safety, end to end. A trainer built by kiln_add_trainer (model.cpp) runs on a small
// Fashion-MNIST-shaped dataset with a checkpoint after every step and is killed with SIGKILL
// at random moments, several times, each time resumed from whatever checkpoint is on disk; the
// weights it finally writes must be byte for byte those of a run never interrupted, and after
// every kill the checkpoint must be whole. Separately, a process writing checkpoints over and
// over is killed mid-write: the file holds the old checkpoint or the new one, never a mix.
// The kill times come from a seed printed with the result (KILN_KILL_SEED=<n> replays them).
#define BOOST_TEST_MODULE crash_kill_resume
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "../runtime/support.hpp"
#include "kiln/runtime/io/checkpoint.hpp"
#include "kiln/runtime/io/safetensors.hpp"

extern char** environ;

namespace fs = std::filesystem;
namespace rt = kiln::rt;
using kiln::test::bytes;
using clock_type = std::chrono::steady_clock;

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
  write_dataset(dir / "data", 4096, 512);

  BOOST_TEST_REQUIRE(wait_for(start(trainer(dir / "data", dir / "ref", false, false))) == 0);
  const std::string reference = kiln::test::read_text(dir / "ref" / "model.safetensors");
  BOOST_TEST_REQUIRE(!reference.empty());
  // Checkpointing every step changes nothing but the time a run takes: measure it.
  const auto t0 = clock_type::now();
  BOOST_TEST_REQUIRE(wait_for(start(trainer(dir / "data", dir / "timed", true, false))) == 0);
  const double seconds = std::chrono::duration<double>(clock_type::now() - t0).count();
  BOOST_TEST_REQUIRE(kiln::test::read_text(dir / "timed" / "model.safetensors") == reference);

  const std::uint64_t seed = kill_seed();
  std::mt19937_64 gen(seed);
  // Each kill lands within the first 30 % of a whole run's time: three of them fit in one run's
  // work, so at least two kills hit resumed runs before one can finish.
  std::uniform_real_distribution<double> delay(0.02 * seconds, 0.3 * seconds);
  const fs::path run = dir / "run", checkpoint = run / "checkpoint.safetensors";
  int kills = 0, resumed_kills = 0, interrupted_saves = 0;
  long last_steps = -1;
  bool finished = false;
  std::string log;
  while (!finished && kills < 6) {
    const bool resume = fs::exists(checkpoint);
    const pid_t pid = start(trainer(dir / "data", run, true, resume));
    const double wait = delay(gen);
    std::this_thread::sleep_for(std::chrono::duration<double>(wait));
    ::kill(pid, SIGKILL);
    const int status = wait_for(pid);
    if (WIFSIGNALED(status)) {
      ++kills;
      resumed_kills += resume;
    } else {
      BOOST_TEST_REQUIRE(WEXITSTATUS(status) == 0, "the trainer failed; " << log);
      finished = true;
    }
    // Whatever the moment, the checkpoint on disk is a whole one, and never behind.
    long steps = -1;
    if (fs::exists(checkpoint)) {
      const rt::tensor_file f = rt::read_safetensors(checkpoint);
      steps = rt::read_checkpoint_metadata(f).state.steps;
      BOOST_TEST(steps >= last_steps);
      last_steps = steps;
    }
    interrupted_saves = std::max(interrupted_saves, leftovers(checkpoint));
    log += "kill after " + std::to_string(wait) + " s: checkpoint at step " +
           std::to_string(steps) + (finished ? " (finished first)" : "") + "; ";
  }
  if (!finished)
    BOOST_TEST_REQUIRE(wait_for(start(trainer(dir / "data", run, true, fs::exists(checkpoint)))) ==
                       0);
  BOOST_TEST_MESSAGE("seed " << seed << ": a run takes " << seconds << " s; " << kills << " kills, "
                             << resumed_kills << " of resumed runs, " << interrupted_saves
                             << " left a save unfinished; " << log);
  BOOST_TEST(resumed_kills >= 2, "seed " << seed << ": " << log);
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
  std::uniform_int_distribution<int> micros(0, 60000);
  int torn = 0;
  for (int round = 0; round < 12; ++round) {
    const pid_t pid = fork();
    BOOST_TEST_REQUIRE(pid >= 0);
    if (pid == 0) {  // the child saves versions 2, 3, ... until killed
      for (std::uint64_t v = 2; v < 1000; ++v) version(v);
      _exit(0);
    }
    std::this_thread::sleep_for(std::chrono::microseconds(micros(gen)));
    ::kill(pid, SIGKILL);
    wait_for(pid);
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
