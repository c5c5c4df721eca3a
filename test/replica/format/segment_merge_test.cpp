#include <boost/test/unit_test.hpp>

#include "replica/format/segment_merge.hpp"
#include "support/temp_dir.hpp"
#include "support/wal_db.hpp"
#include "support/wal_segments.hpp"

using namespace monolite;

namespace {
constexpr std::int64_t t0 = 1795300000000;

std::vector<replica::wal_segment> five_commits(test::temp_dir& dir) {
  test::wal_db db(dir.file("m.db"));
  for (int i = 0; i < 4; ++i)
    db.insert(3, 200);
  auto segments = test::segments_per_commit(db.wal_bytes(), t0, 1000);
  BOOST_REQUIRE(segments.size() == 5u);  // CREATE TABLE and four inserts
  return segments;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(segment_merge)

BOOST_AUTO_TEST_CASE(consecutive_segments_merge_into_one_that_decodes_with_every_commit_time) {
  test::temp_dir dir;
  const auto parts = five_commits(dir);
  auto merged = replica::merge_segments(std::span(parts).subspan(1));
  BOOST_REQUIRE_MESSAGE(merged.has_value(), merged.error());
  BOOST_TEST(merged->first_frame == parts[1].first_frame);
  BOOST_TEST(merged->last_frame() == parts[4].last_frame());
  BOOST_TEST((merged->chain_in == parts[1].chain_in));
  BOOST_TEST(merged->frames == parts[1].frames + parts[2].frames + parts[3].frames + parts[4].frames);
  const std::vector<std::int64_t> times{t0 + 1000, t0 + 2000, t0 + 3000, t0 + 4000};
  BOOST_TEST(merged->commit_times_ms == times, boost::test_tools::per_element());
  auto decoded = replica::decode_segment(replica::encode_segment(*merged));  // checks the whole chain
  BOOST_REQUIRE(decoded.has_value());
  BOOST_TEST(decoded->commit_times_ms == times, boost::test_tools::per_element());
}

BOOST_AUTO_TEST_CASE(segments_that_do_not_follow_one_another_are_refused_naming_why) {
  test::temp_dir dir;
  const auto parts = five_commits(dir);
  auto gap = replica::merge_segments(std::vector{parts[0], parts[2]});
  BOOST_REQUIRE(gap.has_error());
  BOOST_TEST(gap.error().find("does not follow") != std::string::npos, gap.error());
  auto other_index = parts[1];
  other_index.index = 1;
  BOOST_TEST(replica::merge_segments(std::vector{parts[0], other_index}).error().find("WAL index 1") !=
             std::string::npos);
  auto other_header = parts[1];
  other_header.wal_header[16] ^= 1;  // salt-1
  BOOST_TEST(replica::merge_segments(std::vector{parts[0], other_header}).error().find("another WAL header") !=
             std::string::npos);
  auto broken_chain = parts[1];
  broken_chain.chain_in.s0 ^= 1;
  BOOST_TEST(replica::merge_segments(std::vector{parts[0], broken_chain}).error().find("checksum chain") !=
             std::string::npos);
  BOOST_TEST(replica::merge_segments({}).has_error());
}

BOOST_AUTO_TEST_CASE(a_refused_part_leaves_the_merged_segment_as_it_was) {
  test::temp_dir dir;
  const auto parts = five_commits(dir);
  replica::segment_merger merger(parts[0]);
  BOOST_REQUIRE(merger.append(parts[1]).has_value());
  BOOST_TEST(merger.append(parts[3]).has_error());
  BOOST_TEST(merger.parts() == 2u);
  BOOST_TEST(merger.merged().last_frame() == parts[1].last_frame());
  BOOST_REQUIRE(merger.append(parts[2]).has_value());
  BOOST_TEST(merger.merged().commit_times_ms.size() == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
