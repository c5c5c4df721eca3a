// The one parser of each kind of option value, shared by every subcommand, flag, environment
// variable and config key: durations, booleans, bounded numbers and lists. Errors name the flag.
#pragma once
#include <charconv>
#include <chrono>
#include <string>
#include <vector>

#include "cli/options.hpp"

namespace monolite::cli {

// "250ms", "5s", "2m", "24h", "7d", or a plain number (fractions allowed) of `bare_unit`, which
// is seconds for every flag but --busy-timeout (milliseconds, as SQLite's pragma). At least 1 ms
// and at most 10 years.
usage_result<std::chrono::milliseconds> parse_duration(const std::string& text, const std::string& flag,
                                                       std::chrono::milliseconds bare_unit = std::chrono::seconds(1));

// Exactly "true" or "false" (a switch given alone, `--access-log`, is "true").
usage_result<bool> parse_bool(const std::string& text, const std::string& flag);

// A whole number from `min` to `max`.
template <class T>
usage_result<T> parse_number(const std::string& text, const std::string& flag, T min, T max) {
  T out{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size() || out < min || out > max)
    return usage_error{"--" + flag + ": '" + text + "' is not a number from " + std::to_string(min) + " to " +
                       std::to_string(max)};
  return out;
}

// The words of a list value (repeated flags, or URLs separated by blanks in a variable or file).
std::vector<std::string> split_list(const std::string& text);

}  // namespace monolite::cli
