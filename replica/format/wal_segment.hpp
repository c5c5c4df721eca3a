// A WAL segment: consecutive frames of one WAL "index" (the WAL between two restarts), always
// whole transactions, self-describing so it can be checked on its own: the WAL header of its
// index, the checksum chain value it continues from, and the commit time of each transaction.
// Byte layout (big-endian) is documented in docs/replication.md.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "db/wal_format.hpp"
#include "proto/error.hpp"

namespace monolite::replica {

namespace wal = db::wal;
using proto::result;

struct wal_segment {
  std::uint32_t index = 0;              // WAL restarts since the generation began
  std::uint32_t first_frame = 1;        // 1-based frame number within the index
  std::uint32_t prev_index_frames = 0;  // when first_frame == 1 and index > 0: where the last index ended
  std::array<unsigned char, wal::header_size> wal_header{};
  wal::checksum chain_in;                     // chain value before first_frame
  std::vector<std::int64_t> commit_times_ms;  // one per commit frame, in order
  std::string frames;                         // frame_count whole frames

  wal::header parsed_header() const;
  std::uint32_t frame_count() const;
  std::uint32_t last_frame() const { return first_frame + frame_count() - 1; }
};

std::string encode_segment(const wal_segment& segment);

// Decodes and checks a segment: magic, sizes, the WAL header, salts and the checksum chain of
// every frame, commit count. Anything else is an error naming what is wrong.
result<wal_segment> decode_segment(std::string_view bytes);

}  // namespace monolite::replica
