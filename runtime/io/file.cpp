#include "kiln/runtime/io/file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include "kiln/runtime/error.hpp"

namespace kiln::rt::io {
namespace {

const char* kind_of(mode_t mode) noexcept {
  if (S_ISFIFO(mode)) return "a FIFO";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISDIR(mode)) return "a directory";
  if (!S_ISREG(mode)) return "not a regular file";
  return nullptr;
}

[[noreturn]] void refuse(const std::string& path, mode_t mode) {
  const std::string kind = kind_of(mode);
  if (S_ISDIR(mode)) throw file_error(path, "is a directory, not a file");
  if (kind == "not a regular file") throw file_error(path, "not a regular file");
  throw file_error(path, "is " + kind + ", not a regular file");
}

[[noreturn]] void cannot_open(const std::string& path, int error) {
  switch (error) {
    case ENOENT:
      throw file_error(path, "no such file");
    case ENOTDIR:
      throw file_error(path, "no such file (a folder on its path is a file)");
    case EACCES:
    case EPERM:
      throw file_error(path, "permission denied (the file exists but may not be read)");
    default:
      throw file_error(path, std::string("cannot open: ") + std::strerror(error));
  }
}

}  // namespace

input_file::input_file(const std::filesystem::path& path) : path_(path.string()) {
  // A look first, so that a device is never opened (opening one can act: a watchdog arms, a
  // tape rewinds)...
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) cannot_open(path_, errno);
  if (kind_of(st.st_mode)) refuse(path_, st.st_mode);
  // ...then the descriptor decides: O_NONBLOCK keeps a FIFO put in the file's place from
  // blocking the open, and fstat sees what was really opened.
  fd_ = ::open(path_.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd_ < 0) cannot_open(path_, errno);
  if (::fstat(fd_, &st) != 0) {
    const int error = errno;
    ::close(fd_);
    throw file_error(path_, std::string("cannot stat: ") + std::strerror(error));
  }
  if (kind_of(st.st_mode)) {
    ::close(fd_);
    refuse(path_, st.st_mode);
  }
  size_ = static_cast<std::uint64_t>(st.st_size);
}

input_file::~input_file() {
  if (fd_ >= 0) ::close(fd_);
}

input_file::input_file(input_file&& other) noexcept
    : path_(std::move(other.path_)), fd_(std::exchange(other.fd_, -1)), size_(other.size_) {}

std::size_t input_file::read_at(std::uint64_t offset, void* dst, std::size_t n) const {
  auto* p = static_cast<std::uint8_t*>(dst);
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::pread(fd_, p + got, n - got, static_cast<off_t>(offset + got));
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) throw file_error(path_, std::string("read error: ") + std::strerror(errno));
    if (r == 0) break;
    got += static_cast<std::size_t>(r);
  }
  return got;
}

std::vector<std::uint8_t> input_file::read_all(std::uint64_t limit) const {
  if (size_ > limit)
    throw file_error(path_, "larger than the " + std::to_string(limit) +
                                "-byte limit for this format (" + std::to_string(size_) +
                                " bytes)");
  std::vector<std::uint8_t> out(static_cast<std::size_t>(size_));
  if (read_at(0, out.data(), out.size()) != out.size())
    throw file_error(path_, "truncated while reading (did the file change?)");
  std::uint8_t more;
  if (read_at(size_, &more, 1) != 0)
    throw file_error(path_, "grew while reading (did the file change?)");
  return out;
}

std::string non_regular_kind(const std::filesystem::path& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) return {};
  const char* kind = kind_of(st.st_mode);
  return kind ? kind : "";
}

}  // namespace kiln::rt::io
