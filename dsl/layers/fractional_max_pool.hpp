// fractional_max_pool: Graham's fractional max pooling (arXiv:1412.6071). Each spatial axis of
// length n shrinks to floor(n / ratio) with 1 < ratio <= 2, so that stacks of these layers can
// shrink an image gently. Pooling regions follow Graham's pseudo-random sequence
// a_i = ceil(α(i + u)) − ceil(αu) (α = n_in / n_out): disjoint regions [a_i, a_(i+1)) or, with
// .overlapping, [a_i, a_(i+1)] — their sizes mix ⌊α⌋ and ⌈α⌉. In training u is drawn per batch
// (one for rows, one for columns); evaluation uses one fixed set of regions, the boundaries
// nearest their expectation over u (so the fixed regions are the average training ones).
#pragma once

#include "kiln/dsl/core.hpp"

namespace kiln::dsl {

struct fractional_max_pool {
  static constexpr std::string_view kind = "fractional_max_pool";
  static constexpr bool draws_at_random = true;  // in training (dsl::random_layer)
  double ratio = 1.41421356;                     // √2, Graham's choice
  bool overlapping = false;

  constexpr int reduce(int n) const { return ratio > 0 ? int(n / ratio) : 0; }
  constexpr shape out(shape in) const {
    return image(in.channels(), reduce(in.height()), reduce(in.width()));
  }
  constexpr const char* check(shape in) const {
    if (!(ratio > 1 && ratio <= 2)) return "fractional_max_pool: .ratio must be in (1, 2]";
    if (in.rank != 3)
      return "fractional_max_pool: the input is not an image {channels, height, width}";
    if (reduce(in.height()) < 1 || reduce(in.width()) < 1)
      return "fractional_max_pool: the input is too small for this ratio";
    return nullptr;
  }
};

}  // namespace kiln::dsl
