#include "cli/values.hpp"

#include <cctype>

namespace monolite::cli {

usage_result<std::chrono::milliseconds> parse_duration(const std::string& text, const std::string& flag,
                                                       std::chrono::milliseconds bare_unit) {
  double number = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  const std::string unit(end, text.data() + text.size());
  double scale = -1;
  if (unit.empty()) scale = static_cast<double>(bare_unit.count());
  if (unit == "ms") scale = 1;
  if (unit == "s") scale = 1e3;
  if (unit == "m") scale = 60e3;
  if (unit == "h") scale = 3600e3;
  if (unit == "d") scale = 86400e3;
  const double ms = number * scale;
  if (text.empty() || ec != std::errc() || scale < 0 || !(ms >= 1) || ms > 3650 * 86400e3)
    return usage_error{"--" + flag + ": '" + text + "' is not a duration such as 250ms, 5s, 2m, 24h or 7d"};
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

usage_result<bool> parse_bool(const std::string& text, const std::string& flag) {
  if (text == "true") return true;
  if (text == "false") return false;
  return usage_error{"--" + flag + ": '" + text + "' must be true or false"};
}

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && std::isspace(static_cast<unsigned char>(text[i])))
      ++i;
    std::size_t j = i;
    while (j < text.size() && !std::isspace(static_cast<unsigned char>(text[j])))
      ++j;
    if (j > i) out.push_back(text.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace monolite::cli
