// Kernels of conv2d in kiln's activation layout, NCHW (one sample: [channels][height][width],
// planes contiguous). A convolution is im2col + one GEMM per sample: the sample's column matrix
// (channels·k·k rows, out_h·out_w columns) stays in cache for the forward and backward GEMMs,
// which measured faster than one GEMM over the batch (README, "Convolution layout").
#pragma once

#include <cstddef>

namespace kiln::kernels {

// A k × k window over one sample's planes.
struct window {
  int channels = 0, height = 0, width = 0;
  int kernel = 1, stride = 1, pad = 0;
  int out_h = 0, out_w = 0;
};

// col[(c·k + ki)·k + kj][i·out_w + j] = x[c][i·stride + ki − pad][j·stride + kj − pad], 0 outside.
void im2col(const window& g, const float* x, float* col);
// The adjoint: dx[c][h][w] = Σ of the col entries im2col took from there. Overwrites dx;
// col is used as scratch (its entries for padding positions are zeroed).
void col2im(const window& g, float* col, float* dx);

// Same-padded stride-1 windows (k = 2·pad + 1: the output plane is the input plane) run without
// scalar edge handling. The plane is read from a copy with zero margins (`pad_buf`), so every
// kernel offset's row is one unclamped shifted copy; what wraps around a row edge is removed by a
// column mask (masks[d][q] = 1 when column(q) + d − pad is inside the row). Rows may be written
// up to `slack` floats past their end (the next row overwrites it; leave slack after the last).
inline bool same_plane(const window& g) {
  return g.stride == 1 && g.out_h == g.height && g.out_w == g.width && 2 * g.pad + 1 == g.kernel;
}
inline constexpr long slack = 16;
// Zeros on each side of a row or plane copy: the largest shift plus a vector.
inline long margin(const window& g) { return long(g.pad) * g.width + g.pad + slack; }
// Floats per mask (plane + slack), and the k masks: k · mask_floats(g).
inline long mask_floats(const window& g) { return long(g.height) * g.width + slack; }
void column_masks(const window& g, float* masks);
// col [k²·channels][plane], rows `plane` floats apart. pad_buf: plane + 2·margin(g) floats whose
// margins are zero (the caller zeroes them once; only the middle is written here).
void im2col_same(const window& g, const float* x, float* pad_buf, const float* masks, float* col);
// The adjoint: dx (one sample) from rows `stride` floats apart, row r at col + margin(g) +
// r·stride, with zero margins between them (the GEMM writes only the rows). Overwrites dx.
void col2im_same(const window& g, const float* col, long stride, const float* masks, float* dx);

// y[s][c][p] += b[c] for s < n, c < channels, p < plane.
void add_channel_bias(float* y, const float* b, std::size_t n, std::size_t channels,
                      std::size_t plane);
// One sample's y[c][p] = max(y[c][p] + b[c], 0): conv2d followed by ReLU.
void add_channel_bias_relu(float* y, const float* b, std::size_t channels, std::size_t plane);
// One sample: out = dy where y > 0, else 0 (the ReLU's backward, y its output), and
// sums[c] += Σ_p out[c][p] (the bias gradient).
void relu_mask_sums(const float* y, const float* dy, std::size_t channels, std::size_t plane,
                    float* out, float* sums);
// out[c] = Σ_s Σ_p a[s][c][p]: the bias gradient of a conv layer (overwrites out).
void channel_sums(const float* a, std::size_t n, std::size_t channels, std::size_t plane,
                  float* out);

}  // namespace kiln::kernels
