// command_line.hpp's facade, the one TU of the samples' command lines that includes CLI11.
#include "command_line.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <cstdlib>
#include <stdexcept>

namespace common {

option option::required() { return option(o_->required()); }
option option::show_default() { return option(o_->capture_default_str()); }
namespace {
// A number above (or at least) zero, refused in words: CLI11's own PositiveNumber reports
// "Value 0 not in range 0.000000 to 1797693134862315708145...".
CLI::Validator at_least_zero(bool strictly) {
  return CLI::Validator(
      [strictly](std::string& s) -> std::string {
        char* end = nullptr;
        const double v = std::strtod(s.c_str(), &end);
        if (end == s.c_str() || *end != '\0') return "must be a number, got '" + s + "'";
        if (strictly ? v > 0 : v >= 0) return "";
        return std::string(strictly ? "must be positive" : "must not be negative") + ", got " + s;
      },
      strictly ? "POSITIVE" : "NONNEGATIVE");
}
}  // namespace

option option::positive() { return option(o_->check(at_least_zero(true))); }
option option::non_negative() { return option(o_->check(at_least_zero(false))); }
option option::range(int lo, int hi) { return option(o_->check(CLI::Range(lo, hi))); }
option option::one_of(const std::vector<std::string>& names) {
  return option(o_->check(CLI::IsMember(names)));
}
option option::delimiter(char c) { return option(o_->delimiter(c)); }
bool option::given() const { return o_->count() > 0; }

command_line::command_line(const std::string& description, const std::string& name)
    : owned_(std::make_unique<CLI::App>(description, name)), app_(owned_.get()) {}
command_line::command_line(CLI::App* borrowed) : app_(borrowed) {}
command_line::command_line(command_line&&) noexcept = default;
command_line::~command_line() = default;

option command_line::add(const std::string& name, int& value, const std::string& help) {
  return option(app_->add_option(name, value, help));
}
option command_line::add(const std::string& name, long& value, const std::string& help) {
  return option(app_->add_option(name, value, help));
}
option command_line::add(const std::string& name, std::string& value, const std::string& help) {
  return option(app_->add_option(name, value, help));
}
option command_line::add(const std::string& name, std::vector<int>& value,
                         const std::string& help) {
  return option(app_->add_option(name, value, help));
}
option command_line::add(const std::string& name, std::vector<std::string>& value,
                         const std::string& help) {
  return option(app_->add_option(name, value, help));
}
option command_line::flag(const std::string& name, bool& value, const std::string& help) {
  return option(app_->add_flag(name, value, help));
}

command_line command_line::subcommand(const std::string& name, const std::string& description) {
  return command_line(app_->add_subcommand(name, description));
}
void command_line::require_subcommand() { app_->require_subcommand(1); }
bool command_line::parsed() const { return app_->parsed(); }

std::optional<int> command_line::parse(int argc, char** argv) {
  try {
    app_->parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app_->exit(e);
  }
  return std::nullopt;
}

bool command_line::parse_or_throw(int argc, char** argv) {
  try {
    app_->parse(argc, argv);
  } catch (const CLI::Success&) {
    std::fputs(app_->help().c_str(), stdout);
    return false;
  } catch (const CLI::ParseError& e) {
    throw std::invalid_argument(e.what());
  }
  return true;
}

}  // namespace common
