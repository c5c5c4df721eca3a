// Does a replica continue the live WAL? Compares the newest WAL segment of the replica's newest
// generation with the local -wal file: same WAL header (salts), the local WAL holds at least as
// many valid frames, and the checksum chain after the segment's last frame is the same. Or: the
// WAL was restarted once since, and the mark of the last complete checkpoint (db/wal_tail.hpp)
// says that index ended exactly at the replica's last frame. Then the generation continues;
// anything else starts a new generation.
#pragma once
#include <string>

#include <boost/system/result.hpp>

#include "replica/format/layout.hpp"
#include "replica/object_store.hpp"

namespace monolite::replica {

struct resume_point {
  std::string generation;
  replica::layout::position at;
  std::uint32_t prev_index_frames = 0;  // continuing in the index after the replica's last one
  std::string segment_key;              // the newest segment, the one compared with the local WAL
};

// The error says why the replica does not continue the local WAL (for the log).
boost::system::result<resume_point, std::string> find_resume_point(object_store& store, const std::string& db_path);

// True when `store`'s newest generation is `generation` and ends exactly at `at`.
bool holds_position(object_store& store, const std::string& generation, replica::layout::position at);

// The replica's catalog (every generation, oldest first).
store_result<std::vector<replica::layout::generation>> read_catalog(object_store& store);

}  // namespace monolite::replica
