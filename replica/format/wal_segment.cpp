#include "replica/format/wal_segment.hpp"

#include <cstring>

namespace monolite::replica {
using proto::api_error;
using proto::internal_error;

namespace {
constexpr char magic[8] = {'M', 'L', 'W', 'A', 'L', 'S', 'E', 'G'};
constexpr std::uint32_t version = 1;
constexpr std::size_t fixed_size = 80;

void put64(std::string& out, std::int64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8)
    out.push_back(static_cast<char>((std::uint64_t(v) >> shift) & 0xff));
}
void put32(std::string& out, std::uint32_t v) {
  unsigned char b[4];
  wal::write_be32(b, v);
  out.append(reinterpret_cast<char*>(b), 4);
}
std::int64_t read64(const unsigned char* p) {
  return static_cast<std::int64_t>(std::uint64_t(wal::read_be32(p)) << 32 | wal::read_be32(p + 4));
}
api_error corrupt(const std::string& what) { return internal_error("corrupt WAL segment: " + what); }
}  // namespace

wal::header wal_segment::parsed_header() const {
  auto h = wal::parse_header(std::string_view(reinterpret_cast<const char*>(wal_header.data()), wal_header.size()));
  return h ? *h : wal::header{};
}

std::uint32_t wal_segment::frame_count() const {
  const auto h = parsed_header();
  return h.page_size ? static_cast<std::uint32_t>(frames.size() / h.frame_size()) : 0;
}

std::string encode_segment(const wal_segment& s) {
  std::string out;
  out.reserve(fixed_size + s.commit_times_ms.size() * 8 + s.frames.size());
  out.append(magic, sizeof magic);
  put32(out, version);
  put32(out, s.parsed_header().page_size);
  put32(out, s.index);
  put32(out, s.first_frame);
  put32(out, s.frame_count());
  put32(out, static_cast<std::uint32_t>(s.commit_times_ms.size()));
  put32(out, s.prev_index_frames);
  put32(out, 0);
  out.append(reinterpret_cast<const char*>(s.wal_header.data()), s.wal_header.size());
  put32(out, s.chain_in.s0);
  put32(out, s.chain_in.s1);
  for (auto t : s.commit_times_ms)
    put64(out, t);
  out.append(s.frames);
  return out;
}

result<wal_segment> decode_segment(std::string_view bytes) {
  if (bytes.size() < fixed_size || std::memcmp(bytes.data(), magic, sizeof magic) != 0) return corrupt("bad magic");
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  if (wal::read_be32(p + 8) != version) return corrupt("unknown version");
  wal_segment s;
  const std::uint32_t page_size = wal::read_be32(p + 12);
  s.index = wal::read_be32(p + 16);
  s.first_frame = wal::read_be32(p + 20);
  const std::uint32_t frame_count = wal::read_be32(p + 24);
  const std::uint32_t commits = wal::read_be32(p + 28);
  s.prev_index_frames = wal::read_be32(p + 32);
  std::memcpy(s.wal_header.data(), p + 40, wal::header_size);
  s.chain_in = {wal::read_be32(p + 72), wal::read_be32(p + 76)};
  const auto header = wal::parse_header(bytes.substr(40, wal::header_size));
  if (!header || header->page_size != page_size) return corrupt("bad WAL header");
  const std::size_t times_end = fixed_size + std::size_t(commits) * 8;
  if (s.first_frame == 0 || bytes.size() < times_end ||
      bytes.size() - times_end != std::size_t(frame_count) * header->frame_size())
    return corrupt("sizes do not add up");
  for (std::uint32_t i = 0; i < commits; ++i)
    s.commit_times_ms.push_back(read64(p + fixed_size + i * 8));
  s.frames.assign(bytes.substr(times_end));
  const auto scan = wal::scan_frames(*header, s.frames, s.chain_in);
  if (scan.frames != frame_count || scan.commits != commits) return corrupt("frames fail their checksums or salts");
  return s;
}

}  // namespace monolite::replica
