// The compute engine (codegen/engine): oneDNN products against a double reference, bf16
// rounding, the bf16 plan (its one-line fallback on a CPU without bf16, its products reading the
// bf16 copy that the fused update writes, bit identity), chunks claimed by the team, and the
// team's straggler guard (a member held up mid-chunk: the next runs on the caller alone).
// CTest runs this twice: as is, and with DNNL_MAX_CPU_ISA=AVX2, where oneDNN sees no bf16
// instructions, so the fallback is tested on every CPU (tests/codegen/CMakeLists.txt).
#define BOOST_TEST_MODULE engine
#include <boost/test/unit_test.hpp>

#include <kiln/kiln.hpp>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "../support/bits.hpp"
#include "../support/data.hpp"
#include "../support/rounding.hpp"

using namespace kiln::dsl;
namespace en = kiln::engine;

namespace {

// Round to nearest, ties to even, written independently of the engine's vector code.
std::uint16_t round_bf16(float f) {
  std::uint32_t u;
  std::memcpy(&u, &f, 4);
  const std::uint32_t lower = u & 0xFFFFu, upper = u >> 16;
  if (lower > 0x8000u || (lower == 0x8000u && (upper & 1u))) return std::uint16_t(upper + 1);
  return std::uint16_t(upper);
}
float widen(std::uint16_t h) {
  const std::uint32_t u = std::uint32_t(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
float bf16_value(float f) { return widen(round_bf16(f)); }

// Everything written to stderr while f runs.
template <class F>
std::string stderr_of(F&& f) {
  std::fflush(stderr);
  char name[] = "/tmp/kiln_engine_stderrXXXXXX";
  const int fd = mkstemp(name);
  const int saved = dup(2);
  dup2(fd, 2);
  f();
  std::fflush(stderr);
  dup2(saved, 2);
  close(saved);
  std::string s;
  char buf[512];
  lseek(fd, 0, SEEK_SET);
  for (ssize_t r; (r = read(fd, buf, sizeof buf)) > 0;) s.append(buf, std::size_t(r));
  close(fd);
  unlink(name);
  return s;
}

constexpr auto linear = input<1, 4, 8> | flatten{} | dense{.units = 8} | softmax_cross_entropy{};
constexpr auto plan_f32 = training_plan{.optimizer = sgd{.lr = 0.1, .momentum = 0.9}, .batch = 16};
constexpr auto plan_bf16 = kiln::with_precision<plan_f32, kiln::bf16>;

constexpr auto cnn = input<1, 8, 8> | conv2d{.filters = 4, .kernel = 3, .pad = 1} | relu{} |
                     max_pool{.size = 2} | flatten{} | dense{.units = 16} | relu{} |
                     dense{.units = 4} | softmax_cross_entropy{};
constexpr auto cnn_bf16 =
    training_plan{.optimizer = adam{.lr = 1e-2}, .batch = 16, .precision = kiln::bf16};

template <auto Model, auto Plan>
std::vector<float> trained(int threads, const kiln::rt::dataset& data, double* loss = nullptr,
                           int epochs = 4) {
  auto t = kiln::compile<Model, Plan>({.seed = 3, .seed_set = true, .threads = threads});
  const auto h =
      t.fit(data, nullptr, {.epochs = epochs, .batch = 16, .seed = 3, .progress = false});
  if (loss) *loss = h.epochs.back().train_loss;
  return {t.parameters().begin(), t.parameters().end()};
}

}  // namespace

// First, so that the trainer's construction is the process's first question about bf16: the
// line is printed once, there.
BOOST_AUTO_TEST_CASE(a_bf16_plan_says_in_one_line_when_the_cpu_has_no_bf16) {
  const std::string said = stderr_of([] { kiln::compile<linear, plan_bf16>(); });
  if (en::has_bf16()) {
    BOOST_TEST(said.empty());
    BOOST_TEST((en::effective(en::precision::bf16) == en::precision::bf16));
  } else {
    BOOST_TEST(said.find("AVX512_BF16") != std::string::npos);
    BOOST_TEST(std::count(said.begin(), said.end(), '\n') == 1);
    BOOST_TEST((en::effective(en::precision::bf16) == en::precision::f32));
  }
  // Said once per process, not per trainer.
  BOOST_TEST(stderr_of([] { kiln::compile<linear, plan_bf16>(); }).empty());
}

BOOST_AUTO_TEST_CASE(rounding_to_bf16_is_to_nearest_ties_to_even) {
  // 1 + 2^-8 is halfway between 1 and 1 + 2^-7: ties to even (1); 1 + 3·2^-8 ties up to 1 + 2^-6.
  std::vector<float> x = {
      1.0f + 0x1p-8f, 1.0f + 3 * 0x1p-8f, 1.0f + 0x1p-8f + 0x1p-20f, -2.5f, 0.0f, -0.0f, 1e-40f,
      3.4e38f,        std::nanf("")};
  kiln::rt::rng r(5, 1);
  for (int i = 0; i < 1000; ++i) x.push_back(r.uniform(-100, 100));  // tails of every width
  std::vector<std::uint16_t> y(x.size());
  en::to_bf16(x.data(), y.data(), x.size());
  for (std::size_t i = 0; i + 1 < x.size(); ++i)
    if (!std::isnan(x[i])) BOOST_TEST(y[i] == round_bf16(x[i]), "at " << i << ": " << x[i]);
  BOOST_TEST(widen(y[0]) == 1.0f);
  BOOST_TEST(widen(y[1]) == 1.0f + 0x1p-6f);
  BOOST_TEST(widen(y[2]) == 1.0f + 0x1p-7f);
  BOOST_TEST(std::isnan(widen(y[8])));
  std::vector<float> back(x.size());
  en::from_bf16(y.data(), back.data(), y.size());
  for (std::size_t i = 0; i < 9; ++i)
    if (!std::isnan(x[i])) BOOST_TEST(back[i] == widen(y[i]));
}

// C = A·Bᵀ + bias with A [m×k] and B [n×k] row-major, and a strided, accumulating, varying-m
// product; f32 and bf16 inputs. Tolerance: every product of two inputs is exact in f32 (f32
// inputs here are small integers / 16, bf16 ones have 8-bit significands: 16 bits ≤ 24), so the
// only error is the f32 sum of k + 1 terms (k products and the bias, or the 1.0 accumulated onto)
// in oneDNN's order: ≤ sum_error(k + 1)·Σ|terms| (tests/support/rounding.hpp). The double
// reference is exact (multiples of 2⁻⁸ below 1200, plus a float bias: under 53 bits). Rows the
// run leaves alone stay 1.0 bit for bit.
BOOST_AUTO_TEST_CASE(products_match_a_double_reference) {
  for (const auto in : {en::precision::f32, en::precision::bf16}) {
    const auto used = en::effective(in);
    constexpr long m = 37, n = 50, k = 70;
    kiln::rt::rng r(9, 2);
    std::vector<float> a(m * k), b(n * k), bias(n), c(m * n, 0.0f);
    for (auto& v : a) v = std::round(r.uniform(-64, 64)) / 16;
    for (auto& v : b) v = std::round(r.uniform(-64, 64)) / 16;
    for (auto& v : bias) v = r.uniform(-1, 1);
    std::vector<std::uint16_t> ah(a.size()), bh(b.size());
    en::to_bf16(a.data(), ah.data(), a.size());
    en::to_bf16(b.data(), bh.data(), b.size());
    const bool half = used == en::precision::bf16;
    const void* ap = half ? static_cast<const void*>(ah.data()) : a.data();
    const void* bp = half ? static_cast<const void*>(bh.data()) : b.data();
    en::product p;  // C[m×n] = A[m×k]·Bᵀ (B read with swapped strides)
    p.m = m, p.n = n, p.k = k, p.a_row = k, p.b_row = 1, p.b_col = k, p.c_row = n, p.bias = true;
    p.in = used;
    const en::matmul mm(p, 2);
    mm.run(1, ap, bp, c.data(), bias.data());
    // The same with m varying (rows 0..m-1 of a product made for any m ≤ most), accumulating.
    en::product q = p;
    q.m = 0, q.most = m, q.bias = false, q.accumulate = true;
    const en::matmul acc(q, 1);
    std::vector<float> c2(m * n, 1.0f);
    acc.run(0, ap, bp, c2.data(), nullptr, m - 3);
    for (long i = 0; i < m; ++i)
      for (long j = 0; j < n; ++j) {
        double ref = 0, mag = 0;
        for (long l = 0; l < k; ++l) {
          const double t = double(half ? bf16_value(a[i * k + l]) : a[i * k + l]) *
                           double(half ? bf16_value(b[j * k + l]) : b[j * k + l]);
          ref += t, mag += std::fabs(t);
        }
        const double bound = kiln::test::sum_error(std::size_t(k + 1));
        BOOST_TEST(std::fabs(c[i * n + j] - (ref + bias[j])) <= bound * (mag + std::fabs(bias[j])));
        if (i < m - 3)
          BOOST_TEST(std::fabs(c2[i * n + j] - (1.0 + ref)) <= bound * (mag + 1));
        else
          BOOST_TEST(c2[i * n + j] == 1.0f);  // rows past the run's m untouched
      }
  }
}

// The convolution primitives (forward, input and weight gradients) against sums in double, for
// 11 samples (run as 8 + 2 + 1 by the engine), a padded and a strided shape, in f32 and bf16
// (inputs, weights and dy rounded to bf16 by the engine: the reference rounds them the same
// way). Each output is an f32 sum of its terms, in oneDNN's order: within sum_error(terms) of
// the exact one, relative to Σ|terms|.
BOOST_AUTO_TEST_CASE(convolutions_match_a_double_reference) {
  struct geometry {
    long c, h, w, f, k, stride, pad;
  };
  for (const auto in : {en::precision::f32, en::precision::bf16})
    for (const geometry g : {geometry{3, 7, 6, 5, 3, 1, 1}, geometry{2, 9, 8, 4, 3, 2, 0}}) {
      const auto used = en::effective(in);
      const bool half = used == en::precision::bf16;
      const long n = 11, ho = (g.h + 2 * g.pad - g.k) / g.stride + 1,
                 wo = (g.w + 2 * g.pad - g.k) / g.stride + 1;
      const long in_size = g.c * g.h * g.w, out_size = g.f * ho * wo, K = g.c * g.k * g.k;
      kiln::rt::rng r(11, 3);
      std::vector<float> x(n * in_size), w(g.f * K), dy(n * out_size);
      for (auto* v : {&x, &w, &dy})
        for (auto& e : *v) e = r.uniform(-2, 2);
      const en::convolution conv({.c = g.c,
                                  .h = g.h,
                                  .w = g.w,
                                  .f = g.f,
                                  .k = g.k,
                                  .stride = g.stride,
                                  .pad = g.pad,
                                  .ho = ho,
                                  .wo = wo,
                                  .in = used,
                                  .dx = true},
                                 2);
      std::vector<float> y(n * out_size), dx(n * in_size), dw(g.f * K, 1.0f);
      conv.forward(1, n, x.data(), w.data(), y.data());
      conv.backward(0, n, x.data(), w.data(), dy.data(), dx.data(), dw.data(), true);
      auto v = [&](const std::vector<float>& a, std::size_t i) {
        return double(half ? bf16_value(a[i]) : a[i]);
      };
      // The input sample s's pixel under output (i, j) and kernel offset (a, b), or -1 (padding).
      auto at = [&](long s, long ch, long i, long j, long a, long b) -> long {
        const long hi = i * g.stride + a - g.pad, wj = j * g.stride + b - g.pad;
        if (hi < 0 || hi >= g.h || wj < 0 || wj >= g.w) return -1;
        return ((s * g.c + ch) * g.h + hi) * g.w + wj;
      };
      std::vector<double> rdx(x.size(), 0), mdx(x.size(), 0), rdw(w.size(), 1), mdw(w.size(), 1);
      for (long s = 0; s < n; ++s)
        for (long f = 0; f < g.f; ++f)
          for (long i = 0; i < ho; ++i)
            for (long j = 0; j < wo; ++j) {
              const std::size_t o = std::size_t(((s * g.f + f) * ho + i) * wo + j);
              double ref = 0, mag = 0;
              for (long ch = 0; ch < g.c; ++ch)
                for (long a = 0; a < g.k; ++a)
                  for (long b = 0; b < g.k; ++b) {
                    const long q = at(s, ch, i, j, a, b);
                    if (q < 0) continue;
                    const std::size_t wi = std::size_t(((f * g.c + ch) * g.k + a) * g.k + b);
                    const double t = v(x, std::size_t(q)) * v(w, wi);
                    ref += t, mag += std::fabs(t);
                    const double d = v(dy, o) * v(w, wi), e = v(dy, o) * v(x, std::size_t(q));
                    rdx[std::size_t(q)] += d, mdx[std::size_t(q)] += std::fabs(d);
                    rdw[wi] += e, mdw[wi] += std::fabs(e);
                  }
              BOOST_TEST(std::fabs(y[o] - ref) <= kiln::test::sum_error(std::size_t(K)) * mag);
            }
      // dx: at most f·k·k terms per input pixel; dw: n·ho·wo terms and the 1 it starts from.
      for (std::size_t q = 0; q < x.size(); ++q)
        BOOST_TEST(std::fabs(dx[q] - rdx[q]) <=
                   kiln::test::sum_error(std::size_t(g.f * g.k * g.k)) * mdx[q]);
      for (std::size_t q = 0; q < w.size(); ++q)
        BOOST_TEST(std::fabs(dw[q] - rdw[q]) <=
                   kiln::test::sum_error(std::size_t(n * ho * wo + 1)) * mdw[q]);
    }
}

// The pooled runs of conv2d | relu | max_pool{2} (bias, ReLU and pool in oneDNN's blocked layout,
// the gradient unpooled there, in bf16 straight into diff_dst) against a plain reference: small
// integers everywhere, so every sum is exact in f32 and in bf16 and the comparison is exact;
// windows tie often (the first maximum in row-major order wins, as in the NCHW kernels). Odd
// sizes (an uncovered row or column), channels padded in the block (5) and two blocks (20);
// 11 samples (8 + 2 + 1 inside the engine); member 1 runs the forward, member 0 the backward,
// both from the weights' copies set_weights makes (convolutions_match_... runs without them).
BOOST_AUTO_TEST_CASE(pooled_convolutions_match_a_plain_reference) {
  struct geometry {
    long c, h, w, f;
  };
  for (const auto in : {en::precision::f32, en::precision::bf16})
    for (const geometry g : {geometry{3, 7, 6, 5}, geometry{2, 8, 9, 20}}) {
      BOOST_TEST_CONTEXT((in == en::precision::bf16 ? "bf16 " : "f32 ")
                         << g.c << "x" << g.h << "x" << g.w << " -> " << g.f) {
        const long n = 11, ph = g.h / 2, pw = g.w / 2, K = g.c * 9;
        const long in_size = g.c * g.h * g.w, pooled = g.f * ph * pw;
        kiln::rt::rng r(17, 5);
        auto integer = [&](int range) {
          return float(int(r.uniform() * float(2 * range + 1)) - range);
        };
        std::vector<float> x(n * in_size), w(g.f * K), bias(g.f), dy(n * pooled);
        for (auto* v : {&x, &w, &bias})
          for (auto& e : *v) e = integer(2);
        const en::convolution conv({.c = g.c,
                                    .h = g.h,
                                    .w = g.w,
                                    .f = g.f,
                                    .k = 3,
                                    .pad = 1,
                                    .ho = g.h,
                                    .wo = g.w,
                                    .in = en::effective(in),
                                    .dx = true,
                                    .pool = true},
                                   2);
        // Every x86 ISA oneDNN 2.6 has convolutions for blocks its output by channels.
        BOOST_TEST_REQUIRE(conv.pooled());
        std::vector<float> y(n * pooled), which(n * en::convolution::pooled_codes(g.f, g.h, g.w));
        // The runs read set_weights' copies, made again when the values change (as a layer
        // calls it before each pass): stale copies of other weights must not survive.
        std::vector<float> before(w.size(), 7.0f);
        conv.set_weights(before.data());
        conv.forward_pooled(1, n, x.data(), before.data(), bias.data(), y.data(), which.data());
        std::copy(w.begin(), w.end(), before.begin());
        conv.set_weights(before.data());
        conv.forward_pooled(1, n, x.data(), before.data(), bias.data(), y.data(), which.data());
        // The reference: z = x ⊛ w + bias, y = the first max of each window, then the ReLU.
        std::vector<double> z(n * g.f * g.h * g.w, 0.0);
        auto xi = [&](long s, long ch, long i, long j) -> long {
          return i < 0 || i >= g.h || j < 0 || j >= g.w ? -1 : ((s * g.c + ch) * g.h + i) * g.w + j;
        };
        auto wi = [&](long f, long ch, long a, long b) { return ((f * g.c + ch) * 3 + a) * 3 + b; };
        for (long s = 0; s < n; ++s)
          for (long f = 0; f < g.f; ++f)
            for (long i = 0; i < g.h; ++i)
              for (long j = 0; j < g.w; ++j) {
                double t = bias[std::size_t(f)];
                for (long ch = 0; ch < g.c; ++ch)
                  for (long a = 0; a < 3; ++a)
                    for (long b = 0; b < 3; ++b)
                      if (const long q = xi(s, ch, i + a - 1, j + b - 1); q >= 0)
                        t += double(x[std::size_t(q)]) * w[std::size_t(wi(f, ch, a, b))];
                z[std::size_t(((s * g.f + f) * g.h + i) * g.w + j)] = t;
              }
        std::vector<long> argmax(y.size());
        for (long s = 0; s < n; ++s)
          for (long f = 0; f < g.f; ++f)
            for (long i = 0; i < ph; ++i)
              for (long j = 0; j < pw; ++j) {
                long best = -1;
                for (long a = 0; a < 2; ++a)
                  for (long b = 0; b < 2; ++b) {
                    const long at = ((s * g.f + f) * g.h + 2 * i + a) * g.w + 2 * j + b;
                    if (best < 0 || z[std::size_t(at)] > z[std::size_t(best)]) best = at;
                  }
                const std::size_t o = std::size_t(((s * g.f + f) * ph + i) * pw + j);
                argmax[o] = best;
                BOOST_TEST(y[o] == std::max(z[std::size_t(best)], 0.0), "y at " << o);
              }
        // Backward from dy through the ReLU's mask (as the layer gives it): dz = dy at each
        // window's max where y > 0; dx = dz ⊛ᵀ w, dw = Σ dz ⊛ x.
        for (std::size_t o = 0; o < dy.size(); ++o) dy[o] = y[o] > 0 ? integer(3) : 0.0f;
        std::vector<double> dz(z.size(), 0.0), rdx(x.size(), 0.0), rdw(w.size(), 0.0);
        for (std::size_t o = 0; o < dy.size(); ++o) dz[std::size_t(argmax[o])] = dy[o];
        for (long s = 0; s < n; ++s)
          for (long f = 0; f < g.f; ++f)
            for (long i = 0; i < g.h; ++i)
              for (long j = 0; j < g.w; ++j) {
                const double d = dz[std::size_t(((s * g.f + f) * g.h + i) * g.w + j)];
                for (long ch = 0; ch < g.c; ++ch)
                  for (long a = 0; a < 3; ++a)
                    for (long b = 0; b < 3; ++b)
                      if (const long q = xi(s, ch, i + a - 1, j + b - 1); q >= 0) {
                        rdx[std::size_t(q)] += d * w[std::size_t(wi(f, ch, a, b))];
                        rdw[std::size_t(wi(f, ch, a, b))] += d * x[std::size_t(q)];
                      }
              }
        std::vector<float> dx(x.size()), dw(w.size());
        conv.backward_pooled(0, n, x.data(), before.data(), dy.data(), which.data(), dx.data(),
                             dw.data(), false);
        for (std::size_t q = 0; q < dx.size(); ++q) BOOST_TEST(dx[q] == rdx[q], "dx at " << q);
        for (std::size_t q = 0; q < dw.size(); ++q) BOOST_TEST(dw[q] == rdw[q], "dw at " << q);
      }
    }
}

// A bf16 trainer's forward reads the bf16 copy of the weights that the fused update wrote in
// its pass: after steps, its logits are those of the rounded weights and inputs (exact products,
// f32 sums: the tolerance above with k = 32 inputs). In the fallback, the f32 weights.
BOOST_AUTO_TEST_CASE(bf16_products_read_the_copy_the_update_writes) {
  const auto data = kiln::test::synthetic_classes(64, {1, 4, 8}, 8);
  auto t = kiln::compile<linear, plan_bf16>({.seed = 1, .seed_set = true});
  const auto b = kiln::test::first_batch(data, 16);
  t.begin_epoch(0, 4);
  for (int i = 0; i < 5; ++i) t.train_step(b);
  std::vector<float> logits(16 * 8);
  t.eval_step(b, logits.data());  // before parameters(), which makes the copy be redone
  const auto p = t.parameters();  // W [8×32], then b [8] (64-byte aligned)
  const bool half = en::has_bf16();
  const std::size_t bias_at = 256;
  for (int s = 0; s < 16; ++s)
    for (int u = 0; u < 8; ++u) {
      double ref = 0, mag = 0;
      for (int i = 0; i < 32; ++i) {
        const float x = b.x[s * 32 + i], w = p[std::size_t(u * 32 + i)];
        const double v = double(half ? bf16_value(x) : x) * double(half ? bf16_value(w) : w);
        ref += v, mag += std::fabs(v);
      }
      const double bias = p[bias_at + std::size_t(u)];
      const double tol = 34 * 0x1p-24 * (mag + std::fabs(bias));
      BOOST_TEST(std::fabs(logits[std::size_t(s * 8 + u)] - (ref + bias)) <= tol);
    }
}

// Same seed, threads and CPU: bit-identical weights, in bf16 as in f32, dense and conv; and the
// bf16 run learns about as well as the f32 one (both losses fall well below ln 8 ≈ 2.08).
BOOST_AUTO_TEST_CASE(bf16_training_is_bit_identical_and_learns) {
  const auto data = kiln::test::synthetic_classes(256, {1, 4, 8}, 8);
  double lf = 0, lh = 0;
  const auto f = trained<linear, plan_f32>(1, data, &lf);
  const auto h = trained<linear, plan_bf16>(1, data, &lh);
  BOOST_TEST(kiln::test::bitwise_equal(h, trained<linear, plan_bf16>(1, data)));
  BOOST_TEST(kiln::test::bitwise_equal(trained<linear, plan_bf16>(2, data),
                                       trained<linear, plan_bf16>(2, data)));
  BOOST_TEST(lf < 1.0);
  BOOST_TEST(lh < 1.0);
  const auto images = kiln::test::synthetic_classes(128, {1, 8, 8}, 4);
  double lc = 0;
  const auto c1 = trained<cnn, cnn_bf16>(2, images, &lc, 12);
  BOOST_TEST(kiln::test::bitwise_equal(c1, trained<cnn, cnn_bf16>(2, images, nullptr, 12)));
  BOOST_TEST(lc < 0.9 * std::log(4.0));  // it learns: a model that learns nothing stays at ln 4
}

// claim(): every chunk runs exactly once whichever members join; a member the OS holds back
// (here: one that sleeps in its chunk) leaves the rest to the others.
BOOST_AUTO_TEST_CASE(chunks_are_claimed_exactly_once) {
  for (const int threads : {1, 2, 3}) {
    kiln::rt::team team(threads);
    for (int round = 0; round < 500; ++round) {
      const long count = 1 + round % 23;
      std::vector<std::atomic<int>> hits(static_cast<std::size_t>(count));
      en::claim(&team, count, [&](int m, long j) {
        if (round % 100 == 7 && m == 1) usleep(2000);
        hits[std::size_t(j)].fetch_add(1);
      });
      for (long j = 0; j < count; ++j) BOOST_TEST(hits[std::size_t(j)].load() == 1);
    }
    // run() still runs every member.
    std::atomic<int> ran{0};
    team.run([&](int) { ran.fetch_add(1); });
    BOOST_TEST(ran.load() == threads);
  }
}

// straggler_guard's rule on given times: a wait longer than the caller's own part and than the
// floor is a stall; each stall doubles the runs that go on the caller alone, calm runs halve it.
BOOST_AUTO_TEST_CASE(a_stall_sends_the_next_runs_to_the_caller_alone) {
  using guard = kiln::rt::straggler_guard;
  guard g;
  const std::int64_t ms = 1'000'000;
  g.observe(50'000, 20'000);   // waited less than its own part
  g.observe(50'000, 900'000);  // longer, but under the floor: a wake-up, not a stall
  g.observe(5 * ms, 3 * ms);   // a slow run is not a stall
  BOOST_TEST(!g.solo());
  g.observe(50'000, 3 * ms);  // a member descheduled mid-chunk
  for (long r = 0; r < guard::first; ++r) BOOST_TEST(g.solo());
  BOOST_TEST(!g.solo());
  BOOST_TEST(g.solo_runs() == guard::first);
  BOOST_TEST(g.backoff() == 2 * guard::first);
  g.observe(50'000, 3 * ms);
  for (long r = 0; r < 2 * guard::first; ++r) BOOST_TEST(g.solo());
  BOOST_TEST(!g.solo());
  for (int k = 0; k < 20; ++k) g.observe(50'000, 3 * ms);  // capped
  BOOST_TEST(g.backoff() == guard::most);
  while (g.solo()) {
  }
  for (long r = 0; r < guard::calm; ++r) g.observe(50'000, 1'000);
  BOOST_TEST(g.backoff() == guard::most / 2);
}

// The team follows it: a run_some whose member sleeps in its part well past the caller's own
// part (twice as long as the caller took, and twice the floor) makes the next guard::first runs
// call f(0) alone; claim still runs every chunk exactly once in them. The caller itself may be
// descheduled between its part and the team's clock reading, which can hide the wait from the
// team on a loaded machine: the stall is staged again until the guard registers it (its backoff
// doubles), at most 20 times.
BOOST_AUTO_TEST_CASE(a_member_held_up_mid_chunk_leaves_the_next_runs_to_the_caller) {
  using guard = kiln::rt::straggler_guard;
  kiln::rt::team team(2);
  const auto clock = [] {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  };
  int attempts = 0;
  while (team.stragglers().backoff() == guard::first && attempts < 20) {
    ++attempts;
    std::atomic<bool> joined{false};
    std::atomic<long> own_ns{-1};
    // Member 1 must join: the caller's part waits for it (run_some closes the run only after
    // the caller's part returns), then returns and says how long it took.
    const std::int64_t t0 = clock();
    team.run_some([&](int m) {
      if (m == 0) {
        while (!joined.load()) std::this_thread::yield();
        own_ns.store(long(clock() - t0));
      } else {
        joined.store(true);
        while (own_ns.load() < 0) std::this_thread::yield();
        const long sleep_ns = std::max(2 * own_ns.load(), 2 * guard::floor_ns);
        std::this_thread::sleep_for(std::chrono::nanoseconds(sleep_ns));
      }
    });
  }
  BOOST_TEST_MESSAGE("stall registered after " << attempts << " staged stalls");
  BOOST_TEST_REQUIRE(team.stragglers().backoff() == 2 * guard::first);
  BOOST_TEST(team.stragglers().solo_runs() == 0);
  for (long r = 0; r < guard::first; ++r) {
    std::atomic<int> others{0};
    std::vector<std::atomic<int>> hits(5);
    en::claim(&team, 5, [&](int m, long j) {
      if (m != 0) others.fetch_add(1);
      hits[std::size_t(j)].fetch_add(1);
    });
    BOOST_TEST(others.load() == 0);
    for (auto& h : hits) BOOST_TEST(h.load() == 1);
  }
  BOOST_TEST(team.stragglers().solo_runs() == guard::first);
}
