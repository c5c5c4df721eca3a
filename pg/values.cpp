#include "pg/values.hpp"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>

namespace monolite::pg {
namespace {

constexpr int text_format = 0;
constexpr int binary_format = 1;

// std::to_chars without a precision gives the shortest text that reads back to the same double.
std::string float8_text(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buffer[32];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, d).ptr;
  return std::string(buffer, end);
}

std::string int8_text(std::int64_t i) {
  char buffer[24];
  const auto end = std::to_chars(buffer, buffer + sizeof buffer, i).ptr;
  return std::string(buffer, end);
}

proto::api_error unreadable(oid type, std::string_view text, std::string_view why) {
  constexpr std::size_t shown = 40;
  return proto::internal_error("PostgreSQL sent a value of type " + std::to_string(type) + " that is not " +
                               std::string(why) + ": \"" + std::string(text.substr(0, shown)) +
                               (text.size() > shown ? "…\"" : "\""));
}

proto::result<proto::value> integer_from_text(oid type, std::string_view text) {
  std::int64_t i = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), i);
  if (ec != std::errc() || end != text.data() + text.size()) return unreadable(type, text, "an integer");
  return proto::value{i};
}

proto::result<proto::value> float_from_text(oid type, std::string_view text) {
  if (text == "NaN") return proto::value{std::monostate{}};
  if (text == "Infinity") return proto::value{std::numeric_limits<double>::infinity()};
  if (text == "-Infinity") return proto::value{-std::numeric_limits<double>::infinity()};
  double d = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), d);
  if (ec != std::errc() || end != text.data() + text.size()) return unreadable(type, text, "a float");
  return proto::value{d};
}

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// bytea's hex format: "\x" then two hex digits a byte.
proto::result<proto::value> bytea_from_text(std::string_view text) {
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2 != 0)
    return unreadable(type_oid::bytea, text, "bytea in hex format (bytea_output=hex)");
  proto::blob b;
  b.bytes.reserve((text.size() - 2) / 2);
  for (std::size_t i = 2; i < text.size(); i += 2) {
    const int high = hex_digit(text[i]);
    const int low = hex_digit(text[i + 1]);
    if (high < 0 || low < 0) return unreadable(type_oid::bytea, text, "bytea in hex format (bytea_output=hex)");
    b.bytes.push_back(static_cast<unsigned char>(high * 16 + low));
  }
  return proto::value{std::move(b)};
}

proto::result<proto::value> bool_from_text(std::string_view text) {
  if (text == "t") return proto::value{true};
  if (text == "f") return proto::value{false};
  return unreadable(type_oid::boolean, text, "a boolean");
}

}  // namespace

proto::result<param_list> param_list::from(const std::vector<const proto::value*>& values) {
  param_list list;
  list.types_.reserve(values.size());
  list.values_.reserve(values.size());
  list.lengths_.reserve(values.size());
  list.formats_.reserve(values.size());
  list.number_texts_.reserve(values.size());  // never reallocated, so values_ may point into it
  for (const auto* v : values)
    if (auto added = list.add(*v); !added) return added.error();
  return list;
}

proto::result<void> param_list::add(const proto::value& v) {
  oid type = type_oid::unknown;
  const char* data = nullptr;
  std::size_t length = 0;
  int format = text_format;
  if (const auto* i = std::get_if<std::int64_t>(&v)) {
    type = type_oid::int8;
    data = number_texts_.emplace_back(int8_text(*i)).c_str();
  } else if (const auto* d = std::get_if<double>(&v)) {
    type = type_oid::float8;
    data = number_texts_.emplace_back(float8_text(*d)).c_str();
  } else if (const auto* b = std::get_if<bool>(&v)) {
    type = type_oid::boolean;
    data = *b ? "t" : "f";
  } else if (const auto* s = std::get_if<std::string>(&v)) {
    if (s->find('\0') != std::string::npos)
      return proto::bad_params("a text value holds a NUL byte, which PostgreSQL text can not store; send a blob");
    data = s->c_str();
    length = s->size();
  } else if (const auto* blob = std::get_if<proto::blob>(&v)) {
    type = type_oid::bytea;
    format = binary_format;
    // A null pointer would mean NULL, so an empty blob points at an empty string.
    data = blob->bytes.empty() ? "" : reinterpret_cast<const char*>(blob->bytes.data());
    length = blob->bytes.size();
  }
  types_.push_back(type);
  values_.push_back(data);
  lengths_.push_back(static_cast<int>(length));  // libpq reads lengths of binary values only
  formats_.push_back(format);
  return {};
}

proto::result<proto::value> value_from_text(oid type, std::string_view text) {
  switch (type) {
    case type_oid::int2:
    case type_oid::int4:
    case type_oid::int8:
    case type_oid::oid_: return integer_from_text(type, text);
    case type_oid::float4:
    case type_oid::float8: return float_from_text(type, text);
    case type_oid::boolean: return bool_from_text(text);
    case type_oid::bytea: return bytea_from_text(text);
    default: return proto::value{std::string(text)};  // numeric, text, dates, uuid, json, arrays…
  }
}

std::string_view type_name(oid type) {
  switch (type) {
    case 16: return "bool";
    case 17: return "bytea";
    case 18: return "char";
    case 19: return "name";
    case 20: return "int8";
    case 21: return "int2";
    case 23: return "int4";
    case 25: return "text";
    case 26: return "oid";
    case 114: return "json";
    case 142: return "xml";
    case 700: return "float4";
    case 701: return "float8";
    case 790: return "money";
    case 869: return "inet";
    case 1042: return "bpchar";
    case 1043: return "varchar";
    case 1082: return "date";
    case 1083: return "time";
    case 1114: return "timestamp";
    case 1184: return "timestamptz";
    case 1186: return "interval";
    case 1266: return "timetz";
    case 1700: return "numeric";
    case 2950: return "uuid";
    case 3802: return "jsonb";
    case 1000: return "bool[]";
    case 1005: return "int2[]";
    case 1007: return "int4[]";
    case 1009: return "text[]";
    case 1016: return "int8[]";
    case 1022: return "float8[]";
    default: return "";
  }
}

}  // namespace monolite::pg
