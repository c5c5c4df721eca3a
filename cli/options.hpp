// Layered command-line options: flag > MONOLITE_<NAME> environment variable > YAML config file
// (--config, ${VAR} expanded) > default. Usage problems come back as values naming the option.
#pragma once
#include <boost/system/result.hpp>
#include <map>
#include <span>
#include <string>
#include <vector>

namespace monolite::cli {

struct option_spec {
  std::string name;        // flag without dashes, e.g. "max-body"
  std::string value_name;  // for the usage text, e.g. "BYTES"
  std::string help;
  std::string default_value;
  bool is_switch = false;   // "--name" alone means true; "--name=false" is still accepted
  bool repeatable = false;  // every occurrence is kept, one per line
};

struct usage_error {
  std::string message;
};

template <class T>
using usage_result = boost::system::result<T, usage_error>;

using option_values = std::map<std::string, std::string>;

// `args` are the words after the subcommand. "--config FILE" is understood by every command.
usage_result<option_values> resolve_options(std::span<const option_spec> specs, const std::vector<std::string>& args);

std::string env_name(const std::string& option);
std::string usage_text(std::string_view command, std::string_view summary, std::span<const option_spec> specs);

[[noreturn]] void throw_exception_from_error(const usage_error& error, const boost::source_location& location);

}  // namespace monolite::cli
