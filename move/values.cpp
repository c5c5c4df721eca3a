#include "move/values.hpp"

#include <algorithm>
#include <bit>
#include <boost/json.hpp>
#include <charconv>
#include <cmath>
#include <cstring>
#include <limits>

namespace monolite::move {
namespace {

constexpr char hex_digits[] = "0123456789abcdef";

void append_hex(std::string_view bytes, std::string& out) {
  for (char c : bytes) {
    out += hex_digits[static_cast<unsigned char>(c) >> 4];
    out += hex_digits[static_cast<unsigned char>(c) & 15];
  }
}

void append_int(std::int64_t v, std::string& out) {
  char buffer[24];
  auto end = std::to_chars(buffer, buffer + sizeof buffer, v).ptr;
  out.append(buffer, end);
}

void append_u64(std::uint64_t v, std::string& out) {
  for (int i = 0; i < 8; ++i)
    out += static_cast<char>(v >> (8 * i) & 0xff);
}

void append_tagged(char tag, std::string_view payload, std::string& out) {
  out += tag;
  append_u64(payload.size(), out);
  out.append(payload);
}

void append_double(double d, std::string& out) {
  out += 'D';
  append_u64(std::isnan(d) ? 0x7ff8000000000000ULL : std::bit_cast<std::uint64_t>(d), out);
}

// append_tagged(tag, the bytes of bytea's hex output `text`), decoded in place; false if not hex output.
bool append_decoded_hex(char tag, std::string_view text, std::string& out) {
  if (text.size() < 2 || text[0] != '\\' || text[1] != 'x' || text.size() % 2) return false;
  out += tag;
  append_u64(text.size() / 2 - 1, out);
  for (std::size_t i = 2; i < text.size(); i += 2) {
    auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    out += static_cast<char>(nibble(text[i]) << 4 | nibble(text[i + 1]));
  }
  return true;
}

bool all_digits(std::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int number_at(std::string_view text, std::size_t at, std::size_t size) {
  int n = 0;
  std::from_chars(text.data() + at, text.data() + at + size, n);
  return n;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool valid_date(int y, int m, int d) {
  static constexpr int month_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || d < 1) return false;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return d <= month_days[m - 1] + (m == 2 && leap);
}

boost::json::value normalized(const boost::json::value& v) {
  if (v.is_object()) {
    std::vector<std::pair<std::string, boost::json::value>> members;
    for (const auto& entry : v.as_object()) {
      const std::string_view key = entry.key();
      auto same = std::find_if(members.begin(), members.end(), [key](const auto& m) { return m.first == key; });
      if (same != members.end()) members.erase(same);  // the last duplicate wins, as in jsonb
      members.emplace_back(std::string(key), normalized(entry.value()));
    }
    std::sort(members.begin(), members.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    boost::json::object out;
    for (auto& [key, member] : members)
      out.emplace(key, std::move(member));
    return out;
  }
  if (v.is_array()) {
    boost::json::array out;
    for (const auto& item : v.as_array())
      out.push_back(normalized(item));
    return out;
  }
  if (v.is_uint64() && v.as_uint64() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
    return static_cast<double>(v.as_uint64());
  }
  if (v.is_uint64()) return static_cast<std::int64_t>(v.as_uint64());
  if (v.is_double() && std::trunc(v.as_double()) == v.as_double() && std::fabs(v.as_double()) < 9.2e18) {
    return static_cast<std::int64_t>(v.as_double());
  }
  return v;
}

}  // namespace

void append_copy_escaped(std::string_view text, std::string& out) {
  std::size_t run = 0;  // characters needing no escape are appended as one run
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c != '\\' && c != '\t' && c != '\n' && c != '\r') continue;
    out.append(text.data() + run, i - run);
    out += '\\';
    out += c == '\t' ? 't' : c == '\n' ? 'n' : c == '\r' ? 'r' : '\\';
    run = i + 1;
  }
  out.append(text.data() + run, text.size() - run);
}

std::string copy_unescaped(std::string_view field) {
  std::string out;
  out.reserve(field.size());
  for (std::size_t i = 0; i < field.size(); ++i) {
    if (field[i] != '\\' || i + 1 == field.size()) {
      out += field[i];
      continue;
    }
    const char c = field[++i];
    out += c == 't'   ? '\t'
           : c == 'n' ? '\n'
           : c == 'r' ? '\r'
           : c == 'b' ? '\b'
           : c == 'f' ? '\f'
           : c == 'v' ? '\v'
                      : c;
  }
  return out;
}

std::string shortest_double(double d) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "Infinity" : "-Infinity";
  char buffer[32];
  auto end = std::to_chars(buffer, buffer + sizeof buffer, d).ptr;
  return std::string(buffer, end);
}

namespace {

void append_double_text(double d, std::string& out) {
  if (!std::isfinite(d)) {
    out += shortest_double(d);
    return;
  }
  char buffer[32];
  auto end = std::to_chars(buffer, buffer + sizeof buffer, d).ptr;
  out.append(buffer, end);
}

// Valid UTF-8 text without NUL is its own text form: no copy for the common case.
bool plain_text(const value& v) {
  return v.type == value::storage::text && valid_utf8(v.bytes) && v.bytes.find('\0') == std::string_view::npos;
}

}  // namespace

std::string as_text(const value& v) {
  switch (v.type) {
    case value::storage::integer: return std::to_string(v.integer);
    case value::storage::real: return shortest_double(v.real);
    case value::storage::text:
      if (valid_utf8(v.bytes) && v.bytes.find('\0') == std::string_view::npos) return std::string(v.bytes);
      [[fallthrough]];
    case value::storage::blob: {
      std::string out = "\\x";
      append_hex(v.bytes, out);
      return out;
    }
    case value::storage::null: return {};
  }
  return {};
}

std::optional<std::string> canonical_decimal(std::string_view text) {
  std::size_t i = 0;
  const bool negative = !text.empty() && text[0] == '-';
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) ++i;
  std::string digits;
  long exponent = 0;
  bool any = false, point = false;
  for (; i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'); ++i) {
    if (text[i] == '.') {
      if (point) return std::nullopt;
      point = true;
      continue;
    }
    any = true;
    digits += text[i];
    if (point) --exponent;
  }
  if (!any) return std::nullopt;
  if (i < text.size() && (text[i] == 'e' || text[i] == 'E')) {
    long e = 0;
    const char* start = text.data() + i + 1 + (i + 1 < text.size() && text[i + 1] == '+');
    auto [end, ec] = std::from_chars(start, text.data() + text.size(), e);
    if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
    exponent += e;
  } else if (i != text.size()) {
    return std::nullopt;
  }
  const auto first = digits.find_first_not_of('0');
  if (first == std::string::npos) return "0";
  digits.erase(0, first);
  while (digits.back() == '0')
    digits.pop_back(), ++exponent;
  if (exponent > 400 || exponent < -400 - static_cast<long>(digits.size())) return std::nullopt;
  std::string out = negative ? "-" : "";
  if (exponent >= 0) return out + digits + std::string(exponent, '0');
  const long whole = static_cast<long>(digits.size()) + exponent;
  if (whole > 0) return out + digits.substr(0, whole) + "." + digits.substr(whole);
  return out + "0." + std::string(-whole, '0') + digits;
}

std::optional<std::int64_t> timestamp_micros(std::string_view t, bool date_only) {
  if (t.size() < 10 || !all_digits(t.substr(0, 4)) || t[4] != '-' || !all_digits(t.substr(5, 2)) || t[7] != '-' ||
      !all_digits(t.substr(8, 2))) {
    return std::nullopt;
  }
  const int y = number_at(t, 0, 4), m = number_at(t, 5, 2), d = number_at(t, 8, 2);
  if (!valid_date(y, m, d)) return std::nullopt;
  std::int64_t micros = days_from_civil(y, m, d) * 86'400'000'000LL;
  if (t.size() == 10) return micros;
  if (date_only || t.size() < 16 || (t[10] != ' ' && t[10] != 'T') || !all_digits(t.substr(11, 2)) || t[13] != ':' ||
      !all_digits(t.substr(14, 2))) {
    return std::nullopt;
  }
  const int hour = number_at(t, 11, 2), minute = number_at(t, 14, 2);
  int second = 0;
  std::int64_t fraction = 0;
  std::string_view rest = t.substr(16);
  if (!rest.empty()) {
    if (rest.size() < 3 || rest[0] != ':' || !all_digits(rest.substr(1, 2))) return std::nullopt;
    second = number_at(rest, 1, 2);
    rest.remove_prefix(3);
  }
  if (!rest.empty()) {
    if (rest[0] != '.' || rest.size() > 7 || !all_digits(rest.substr(1))) return std::nullopt;
    std::string digits(rest.substr(1));
    digits.resize(6, '0');
    fraction = number_at(digits, 0, 6);
  }
  if (hour > 23 || minute > 59 || second > 59) return std::nullopt;
  return micros + ((hour * 60LL + minute) * 60 + second) * 1'000'000 + fraction;
}

std::optional<std::string> canonical_json(std::string_view text) {
  boost::system::error_code ec;
  auto parsed = boost::json::parse(text, ec);
  if (ec) return std::nullopt;
  return boost::json::serialize(normalized(parsed));
}

void append_copy_field(const pg_type& type, const value& v, std::string& out) {
  switch (v.type) {
    case value::storage::null: out += "\\N"; return;
    case value::storage::integer:
      if (type.k == kind::boolean) {
        out += v.integer ? 't' : 'f';
      } else {
        append_int(v.integer, out);
      }
      return;
    case value::storage::real: append_double_text(v.real, out); return;
    case value::storage::blob:
      if (type.k == kind::blob) {
        out += "\\\\x";
        append_hex(v.bytes, out);
        return;
      }
      [[fallthrough]];
    case value::storage::text:
      if ((type.k == kind::text || type.k == kind::varchar) && !plain_text(v)) {
        append_copy_escaped(as_text(v), out);
      } else {
        append_copy_escaped(v.bytes, out);
      }
      return;
  }
}

namespace {

// float8's text output: shortest round-trip digits, or "Infinity", "-Infinity", "NaN".
std::optional<double> pg_double(std::string_view t) {
  double d = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), d);
  if (ec == std::errc() && end == t.data() + t.size()) return d;
  const std::string s(t);  // strtod's spellings of the special values
  char* rest = nullptr;
  d = std::strtod(s.c_str(), &rest);
  if (!s.empty() && *rest == '\0') return d;
  return std::nullopt;
}

// A JSON column's value: numbers as JSON numbers (JSON has NUMERIC affinity in SQLite), text parsed.
std::optional<std::string> sqlite_json(const value& v) {
  if (v.type == value::storage::integer || v.type == value::storage::real) return canonical_json(as_text(v));
  if (v.type == value::storage::text) return canonical_json(v.bytes);
  return std::nullopt;
}

}  // namespace

void append_canonical(const pg_type& type, const value& v, std::string& out) {
  if (v.type == value::storage::null) {
    out += 'N';
    return;
  }
  const bool number = v.type == value::storage::integer || v.type == value::storage::real;
  const double as_double = v.type == value::storage::integer ? static_cast<double>(v.integer) : v.real;
  switch (type.k) {
    case kind::integer:
      if (v.type == value::storage::integer) return out += 'I', append_u64(static_cast<std::uint64_t>(v.integer), out);
      break;
    case kind::real:
      if (number) return append_double(as_double, out);
      break;
    case kind::text:
    case kind::varchar:
      if (plain_text(v)) return append_tagged('T', v.bytes, out);
      return append_tagged('T', as_text(v), out);
    case kind::blob:
      if (v.type == value::storage::blob) return append_tagged('B', v.bytes, out);
      break;
    case kind::numeric:
      if (number) {
        const std::string text =
            v.type == value::storage::integer ? std::to_string(v.integer) : shortest_double(v.real);
        return append_tagged('M', canonical_decimal(text).value_or(text), out);
      }
      break;
    case kind::boolean:
      if (v.type == value::storage::integer) return out += 'O', out += v.integer ? '1' : '0', void();
      break;
    case kind::timestamp:
    case kind::date:
      if (auto micros = timestamp_micros(v.bytes, type.k == kind::date); micros && v.type == value::storage::text) {
        return out += 'S', append_u64(static_cast<std::uint64_t>(*micros), out);
      }
      break;
    case kind::json:
      if (auto json = sqlite_json(v)) return append_tagged('J', *json, out);
      break;
  }
  append_tagged('X', display(v), out);
}

void append_canonical_pg(const pg_type& type, const std::optional<std::string_view>& text, std::string& out) {
  if (!text) {
    out += 'N';
    return;
  }
  const std::string_view t = *text;
  switch (type.k) {
    case kind::integer: {
      std::int64_t v = 0;
      auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
      if (ec == std::errc() && end == t.data() + t.size())
        return out += 'I', append_u64(static_cast<std::uint64_t>(v), out);
      break;
    }
    case kind::real:
      if (auto d = pg_double(t)) return append_double(*d, out);
      break;
    case kind::text:
    case kind::varchar: return append_tagged('T', t, out);
    case kind::blob:
      if (append_decoded_hex('B', t, out)) return;
      break;
    case kind::numeric:
      if (auto decimal = canonical_decimal(t)) return append_tagged('M', *decimal, out);
      break;
    case kind::boolean:
      if (t == "t" || t == "f") return out += 'O', out += t == "t" ? '1' : '0', void();
      break;
    case kind::timestamp:
    case kind::date:
      if (auto micros = timestamp_micros(t, type.k == kind::date)) return out += 'S', append_u64(*micros, out);
      break;
    case kind::json:
      if (auto json = canonical_json(t)) return append_tagged('J', *json, out);
      break;
  }
  append_tagged('X', std::string("'") + std::string(t) + "'", out);
}

}  // namespace monolite::move
