#include "db/wal_format.hpp"

namespace monolite::db::wal {

namespace {
constexpr std::uint32_t magic_little = 0x377f0682;
constexpr std::uint32_t magic_big = 0x377f0683;
constexpr std::uint32_t file_format = 3007000;

const unsigned char* bytes_of(std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); }

std::uint32_t read_le32(const unsigned char* p) {
  return std::uint32_t(p[0]) | std::uint32_t(p[1]) << 8 | std::uint32_t(p[2]) << 16 | std::uint32_t(p[3]) << 24;
}
}  // namespace

std::uint32_t read_be32(const unsigned char* p) {
  return std::uint32_t(p[0]) << 24 | std::uint32_t(p[1]) << 16 | std::uint32_t(p[2]) << 8 | std::uint32_t(p[3]);
}

void write_be32(unsigned char* p, std::uint32_t v) {
  p[0] = static_cast<unsigned char>(v >> 24);
  p[1] = static_cast<unsigned char>(v >> 16);
  p[2] = static_cast<unsigned char>(v >> 8);
  p[3] = static_cast<unsigned char>(v);
}

checksum compute(const unsigned char* bytes, std::size_t size, checksum seed, bool big_endian) {
  std::uint32_t s0 = seed.s0, s1 = seed.s1;
  for (std::size_t i = 0; i + 8 <= size; i += 8) {
    const std::uint32_t a = big_endian ? read_be32(bytes + i) : read_le32(bytes + i);
    const std::uint32_t b = big_endian ? read_be32(bytes + i + 4) : read_le32(bytes + i + 4);
    s0 += a + s1;
    s1 += b + s0;
  }
  return {s0, s1};
}

std::optional<header> parse_header(std::string_view bytes) {
  if (bytes.size() < header_size) return std::nullopt;
  const auto* p = bytes_of(bytes);
  header h;
  h.magic = read_be32(p);
  if (h.magic != magic_little && h.magic != magic_big) return std::nullopt;
  if (read_be32(p + 4) != file_format) return std::nullopt;
  h.page_size = read_be32(p + 8);
  if (h.page_size == 1) h.page_size = 65536;  // how 65536 is spelled in a 4-byte field
  if (h.page_size < 512 || h.page_size > 65536 || (h.page_size & (h.page_size - 1)) != 0) return std::nullopt;
  h.checkpoint_sequence = read_be32(p + 12);
  h.salt1 = read_be32(p + 16);
  h.salt2 = read_be32(p + 20);
  h.sum = {read_be32(p + 24), read_be32(p + 28)};
  if (compute(p, 24, {}, h.big_endian_checksums()) != h.sum) return std::nullopt;
  return h;
}

frame_header parse_frame_header(const unsigned char* p) {
  return {read_be32(p), read_be32(p + 4), read_be32(p + 8), read_be32(p + 12), {read_be32(p + 16), read_be32(p + 20)}};
}

scan_result scan_frames(const header& h, std::string_view bytes, checksum seed) {
  scan_result out;
  out.sum = seed;
  const std::size_t frame_size = h.frame_size();
  checksum running = seed;
  std::uint32_t count = 0;
  for (std::size_t at = 0; at + frame_size <= bytes.size(); at += frame_size) {
    const auto* p = bytes_of(bytes) + at;
    const frame_header f = parse_frame_header(p);
    if (f.salt1 != h.salt1 || f.salt2 != h.salt2) break;
    running = compute(p, 8, running, h.big_endian_checksums());
    running = compute(p + frame_header_size, h.page_size, running, h.big_endian_checksums());
    if (running != f.sum) break;
    ++count;
    if (f.is_commit()) {
      out.frames = count;
      out.commits += 1;
      out.db_pages = f.db_size_after_commit;
      out.sum = running;
    }
  }
  return out;
}

}  // namespace monolite::db::wal
