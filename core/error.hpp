// kiln's exceptions: every failure a user can cause (a bad file, a bad flag, a bad value)
// is reported as one of these, with a one-line message naming the file or parameter.
#pragma once

#include <stdexcept>
#include <string>

namespace kiln {

// Base of every exception kiln throws on purpose.
struct error : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// A file could not be read or is malformed. what() is "<path>: <problem>".
struct file_error : error {
  file_error(const std::string& path, const std::string& problem)
      : error(path + ": " + problem), path_(path) {}
  const std::string& path() const noexcept { return path_; }

 private:
  std::string path_;
};

// A parameter, option or argument has a value kiln cannot use.
// what() is "<parameter>: <problem>".
struct config_error : error {
  config_error(const std::string& parameter, const std::string& problem)
      : error(parameter + ": " + problem) {}
};

// Training met a NaN or an infinity (the plan's .nonfinite policy stopped it). what() is
// "step <n>: <problem>"; `tensor` names the first bad tensor ("loss" for the loss).
struct numeric_error : error {
  numeric_error(long step, const std::string& tensor, const std::string& problem)
      : error("step " + std::to_string(step) + ": " + problem), step_(step), tensor_(tensor) {}
  long step() const noexcept { return step_; }
  const std::string& tensor() const noexcept { return tensor_; }

 private:
  long step_;
  std::string tensor_;
};

}  // namespace kiln
