// The SQLite WAL file format: header and frame headers, the chained checksum, and validation of
// a run of frames (salts match the header, checksums chain, only whole transactions count).
// Pure: callers read the bytes. Format: https://www.sqlite.org/fileformat.html#the_write_ahead_log
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace monolite::db::wal {

inline constexpr std::size_t header_size = 32;

// A place in a database's WAL history: the WAL `index` (restarts since a generation began) and
// the frames of that index included.
struct position {
  std::uint32_t index = 0;
  std::uint32_t frame = 0;
  auto operator<=>(const position&) const = default;
};
inline constexpr std::size_t frame_header_size = 24;

struct checksum {
  std::uint32_t s0 = 0, s1 = 0;
  bool operator==(const checksum&) const = default;
};

struct header {
  std::uint32_t magic = 0;
  std::uint32_t page_size = 0;
  std::uint32_t checkpoint_sequence = 0;
  std::uint32_t salt1 = 0, salt2 = 0;
  checksum sum;  // over the first 24 bytes: the start of the frames' chain
  bool big_endian_checksums() const { return (magic & 1) != 0; }
  std::size_t frame_size() const { return frame_header_size + page_size; }
};

struct frame_header {
  std::uint32_t page_number = 0;
  std::uint32_t db_size_after_commit = 0;  // non-zero only on a transaction's last frame
  std::uint32_t salt1 = 0, salt2 = 0;
  checksum sum;
  bool is_commit() const { return db_size_after_commit != 0; }
};

std::uint32_t read_be32(const unsigned char* p);
void write_be32(unsigned char* p, std::uint32_t v);

// The header if `bytes` (≥ 32) holds a valid WAL header (magic, page size, its own checksum).
std::optional<header> parse_header(std::string_view bytes);
frame_header parse_frame_header(const unsigned char* p);

// SQLite's WAL checksum over `bytes` (a multiple of 8), continuing from `seed`.
checksum compute(const unsigned char* bytes, std::size_t size, checksum seed, bool big_endian);

// The result of walking frames: how many form whole, valid transactions, and the chain state
// after the last of them.
struct scan_result {
  std::uint32_t frames = 0;    // valid frames up to and including the last commit frame
  std::uint32_t commits = 0;   // commit frames among them
  std::uint32_t db_pages = 0;  // database size after the last commit (0 if none)
  checksum sum;                // chain value after the last counted frame
};

// Walks frames in `bytes` (frame-aligned, starting right after the frame whose chain value is
// `seed`), stopping at the first frame whose salts or checksum do not match.
scan_result scan_frames(const header& h, std::string_view bytes, checksum seed);

}  // namespace monolite::db::wal
