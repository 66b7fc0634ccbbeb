// The products of kiln's benchmark models, one thread, through each engine: oneDNN f32 (what
// kiln uses), oneDNN with bf16 inputs (bf16 plans) and OpenBLAS sgemm (what kiln used before),
// interleaved shape by shape and timed in the thread's CPU time (steady on a loaded machine), the
// median of `--repeats` rounds. It is the measurement behind "OpenBLAS only where faster":
// a shape where OpenBLAS wins shows a ratio below 1 in the last column. Then the CNN's
// convolutions as its fused conv2d | relu | max_pool{2} layers run them through the engine
// (engine::convolution's pooled runs: oneDNN's direct convolution on 8 samples a call, the bias,
// ReLU and pool in its blocked layout, the reorders from and to kiln's NCHW included), f32 and
// bf16: how far bf16 can take the CNN's epoch.
//
//   gemm_probe [--repeats 9]
#include <kiln/codegen/engine/conv.hpp>
#include <kiln/codegen/engine/matmul.hpp>
#include <kiln/codegen/gemm.hpp>
#include <time.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

namespace en = kiln::engine;

double cpu_now() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return double(t.tv_sec) + 1e-9 * double(t.tv_nsec);
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// C[m×n] = A[m×k]·B[k×n] in the layouts the trainer's layers use (transposes as strides).
struct shape {
  const char* what;
  long m, n, k;
  bool at, bt;  // A read transposed (stored [k×m]), B read transposed (stored [n×k])
};

// The MLP (batch 64, 784-256-128-10): forward x·Wᵀ, dW = dyᵀ·x, dx = dy·W; and 512³.
const shape shapes[] = {
    {"mlp fc1 forward", 64, 256, 784, false, true}, {"mlp fc1 dW", 256, 784, 64, true, false},
    {"mlp fc2 forward", 64, 128, 256, false, true}, {"mlp fc2 dW", 128, 256, 64, true, false},
    {"mlp fc2 dx", 64, 256, 128, false, false},     {"512^3", 512, 512, 512, false, false},
};

// The peer CNN's convolutions (3×3, padding 1): conv1 1→16 on 28×28 (no input gradient: the
// model's first layer), conv2 16→32 on 14×14.
struct conv {
  const char* what;
  long c, hw, f;
  bool dx;
};
const conv convs[] = {{"cnn conv1 1->16", 1, 28, 16, false},
                      {"cnn conv2 16->32", 16, 14, 32, true}};

en::product product_of(const shape& s, en::precision in) {
  en::product p;
  p.m = s.m, p.n = s.n, p.k = s.k, p.in = in, p.c_row = s.n;
  if (s.at)
    p.a_row = 1, p.a_col = s.m;
  else
    p.a_row = s.k;
  if (s.bt)
    p.b_row = 1, p.b_col = s.k;
  else
    p.b_row = s.n;
  return p;
}

void blas(const shape& s, const float* a, const float* b, float* c) {
  cblas_sgemm(CblasRowMajor, s.at ? CblasTrans : CblasNoTrans, s.bt ? CblasTrans : CblasNoTrans,
              int(s.m), int(s.n), int(s.k), 1.0f, a, s.at ? int(s.m) : int(s.k), b,
              s.bt ? int(s.k) : int(s.n), 0.0f, c, int(s.n));
}

// Seconds per product: the median over rounds of the mean of enough calls for ~2 ms.
template <class F>
double seconds(F&& f, long flop, std::vector<double>& out) {
  const int calls = int(std::max(1L, 2'000'000'000L / 100 / std::max(flop, 1L)));
  f();
  const double t0 = cpu_now();
  for (int i = 0; i < calls; ++i) f();
  out.push_back((cpu_now() - t0) / calls);
  return out.back();
}

}  // namespace

int main(int argc, char** argv) {
  int repeats = 9;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    if (flag == "--repeats" && i + 1 < argc && std::atoi(argv[i + 1]) > 0) {
      repeats = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: gemm_probe [--repeats 9]\n");
      return 2;
    }
  }
  kiln::codegen::single_threaded_blas();
  const auto half = en::effective(en::precision::bf16);
  std::printf("GFLOP/s, 1 thread, CPU time, median of %d%s\n", repeats,
              half == en::precision::bf16 ? "" : " (no bf16 on this CPU: its column is f32)");
  std::printf("%-18s %5s %5s %5s  %8s %8s %8s  %13s\n", "product", "m", "n", "k", "oneDNN", "bf16",
              "OpenBLAS", "oneDNN/BLAS");
  for (const shape& s : shapes) {
    std::vector<float> a(std::size_t(s.m * s.k), 0.5f), b(std::size_t(s.k * s.n), 0.25f),
        c(std::size_t(s.m * s.n));
    std::vector<std::uint16_t> ah(a.size()), bh(b.size());
    en::to_bf16(a.data(), ah.data(), a.size());
    en::to_bf16(b.data(), bh.data(), b.size());
    const en::matmul f32(product_of(s, en::precision::f32), 1);
    const en::matmul bf(product_of(s, half), 1);
    const bool h = half == en::precision::bf16;
    const void* ab = h ? static_cast<const void*>(ah.data()) : a.data();
    const void* bb = h ? static_cast<const void*>(bh.data()) : b.data();
    const long flop = 2 * s.m * s.n * s.k;
    std::vector<double> tf, th, tb;
    for (int r = 0; r < repeats; ++r) {  // interleaved: the machine's load is shared alike
      seconds([&] { f32.run(0, a.data(), b.data(), c.data()); }, flop, tf);
      seconds([&] { bf.run(0, ab, bb, c.data()); }, flop, th);
      seconds([&] { blas(s, a.data(), b.data(), c.data()); }, flop, tb);
    }
    const double gf = double(flop) / median(tf) / 1e9, gh = double(flop) / median(th) / 1e9,
                 gb = double(flop) / median(tb) / 1e9;
    std::printf("%-18s %5ld %5ld %5ld  %8.1f %8.1f %8.1f  %13.2f\n", s.what, s.m, s.n, s.k, gf, gh,
                gb, gf / gb);
  }
  std::printf("oneDNN f32 implementation at 512^3: %s\n",
              en::matmul(product_of(shapes[5], en::precision::f32), 1).implementation().c_str());

  // Convolutions: forward, and backward (weights, and data but for conv1) in one engine call.
  constexpr long n = en::convolution::most;
  std::printf(
      "\nconv2d | relu | max_pool{2} through the engine, %ld samples a call, the pool and the "
      "reorders included: GFLOP/s of the convolution\n",
      n);
  std::printf("%-18s  %8s %8s %8s  %8s %8s %8s\n", "convolution", "fwd f32", "fwd bf16", "time",
              "bwd f32", "bwd bf16", "time");
  for (const conv& v : convs) {
    const en::conv_shape f32{.c = v.c,
                             .h = v.hw,
                             .w = v.hw,
                             .f = v.f,
                             .k = 3,
                             .pad = 1,
                             .ho = v.hw,
                             .wo = v.hw,
                             .in = en::precision::f32,
                             .dx = v.dx,
                             .pool = true};
    en::conv_shape h16 = f32;
    h16.in = half;
    const en::convolution cf(f32, 1), ch(h16, 1);
    if (!cf.pooled() || !ch.pooled()) {
      std::printf("%-18s  oneDNN's layout here is not blocked by channels: no pooled runs\n",
                  v.what);
      continue;
    }
    std::vector<float> x(std::size_t(n * v.c * v.hw * v.hw), 0.5f),
        y(std::size_t(n * v.f * v.hw * v.hw / 4)), dy(y.size(), 0.25f),
        w(std::size_t(v.f * v.c * 9)), dw(w.size()), dx(x.size()), bias(std::size_t(v.f), 0.1f),
        which(std::size_t(n * en::convolution::pooled_codes(v.f, v.hw, v.hw)));
    for (std::size_t i = 0; i < w.size(); ++i) w[i] = float(i % 7) * 0.1f - 0.3f;
    const long flop = 2 * n * v.f * v.hw * v.hw * v.c * 9;
    const long back = (v.dx ? 2 : 1) * flop;
    float* dxp = v.dx ? dx.data() : nullptr;
    std::vector<double> t[4];
    for (int r = 0; r < repeats; ++r) {
      auto forward = [&](const en::convolution& e) {
        e.forward_pooled(0, n, x.data(), w.data(), bias.data(), y.data(), which.data());
      };
      auto backward = [&](const en::convolution& e) {
        e.backward_pooled(0, n, x.data(), w.data(), dy.data(), which.data(), dxp, dw.data(), false);
      };
      seconds([&] { forward(cf); }, flop, t[0]);
      seconds([&] { forward(ch); }, flop, t[1]);
      seconds([&] { backward(cf); }, back, t[2]);
      seconds([&] { backward(ch); }, back, t[3]);
    }
    const double ff = double(flop) / median(t[0]) / 1e9, fh = double(flop) / median(t[1]) / 1e9,
                 bf = double(back) / median(t[2]) / 1e9, bh = double(back) / median(t[3]) / 1e9;
    std::printf("%-18s  %8.1f %8.1f %8.2f  %8.1f %8.1f %8.2f\n", v.what, ff, fh, ff / fh, bf, bh,
                bf / bh);
  }
  std::printf("(time: the bf16 call's time / the f32 call's)\n");
}
