// A SQL value as the API carries it, and its exact JSON form:
// null, integer (signed 64-bit, never through double), float, text, blob as {"base64": "..."}, and
// boolean (true/false: PostgreSQL's bool; SQLite has none and stores a bound boolean as 1/0).
#pragma once
#include <boost/json/value.hpp>
#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "proto/error.hpp"

namespace monolite::proto {

struct blob {
  std::vector<unsigned char> bytes;
  bool operator==(const blob&) const = default;
};

// bool comes last so the index of the older alternatives is unchanged.
using value = std::variant<std::monostate, std::int64_t, double, std::string, blob, bool>;

// Fails with BAD_PARAMS for arrays, objects other than {"base64": "..."}, bad base64,
// and integers outside the signed 64-bit range.
result<value> value_from_json(const boost::json::value& json);

boost::json::value value_to_json(const value& v);

}  // namespace monolite::proto
