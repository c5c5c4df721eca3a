#include "proto/value.hpp"

#include <boost/json/object.hpp>
#include <cmath>
#include <limits>

#include "proto/base64.hpp"
#include "proto/text.hpp"

namespace monolite::proto {
namespace {

result<value> blob_from_json(const boost::json::object& object) {
  const auto* encoded = object.if_contains("base64");
  if (object.size() != 1 || !encoded || !encoded->is_string())
    return bad_params("an object value must be {\"base64\": \"...\"}");
  auto bytes = base64_decode(encoded->get_string());
  if (!bytes) return bad_params("invalid base64 in blob value");
  return value{blob{std::move(*bytes)}};
}

}  // namespace

result<value> value_from_json(const boost::json::value& json) {
  switch (json.kind()) {
    case boost::json::kind::null: return value{std::monostate{}};
    case boost::json::kind::bool_: return value{json.get_bool()};
    case boost::json::kind::int64: return value{json.get_int64()};
    case boost::json::kind::uint64:
      if (json.get_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
        return bad_params("integer " + std::to_string(json.get_uint64()) + " is outside the signed 64-bit range");
      return value{static_cast<std::int64_t>(json.get_uint64())};
    case boost::json::kind::double_: return value{json.get_double()};
    case boost::json::kind::string: return value{std::string(json.get_string())};
    case boost::json::kind::object: return blob_from_json(json.get_object());
    case boost::json::kind::array: break;
  }
  return bad_params("an array is not a valid SQL value");
}

boost::json::value value_to_json(const value& v) {
  struct visitor {
    boost::json::value operator()(std::monostate) const { return nullptr; }
    boost::json::value operator()(std::int64_t i) const { return i; }
    // JSON has no infinities; like JSON.stringify, they become null.
    boost::json::value operator()(double d) const {
      if (!std::isfinite(d)) return nullptr;
      return d;
    }
    boost::json::value operator()(const std::string& s) const {
      if (is_valid_utf8(s)) return boost::json::string(s);
      return boost::json::string(valid_utf8(s));
    }
    boost::json::value operator()(const blob& b) const {
      return boost::json::object{{"base64", base64_encode(b.bytes)}};
    }
    boost::json::value operator()(bool b) const { return b; }
  };
  return std::visit(visitor{}, v);
}

}  // namespace monolite::proto
