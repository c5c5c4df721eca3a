// Merging consecutive WAL segments of one WAL index into one (compaction, docs/replication.md):
// the frames and commit times one after another, the first's chain value and index start. The
// merged segment restores exactly what its parts did, commit by commit, so point-in-time
// restore is unchanged. Pure: the caller downloads and uploads.
#pragma once
#include <span>
#include <string>

#include <boost/system/result.hpp>

#include "replica/format/wal_segment.hpp"

namespace monolite::replica {

using merge_result = boost::system::result<wal_segment, std::string>;

// Builds a merged segment part by part (each checked once, so a long run costs linear time).
class segment_merger {
 public:
  explicit segment_merger(wal_segment first);
  // Appends `next` when it continues the merged frames exactly: same index and WAL header, the
  // very next frame, a checksum chain that carries on. Otherwise the error says why and nothing
  // changes.
  boost::system::result<void, std::string> append(const wal_segment& next);
  const wal_segment& merged() const { return merged_; }
  std::size_t parts() const { return parts_; }

 private:
  wal_segment merged_;
  wal::checksum chain_out_;  // chain value after the merged frames
  bool whole_ = true;        // the merged frames pass their own checksums
  std::size_t parts_ = 1;
};

// All of `parts` (at least one) as one segment, or why they do not follow one another.
merge_result merge_segments(std::span<const wal_segment> parts);

}  // namespace monolite::replica
