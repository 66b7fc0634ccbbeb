// Numeric CSV: one sample per line, an optional header line, and optionally one column of
// integer class labels.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/runtime/data/dataset.hpp"

namespace kiln::rt {

struct csv_options {
  int label_column = 0;  // the column holding class labels; -1: none (features only)
  char delimiter = ',';
  // A first line whose fields are not all numbers is taken as a header.
};

// Throws kiln::file_error "<path>: line N: <problem>" for a field that is not a finite number,
// a line with another number of fields than the first, a label that is not an integer in
// [0, 65536), and for a file with no data line; kiln::config_error for a label column below -1
// or a delimiter that can be part of a number or ends lines.
dataset read_csv(const std::filesystem::path& path, const csv_options& options = {});
// The same from the file's text; `path` names it in messages.
dataset parse_csv(std::string_view text, const std::string& path, const csv_options& options = {});

// The header's names (fields trimmed), or none when the first line that is not blank holds a
// number (parse_csv's rule: then it is data).
std::vector<std::string> csv_header(std::string_view text, char delimiter = ',');

// The 1-based line number of data row `row` (0-based, blank lines and the header skipped), for
// messages about a row found after parsing.
long csv_line_of_row(std::string_view text, std::size_t row, char delimiter = ',');

}  // namespace kiln::rt
