#include "proto/json_writer.hpp"

#include <charconv>
#include <cmath>

#include "proto/base64.hpp"
#include "proto/text.hpp"

namespace monolite::proto {

json_writer& json_writer::string(std::string_view text) {
  out_ += '"';
  if (is_valid_utf8(text))
    escaped(text);
  else
    escaped(valid_utf8(text));
  out_ += '"';
  return *this;
}

void json_writer::escaped(std::string_view text) {
  constexpr char hex[] = "0123456789abcdef";
  std::size_t clean_from = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out_.append(text.substr(clean_from, i - clean_from));
    clean_from = i + 1;
    switch (c) {
      case '"': out_ += "\\\""; break;
      case '\\': out_ += "\\\\"; break;
      case '\n': out_ += "\\n"; break;
      case '\r': out_ += "\\r"; break;
      case '\t': out_ += "\\t"; break;
      default:
        out_ += "\\u00";
        out_ += hex[c >> 4];
        out_ += hex[c & 15];
    }
  }
  out_.append(text.substr(clean_from));
}

json_writer& json_writer::integer(std::int64_t i) {
  char buffer[24];
  auto end = std::to_chars(buffer, buffer + sizeof buffer, i).ptr;
  out_.append(buffer, end);
  return *this;
}

json_writer& json_writer::number(double d) {
  if (!std::isfinite(d)) return raw("null");  // JSON has no infinities; JSON.stringify does the same
  char buffer[32];
  auto end = std::to_chars(buffer, buffer + sizeof buffer, d).ptr;  // shortest exact form
  std::string_view text(buffer, static_cast<std::size_t>(end - buffer));
  out_.append(text);
  if (text.find_first_of(".e") == std::string_view::npos) out_ += ".0";  // 3.0 stays a float
  return *this;
}

json_writer& json_writer::value(const proto::value& v) {
  struct visitor {
    json_writer& w;
    void operator()(std::monostate) const { w.raw("null"); }
    void operator()(std::int64_t i) const { w.integer(i); }
    void operator()(double d) const { w.number(d); }
    void operator()(const std::string& s) const { w.string(s); }
    void operator()(const blob& b) const { w.raw("{\"base64\":\"").raw(base64_encode(b.bytes)).raw("\"}"); }
    void operator()(bool b) const { w.raw(b ? "true" : "false"); }
  };
  std::visit(visitor{*this}, v);
  return *this;
}

}  // namespace monolite::proto
