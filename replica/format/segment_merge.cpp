#include "replica/format/segment_merge.hpp"

namespace monolite::replica {

namespace {
using append_result = boost::system::result<void, std::string>;

append_result refuse(std::string message) { return append_result(boost::system::in_place_error, std::move(message)); }

std::string frame_name(std::uint32_t index, std::uint32_t frame) {
  return "index " + std::to_string(index) + " frame " + std::to_string(frame);
}
}  // namespace

segment_merger::segment_merger(wal_segment first) : merged_(std::move(first)) {
  const auto scan = wal::scan_frames(merged_.parsed_header(), merged_.frames, merged_.chain_in);
  whole_ = scan.frames == merged_.frame_count();
  chain_out_ = scan.sum;
}

append_result segment_merger::append(const wal_segment& next) {
  if (next.index != merged_.index)
    return refuse("WAL index " + std::to_string(next.index) + " does not continue index " +
                  std::to_string(merged_.index));
  if (next.wal_header != merged_.wal_header)
    return refuse("the segment at " + frame_name(next.index, next.first_frame) + " has another WAL header");
  if (next.first_frame != merged_.last_frame() + 1)
    return refuse("the segment at " + frame_name(next.index, next.first_frame) + " does not follow " +
                  frame_name(merged_.index, merged_.last_frame()));
  // `next` must continue the chain where the merged frames leave it, or the merged segment
  // would fail its own checksums.
  const auto scan = wal::scan_frames(next.parsed_header(), next.frames, next.chain_in);
  if (!whole_ || !(chain_out_ == next.chain_in) || scan.frames != next.frame_count())
    return refuse("the checksum chain breaks before " + frame_name(next.index, next.first_frame));
  merged_.frames += next.frames;
  merged_.commit_times_ms.insert(merged_.commit_times_ms.end(), next.commit_times_ms.begin(),
                                 next.commit_times_ms.end());
  chain_out_ = scan.sum;
  ++parts_;
  return {};
}

merge_result merge_segments(std::span<const wal_segment> parts) {
  if (parts.empty()) return merge_result(boost::system::in_place_error, "nothing to merge");
  segment_merger merger(parts.front());
  for (const auto& next : parts.subspan(1))
    if (auto appended = merger.append(next); !appended)
      return merge_result(boost::system::in_place_error, appended.error());
  return merger.merged();
}

}  // namespace monolite::replica
