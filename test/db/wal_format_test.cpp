#include <boost/test/unit_test.hpp>

#include "db/wal_format.hpp"
#include "replica/format/lz4.hpp"
#include "replica/format/wal_segment.hpp"
#include "support/temp_dir.hpp"
#include "support/wal_db.hpp"

using namespace monolite;
namespace wal = db::wal;

namespace {
// The frames of a real WAL after its header, and the header.
struct real_wal {
  wal::header header;
  std::string raw_header, frames;
};
real_wal capture(test::wal_db& db) {
  const std::string bytes = db.wal_bytes();
  auto h = wal::parse_header(bytes);
  BOOST_REQUIRE(h.has_value());
  return {*h, bytes.substr(0, wal::header_size), bytes.substr(wal::header_size)};
}
}  // namespace

BOOST_AUTO_TEST_SUITE(wal_format)

BOOST_AUTO_TEST_CASE(a_real_wal_scans_to_its_last_commit) {
  test::temp_dir dir;
  test::wal_db db(dir.file("w.db"));
  db.insert(50, 500);
  db.insert(50, 500);
  const auto w = capture(db);
  BOOST_TEST(w.header.page_size == 4096u);
  const auto scan = wal::scan_frames(w.header, w.frames, w.header.sum);
  BOOST_TEST(scan.frames == w.frames.size() / w.header.frame_size());
  BOOST_TEST(scan.commits == 3u);  // CREATE TABLE, and two inserts
  BOOST_TEST(scan.db_pages > 0u);
}

BOOST_AUTO_TEST_CASE(scanning_stops_at_a_broken_checksum_or_foreign_salt_and_keeps_whole_transactions) {
  test::temp_dir dir;
  test::wal_db db(dir.file("w.db"));
  db.insert(50, 500);
  const auto before = capture(db);
  const auto first = wal::scan_frames(before.header, before.frames, before.header.sum);
  db.insert(50, 500);
  auto w = capture(db);
  const std::size_t fs = w.header.frame_size();
  std::string damaged = w.frames;
  damaged[first.frames * fs + 100] ^= 1;  // a page byte in the second insert's first frame
  auto scan = wal::scan_frames(w.header, damaged, w.header.sum);
  BOOST_TEST(scan.frames == first.frames);
  BOOST_TEST((scan.sum == first.sum));
  std::string foreign = w.frames;
  foreign[first.frames * fs + 8] ^= 1;  // salt-1 of that frame
  BOOST_TEST(wal::scan_frames(w.header, foreign, w.header.sum).frames == first.frames);
  // A transaction cut short (no commit frame yet) does not count.
  BOOST_TEST(
      wal::scan_frames(w.header, std::string_view(w.frames).substr(0, w.frames.size() - fs), w.header.sum).frames ==
      first.frames);
}

BOOST_AUTO_TEST_CASE(a_header_with_a_bad_magic_or_checksum_is_refused) {
  test::temp_dir dir;
  test::wal_db db(dir.file("w.db"));
  db.insert(1);
  std::string header = capture(db).raw_header;
  BOOST_TEST(wal::parse_header(header).has_value());
  std::string bad_sum = header;
  bad_sum[20] ^= 1;
  BOOST_TEST(!wal::parse_header(bad_sum).has_value());
  std::string bad_magic = header;
  bad_magic[0] = 0;
  BOOST_TEST(!wal::parse_header(bad_magic).has_value());
  BOOST_TEST(!wal::parse_header(header.substr(0, 31)).has_value());
}

BOOST_AUTO_TEST_CASE(a_segment_round_trips_and_any_damage_is_named) {
  test::temp_dir dir;
  test::wal_db db(dir.file("w.db"));
  db.insert(20, 300);
  const auto w = capture(db);
  replica::wal_segment s;
  s.index = 7, s.first_frame = 1;
  std::copy(w.raw_header.begin(), w.raw_header.end(), s.wal_header.begin());
  s.chain_in = w.header.sum;
  s.frames = w.frames;
  s.commit_times_ms = {1700000000000, 1700000000123};
  const std::string encoded = replica::encode_segment(s);
  auto decoded = replica::decode_segment(replica::lz4::decompress(replica::lz4::compress(encoded)).value());
  BOOST_REQUIRE(decoded.has_value());
  BOOST_TEST(decoded->index == 7u);
  BOOST_TEST(decoded->frame_count() == s.frame_count());
  BOOST_TEST(decoded->commit_times_ms == s.commit_times_ms);
  BOOST_TEST(decoded->frames == s.frames);
  std::string flipped = encoded;
  flipped[flipped.size() - 10] ^= 1;
  BOOST_TEST(!replica::decode_segment(flipped).has_value());
  BOOST_TEST(!replica::decode_segment(encoded.substr(0, encoded.size() - 1)).has_value());
  replica::wal_segment wrong_commits = s;
  wrong_commits.commit_times_ms.push_back(1);
  BOOST_TEST(!replica::decode_segment(replica::encode_segment(wrong_commits)).has_value());
}

BOOST_AUTO_TEST_CASE(lz4_refuses_garbage_and_truncation) {
  const std::string data(100000, 'x');
  const std::string frame = replica::lz4::compress(data);
  BOOST_TEST(replica::lz4::decompress(frame).value() == data);
  BOOST_TEST(!replica::lz4::decompress(frame.substr(0, frame.size() / 2)).has_value());
  BOOST_TEST(!replica::lz4::decompress("not lz4 at all").has_value());
}

BOOST_AUTO_TEST_SUITE_END()
