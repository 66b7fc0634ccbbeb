// What fit and evaluate refuse before they start: data that does not fit the model (shape,
// layout, labels, targets, NaN or infinite values) and batch sizes the model was not built for,
// each named in one line; and batches as views into a dataset.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "kiln/runtime/data/dataset.hpp"
#include "kiln/runtime/model.hpp"

namespace kiln::rt::detail {

// "1x28x28", or "(none)".
std::string shape_text(const std::vector<int>& shape);
// Samples [first, first + count) of `data` as a batch: a view, nothing copied.
batch view(const dataset& data, std::size_t first, std::size_t count);
// Everything the model would otherwise trip over in the middle of an epoch; `role` names the
// data in the message ("training data").
void require_data(const model& m, const dataset& data, const std::string& role);
void require_batch(const model& m, int batch);

}  // namespace kiln::rt::detail
