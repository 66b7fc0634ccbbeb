// Test-time flip averaging (dsl::test_time{.hflip = true}): the trainer's evaluation runs each
// batch as it is and mirrored left–right, and hands the mean of the two logit vectors to the
// loss. Scalar code: an evaluation step mirrors n·C·H rows of W floats and averages n·K logits,
// next to two forward passes through the network.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>

#include "kiln/dsl/core.hpp"
#include "kiln/runtime/io/onnx_graph.hpp"
#include "kiln/runtime/model.hpp"

namespace kiln::codegen {

// Images {C, H, W} mirrored left–right: out[.., y, x] = in[.., y, W − 1 − x] for `rows` rows
// (images · C · H) of `width` floats.
inline void mirror_rows(const float* in, float* out, std::size_t rows, std::size_t width) {
  for (std::size_t r = 0; r < rows; ++r, in += width, out += width)
    for (std::size_t x = 0; x < width; ++x) out[x] = in[width - 1 - x];
}

// z = (a + b) / 2 elementwise. IEEE addition commutes, so an image and its mirror image get the
// same bits whichever of the two is evaluated; a + a and its half are exact (below overflow), so
// an image equal to its mirror keeps its own logits.
inline void mean_of_two(const float* a, const float* b, float* z, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) z[i] = (a[i] + b[i]) * 0.5f;
}

// The flip-averaged logits of batch b (n images of shape In) into `mean` (n × classes floats).
// `logits_of(batch)` runs the network in evaluation mode and returns its logits, valid until
// its next call; `mirror` holds n images, `first` n × classes floats.
template <dsl::shape In, class Run>
void flip_averaged_logits(const rt::batch& b, std::size_t classes, float* mirror, float* first,
                          float* mean, Run&& logits_of) {
  static_assert(In.rank == 3, "kiln: test_time{.hflip} needs images {C, H, W}");
  const auto n = std::size_t(b.n), plane = std::size_t(In.d[0]) * std::size_t(In.d[1]);
  const float* z = logits_of(b);
  for (std::size_t i = 0; i < n * classes; ++i) first[i] = z[i];
  mirror_rows(b.x, mirror, n * plane, std::size_t(In.d[2]));
  rt::batch m = b;
  m.x = mirror;
  mean_of_two(first, logits_of(m), mean, n * classes);
}

// The same in an exported graph. Before the network: the batch x [N, C, H, W] and its mirror
// image (Slice backwards along W: from the last column to the first, step −1) as one batch
// [2N, C, H, W]; every layer in evaluation mode treats samples independently, so the network
// runs both at once. After it: [2N, K] read as [2, N, K] and averaged over the first axis,
// (z(x) + z(mirror x)) / 2 — the division by 2 is exact, as the product with 0.5 above.
inline std::string onnx_with_mirror(rt::onnx_graph& g, const std::string& x) {
  constexpr std::int64_t last = -1, before_first = std::numeric_limits<std::int64_t>::min();
  const std::int64_t one[] = {1};
  const std::int64_t starts[] = {last}, ends[] = {before_first}, axes[] = {3}, steps[] = {-1};
  const std::string mirror = g.node("Slice",
                                    {x, g.constant(one, starts), g.constant(one, ends),
                                     g.constant(one, axes), g.constant(one, steps)},
                                    {}, "test_time_mirror");
  return g.node("Concat", {x, mirror}, {rt::onnx_attribute::integer("axis", 0)}, "test_time_both");
}
inline std::string onnx_mean_of_halves(rt::onnx_graph& g, const std::string& z, int classes) {
  const std::int64_t three[] = {3}, halves[] = {2, -1, classes};
  const std::string pairs =
      g.node("Reshape", {z, g.constant(three, halves)}, {}, "test_time_pairs");
  return g.node(
      "ReduceMean", {pairs},
      {rt::onnx_attribute::integers("axes", {0}), rt::onnx_attribute::integer("keepdims", 0)},
      "test_time_mean");
}

}  // namespace kiln::codegen
