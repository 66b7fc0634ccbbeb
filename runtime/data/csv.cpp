#include "kiln/runtime/data/csv.hpp"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kiln/runtime/error.hpp"
#include "kiln/runtime/io/bytes.hpp"
#include "kiln/runtime/io/foreign.hpp"

namespace kiln::rt {
namespace {

constexpr int max_classes = 65536;
constexpr std::size_t max_columns = std::size_t{1} << 30;  // a sample's shape is an int

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> fields_of(std::string_view line, char delimiter) {
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
  // The whole field, not up to a NUL byte inside it.
  return end == text.c_str() + text.size() && errno != ERANGE && std::isfinite(out);
}

void require_valid(const csv_options& options) {
  if (options.label_column < -1)
    throw config_error("label_column", "must be -1 (no labels) or a column index, got " +
                                           std::to_string(options.label_column));
  const char c = options.delimiter;
  if (c == '\n' || c == '\r' || c == '\0' || c == '.' || c == '-' || c == '+' ||
      (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
    throw config_error("delimiter", io::quoted(std::string_view(&c, 1)) +
                                        " can be part of a number or ends lines");
}

}  // namespace

dataset read_csv(const std::filesystem::path& path, const csv_options& options) {
  require_valid(options);
  const auto bytes = io::read_file(path, std::uint64_t{1} << 32);
  return parse_csv({reinterpret_cast<const char*>(bytes.data()), bytes.size()}, path.string(),
                   options);
}

dataset parse_csv(std::string_view text, const std::string& path, const csv_options& options) {
  require_valid(options);
  if (text.empty()) throw file_error(path, "the file is empty");
  dataset d;
  d.name = path;
  std::size_t columns = 0;
  long line_number = 0;
  int largest_label = -1;
  bool first = true;  // the first line that is not blank
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(at, end - at));
    at = end + 1;
    ++line_number;
    if (line.empty()) continue;
    const auto fail = [&](const std::string& problem) {
      throw file_error(path, "line " + std::to_string(line_number) + ": " + problem);
    };
    const auto fields = fields_of(line, options.delimiter);
    // Numbers apart by blanks (NumPy's savetxt, a Fortran dump): named as what they are rather
    // than as one field that is not a number.
    if (fields.size() == 1 && options.delimiter != ' ' && options.delimiter != '\t' &&
        io::whitespace_separated(line))
      fail("whitespace-separated text, not values separated by " +
           io::quoted(std::string_view(&options.delimiter, 1)) +
           ": kiln reads comma-separated values (convert it, e.g. tr -s ' \\t' ',')");
    std::vector<double> values(fields.size());
    std::size_t numbers = 0;
    for (std::size_t i = 0; i < fields.size(); ++i) numbers += parse_number(fields[i], values[i]);
    // The first line is a header when none of its fields is a number. One with some numbers is
    // data, and a bad field in it an error, not a sample dropped unseen as a "header".
    if (std::exchange(first, false) && numbers == 0) continue;
    if (columns == 0) {
      columns = fields.size();
      if (columns > max_columns) fail("more than " + std::to_string(max_columns) + " fields");
      if (options.label_column >= 0 && static_cast<std::size_t>(options.label_column) >= columns)
        fail("no label column " + std::to_string(options.label_column) + " among " +
             std::to_string(columns) + " fields");
      if (options.label_column >= 0 && columns < 2) fail("no feature besides the label");
    }
    if (fields.size() != columns)
      fail(std::to_string(fields.size()) + " fields, the first line has " +
           std::to_string(columns));
    for (std::size_t i = 0; i < fields.size(); ++i) {
      if (numbers < fields.size() && !parse_number(fields[i], values[i]))
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
  if (columns == 0) throw file_error(path, "no data line");
  d.sample_shape = {static_cast<int>(columns - (options.label_column >= 0 ? 1 : 0))};
  d.classes = largest_label + 1;
  return d;
}

std::vector<std::string> csv_header(std::string_view text, char delimiter) {
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(at, end - at));
    at = end + 1;
    if (line.empty()) continue;
    std::vector<std::string> names;
    double value = 0;
    for (const std::string_view field : fields_of(line, delimiter)) {
      if (parse_number(field, value)) return {};
      names.emplace_back(field);
    }
    return names;
  }
  return {};
}

long csv_line_of_row(std::string_view text, std::size_t row, char delimiter) {
  const bool header = !csv_header(text, delimiter).empty();
  std::size_t data = 0;
  long line_number = 0;
  bool first = true;
  for (std::size_t at = 0; at < text.size();) {
    std::size_t end = text.find('\n', at);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view line = trim(text.substr(at, end - at));
    at = end + 1;
    ++line_number;
    if (line.empty()) continue;
    if (std::exchange(first, false) && header) continue;
    if (data++ == row) return line_number;
  }
  return -1;
}

}  // namespace kiln::rt
