// The measurement behind kiln's activation layout (README, "Layout: NCHW"): one conv layer's
// forward and backward over a batch of 64, per sample (im2col + OpenBLAS), in NCHW
// (column matrix [C·k·k][H·W], y = W·col) and in NHWC (row matrix [H·W][k·k·C], y = col·Wᵀ), for
// the PyTorch peer CNN's two convolutions. Standalone:
//   g++ -O3 -march=native -std=c++20 scripts/conv_layout_bench.cpp -lopenblas && ./a.out
#include <cblas.h>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <vector>
#include <algorithm>
#include <functional>
static double tm(std::function<void()> f) { double b = 1e9; for (int r = 0; r < 30; ++r) { auto t0 = std::chrono::steady_clock::now(); f(); b = std::min(b, std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count()); } return b * 1e3; }
struct conv { int N, C, H, W, F, k, p; };
// one sample, NCHW, col [C*k*k][H*W] (stride 1, same padding)
void im2col_c(const conv& s, const float* x, float* col) {
  const int H = s.H, W = s.W, P = H * W;
  for (int c = 0; c < s.C; ++c) for (int ki = 0; ki < s.k; ++ki) for (int kj = 0; kj < s.k; ++kj) {
    float* row = col + ((c * s.k + ki) * s.k + kj) * P; const int dj = kj - s.p, di = ki - s.p;
    const float* xp = x + c * P;
    const int j0 = std::max(0, -dj), j1 = std::min(W, W - dj);
    for (int i = 0; i < H; ++i) {
      float* o = row + i * W; const int hi = i + di;
      if (hi < 0 || hi >= H) { std::memset(o, 0, W * 4); continue; }
      for (int j = 0; j < j0; ++j) o[j] = 0;
      std::memcpy(o + j0, xp + hi * W + j0 + dj, (j1 - j0) * 4);
      for (int j = j1; j < W; ++j) o[j] = 0;
    }
  }
}
void col2im_c(const conv& s, const float* col, float* x) {
  const int H = s.H, W = s.W, P = H * W;
  std::memset(x, 0, s.C * P * 4);
  for (int c = 0; c < s.C; ++c) for (int ki = 0; ki < s.k; ++ki) for (int kj = 0; kj < s.k; ++kj) {
    const float* row = col + ((c * s.k + ki) * s.k + kj) * P; const int dj = kj - s.p, di = ki - s.p;
    float* xp = x + c * P;
    const int j0 = std::max(0, -dj), j1 = std::min(W, W - dj);
    for (int i = 0; i < H; ++i) {
      const int hi = i + di; if (hi < 0 || hi >= H) continue;
      const float* o = row + i * W; float* d = xp + hi * W + dj;
      for (int j = j0; j < j1; ++j) d[j] += o[j];
    }
  }
}
// NHWC one sample: col [P][k*k*C]
void im2col_h(const conv& s, const float* x, float* col) {
  const int K = s.C * s.k * s.k;
  for (int i = 0; i < s.H; ++i) for (int j = 0; j < s.W; ++j) {
    float* o = col + (i * s.W + j) * K;
    for (int ki = 0; ki < s.k; ++ki) { int hi = i + ki - s.p;
      for (int kj = 0; kj < s.k; ++kj, o += s.C) { int wj = j + kj - s.p;
        if (hi < 0 || hi >= s.H || wj < 0 || wj >= s.W) std::memset(o, 0, s.C * 4);
        else std::memcpy(o, x + (hi * s.W + wj) * s.C, s.C * 4); } }
  }
}
void col2im_h(const conv& s, const float* col, float* x) {
  const int K = s.C * s.k * s.k;
  std::memset(x, 0, s.C * s.H * s.W * 4);
  for (int i = 0; i < s.H; ++i) for (int j = 0; j < s.W; ++j) {
    const float* o = col + (i * s.W + j) * K;
    for (int ki = 0; ki < s.k; ++ki) { int hi = i + ki - s.p;
      for (int kj = 0; kj < s.k; ++kj, o += s.C) { int wj = j + kj - s.p;
        if (hi < 0 || hi >= s.H || wj < 0 || wj >= s.W) continue;
        float* d = x + (hi * s.W + wj) * s.C; for (int c = 0; c < s.C; ++c) d[c] += o[c]; } }
  }
}
int main() {
  openblas_set_num_threads(1);
  for (auto [s, dx] : {std::pair{conv{64, 1, 28, 28, 16, 3, 1}, false}, std::pair{conv{64, 16, 14, 14, 32, 3, 1}, true}}) {
    const int P = s.H * s.W, K = s.C * s.k * s.k;
    std::vector<float> x((size_t)s.N * s.C * P, 0.5f), col((size_t)K * P), y((size_t)s.N * s.F * P), w((size_t)s.F * K, 0.01f), gw(w.size()), gx(x.size()), dy(y.size(), 0.1f);
    double ci = tm([&] { for (int n = 0; n < s.N; ++n) im2col_c(s, x.data() + n * s.C * P, col.data()); });
    double hi = tm([&] { for (int n = 0; n < s.N; ++n) im2col_h(s, x.data() + n * s.C * P, col.data()); });
    double cc = tm([&] { for (int n = 0; n < s.N; ++n) col2im_c(s, col.data(), gx.data() + n * s.C * P); });
    double hc = tm([&] { for (int n = 0; n < s.N; ++n) col2im_h(s, col.data(), gx.data() + n * s.C * P); });
    double c = tm([&] {
      for (int n = 0; n < s.N; ++n) { im2col_c(s, x.data() + n * s.C * P, col.data());
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.F, P, K, 1, w.data(), K, col.data(), P, 0, y.data() + n * s.F * P, P); }
      for (int n = 0; n < s.N; ++n) { im2col_c(s, x.data() + n * s.C * P, col.data());
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.F, K, P, 1, dy.data() + n * s.F * P, P, col.data(), P, n ? 1 : 0, gw.data(), K);
        if (dx) { cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, P, s.F, 1, w.data(), K, dy.data() + n * s.F * P, P, 0, col.data(), P);
          col2im_c(s, col.data(), gx.data() + n * s.C * P); } } });
    double h = tm([&] {
      for (int n = 0; n < s.N; ++n) { im2col_h(s, x.data() + n * s.C * P, col.data());
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, P, s.F, K, 1, col.data(), K, w.data(), K, 0, y.data() + n * s.F * P, s.F); }
      for (int n = 0; n < s.N; ++n) { im2col_h(s, x.data() + n * s.C * P, col.data());
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, s.F, K, P, 1, dy.data() + n * s.F * P, s.F, col.data(), K, n ? 1 : 0, gw.data(), K);
        if (dx) { cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, P, K, s.F, 1, dy.data() + n * s.F * P, s.F, w.data(), K, 0, col.data(), K);
          col2im_h(s, col.data(), gx.data() + n * s.C * P); } } });
    std::printf("C=%2d F=%2d: per-sample fwd+bwd NCHW %.3f ms  NHWC %.3f ms | im2col x64 NCHW %.3f NHWC %.3f | col2im NCHW %.3f NHWC %.3f\n", s.C, s.F, c, h, ci, hi, cc, hc);
  }
}
