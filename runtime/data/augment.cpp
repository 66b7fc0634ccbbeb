#include "kiln/runtime/data/augment.hpp"

#include <algorithm>
#include <cstring>
#include <string>

#include "kiln/core/error.hpp"

namespace kiln::rt {
namespace {

struct image_view {
  int channels, height, width;
  std::size_t plane() const { return std::size_t(height) * width; }
};

// out = the image shifted by (dy, dx): out[y][x] = in[y − dy][x − dx]; outside the input,
// zeros (crop with padding) or the nearest edge value (translate).
void shift(const image_view& g, const float* in, int dy, int dx, bool edge, float* out) {
  for (int c = 0; c < g.channels; ++c) {
    const float* src = in + c * g.plane();
    float* dst = out + c * g.plane();
    for (int y = 0; y < g.height; ++y) {
      int sy = y - dy;
      const bool row_inside = sy >= 0 && sy < g.height;
      if (!row_inside && !edge) {
        std::fill(dst + y * g.width, dst + (y + 1) * g.width, 0.0f);
        continue;
      }
      sy = std::clamp(sy, 0, g.height - 1);
      for (int x = 0; x < g.width; ++x) {
        const int sx = x - dx;
        const bool inside = sx >= 0 && sx < g.width;
        dst[y * g.width + x] =
            inside || edge ? src[sy * g.width + std::clamp(sx, 0, g.width - 1)] : 0.0f;
      }
    }
  }
}

void flip(const image_view& g, float* x) {
  for (int r = 0; r < g.channels * g.height; ++r)
    std::reverse(x + r * g.width, x + (r + 1) * g.width);
}

// A uniform integer in [−k, k].
int offset(rng& r, int k) { return int(r.below(std::uint64_t(2 * k + 1))) - k; }

void clamp01(float* x, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) x[i] = std::clamp(x[i], 0.0f, 1.0f);
}

}  // namespace

void augmenter::operator()(float* x, int n, std::span<const int> shape, rng& r) {
  if (shape.size() != 2 && shape.size() != 3)
    throw config_error("augmentation", "needs image samples {channels, height, width}, got " +
                                           std::to_string(shape.size()) + " dimensions");
  const image_view g = shape.size() == 3 ? image_view{shape[0], shape[1], shape[2]}
                                         : image_view{1, shape[0], shape[1]};
  const std::size_t size = std::size_t(g.channels) * g.plane();
  if (x) scratch_.resize(size);
  // Each step draws its numbers whether or not there is a sample to change: skipping samples
  // (x == nullptr) leaves the generator where augmenting them would.
  for (int i = 0; i < n; ++i) {
    float* s = x ? x + std::size_t(i) * size : nullptr;
    for (const augment_step& step : plan_) switch (step.what) {
        case augment_step::op::crop:
        case augment_step::op::translate: {
          const int dy = offset(r, step.pixels), dx = offset(r, step.pixels);
          if (!s || (dy == 0 && dx == 0)) break;
          shift(g, s, dy, dx, step.what == augment_step::op::translate, scratch_.data());
          std::memcpy(s, scratch_.data(), size * sizeof(float));
          break;
        }
        case augment_step::op::flip:
          if (r.uniform() < step.p && s) flip(g, s);
          break;
        case augment_step::op::jitter: {
          const double b = 1 + step.brightness * (2 * r.uniform() - 1);
          const double k = 1 + step.contrast * (2 * r.uniform() - 1);
          if (!s) break;
          for (std::size_t j = 0; j < size; ++j) s[j] = float(s[j] * b);
          clamp01(s, size);
          double mean = 0;
          for (std::size_t j = 0; j < size; ++j) mean += s[j];
          mean /= double(size);
          for (std::size_t j = 0; j < size; ++j) s[j] = float((s[j] - mean) * k + mean);
          clamp01(s, size);
          break;
        }
      }
  }
}

}  // namespace kiln::rt
