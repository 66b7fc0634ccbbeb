// Machine-readable results of the benchmarks (--json): flat objects of numbers and strings,
// collected into `{"runs": [...]}` or any array, without a JSON library in the sample's compile.
#pragma once

#include <cstdio>
#include <string>
#include <vector>

namespace common {

class json_object {
 public:
  // A number, written like printf's %.<digits>g.
  json_object& add(const char* key, double value, int digits = 6) {
    char text[64];
    std::snprintf(text, sizeof text, "%.*g", digits, value);
    return raw(key, text);
  }
  json_object& add(const char* key, long value) { return raw(key, std::to_string(value)); }
  json_object& add(const char* key, int value) { return raw(key, std::to_string(value)); }
  json_object& add(const char* key, bool value) { return raw(key, value ? "true" : "false"); }
  // A string (the samples' are plain names: no escaping needed beyond quotes and backslashes).
  json_object& add(const char* key, const std::string& value) {
    std::string quoted = "\"";
    for (const char c : value)
      quoted += c == '"' || c == '\\' ? std::string{'\\', c} : std::string{c};
    return raw(key, quoted + "\"");
  }
  std::string text() const { return "{" + body_ + "}"; }

 private:
  json_object& raw(const char* key, const std::string& value) {
    body_ += (body_.empty() ? "\"" : ", \"") + std::string(key) + "\": " + value;
    return *this;
  }
  std::string body_;
};

// [o1,o2,...], one object a line when `lines`.
inline std::string json_array(const std::vector<json_object>& items, bool lines = false) {
  std::string s = "[";
  for (std::size_t i = 0; i < items.size(); ++i) {
    if (i) s += ',';
    if (lines) s += "\n ";
    s += items[i].text();
  }
  return s + (lines && !items.empty() ? "\n]" : "]");
}

}  // namespace common
