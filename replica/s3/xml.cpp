#include "replica/s3/xml.hpp"

#include <charconv>
#include <utility>

namespace monolite::replica::s3_xml {

namespace {

void append_utf8(std::string& out, std::uint32_t code_point) {
  if (code_point < 0x80) {
    out += static_cast<char>(code_point);
  } else if (code_point < 0x800) {
    out += static_cast<char>(0xc0 | (code_point >> 6));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  } else if (code_point < 0x10000) {
    out += static_cast<char>(0xe0 | (code_point >> 12));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  } else {
    out += static_cast<char>(0xf0 | (code_point >> 18));
    out += static_cast<char>(0x80 | ((code_point >> 12) & 0x3f));
    out += static_cast<char>(0x80 | ((code_point >> 6) & 0x3f));
    out += static_cast<char>(0x80 | (code_point & 0x3f));
  }
}

// The code point of "#65" or "#x41" (an entity's name), if it is a valid one.
std::optional<std::uint32_t> numeric_entity(std::string_view name) {
  if (name.size() < 2 || name[0] != '#') return std::nullopt;
  const bool hex = name[1] == 'x' || name[1] == 'X';
  const std::string_view digits = name.substr(hex ? 2 : 1);
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value, hex ? 16 : 10);
  if (digits.empty() || ec != std::errc() || end != digits.data() + digits.size()) return std::nullopt;
  if (value == 0 || value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return std::nullopt;
  return value;
}

constexpr std::pair<std::string_view, char> named_entities[] = {
    {"amp", '&'}, {"lt", '<'}, {"gt", '>'}, {"quot", '"'}, {"apos", '\''}};

// Appends the decoded form of one entity name (between '&' and ';'); false when it is not one.
bool append_entity(std::string& out, std::string_view name) {
  for (const auto& [entity, character] : named_entities) {
    if (name == entity) {
      out += character;
      return true;
    }
  }
  const auto code_point = numeric_entity(name);
  if (!code_point) return false;
  append_utf8(out, *code_point);
  return true;
}

// The longest text between '&' and ';' that is read as an entity ("#x0010FFFF" and the like).
constexpr std::size_t max_entity_name = 11;

int hex_digit(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Where the element <tag …> or <tag/> starting at or after `from` opens, and where its start tag ends.
struct start_tag {
  std::size_t open = std::string_view::npos;
  std::size_t content = 0;  // just after '>'
  bool empty = false;       // <tag/>
};

start_tag find_start_tag(std::string_view xml, std::string_view tag, std::size_t from) {
  const std::string opening = "<" + std::string(tag);
  for (std::size_t at = xml.find(opening, from); at != std::string_view::npos; at = xml.find(opening, at + 1)) {
    const std::size_t after = at + opening.size();
    if (after >= xml.size()) break;
    const char next = xml[after];
    if (next != '>' && next != '/' && next != ' ' && next != '\t' && next != '\r' && next != '\n') continue;
    const std::size_t close = xml.find('>', after);
    if (close == std::string_view::npos) break;
    return {at, close + 1, xml[close - 1] == '/'};
  }
  return {};
}

std::optional<std::uint64_t> parse_size(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace

std::string decode_entities(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '&') {
      // The ';' is looked for only as far as the longest entity name: searching to the end of the
      // text from every '&' made a body of many '&' quadratic.
      const std::size_t name_length = text.substr(i + 1, max_entity_name + 1).find(';');
      if (name_length != std::string_view::npos && append_entity(out, text.substr(i + 1, name_length))) {
        i += name_length + 1;
        continue;
      }
    }
    out += text[i];
  }
  return out;
}

std::string escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string decode_url_encoded(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '+') {
      out += ' ';
    } else if (text[i] == '%' && i + 2 < text.size() && hex_digit(text[i + 1]) >= 0 && hex_digit(text[i + 2]) >= 0) {
      out += static_cast<char>(hex_digit(text[i + 1]) * 16 + hex_digit(text[i + 2]));
      i += 2;
    } else {
      out += text[i];
    }
  }
  return out;
}

std::string_view root_name(std::string_view xml) {
  std::size_t at = 0;
  while ((at = xml.find('<', at)) != std::string_view::npos) {
    if (at + 1 < xml.size() && (xml[at + 1] == '?' || xml[at + 1] == '!')) {
      at = xml.find('>', at);
      if (at == std::string_view::npos) return {};
      continue;
    }
    const std::size_t end = xml.find_first_of(" \t\r\n/>", at + 1);
    if (end == std::string_view::npos) return {};
    return xml.substr(at + 1, end - at - 1);
  }
  return {};
}

std::vector<std::string_view> elements(std::string_view xml, std::string_view tag) {
  std::vector<std::string_view> out;
  const std::string closing = "</" + std::string(tag) + ">";
  std::size_t from = 0;
  for (start_tag start = find_start_tag(xml, tag, from); start.open != std::string_view::npos;
       start = find_start_tag(xml, tag, from)) {
    if (start.empty) {
      out.emplace_back();
      from = start.content;
      continue;
    }
    const std::size_t end = xml.find(closing, start.content);
    if (end == std::string_view::npos) break;
    out.push_back(xml.substr(start.content, end - start.content));
    from = end + closing.size();
  }
  return out;
}

std::optional<std::string> field(std::string_view xml, std::string_view tag) {
  const auto found = elements(xml, tag);
  if (found.empty()) return std::nullopt;
  return decode_entities(found.front());
}

std::optional<error_reply> parse_error(std::string_view xml) {
  if (root_name(xml) != "Error") return std::nullopt;
  return error_reply{field(xml, "Code").value_or(""), field(xml, "Message").value_or(""),
                     field(xml, "BucketName").value_or("")};
}

std::optional<list_page> parse_list_page(std::string_view xml, bool url_encoded_keys) {
  if (root_name(xml) != "ListBucketResult") return std::nullopt;
  list_page page;
  url_encoded_keys = url_encoded_keys && field(xml, "EncodingType").value_or("") == "url";
  for (const std::string_view contents : elements(xml, "Contents")) {
    const auto key = field(contents, "Key");
    const auto size = parse_size(field(contents, "Size").value_or(""));
    if (!key || !size) return std::nullopt;
    page.objects.push_back({url_encoded_keys ? decode_url_encoded(*key) : *key, *size});
  }
  page.truncated = field(xml, "IsTruncated").value_or("false") == "true";
  page.next_continuation_token = field(xml, "NextContinuationToken").value_or("");
  return page;
}

std::optional<std::string> parse_upload_id(std::string_view xml) {
  if (root_name(xml) != "InitiateMultipartUploadResult") return std::nullopt;
  auto id = field(xml, "UploadId");
  if (!id || id->empty()) return std::nullopt;
  return id;
}

std::vector<delete_failure> parse_delete_failures(std::string_view xml) {
  std::vector<delete_failure> out;
  if (root_name(xml) != "DeleteResult") return out;
  for (const std::string_view error : elements(xml, "Error")) {
    out.push_back(
        {field(error, "Key").value_or(""), field(error, "Code").value_or(""), field(error, "Message").value_or("")});
  }
  return out;
}

}  // namespace monolite::replica::s3_xml
