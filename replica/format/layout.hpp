// Object names in a replica, and the catalog parsed back from a listing. The commit time is in
// the name (UTC, millisecond precision), so point-in-time restore never depends on the store's
// clock. Layout (docs/replication.md):
//   generations/<generation>/snapshots/<index>-<frame>_<time>.snapshot.lz4
//   generations/<generation>/wal/<index>-<first>-<last>_<first time>_<last time>.wal.lz4
// index/frame numbers are 8 lower-case hex digits, so names sort in replay order.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "db/wal_format.hpp"

namespace monolite::replica::layout {

using position = db::wal::position;

struct snapshot_entry {
  std::string generation, key;
  position at;
  std::int64_t time_ms = 0;
  std::uint64_t size = 0;
};

struct segment_entry {
  std::string generation, key;
  std::uint32_t index = 0, first_frame = 0, last_frame = 0;
  std::int64_t first_time_ms = 0, last_time_ms = 0;
  std::uint64_t size = 0;
};

struct generation {
  std::string id;
  std::vector<snapshot_entry> snapshots;  // by position
  std::vector<segment_entry> segments;    // by (index, first_frame); none holds another's frames
  // Segments whose frames another segment holds entirely: the parts of a compaction that was
  // interrupted after its merged segment was uploaded (replica/compactor.hpp). Never needed.
  std::vector<segment_entry> redundant;
  std::uint64_t bytes = 0;
  std::optional<std::int64_t> first_time_ms() const;  // of its first snapshot
  std::optional<std::int64_t> last_time_ms() const;   // of its newest snapshot or segment
  std::int64_t start_time_ms() const;                 // of its oldest object (0: none)
  position end() const;                               // last position it holds
};

// "20261122T031502Z-1f2e3d4c": creation time first, for people reading a listing.
std::string new_generation_id(std::int64_t now_ms, std::uint32_t random);

std::string snapshot_key(std::string_view generation, position at, std::int64_t time_ms);
std::string segment_key(std::string_view generation, std::uint32_t index, std::uint32_t first, std::uint32_t last,
                        std::int64_t first_time_ms, std::int64_t last_time_ms);

struct listed_object {
  std::string key;
  std::uint64_t size = 0;
};
// Generations sorted oldest first (by their oldest object's time, then id); names that do not
// follow the layout are ignored. Of two segments with the same frames, the first by key stays.
std::vector<generation> parse_catalog(const std::vector<listed_object>& objects);

// Times: "20261122T031502.123Z" in names, RFC 3339 for people.
std::string compact_time(std::int64_t ms);
std::string rfc3339_time(std::int64_t ms);
std::optional<std::int64_t> parse_rfc3339(std::string_view text);
std::optional<std::int64_t> parse_compact_time(std::string_view text);

}  // namespace monolite::replica::layout
