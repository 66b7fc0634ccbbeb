// SHA-256 (FIPS 180-4), for the model zoo's checksums.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace kiln::rt {

class sha256 {
 public:
  sha256() noexcept;
  sha256& update(std::span<const std::uint8_t> bytes) noexcept;
  std::array<std::uint8_t, 32> digest() noexcept;  // ends the hash
  std::string hex_digest() noexcept;               // 64 lowercase hex digits

 private:
  void block(const std::uint8_t* p) noexcept;
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;  // bytes hashed
};

std::string sha256_hex(std::span<const std::uint8_t> bytes);

}  // namespace kiln::rt
