// The 2×2 pooling kernels (kernels/pool.hpp) on every compiled Highway target against a plain
// reference, bit for bit: every width from 1 to 40 and height from 1 to 9, 1 to 3 planes; the
// blocked ones (oneDNN's layouts) against the NCHW ones on the same values. Rows
// no wider than a vector take one full vector that reads and writes past the row's end (later
// rows rewrite what it wrote there), the call's last rows the exact ladder; guard values before
// and after each buffer must survive. The values are small integers: windows tie often (the
// first max in row-major order wins, as in PyTorch), and every sum is exact in any order.
#define BOOST_TEST_MODULE layers_pool_kernels
#include <boost/test/unit_test.hpp>

#include <kiln/codegen/dispatch.hpp>
#include <kiln/codegen/kernels/conv.hpp>
#include <kiln/codegen/kernels/pool.hpp>
#include <kiln/core/rng.hpp>

#include <hwy/targets.h>

#include "../support/every_target.hpp"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

namespace k = kiln::kernels;

namespace {

constexpr std::size_t guard = 40;  // floats before and after each buffer
constexpr float sentinel = -12345.0f;

// n floats between guards; v points at the first.
struct buffer {
  std::vector<float> storage;
  float* v;
  std::size_t n;
  explicit buffer(std::size_t size, float fill = sentinel)
      : storage(size + 2 * guard, sentinel), v(storage.data() + guard), n(size) {
    std::fill(v, v + n, fill);
  }
  // Integers in [-range, range] (ties, and sums exact in float).
  void integers(std::uint64_t seed, int range) {
    kiln::rt::rng r(seed, 11);
    for (std::size_t i = 0; i < n; ++i)
      v[i] = float(int(r.uniform() * float(2 * range + 1)) - range);
  }
  bool guards_intact() const {
    for (std::size_t i = 0; i < guard; ++i)
      if (storage[i] != sentinel || storage[guard + n + i] != sentinel) return false;
    return true;
  }
  std::vector<float> values() const { return {v, v + n}; }
};

struct shape {
  std::size_t planes;
  int h, w;
  std::size_t in() const { return planes * std::size_t(h) * std::size_t(w); }
  std::size_t out() const { return planes * std::size_t(h / 2) * std::size_t(w / 2); }
  // Input index of window o's corner c (0: top left, 1: top right, 2, 3: the row below).
  std::size_t corner(std::size_t o, int c) const {
    const std::size_t wo = std::size_t(w / 2), ho = std::size_t(h / 2);
    const std::size_t p = o / (ho * wo), i = o / wo % ho, j = o % wo;
    return (p * std::size_t(h) + 2 * i + std::size_t(c / 2)) * std::size_t(w) + 2 * j +
           std::size_t(c % 2);
  }
};

template <class F>
void on_every_shape(F f) {
  for (std::size_t planes = 1; planes <= 3; ++planes)
    for (int h = 1; h <= 9; ++h)
      for (int w = 1; w <= 40; ++w) {
        const shape s{planes, h, w};
        BOOST_TEST_CONTEXT(planes << " × " << h << " × " << w) { f(s); }
      }
}

// Forward references: the first max of the window in row-major order and its corner; the mean.
void reference_max(const shape& s, const float* x, std::vector<float>& y,
                   std::vector<float>& which) {
  y.assign(s.out(), 0);
  which.assign(s.out(), 0);
  for (std::size_t o = 0; o < s.out(); ++o) {
    int best = 0;
    for (int c = 1; c < 4; ++c)
      if (x[s.corner(o, c)] > x[s.corner(o, best)]) best = c;
    y[o] = x[s.corner(o, best)];
    which[o] = float(best);
  }
}

// dx: dy at each window's max (where `live`), 0 everywhere else, uncovered cells included.
std::vector<float> reference_unpool(const shape& s, const std::vector<float>& which,
                                    const float* dy, const float* live) {
  std::vector<float> dx(s.in(), 0.0f);
  for (std::size_t o = 0; o < s.out(); ++o)
    if (!live || live[o] > 0) dx[s.corner(o, int(which[o]))] = dy[o];
  return dx;
}

}  // namespace

BOOST_AUTO_TEST_CASE(max_pool_matches_the_reference_at_every_width) {
  kiln::test::on_every_target([] {
    on_every_shape([](const shape& s) {
      buffer x(s.in()), y(s.out()), which(s.out()), dy(s.out()), relu_y(s.out());
      x.integers(s.in() + 7 * std::size_t(s.w), 2);
      dy.integers(s.out() + 3, 5);
      relu_y.integers(s.out() + 5, 1);  // about a third of the windows let nothing through
      k::max_pool_2x2(x.v, s.planes, s.h, s.w, y.v, which.v);
      std::vector<float> ry, rwhich;
      reference_max(s, x.v, ry, rwhich);
      BOOST_TEST(y.values() == ry, boost::test_tools::per_element());
      BOOST_TEST(which.values() == rwhich, boost::test_tools::per_element());

      buffer dx(s.in(), 99.0f);  // every cell must be written
      k::max_pool_2x2_backward(which.v, dy.v, s.planes, s.h, s.w, dx.v);
      BOOST_TEST(dx.values() == reference_unpool(s, rwhich, dy.v, nullptr),
                 boost::test_tools::per_element());

      buffer dxr(s.in(), 99.0f);
      std::vector<float> sums(s.planes + 1, 0.5f), expect_sums(s.planes + 1, 0.5f);
      k::max_pool_2x2_backward_relu(which.v, relu_y.v, dy.v, s.planes, s.h, s.w, dxr.v,
                                    sums.data());
      BOOST_TEST(dxr.values() == reference_unpool(s, rwhich, dy.v, relu_y.v),
                 boost::test_tools::per_element());
      const std::size_t plane = s.out() / s.planes;
      for (std::size_t o = 0; o < s.out(); ++o)
        if (relu_y.v[o] > 0) expect_sums[o / plane] += dy.v[o];
      BOOST_TEST(sums == expect_sums, boost::test_tools::per_element());  // the last one untouched

      for (const buffer* b : {&x, &y, &which, &dy, &relu_y, &dx, &dxr})
        BOOST_TEST(b->guards_intact());
    });
  });
}

BOOST_AUTO_TEST_CASE(avg_pool_matches_the_reference_at_every_width) {
  kiln::test::on_every_target([] {
    on_every_shape([](const shape& s) {
      buffer x(s.in()), y(s.out()), dy(s.out());
      x.integers(s.in() + 11, 3);
      dy.integers(s.out() + 13, 4);
      k::avg_pool_2x2(x.v, s.planes, s.h, s.w, y.v);
      std::vector<float> ry(s.out());
      for (std::size_t o = 0; o < s.out(); ++o)
        ry[o] = (x.v[s.corner(o, 0)] + x.v[s.corner(o, 1)] + x.v[s.corner(o, 2)] +
                 x.v[s.corner(o, 3)]) *
                0.25f;
      BOOST_TEST(y.values() == ry, boost::test_tools::per_element());

      buffer dx(s.in(), 99.0f);
      k::avg_pool_2x2_backward(dy.v, s.planes, s.h, s.w, dx.v);
      std::vector<float> rdx(s.in(), 0.0f);
      for (std::size_t o = 0; o < s.out(); ++o)
        for (int c = 0; c < 4; ++c) rdx[s.corner(o, c)] = dy.v[o] * 0.25f;
      BOOST_TEST(dx.values() == rdx, boost::test_tools::per_element());

      for (const buffer* b : {&x, &y, &dy, &dx}) BOOST_TEST(b->guards_intact());
    });
  });
}

namespace {

// f32 → bf16, nearest with ties to even (the values here are small integers: exact).
std::uint16_t to_bf16(float f) {
  std::uint32_t bits;
  std::memcpy(&bits, &f, 4);
  return std::uint16_t((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
}

// NCHW (channels × h × w) into a layout blocked by `block` channels (groups × h × w × block),
// the channels past `channels` zero.
std::vector<float> blocked(const float* x, std::size_t channels, std::size_t plane,
                           std::size_t block) {
  const std::size_t groups = (channels + block - 1) / block;
  std::vector<float> out(groups * plane * block, 0.0f);
  for (std::size_t c = 0; c < channels; ++c)
    for (std::size_t p = 0; p < plane; ++p)
      out[((c / block) * plane + p) * block + c % block] = x[c * plane + p];
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(blocked_pools_match_the_nchw_kernels) {
  // conv2d | relu | max_pool{2} in oneDNN's blocked layouts: the bias, the ReLU and the pool on
  // the convolution's output, and the unpooling of the pooled gradient, against
  // add_channel_bias_relu + max_pool_2x2 and max_pool_2x2_backward on the same values (the same
  // window wins wherever the output is positive; the gradient reaching a window whose output is
  // 0 is 0 after the ReLU's mask, so the codes there do not matter).
  kiln::test::on_every_target([] {
    for (const std::size_t block : {4, 8, 16})
      for (const std::size_t channels : {1, 3, 16, 20})
        for (const int h : {1, 2, 5, 8})
          for (const int w : {1, 2, 7, 14}) {
            BOOST_TEST_CONTEXT("block " << block << ", " << channels << " × " << h << " × " << w) {
              const shape s{channels, h, w};
              const std::size_t plane = std::size_t(h) * std::size_t(w);
              const std::size_t pooled = s.out() / channels;
              const std::size_t groups = (channels + block - 1) / block;
              buffer x(s.in()), bias(channels), dy(s.out());
              x.integers(plane * channels + block, 3);
              bias.integers(channels + 1, 1);
              dy.integers(s.out() + 2, 5);
              // The NCHW kernels: the ReLU's output, its pool, the unpooled masked gradient.
              std::vector<float> y = x.values(), py(s.out()), which(s.out()), dx(s.in());
              k::add_channel_bias_relu(y.data(), bias.v, channels, plane);
              k::max_pool_2x2(y.data(), channels, h, w, py.data(), which.data());
              std::vector<float> masked(s.out());
              for (std::size_t o = 0; o < s.out(); ++o) masked[o] = py[o] > 0 ? dy.v[o] : 0.0f;
              k::max_pool_2x2_backward(which.data(), masked.data(), channels, h, w, dx.data());

              std::vector<float> padded_bias(groups * block, 0.0f);
              std::copy(bias.v, bias.v + channels, padded_bias.begin());
              const std::vector<float> xb = blocked(x.v, channels, plane, block);
              buffer pyb(groups * pooled * block), codes(groups * pooled * block);
              k::bias_relu_max_pool_2x2_blocked(xb.data(), padded_bias.data(), 1, groups, block, h,
                                                w, pyb.v, codes.v);
              const std::vector<float> expect = blocked(py.data(), channels, pooled, block);
              for (std::size_t i = 0; i < groups * pooled * block; ++i)
                if (i % block + (i / (pooled * block)) * block < channels)  // not padding
                  BOOST_TEST(pyb.v[i] == expect[i], "pooled " << i);

              const std::vector<float> mb = blocked(masked.data(), channels, pooled, block);
              buffer dxb(groups * plane * block, 99.0f);
              k::max_unpool_2x2_blocked(codes.v, mb.data(), groups, block, h, w, dxb.v);
              const std::vector<float> expect_dx = blocked(dx.data(), channels, plane, block);
              BOOST_TEST(dxb.values() == expect_dx, boost::test_tools::per_element());
              // The same unpooled into bf16 (a bf16 plan's diff_dst): each value rounded once.
              std::vector<std::uint16_t> dxh(groups * plane * block + 1, 0x7FC1);
              k::max_unpool_2x2_blocked(codes.v, mb.data(), groups, block, h, w, dxh.data());
              for (std::size_t i = 0; i < expect_dx.size(); ++i)
                BOOST_TEST(dxh[i] == to_bf16(expect_dx[i]), "bf16 " << i);
              BOOST_TEST(dxh.back() == 0x7FC1);  // nothing past the end
              for (const buffer* b : {&pyb, &codes, &dxb}) BOOST_TEST(b->guards_intact());
            }
          }
  });
}
