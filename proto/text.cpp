#include "proto/text.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>

namespace monolite::proto {
namespace {

// Length of the valid UTF-8 sequence at the start of `text`, or 0 when it is not one.
std::size_t sequence_length(std::string_view text) {
  const auto b0 = static_cast<unsigned char>(text[0]);
  if (b0 < 0x80) return 1;
  std::size_t length;
  std::uint32_t min;
  if ((b0 & 0xe0) == 0xc0)
    length = 2, min = 0x80;
  else if ((b0 & 0xf0) == 0xe0)
    length = 3, min = 0x800;
  else if ((b0 & 0xf8) == 0xf0)
    length = 4, min = 0x10000;
  else
    return 0;
  if (text.size() < length) return 0;
  std::uint32_t code = b0 & (0x7f >> length);
  for (std::size_t i = 1; i < length; ++i) {
    const auto b = static_cast<unsigned char>(text[i]);
    if ((b & 0xc0) != 0x80) return 0;
    code = (code << 6) | (b & 0x3f);
  }
  if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return 0;  // overlong, surrogate
  return length;
}

}  // namespace

bool is_valid_utf8(std::string_view text) {
  while (!text.empty()) {
    const auto n = sequence_length(text);
    if (n == 0) return false;
    text.remove_prefix(n);
  }
  return true;
}

std::string valid_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  while (!text.empty()) {
    const auto n = sequence_length(text);
    if (n == 0) {
      out += "\xef\xbf\xbd";
      text.remove_prefix(1);
    } else {
      out.append(text.substr(0, n));
      text.remove_prefix(n);
    }
  }
  return out;
}

std::optional<std::string_view> find_out_of_range_integer(std::string_view json) {
  // Fast path: a literal outside the int64 range has at least 19 digits in a row.
  std::size_t run = 0, longest = 0;
  for (char c : json) {
    run = (c >= '0' && c <= '9') ? run + 1 : 0;
    longest = std::max(longest, run);
  }
  if (longest < 19) return std::nullopt;
  bool in_string = false;
  for (std::size_t i = 0; i < json.size(); ++i) {
    const char c = json[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"') {
      in_string = true;
      continue;
    }
    if (c != '-' && (c < '0' || c > '9')) continue;
    std::size_t end = i + 1;
    bool integral = true;
    for (; end < json.size(); ++end) {
      const char d = json[end];
      if (d == '.' || d == 'e' || d == 'E' || d == '+' || (d == '-' && end > i))
        integral = false;
      else if (d < '0' || d > '9')
        break;
    }
    const auto literal = json.substr(i, end - i);
    std::int64_t parsed;
    if (integral &&
        std::from_chars(literal.data(), literal.data() + literal.size(), parsed).ec == std::errc::result_out_of_range)
      return literal;
    i = end - 1;
  }
  return std::nullopt;
}

}  // namespace monolite::proto
