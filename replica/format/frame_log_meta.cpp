#include "replica/format/frame_log_meta.hpp"

#include <openssl/rand.h>

#include <cctype>
#include <charconv>
#include <sstream>
#include <stdexcept>

namespace monolite::replica::frame_log_format {
namespace {

constexpr std::string_view meta_magic = "monolite-replog";
constexpr std::size_t segment_digits = 20;

// Reads one field's value(s) after its key; false if the key is unknown or its value does not parse.
bool parse_field(std::istream& in, const std::string& key, meta& m) {
  auto& f = m.clean_fingerprint;
  if (key == "page_size") return bool(in >> m.page_size);
  if (key == "log_id") return (in >> m.log_id) && is_uuid(m.log_id);
  if (key == "generation_id") return (in >> m.generation_id) && is_uuid(m.generation_id);
  if (key == "generation_start") return bool(in >> m.generation_start);
  if (key != "clean") return false;
  m.clean_next.emplace();
  return bool(in >> *m.clean_next >> f.db_inode >> f.db_size >> f.db_mtime_ns >> f.wal_size >> f.wal_mtime_ns);
}

}  // namespace

std::string encode_meta(const meta& m) {
  std::ostringstream out;
  out << meta_magic << ' ' << meta_version << "\npage_size " << m.page_size << "\nlog_id " << m.log_id
      << "\ngeneration_id " << m.generation_id << "\ngeneration_start " << m.generation_start << '\n';
  if (m.clean_next) {
    const auto& f = m.clean_fingerprint;
    out << "clean " << *m.clean_next << ' ' << f.db_inode << ' ' << f.db_size << ' ' << f.db_mtime_ns << ' '
        << f.wal_size << ' ' << f.wal_mtime_ns << '\n';
  }
  out << "end\n";
  return out.str();
}

std::optional<meta> parse_meta(const std::string& text, std::string& why) {
  auto refuse = [&why](std::string reason) -> std::optional<meta> {
    why = std::move(reason);
    return std::nullopt;
  };
  std::istringstream in(text);
  std::string word;
  unsigned version = 0;
  if (!(in >> word >> version) || word != meta_magic) return refuse("the meta file is not a frame log's");
  if (version != meta_version)
    return refuse("meta version " + std::to_string(version) + " (this build reads " + std::to_string(meta_version) +
                  ")");
  meta m;
  unsigned fields = 0;
  bool ended = false;
  while (!ended && in >> word) {
    ended = word == "end";
    if (!ended && !parse_field(in, word, m)) return refuse("the meta file's field '" + word + "' does not parse");
    fields += !ended && word != "clean";
  }
  if (!ended || fields != 4) return refuse("the meta file is incomplete");
  return m;
}

std::string segment_name(std::uint64_t first) {
  const std::string digits = std::to_string(first);
  return std::string(segment_prefix) + std::string(segment_digits - digits.size(), '0') + digits;
}

std::optional<std::uint64_t> segment_first(std::string_view name) {
  if (name.size() != segment_prefix.size() + segment_digits || !name.starts_with(segment_prefix)) return std::nullopt;
  std::uint64_t first = 0;
  const char* end = name.data() + name.size();
  const auto parsed = std::from_chars(name.data() + segment_prefix.size(), end, first);
  if (parsed.ec != std::errc() || parsed.ptr != end) return std::nullopt;
  return first;
}

std::string new_uuid() {
  unsigned char b[16];
  if (RAND_bytes(b, sizeof b) != 1) throw std::runtime_error("OpenSSL: no random bytes for a UUID");
  b[6] = (b[6] & 0x0f) | 0x40, b[8] = (b[8] & 0x3f) | 0x80;  // version 4, RFC 4122 variant
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += digits[b[i] >> 4], out += digits[b[i] & 15];
  }
  return out;
}

bool is_uuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !std::isxdigit(static_cast<unsigned char>(s[i]))) return false;
  }
  return true;
}

}  // namespace monolite::replica::frame_log_format
