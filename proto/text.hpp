// Text checks for JSON: valid UTF-8 out, exact integers in.
#pragma once
#include <optional>
#include <string>
#include <string_view>

namespace monolite::proto {

// The text with every invalid UTF-8 sequence replaced by U+FFFD, so the JSON we send is valid.
// SQLite text may hold any bytes (e.g. CAST(x'ff' AS TEXT)).
std::string valid_utf8(std::string_view text);
bool is_valid_utf8(std::string_view text);

// The first integer literal (no fraction, no exponent) in a JSON text that lies outside the signed
// 64-bit range, if any. The JSON parser would silently turn it into a double.
std::optional<std::string_view> find_out_of_range_integer(std::string_view json_text);

}  // namespace monolite::proto
