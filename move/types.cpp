#include "move/types.hpp"

#include <cctype>
#include <cmath>
#include <cstring>
#include <vector>

#include "move/values.hpp"

namespace monolite::move {
namespace {

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return out;
}

// "VARCHAR ( 20 )" → name "VARCHAR", args {20}.
void split_declared(std::string_view declared, std::string& name, std::vector<int>& args) {
  const auto open = declared.find('(');
  std::string head = upper(declared.substr(0, open));
  while (!head.empty() && std::isspace(static_cast<unsigned char>(head.back())))
    head.pop_back();
  while (!head.empty() && std::isspace(static_cast<unsigned char>(head.front())))
    head.erase(0, 1);
  name = head;
  if (open == std::string_view::npos) return;
  std::string number;
  for (char c : declared.substr(open + 1)) {
    if (std::isdigit(static_cast<unsigned char>(c))) {
      number += c;
    } else if (c == ',' || c == ')') {
      if (!number.empty()) args.push_back(std::stoi(number));
      number.clear();
      if (c == ')') break;
    }
  }
}

bool contains(const std::string& text, std::string_view part) { return text.find(part) != std::string::npos; }

// SQLite's affinity rules (datatype3.html §3.1), in their order.
pg_type by_affinity(const std::string& name) {
  if (contains(name, "INT")) return {kind::integer};
  if (contains(name, "CHAR") || contains(name, "CLOB") || contains(name, "TEXT")) return {kind::text};
  if (name.empty() || contains(name, "BLOB")) return {kind::blob};
  if (contains(name, "REAL") || contains(name, "FLOA") || contains(name, "DOUB")) return {kind::real};
  return {kind::numeric};
}

}  // namespace

std::string pg_type::sql() const {
  switch (k) {
    case kind::integer: return "bigint";
    case kind::real: return "double precision";
    case kind::text: return "text";
    case kind::varchar: return "varchar(" + std::to_string(length) + ")";
    case kind::blob: return "bytea";
    case kind::numeric:
      return precision ? "numeric(" + std::to_string(precision) + "," + std::to_string(scale) + ")" : "numeric";
    case kind::boolean: return "boolean";
    case kind::timestamp: return "timestamp";
    case kind::date: return "date";
    case kind::json: return "jsonb";
  }
  return "bytea";
}

pg_type translate_type(std::string_view declared) {
  std::string name;
  std::vector<int> args;
  split_declared(declared, name, args);
  if (name == "BOOLEAN" || name == "BOOL") return {kind::boolean};
  if (name == "DATETIME" || name == "TIMESTAMP") return {kind::timestamp};
  if (name == "DATE") return {kind::date};
  if (name == "JSON" || name == "JSONB") return {kind::json};
  if ((name == "NUMERIC" || name == "DECIMAL") && !args.empty() && args[0] > 0 && args[0] <= 1000) {
    const int scale = args.size() > 1 ? args[1] : 0;
    if (scale <= args[0]) return {kind::numeric, 0, args[0], scale};
  }
  const bool sized_char = name == "VARCHAR" || name == "CHAR" || name == "CHARACTER" || name == "CHARACTER VARYING" ||
                          name == "NVARCHAR" || name == "NCHAR";
  if (sized_char && !args.empty() && args[0] > 0) return {kind::varchar, args[0]};
  return by_affinity(name);
}

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    // ASCII eight bytes at a time: most text is, and this runs for every text value
    std::uint64_t word = 0;
    while (i + 8 <= text.size() && (std::memcpy(&word, text.data() + i, 8), (word & 0x8080808080808080ULL) == 0))
      i += 8;
    if (i == text.size()) break;
    const auto c = static_cast<unsigned char>(text[i]);
    const int extra = c < 0x80 ? 0 : (c >> 5) == 6 ? 1 : (c >> 4) == 14 ? 2 : (c >> 3) == 30 ? 3 : -1;
    if (extra < 0 || (extra > 0 && c < 0xc2) || c > 0xf4 || i + extra >= text.size() + (extra == 0)) return false;
    std::uint32_t point = extra ? c & (0x3f >> extra) : c;
    for (int k = 1; k <= extra; ++k) {
      const auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xc0) != 0x80) return false;
      point = point << 6 | (next & 0x3f);
    }
    const bool overlong = (extra == 2 && point < 0x800) || (extra == 3 && point < 0x10000);
    if (overlong || (point >= 0xd800 && point <= 0xdfff) || point > 0x10ffff) return false;
    i += extra + 1;
  }
  return true;
}

namespace {

std::size_t utf8_length(std::string_view text) {
  std::size_t n = 0;
  for (char c : text)
    n += (static_cast<unsigned char>(c) & 0xc0) != 0x80;
  return n;
}

std::optional<std::string> text_misfit(const pg_type& type, const value& v) {
  if (v.type == value::storage::blob) return "a blob in a " + type.sql() + " column";
  if (v.type != value::storage::text) return std::nullopt;  // numbers render as their decimal text
  if (!valid_utf8(v.bytes)) return "text that is not UTF-8";
  if (v.bytes.find('\0') != std::string_view::npos) return "text with a NUL byte";
  if (type.k == kind::varchar && utf8_length(v.bytes) > static_cast<std::size_t>(type.length)) {
    return "text longer than " + std::to_string(type.length) + " characters";
  }
  return std::nullopt;
}

// Digits before the point and after it, of the value PostgreSQL will store.
std::optional<std::string> numeric_misfit(const pg_type& type, const value& v) {
  if (v.type == value::storage::text) return "text in a " + type.sql() + " column";
  if (v.type == value::storage::blob) return "a blob in a " + type.sql() + " column";
  if (v.type == value::storage::real && !std::isfinite(v.real)) return "an infinite real in a numeric column";
  if (!type.precision) return std::nullopt;
  const std::string text = v.type == value::storage::integer ? std::to_string(v.integer) : shortest_double(v.real);
  const std::string canonical = canonical_decimal(text).value_or("0");
  const auto point = canonical.find('.');
  const std::size_t sign = canonical[0] == '-';
  const std::size_t whole = (point == std::string::npos ? canonical.size() : point) - sign;
  const std::size_t fraction = point == std::string::npos ? 0 : canonical.size() - point - 1;
  const bool zero_whole = canonical.compare(sign, 1, "0") == 0 && whole == 1;
  if (fraction > static_cast<std::size_t>(type.scale)) return "more than " + std::to_string(type.scale) + " decimals";
  if (!zero_whole && whole > static_cast<std::size_t>(type.precision - type.scale)) {
    return "more digits than " + type.sql() + " holds";
  }
  return std::nullopt;
}

std::string stored_as(const value& v) {
  switch (v.type) {
    case value::storage::integer: return "an integer";
    case value::storage::real: return "a real";
    case value::storage::text: return "text";
    case value::storage::blob: return "a blob";
    case value::storage::null: return "NULL";
  }
  return "a value";
}

}  // namespace

std::optional<std::string> misfit(const pg_type& type, const value& v) {
  if (v.type == value::storage::null) return std::nullopt;
  // Built only for a value that does not fit: this runs for every value of the database.
  const auto wrong = [&] { return std::optional<std::string>(stored_as(v) + " in a " + type.sql() + " column"); };
  switch (type.k) {
    case kind::integer: return v.type == value::storage::integer ? std::nullopt : wrong();
    case kind::real:
      return v.type == value::storage::integer || v.type == value::storage::real ? std::nullopt : wrong();
    case kind::text:
    case kind::varchar: return text_misfit(type, v);
    case kind::blob: return v.type == value::storage::blob ? std::nullopt : wrong();
    case kind::numeric: return numeric_misfit(type, v);
    case kind::boolean:
      if (v.type == value::storage::integer && (v.integer == 0 || v.integer == 1)) return std::nullopt;
      return v.type == value::storage::integer ? "an integer other than 0 or 1 in a boolean column" : wrong();
    case kind::timestamp:
    case kind::date:
      if (v.type != value::storage::text) return wrong();
      if (timestamp_micros(v.bytes, type.k == kind::date)) return std::nullopt;
      return "text that is not an ISO-8601 " + std::string(type.k == kind::date ? "date" : "date and time");
    case kind::json:
      // JSON's declared type has NUMERIC affinity: SQLite stores '1' as the integer 1, a JSON number.
      if (v.type == value::storage::integer || (v.type == value::storage::real && std::isfinite(v.real))) {
        return std::nullopt;
      }
      if (v.type != value::storage::text) return wrong();
      return canonical_json(v.bytes) ? std::nullopt : std::optional<std::string>("text that is not JSON");
  }
  return wrong();
}

std::string display(const value& v) {
  constexpr std::size_t cut = 60;
  switch (v.type) {
    case value::storage::null: return "NULL";
    case value::storage::integer: return std::to_string(v.integer);
    case value::storage::real: return shortest_double(v.real);
    case value::storage::text: {
      std::string out = "'" + std::string(v.bytes.substr(0, cut)) + "'";
      return v.bytes.size() > cut ? out + "…" : out;
    }
    case value::storage::blob: {
      static constexpr char hex[] = "0123456789abcdef";
      std::string out = "x'";
      for (char c : v.bytes.substr(0, cut / 2)) {
        out += hex[static_cast<unsigned char>(c) >> 4];
        out += hex[static_cast<unsigned char>(c) & 15];
      }
      return out + (v.bytes.size() > cut / 2 ? "'…" : "'");
    }
  }
  return "?";
}

}  // namespace monolite::move
