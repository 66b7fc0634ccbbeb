#include "kiln/codegen/trainer/arena.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include "kiln/core/error.hpp"
#include "kiln/core/rng.hpp"

namespace kiln::codegen {

void arena_base::allocate(const arena_shape& a, int batch, float** work, float** aux, float** act) {
  const auto B = std::size_t(batch);
  const std::size_t S = std::size_t(a.states);
  std::size_t total = (3 + S + a.averaged) * a.params + aligned(a.tensor_count) +
                      (1 + a.skips) * a.buffer_floats + a.work + 2 * aligned(B * a.widest);
  for (const layer_row& r : a.rows)
    total += aligned(B * std::size_t(r.aux)) + (r.view ? 0 : aligned(B * std::size_t(r.out)));
  if (a.flip_in) total += aligned(B * a.flip_in) + 2 * aligned(B * a.flip_out);
  if (a.half) total += aligned(a.params / 2 + 1);  // the bf16 weights
  memory = hwy::AllocateAligned<float>(total);
  if (!memory) throw error("kiln: cannot allocate " + std::to_string(total * 4) + " bytes");
  std::fill(memory.get(), memory.get() + total, 0.0f);
  float* at = memory.get();
  auto take = [&](std::size_t n) { return std::exchange(at, at + n); };
  p = take(a.params);
  g = take(a.params);
  sum = take(a.params);
  for (std::size_t k = 0; k < S; ++k) s[k] = take(a.params);
  step = take(aligned(a.tensor_count));
  b = take(a.buffer_floats);
  if (a.skips) kept_b = take(a.buffer_floats);
  if (a.averaged) ema = take(a.params);
  for (auto& d : grad) d = take(aligned(B * a.widest));
  if (a.flip_in) {
    mirror = take(aligned(B * a.flip_in));
    first = take(aligned(B * a.flip_out));
    mean = take(aligned(B * a.flip_out));
  }
  if (a.half) wh = reinterpret_cast<std::uint16_t*>(take(aligned(a.params / 2 + 1)));
  for (std::size_t i = 0; i < a.rows.size(); ++i) {
    const layer_row& r = a.rows[i];
    work[i] = take(r.work);
    aux[i] = take(aligned(B * std::size_t(r.aux)));
    act[i] = r.view ? nullptr : take(aligned(B * std::size_t(r.out)));
  }
}

void arena_base::reset(const arena_shape& a, std::span<const tensor_row> tensors,
                       std::span<const tensor_row> buffers, std::span<const double> state_init,
                       std::uint64_t seed) {
  rt::rng init(seed, rt::streams::init);
  std::fill(p, p + a.params, 0.0f);
  for (const tensor_row& t : tensors) {
    float* w = p + t.offset;
    const auto n = std::size_t(t.spec.dims.size());
    switch (t.spec.start) {
      case dsl::init::zeros:
        std::fill(w, w + n, 0.0f);
        break;
      case dsl::init::ones:
        std::fill(w, w + n, 1.0f);
        break;
      case dsl::init::fan_in_uniform: {
        const float bound = 1.0f / std::sqrt(float(t.spec.fan_in));
        for (std::size_t i = 0; i < n; ++i) w[i] = init.uniform(-bound, bound);
      }
    }
  }
  for (std::size_t k = 0; k < state_init.size(); ++k)
    std::fill(s[k], s[k] + a.params, float(state_init[k]));
  std::fill(step, step + a.tensor_count, 0.0f);
  if (a.averaged) std::copy(p, p + a.params, ema);
  std::fill(b, b + a.buffer_floats, 0.0f);
  for (const tensor_row& t : buffers)
    if (t.spec.start == dsl::init::ones)
      std::fill(b + t.offset, b + t.offset + std::size_t(t.spec.dims.size()), 1.0f);
}

}  // namespace kiln::codegen
