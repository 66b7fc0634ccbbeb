#include "kiln/runtime/data/csv.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/bytes.hpp"

namespace kiln::rt {
namespace {

constexpr int max_classes = 65536;

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> split(std::string_view line, char delimiter) {
  std::vector<std::string_view> fields;
  for (std::size_t at = 0;;) {
    const std::size_t end = line.find(delimiter, at);
    fields.push_back(trim(line.substr(at, end == std::string_view::npos ? end : end - at)));
    if (end == std::string_view::npos) return fields;
    at = end + 1;
  }
}

bool parse_number(std::string_view field, double& out) {
  if (field.empty() || field.size() > 64) return false;
  const std::string text(field);
  char* end = nullptr;
  errno = 0;
  out = std::strtod(text.c_str(), &end);
  return *end == '\0' && errno != ERANGE && std::isfinite(out);
}

}  // namespace

dataset read_csv(const std::filesystem::path& path, const csv_options& options) {
  const auto bytes = io::read_file(path, std::uint64_t{1} << 32);
  const std::string_view text(reinterpret_cast<const char*>(bytes.data()), bytes.size());
  dataset d;
  d.name = path.string();
  std::size_t columns = 0;
  long line_number = 0;
  int largest_label = -1;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(at, end - at));
    at = end + 1;
    ++line_number;
    if (line.empty()) continue;
    const auto fail = [&](const std::string& problem) {
      throw file_error(path.string(), "line " + std::to_string(line_number) + ": " + problem);
    };
    const auto fields = split(line, options.delimiter);
    std::vector<double> values(fields.size());
    bool numeric = true;
    for (std::size_t i = 0; i < fields.size(); ++i)
      numeric = numeric && parse_number(fields[i], values[i]);
    if (columns == 0) {
      if (!numeric && d.x.empty() && line_number == 1) continue;  // a header
      columns = fields.size();
      if (options.label_column >= 0 && static_cast<std::size_t>(options.label_column) >= columns)
        fail("no label column " + std::to_string(options.label_column) + " among " +
             std::to_string(columns) + " fields");
      if (options.label_column >= 0 && columns < 2) fail("no feature besides the label");
    }
    if (fields.size() != columns)
      fail(std::to_string(fields.size()) + " fields, the first line has " +
           std::to_string(columns));
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (!parse_number(fields[i], values[i]))
        fail("field " + std::to_string(i + 1) + " '" + io::printable(fields[i], 40) +
             "' is not a finite number");
      if (static_cast<int>(i) == options.label_column) {
        if (values[i] != std::floor(values[i]) || values[i] < 0 || values[i] >= max_classes)
          fail("label '" + io::printable(fields[i], 40) + "' is not an integer in [0, 65536)");
        d.labels.push_back(static_cast<std::int32_t>(values[i]));
        largest_label = std::max(largest_label, d.labels.back());
      } else {
        d.x.push_back(static_cast<float>(values[i]));
      }
    }
  }
  if (columns == 0) throw file_error(path.string(), "no data line");
  d.sample_shape = {static_cast<int>(columns - (options.label_column >= 0 ? 1 : 0))};
  d.classes = largest_label + 1;
  return d;
}

}  // namespace kiln::rt
