// A sample's command line: a thin facade over CLI11, which is header-only with every function
// inline (about 6 s of compile per TU that parses a command line). Compiled once here
// (command_line.cpp), the samples' parsing TUs take under a second and include nothing heavy.
//
//   common::command_line cl("What the sample does.", "name");
//   cl.add("--epochs", epochs, "Epochs").positive().show_default();
//   if (const auto status = cl.parse(argc, argv)) return *status;   // --help, or a bad flag
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace CLI {
class App;
class Option;
}  // namespace CLI

namespace common {

// One option just added: its checks and settings, chained.
class option {
 public:
  explicit option(CLI::Option* o) : o_(o) {}
  option required();
  option show_default();  // the value before parsing, in --help
  option positive();      // a number > 0
  option non_negative();  // a number >= 0
  option range(int lo, int hi);
  option one_of(const std::vector<std::string>& names);
  option delimiter(char c);  // a list in one argument: --threads 1,2
  bool given() const;        // on the command line (after parse)

 private:
  CLI::Option* o_;
};

class command_line {
 public:
  explicit command_line(const std::string& description, const std::string& name = "");
  command_line(command_line&&) noexcept;
  ~command_line();

  // "--name" is a flag with a value, "name" a positional argument.
  option add(const std::string& name, int& value, const std::string& help = "");
  option add(const std::string& name, long& value, const std::string& help = "");
  option add(const std::string& name, std::string& value, const std::string& help = "");
  option add(const std::string& name, std::vector<int>& value, const std::string& help = "");
  option add(const std::string& name, std::vector<std::string>& value,
             const std::string& help = "");
  option flag(const std::string& name, bool& value, const std::string& help = "");

  // A subcommand (kiln-zoo list | eval ...), owned by this command line.
  command_line subcommand(const std::string& name, const std::string& description);
  void require_subcommand();  // exactly one
  bool parsed() const;        // this subcommand was given

  // Parses; nothing when the program goes on, else the exit status after --help was printed
  // (0) or a bad argument was reported on stderr.
  std::optional<int> parse(int argc, char** argv);
  // The same for programs with their own usage errors: false after printing --help, a
  // std::invalid_argument with CLI11's message on a bad argument.
  bool parse_or_throw(int argc, char** argv);

 private:
  explicit command_line(CLI::App* borrowed);
  std::unique_ptr<CLI::App> owned_;
  CLI::App* app_;
};

}  // namespace common
