// Real WAL segments for tests: a WAL in WAL mode cut into one segment per transaction, as the
// shipper in sync mode uploads them (commit times `t0`, `t0 + step`, …).
#pragma once
#include <boost/test/unit_test.hpp>
#include <string>
#include <vector>

#include "db/wal_format.hpp"
#include "replica/format/wal_segment.hpp"

namespace monolite::test {

inline std::vector<replica::wal_segment> segments_per_commit(const std::string& wal_bytes, std::int64_t t0,
                                                             std::int64_t step) {
  namespace wal = db::wal;
  const auto header = wal::parse_header(wal_bytes);
  BOOST_REQUIRE(header.has_value());
  const std::string_view frames = std::string_view(wal_bytes).substr(wal::header_size);
  const std::size_t size = header->frame_size();
  std::vector<replica::wal_segment> out;
  wal::checksum chain = header->sum;
  std::size_t begin = 0;
  for (std::size_t at = 0; at + size <= frames.size(); at += size) {
    const auto f = wal::parse_frame_header(reinterpret_cast<const unsigned char*>(frames.data() + at));
    if (!f.is_commit()) continue;
    replica::wal_segment s;
    s.first_frame = static_cast<std::uint32_t>(begin / size + 1);
    std::copy(wal_bytes.begin(), wal_bytes.begin() + wal::header_size, s.wal_header.begin());
    s.chain_in = chain;
    s.frames = frames.substr(begin, at + size - begin);
    s.commit_times_ms = {t0 + std::int64_t(out.size()) * step};
    chain = wal::scan_frames(*header, s.frames, chain).sum;
    out.push_back(std::move(s));
    begin = at + size;
  }
  return out;
}

}  // namespace monolite::test
