// A small, portable, seedable generator. std::shuffle and the std distributions differ between
// standard libraries; kiln's results must not, so everything random goes through this.
#pragma once

#include <cstdint>
#include <span>
#include <utility>

namespace kiln::rt {

// xoshiro256** seeded through splitmix64; `stream` separates independent uses of one seed
// (weight init, shuffling, dropout masks, augmentation, ...).
class rng {
 public:
  explicit rng(std::uint64_t seed = 0, std::uint64_t stream = 0) noexcept {
    std::uint64_t x = seed ^ (0x9E3779B97F4A7C15ull * (stream + 1));
    for (auto& w : s_) w = splitmix(x);
  }

  std::uint64_t next() noexcept {
    const std::uint64_t r = rotl(s_[1] * 5, 7) * 9, t = s_[1] << 17;
    s_[2] ^= s_[0], s_[3] ^= s_[1], s_[1] ^= s_[2], s_[0] ^= s_[3], s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return r;
  }
  // Uniform in [0, 1) with 24 random bits: every value is exactly representable as a float.
  float uniform() noexcept { return static_cast<float>(next() >> 40) * 0x1.0p-24f; }
  float uniform(float lo, float hi) noexcept { return lo + (hi - lo) * uniform(); }
  // Uniform integer in [0, n), unbiased (Lemire's multiply-and-reject).
  std::uint64_t below(std::uint64_t n) noexcept {
    for (;;) {
      const unsigned __int128 m = static_cast<unsigned __int128>(next()) * n;
      const auto low = static_cast<std::uint64_t>(m);
      if (low >= n || low >= (0 - n) % n) return static_cast<std::uint64_t>(m >> 64);
    }
  }

  // The whole state, for checkpoints.
  const std::uint64_t* state() const noexcept { return s_; }
  void set_state(const std::uint64_t (&s)[4]) noexcept {
    for (int i = 0; i < 4; ++i) s_[i] = s[i];
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) noexcept { return (x << k) | (x >> (64 - k)); }
  static std::uint64_t splitmix(std::uint64_t& x) noexcept {
    std::uint64_t z = (x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  std::uint64_t s_[4];
};

// Fisher-Yates with rng::below: the same permutation on every platform.
template <class T>
void shuffle(std::span<T> v, rng& r) noexcept {
  for (std::size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[r.below(i)]);
}

// Streams kiln uses, so that adding a new use never shifts an old one.
namespace streams {
inline constexpr std::uint64_t init = 0, shuffle = 1, dropout = 2, augment = 3, subset = 4;
}

// The generator of one epoch of one stream. It depends only on (seed, stream, epoch), so epoch k
// draws the same numbers whether or not epochs before it ran (resuming from a checkpoint).
inline rng epoch_rng(std::uint64_t seed, std::uint64_t stream, std::uint64_t epoch) noexcept {
  // A generator keyed by (seed, epoch) -- far from the stream ids above -- seeds the epoch's one.
  constexpr std::uint64_t epoch_keys = 0x8000'0000'0000'0000ull;
  return rng(rng(seed, epoch_keys + epoch).next(), stream);
}

}  // namespace kiln::rt
