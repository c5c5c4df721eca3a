// The frame log's pure formats (replica/frame_log.hpp): its `meta` file, its segment file names and
// the UUIDs naming a log and its generations. No I/O.
//
// meta is text, one field a line:
//   monolite-replog 1
//   page_size 4096
//   log_id <uuid>  generation_id <uuid>  generation_start <frame_no>   (a line each)
//   clean <next frame_no> <db inode> <db size> <db mtime ns> <wal size> <wal mtime ns>   (after close() only)
//   end
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace monolite::replica {

// What the database files looked like (0 for a missing file); equal fingerprints mean nobody
// touched them between close() and open().
struct db_fingerprint {
  std::uint64_t db_inode = 0;
  std::uint64_t db_size = 0;
  std::int64_t db_mtime_ns = 0;
  std::uint64_t wal_size = 0;
  std::int64_t wal_mtime_ns = 0;
  bool operator==(const db_fingerprint&) const = default;
};

namespace frame_log_format {

inline constexpr unsigned meta_version = 1;
inline constexpr std::string_view segment_prefix = "seg-";

struct meta {
  std::uint32_t page_size = 0;
  std::string log_id, generation_id;
  std::uint64_t generation_start = 0;
  std::optional<std::uint64_t> clean_next;  // next_frame_no() at close(); absent while the log is open
  db_fingerprint clean_fingerprint;
};

std::string encode_meta(const meta& m);
// The meta file's fields, or nullopt with `why` set (another format, another version, a field that
// does not parse, a missing field or end line).
std::optional<meta> parse_meta(const std::string& text, std::string& why);

// "seg-" and the first frame number in 20 digits, so names sort as frame numbers do.
std::string segment_name(std::uint64_t first);
// The first frame number in a segment file's name, if it is one.
std::optional<std::uint64_t> segment_first(std::string_view name);

// A random (version 4) UUID, lower-case hex with dashes.
std::string new_uuid();
bool is_uuid(std::string_view text);

}  // namespace frame_log_format
}  // namespace monolite::replica
