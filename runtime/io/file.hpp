// The one place where kiln opens a file for reading. Nothing but a regular file is ever read:
// the path is looked at (stat) so that a device is never opened at all, then opened with
// O_NONBLOCK (a FIFO does not wait for a writer) and the descriptor's own fstat decides (a file
// swapped for a FIFO between the two is refused too). Every reader, kiln-inspect's format
// detection and read_file() go through it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace kiln::rt::io {

class input_file {
 public:
  // Throws kiln::file_error "<path>: <problem>" for a missing file ("no such file"), one that
  // may not be read ("permission denied"), a directory ("is a directory, not a file"), a FIFO,
  // socket, character or block device ("is a FIFO, not a regular file").
  explicit input_file(const std::filesystem::path& path);
  ~input_file();
  input_file(input_file&& other) noexcept;
  input_file& operator=(input_file&&) = delete;
  input_file(const input_file&) = delete;

  const std::string& path() const noexcept { return path_; }
  std::uint64_t size() const noexcept { return size_; }  // fstat's, when opened
  int descriptor() const noexcept { return fd_; }

  // Up to n bytes at `offset` (fewer only where the file ends); throws on a read error.
  std::size_t read_at(std::uint64_t offset, void* dst, std::size_t n) const;
  // The whole file in one buffer of the size fstat gave (no buffer that grows as it reads).
  // Throws when the file is larger than `limit` or changed size while read.
  std::vector<std::uint8_t> read_all(std::uint64_t limit) const;

 private:
  std::string path_;
  int fd_ = -1;
  std::uint64_t size_ = 0;
};

// What a path is when it is not a regular file ("a FIFO", "a socket", "a character device",
// "a block device", "a directory"), or empty for a regular file or a path that does not exist.
std::string non_regular_kind(const std::filesystem::path& path);

}  // namespace kiln::rt::io
