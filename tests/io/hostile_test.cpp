// Hostile and huge inputs, for every reader (README: Reliability). Each read runs in a child
// process (fork), so that a hang is a child killed by its alarm rather than a stuck suite, and
// so that its peak RSS and the bytes it read are its own (wait4's rusage; /proc/self/io):
// - a FIFO, a socket, a device, a directory, a missing file: refused with one line naming the
//   file and what it is, by every reader and by kiln-inspect (a read that blocks is a child
//   killed by its 20 s alarm: a hang, on any machine, against milliseconds of work);
// - a file that may not be read, an empty one: said so;
// - sparse files of 1 GiB and 4 GiB whose header claims more than they hold: refused with at
//   most 64 MiB peak RSS and at most 64 MiB read (the work is reading a header and a few
//   kilobytes; bounded as bytes, not seconds, so that neither a slow nor a loaded machine
//   matters -- a CPU-time bound of 0.1 s failed beside a busy core);
// - a well-formed file of S bytes loads with peak RSS <= S + 64 MiB;
// - PyTorch zip checkpoints, legacy pickles, SciPy sparse npz, whitespace-separated text:
//   named as what they are (made here from bytes: no Python at test time);
// - a checkpoint written to /dev/full, or through a write that fails, names the path and leaves
//   the previous checkpoint whole.
#define BOOST_TEST_MODULE io_hostile
#include <boost/test/unit_test.hpp>

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <cstdio>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "../support/runtime.hpp"
#include "kiln/runtime/data/cifar10.hpp"
#include "kiln/runtime/data/csv.hpp"
#include "kiln/runtime/data/idx.hpp"
#include "kiln/runtime/data/load.hpp"
#include "kiln/core/error.hpp"
#include "kiln/runtime/io/checkpoint.hpp"
#include "kiln/runtime/io/npy.hpp"
#include "kiln/runtime/io/npz.hpp"
#include "kiln/runtime/io/onnx.hpp"
#include "kiln/runtime/io/safetensors.hpp"
#include "kiln/runtime/io/tensor_file.hpp"
#include "kiln/runtime/io/trained.hpp"

extern char** environ;

namespace fs = std::filesystem;
namespace rt = kiln::rt;
using kiln::test::bytes;
using kiln::test::temp_dir;
using kiln::test::write_file;

namespace {

constexpr std::uint64_t MiB = std::uint64_t{1} << 20, GiB = std::uint64_t{1} << 30;

struct outcome {
  int status = 0;
  bool hung = false;           // killed by its alarm
  std::string message;         // what it threw, or "ok"
  double cpu_seconds = 0;      // user + system
  std::uint64_t peak_rss = 0;  // bytes
  std::uint64_t read = 0;      // bytes the child read through read(2) and its kin (rchar)
};

// This process's rchar (/proc/self/io): every byte read(2), pread(2) and readv(2) returned --
// the work a reader did on a file, whatever the machine's speed or load.
std::uint64_t bytes_read_so_far() {
  std::FILE* f = std::fopen("/proc/self/io", "r");
  if (!f) return 0;
  unsigned long long rchar = 0;
  const int got = std::fscanf(f, "rchar: %llu", &rchar);
  std::fclose(f);
  return got == 1 ? rchar : 0;
}

// Runs `f` in a child with an alarm of `seconds`: exit 0 when it returns, 1 when it throws
// kiln::error, 2 for another exception; the message comes back through a pipe.
outcome in_child(const std::function<void()>& f, unsigned seconds = 20) {
  int fds[2];
  BOOST_TEST_REQUIRE(::pipe(fds) == 0);
  std::fflush(nullptr);
  const pid_t pid = ::fork();
  BOOST_TEST_REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    ::alarm(seconds);
    int code = 0;
    std::string message = "ok";
    const std::uint64_t before = bytes_read_so_far();
    try {
      f();
    } catch (const kiln::error& e) {
      code = 1, message = e.what();
    } catch (const std::exception& e) {
      code = 2, message = e.what();
    }
    // The bytes read first, on a line of their own.
    message = std::to_string(bytes_read_so_far() - before) + "\n" + message;
    for (std::size_t at = 0; at < message.size();) {
      const ssize_t n = ::write(fds[1], message.data() + at, message.size() - at);
      if (n <= 0) break;
      at += static_cast<std::size_t>(n);
    }
    _exit(code);
  }
  ::close(fds[1]);
  outcome o;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) != 0;) {
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) break;
    o.message.append(buf, static_cast<std::size_t>(n));
  }
  ::close(fds[0]);
  if (const auto eol = o.message.find('\n'); eol != std::string::npos) {
    o.read = std::stoull(o.message.substr(0, eol));
    o.message.erase(0, eol + 1);
  }
  int status = 0;
  struct rusage ru {};
  while (::wait4(pid, &status, 0, &ru) < 0 && errno == EINTR) {
  }
  o.hung = WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM;
  o.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  o.cpu_seconds = double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                  1e-6 * double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
  o.peak_rss = std::uint64_t(ru.ru_maxrss) * 1024;
  return o;
}

// One line, "<path>: ...<problem>...", thrown as a kiln::error.
void expect_refused(const outcome& o, const fs::path& path, const std::string& problem) {
  BOOST_TEST_CONTEXT("message: " << o.message) {
    BOOST_TEST(!o.hung);
    BOOST_TEST(o.status == 1);
    BOOST_TEST(o.message.rfind(path.string() + ": ", 0) == 0);
    BOOST_TEST(o.message.find(problem) != std::string::npos, "expected: " << problem);
    BOOST_TEST(o.message.find('\n') == std::string::npos);
  }
}

rt::model_info small_classifier() {
  static kiln::test::linear_softmax m({4}, 3, 8);
  return m.info();
}

struct reader {
  const char* name;
  const char* file;  // a name with the extension it dispatches on
  std::function<void(const fs::path&)> read;
};

// Every reader a user reaches with a path, named by the file it takes.
std::vector<reader> readers() {
  return {
      {"safetensors", "x.safetensors", [](const fs::path& p) { rt::read_safetensors(p); }},
      {"npy", "x.npy", [](const fs::path& p) { rt::read_npy(p); }},
      {"npz", "x.npz", [](const fs::path& p) { rt::read_npz(p); }},
      {"onnx", "x.onnx", [](const fs::path& p) { rt::read_onnx(p); }},
      {"IDX", "x-idx3-ubyte", [](const fs::path& p) { rt::read_idx(p); }},
      {"CIFAR-10", "x.bin", [](const fs::path& p) { rt::read_cifar10({p}); }},
      {"CSV", "x.csv", [](const fs::path& p) { rt::read_csv(p); }},
      {"tensor file (any extension)", "x.pt", [](const fs::path& p) { rt::read_tensor_file(p); }},
      {"checkpoint", "c.safetensors",
       [](const fs::path& p) {
         kiln::test::linear_softmax m({4}, 3, 8);
         rt::load_checkpoint(p, m);
       }},
      {"trained weights", "w.npz",
       [](const fs::path& p) {
         kiln::test::linear_softmax m({4}, 3, 8);
         rt::load_trained(m, p);
       }},
      {"CSV dataset", "d.csv",
       [](const fs::path& p) { rt::read_dataset_file(p, {}, small_classifier()); }},
      {"CSV.gz dataset", "d.csv.gz",
       [](const fs::path& p) { rt::read_dataset_file(p, {}, small_classifier()); }},
      {"npz dataset", "d.npz",
       [](const fs::path& p) { rt::read_dataset_file(p, {}, small_classifier()); }},
      {"predict input (.npy)", "p.npy",
       [](const fs::path& p) { rt::read_dataset_file(p, {}, small_classifier(), false); }},
  };
}

// kiln-inspect's exit status and its stderr, the alarm killing it after `seconds`.
struct inspected {
  int status;
  bool hung;
  std::string err;
};
inspected run_inspect(const fs::path& file, const fs::path& scratch, unsigned seconds = 2) {
  const fs::path err = scratch / "inspect.stderr";
  std::string argv0 = KILN_INSPECT, arg = file.string();
  char* argv[] = {argv0.data(), arg.data(), nullptr};
  posix_spawn_file_actions_t a;
  posix_spawn_file_actions_init(&a);
  posix_spawn_file_actions_addopen(&a, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&a, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  pid_t pid = -1;
  const int rc = posix_spawn(&pid, argv[0], &a, nullptr, argv, environ);
  posix_spawn_file_actions_destroy(&a);
  BOOST_TEST_REQUIRE(rc == 0, "cannot start " << argv0);
  // Waits up to `seconds` (in 10 ms polls), then kills it: a hang is a failure, not a stuck test.
  int status = 0;
  bool hung = true;
  for (unsigned tick = 0; tick < seconds * 100; ++tick) {
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      hung = false;
      break;
    }
    ::usleep(10000);
  }
  if (hung) {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
  }
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, hung, kiln::test::read_text(err)};
}

void expect_inspect_refuses(const fs::path& file, const fs::path& scratch,
                            const std::string& problem) {
  const inspected r = run_inspect(file, scratch);
  BOOST_TEST_CONTEXT("kiln-inspect " << file << ": " << r.err) {
    BOOST_TEST(!r.hung);
    BOOST_TEST(r.status == 1);
    BOOST_TEST(r.err.rfind("error: " + file.string() + ": ", 0) == 0);
    BOOST_TEST(r.err.find(problem) != std::string::npos, "expected: " << problem);
    BOOST_TEST(std::count(r.err.begin(), r.err.end(), '\n') == 1);
  }
}

// A socket bound at `path` (kept open by the returned descriptor).
int bind_socket(const fs::path& path) {
  const int s = ::socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::strncpy(addr.sun_path, path.c_str(), sizeof addr.sun_path - 1);
  BOOST_TEST_REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Files made from bytes.

void put_le(bytes& b, std::uint64_t v, int n) {
  for (int i = 0; i < n; ++i) b.push_back(static_cast<std::uint8_t>(v >> (8 * i)));
}

// A zip archive of stored members, as zipfile or torch.save write one.
bytes zip(const std::vector<std::pair<std::string, bytes>>& members) {
  bytes out, directory;
  for (const auto& [name, data] : members) {
    const auto crc = static_cast<std::uint32_t>(::crc32(0, data.data(), uInt(data.size())));
    const std::uint64_t offset = out.size();
    put_le(out, 0x04034b50, 4), put_le(out, 20, 2), put_le(out, 0, 2), put_le(out, 0, 2);
    put_le(out, 0, 4), put_le(out, crc, 4), put_le(out, data.size(), 4);
    put_le(out, data.size(), 4), put_le(out, name.size(), 2), put_le(out, 0, 2);
    out.insert(out.end(), name.begin(), name.end());
    out.insert(out.end(), data.begin(), data.end());
    put_le(directory, 0x02014b50, 4), put_le(directory, 20, 2), put_le(directory, 20, 2);
    put_le(directory, 0, 2), put_le(directory, 0, 2), put_le(directory, 0, 4);
    put_le(directory, crc, 4), put_le(directory, data.size(), 4);
    put_le(directory, data.size(), 4), put_le(directory, name.size(), 2);
    put_le(directory, 0, 2), put_le(directory, 0, 2), put_le(directory, 0, 2);
    put_le(directory, 0, 2), put_le(directory, 0, 4), put_le(directory, offset, 4);
    directory.insert(directory.end(), name.begin(), name.end());
  }
  const std::uint64_t at = out.size();
  out.insert(out.end(), directory.begin(), directory.end());
  put_le(out, 0x06054b50, 4), put_le(out, 0, 2), put_le(out, 0, 2);
  put_le(out, members.size(), 2), put_le(out, members.size(), 2);
  put_le(out, directory.size(), 4), put_le(out, at, 4), put_le(out, 0, 2);
  return out;
}

// A .npy of version 1.0 with this header dictionary and payload.
bytes npy(const std::string& dict, const bytes& payload = {}) {
  std::string header = dict;
  header.append((64 - (10 + header.size() + 1) % 64) % 64, ' ');
  header += '\n';
  bytes out = {0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0};
  put_le(out, header.size(), 2);
  out.insert(out.end(), header.begin(), header.end());
  out.insert(out.end(), payload.begin(), payload.end());
  return out;
}

bytes text(const std::string& s) { return bytes(s.begin(), s.end()); }

// `head` at the start of a sparse file of `size` bytes, `tail` at its end: nothing but the two
// takes space on disk.
fs::path sparse(const fs::path& path, std::uint64_t size, const bytes& head,
                const bytes& tail = {}) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  BOOST_TEST_REQUIRE(fd >= 0);
  BOOST_TEST_REQUIRE(::ftruncate(fd, off_t(size)) == 0);
  BOOST_TEST_REQUIRE(::pwrite(fd, head.data(), head.size(), 0) == ssize_t(head.size()));
  if (!tail.empty())
    BOOST_TEST_REQUIRE(::pwrite(fd, tail.data(), tail.size(), off_t(size - tail.size())) ==
                       ssize_t(tail.size()));
  ::close(fd);
  return path;
}

}  // namespace

BOOST_AUTO_TEST_CASE(non_regular_files_are_refused_by_every_reader_at_once) {
  temp_dir dir;
  int sockets = 0;
  for (const reader& r : readers()) {
    const fs::path base = dir / r.name;
    fs::create_directories(base);
    const fs::path fifo = base / r.file, socket = base / (std::string("s") + r.file),
                   device = base / (std::string("d") + r.file),
                   folder = base / (std::string("f") + r.file),
                   missing = base / (std::string("m") + r.file);
    BOOST_TEST_REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    const int s = bind_socket(socket);
    fs::create_symlink("/dev/null", device);
    fs::create_directory(folder);
    BOOST_TEST_CONTEXT(r.name) {
      // A FIFO that no one writes: open() alone would wait forever.
      expect_refused(in_child([&] { r.read(fifo); }), fifo, "is a FIFO, not a regular file");
      expect_refused(in_child([&] { r.read(socket); }), socket, "is a socket, not a regular file");
      expect_refused(in_child([&] { r.read(device); }), device,
                     "is a character device, not a regular file");
      expect_refused(in_child([&] { r.read(folder); }), folder, "is a directory");
      expect_refused(in_child([&] { r.read(missing); }), missing, "no such file");
    }
    ::close(s);
    ++sockets;
  }
  BOOST_TEST(sockets == int(readers().size()));
}

BOOST_AUTO_TEST_CASE(kiln_inspect_refuses_what_is_not_a_regular_file_at_once) {
  temp_dir dir;
  BOOST_TEST_REQUIRE(::mkfifo((dir / "pipe.safetensors").c_str(), 0600) == 0);
  expect_inspect_refuses(dir / "pipe.safetensors", dir.path(), "is a FIFO, not a regular file");
  BOOST_TEST_REQUIRE(::mkfifo((dir / "pipe").c_str(), 0600) == 0);
  expect_inspect_refuses(dir / "pipe", dir.path(), "is a FIFO, not a regular file");
  const int s = bind_socket(dir / "sock");
  expect_inspect_refuses(dir / "sock", dir.path(), "is a socket, not a regular file");
  ::close(s);
  expect_inspect_refuses("/dev/null", dir.path(), "is a character device, not a regular file");
  expect_inspect_refuses(dir.path(), dir.path(), "is a directory");
  expect_inspect_refuses(dir / "absent.npy", dir.path(), "no such file");
  write_file(dir / "empty.safetensors", {});
  expect_inspect_refuses(dir / "empty.safetensors", dir.path(), "the file is empty");
  write_file(dir / "empty", {});
  expect_inspect_refuses(dir / "empty", dir.path(), "the file is empty");
}

BOOST_AUTO_TEST_CASE(empty_files_say_empty) {
  temp_dir dir;
  for (const reader& r : readers()) {
    const fs::path base = dir / r.name;
    fs::create_directories(base);
    const fs::path file = write_file(base / r.file, {});
    BOOST_TEST_CONTEXT(r.name) {
      expect_refused(in_child([&] { r.read(file); }), file, "empty");
    }
  }
}

BOOST_AUTO_TEST_CASE(a_file_that_may_not_be_read_says_permission_denied) {
  temp_dir dir;
  fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                                  fs::perms::others_read | fs::perms::others_exec);
  for (const reader& r : readers()) {
    const fs::path file = write_file(dir / (std::string("locked-") + r.file), text("1,2\n"));
    fs::permissions(file, fs::perms::none);
    BOOST_TEST_CONTEXT(r.name) {
      expect_refused(in_child([&] {
                       // root reads anything: the child becomes nobody first.
                       if (::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0))
                         throw std::runtime_error("cannot drop root");
                       r.read(file);
                     }),
                     file, "permission denied");
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Lying headers in huge sparse files, and well-formed files: memory and time.

namespace {

struct lie {
  const char* name;
  const char* file;
  bytes head, tail;  // the file's first and last bytes; zeros between
  std::string problem;
  std::function<void(const fs::path&)> read;
};

std::vector<lie> lies(std::uint64_t size) {
  const std::uint64_t claim = 4 * size;  // bytes the headers claim: more than the file holds
  const std::string st_header = R"({"w":{"dtype":"F32","shape":[)" + std::to_string(claim / 4) +
                                R"(],"data_offsets":[0,)" + std::to_string(claim) + "]}}";
  bytes st;
  put_le(st, st_header.size(), 8);
  st.insert(st.end(), st_header.begin(), st_header.end());
  // 2^63 elements (the issue's file): their byte count overflows 64 bits.
  const std::string huge_header =
      R"({"w":{"dtype":"F32","shape":[9223372036854775808],"data_offsets":[0,8]}})";
  bytes st_huge;
  put_le(st_huge, huge_header.size(), 8);
  st_huge.insert(st_huge.end(), huge_header.begin(), huge_header.end());
  const bytes npy_lie = npy("{'descr': '<f4', 'fortran_order': False, 'shape': (" +
                            std::to_string(claim / 4) + ",), }");
  // An end-of-directory record claiming a central directory of almost 4 GiB at byte 0: libzip
  // alone would allocate and read it.
  bytes eocd;
  put_le(eocd, 0x06054b50, 4), put_le(eocd, 0, 4), put_le(eocd, 0xffff, 2);
  put_le(eocd, 0xffff, 2), put_le(eocd, 0xffffff00, 4), put_le(eocd, 0, 4), put_le(eocd, 0, 2);
  // A member of a small archive holding an .npy that claims the same.
  const bytes idx_lie = kiln::test::idx_file({0xffff, 0xffff, 0xffff}, {});
  // ONNX: a ModelProto whose graph field claims 2 GB.
  const bytes onnx_lie = {0x3a, 0xf0, 0xff, 0xff, 0xff, 0x07};
  const auto checkpoint = [](const fs::path& p) {
    kiln::test::linear_softmax m({4}, 3, 8);
    rt::load_checkpoint(p, m);
  };
  return {
      {"safetensors",
       "x.safetensors",
       st,
       {},
       "truncated: the tensors' data needs",
       [](const fs::path& p) { rt::read_safetensors(p); }},
      {"safetensors, 2^63 elements",
       "h.safetensors",
       st_huge,
       {},
       "overflow",
       [](const fs::path& p) { rt::read_safetensors(p); }},
      {"checkpoint", "c.safetensors", st, {}, "truncated", checkpoint},
      {"npy", "x.npy", npy_lie, {}, "truncated: shape", [](const fs::path& p) { rt::read_npy(p); }},
      {"npz", "x.npz", {}, eocd, "central directory", [](const fs::path& p) { rt::read_npz(p); }},
      {"npz dataset",
       "d.npz",
       {},
       eocd,
       "central directory",
       [](const fs::path& p) { rt::read_dataset_file(p, {}, small_classifier()); }},
      {"IDX",
       "x-idx3-ubyte",
       idx_lie,
       {},
       "truncated: the data",
       [](const fs::path& p) { rt::read_idx(p); }},
      {"CIFAR-10", "x.bin", {}, {}, "", [](const fs::path& p) { rt::read_cifar10({p}); }},
      {"onnx", "x.onnx", onnx_lie, {}, "ONNX model", [](const fs::path& p) { rt::read_onnx(p); }},
  };
}

}  // namespace

BOOST_AUTO_TEST_CASE(lying_headers_in_huge_sparse_files_are_refused_in_bounded_memory_and_time) {
  temp_dir dir;
  // The bound below needs the kernel's count (the dynamic loader's reads make it non-zero).
  BOOST_TEST_REQUIRE(bytes_read_so_far() > 0, "/proc/self/io has no rchar to bound the reads by");
  const outcome idle = in_child([] {});
  BOOST_TEST_MESSAGE("a child that reads nothing: peak RSS " << idle.peak_rss / MiB << " MiB");
  for (const std::uint64_t size : {GiB, 4 * GiB}) {
    for (const lie& l : lies(size)) {
      const fs::path file = sparse(dir / l.file, size, l.head, l.tail);
      const outcome o = in_child([&] { l.read(file); }, 60);
      BOOST_TEST_CONTEXT(l.name << ", " << size / GiB << " GiB") {
        expect_refused(o, file, l.problem);
        BOOST_TEST(o.peak_rss <= 64 * MiB);
        // Bounded time, measured as work: the refusal comes from the headers, not from reading
        // the GiBs they claim (a CPU-time bound was the machine's speed and load, not kiln's).
        BOOST_TEST(o.read <= 64 * MiB);
      }
      BOOST_TEST_MESSAGE(l.name << ", " << size / GiB << " GiB sparse: refused with peak RSS "
                                << o.peak_rss / 1024 << " KiB, " << o.read << " bytes read, CPU "
                                << o.cpu_seconds * 1e3
                                << " ms: " << o.message.substr(o.message.find(": ") + 2));
      fs::remove(file);
    }
  }
}

BOOST_AUTO_TEST_CASE(a_well_formed_file_loads_in_its_size_plus_64_mib) {
  temp_dir dir;
  // 128 MiB of float32: reading it into a buffer and then converting would take twice that.
  const std::size_t count = 32 * MiB;
  const std::vector<std::size_t> shape{count};
  const auto make = [&](const fs::path& p) {
    // In a child, so that this process never holds the values (a fork inherits its RSS).
    const outcome o = in_child(
        [&] {
          std::vector<float> v(count);
          for (std::size_t i = 0; i < count; ++i) v[i] = float(i % 1000);
          const std::string ext = p.extension().string();
          if (ext == ".safetensors")
            rt::write_safetensors(p, std::vector<rt::tensor_ref>{{"w", shape, v}}, {});
          else if (ext == ".npy")
            rt::write_npy(p, shape, std::span<const float>(v));
          else
            rt::write_npz(p, std::vector<rt::tensor_ref>{{"w", shape, v}}, false);
        },
        120);
    BOOST_TEST_REQUIRE(o.status == 0, o.message);
    return p;
  };
  for (const char* name : {"w.safetensors", "w.npy", "w.npz"}) {
    const fs::path file = make(dir / name);
    const std::uint64_t size = fs::file_size(file);
    const outcome o = in_child(
        [&] {
          const rt::tensor_file f = rt::read_tensor_file(file);
          if (f.tensors.size() != 1 || f.tensors[0].values.size() != count ||
              f.tensors[0].values[count - 1] != float((count - 1) % 1000))
            throw std::runtime_error("wrong values");
        },
        120);
    BOOST_TEST_CONTEXT(name) {
      BOOST_TEST(o.status == 0, o.message);
      BOOST_TEST(o.peak_rss <= size + 64 * MiB);
    }
    BOOST_TEST_MESSAGE(name << ": " << size / MiB << " MiB file loaded with peak RSS "
                            << o.peak_rss / MiB << " MiB");
    fs::remove(file);
  }
}

// ---------------------------------------------------------------------------------------------
// Formats kiln does not read, named as what they are.

BOOST_AUTO_TEST_CASE(a_pytorch_checkpoint_is_named_as_one) {
  temp_dir dir;
  // torch.save since 1.6: a zip of <name>/data.pkl, <name>/data/0, <name>/version.
  const bytes pickle = {0x80, 0x02, ']', 'q', 0x00, '.'};
  const bytes torch_zip = zip(
      {{"model/data.pkl", pickle}, {"model/data/0", bytes(16, 0)}, {"model/version", text("3\n")}});
  const std::string named =
      "a PyTorch pickle checkpoint (torch.save); kiln does not run "
      "pickles: save it with safetensors";
  for (const char* name : {"model.pt", "model.pth", "model.npz"}) {
    const fs::path file = write_file(dir / name, torch_zip);
    expect_refused(in_child([&] { rt::read_tensor_file(file); }), file, named);
    expect_refused(in_child([&] {
                     kiln::test::linear_softmax m({4}, 3, 8);
                     rt::load_trained(m, file);
                   }),
                   file, "safetensors.torch.save_file(torch.load(");
    expect_inspect_refuses(file, dir.path(), named);
  }
  // Before 1.6: a bare pickle.
  const fs::path legacy = write_file(dir / "old.pt", pickle);
  expect_refused(in_child([&] { rt::read_tensor_file(legacy); }), legacy, named);
  expect_inspect_refuses(legacy, dir.path(), named);
}

BOOST_AUTO_TEST_CASE(a_scipy_sparse_npz_is_named_as_one) {
  temp_dir dir;
  // scipy.sparse.save_npz of a 2 x 3 CSR matrix: format.npy holds '<U3' "csr".
  bytes csr = npy("{'descr': '<U3', 'fortran_order': False, 'shape': (), }");
  for (const char c : std::string("csr")) put_le(csr, std::uint8_t(c), 4);
  const std::vector<std::size_t> shape{2};
  const std::vector<float> values{1, 2};
  const bytes data = rt::serialize_npy(shape, values);
  const bytes sparse_npz = zip({{"indices.npy", data},
                                {"indptr.npy", data},
                                {"format.npy", csr},
                                {"shape.npy", data},
                                {"data.npy", data}});
  const fs::path file = write_file(dir / "m.npz", sparse_npz);
  const std::string named = "a SciPy sparse matrix (scipy.sparse.save_npz, csr format)";
  expect_refused(in_child([&] { rt::read_npz(file); }), file, named);
  expect_refused(in_child([&] { rt::read_dataset_file(file, {}, small_classifier()); }), file,
                 named);
  expect_inspect_refuses(file, dir.path(), named);
}

BOOST_AUTO_TEST_CASE(whitespace_separated_text_is_named_as_such) {
  temp_dir dir;
  for (const char* content : {"1.5 2 3 0\n4 5 6 1\n", "1\t2\t3\t0\n", "  0.5   7e-3  1 2\n"}) {
    const fs::path file = write_file(dir / "blanks.csv", text(content));
    const std::string named = "line 1: whitespace-separated text, not values separated by ','";
    expect_refused(in_child([&] { rt::read_csv(file); }), file, named);
    expect_refused(in_child([&] { rt::read_dataset_file(file, {}, small_classifier()); }), file,
                   named);
  }
  // A header of words is still a header.
  const fs::path header = write_file(dir / "h.csv", text("sepal length,width,a,label\n1,2,3,0\n"));
  BOOST_TEST(rt::read_csv(header, {.label_column = 3}).size() == 1u);
}

// ---------------------------------------------------------------------------------------------
// Writes that fail.

BOOST_AUTO_TEST_CASE(a_checkpoint_to_dev_full_or_a_failing_write_names_the_path) {
  temp_dir dir;
  kiln::test::linear_softmax m({1 << 12}, 4, 1);  // 64 KiB of weights
  // A device is never renamed over (as root it would be replaced by the checkpoint).
  expect_refused(in_child([&] {
                   rt::save_checkpoint("/dev/full", m, {{}, 1, 1});
                 }),
                 "/dev/full", "is a character device, not a regular file; nothing written");
  struct stat st;
  BOOST_TEST_REQUIRE(::stat("/dev/full", &st) == 0);
  BOOST_TEST(S_ISCHR(st.st_mode));
  // A write that fails midway (the file-size limit stands in for a full disk: EFBIG as ENOSPC):
  // one line naming the path, and the previous checkpoint untouched.
  const fs::path path = dir / "checkpoint.safetensors";
  rt::save_checkpoint(path, m, {{}, 7, 1});
  const std::string before = kiln::test::read_text(path);
  expect_refused(in_child([&] {
                   ::signal(SIGXFSZ, SIG_IGN);
                   const rlimit small{4096, 4096};
                   ::setrlimit(RLIMIT_FSIZE, &small);
                   rt::save_checkpoint(path, m, {{}, 8, 1});
                 }),
                 path, "File too large");
  BOOST_TEST((kiln::test::read_text(path) == before));
  BOOST_TEST(rt::read_checkpoint_metadata(rt::read_safetensors(path)).info.seed == 7u);
  int leftovers = 0;
  for (const auto& e : fs::directory_iterator(dir.path())) leftovers += e.path() != path;
  BOOST_TEST(leftovers == 0);
}
