#include <boost/test/unit_test.hpp>
#include <fstream>

#include "db/db_image.hpp"
#include "db/wal_tail.hpp"
#include "support/temp_dir.hpp"
#include "support/wal_db.hpp"

using namespace monolite;

namespace {
std::uint32_t wal_frames_now(const std::string& db_path) { return db::committed_wal_frames(db_path).value(); }

std::string image_of(const std::string& path, std::uint32_t wal_frames) {
  std::string out;
  BOOST_REQUIRE(db::read_image(path, wal_frames, [&](std::string_view pages) { out.append(pages); }).has_value());
  return out;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(wal_tail)

BOOST_AUTO_TEST_CASE(each_capture_returns_the_new_frames_of_whole_transactions) {
  test::temp_dir dir;
  test::wal_db db(dir.file("t.db"));
  db::wal_tail tail(db.path);
  BOOST_REQUIRE(tail.start(0).has_value());
  const auto start = tail.position();
  db.insert(10, 2000);
  auto chunk = tail.capture(wal_frames_now(db.path), 42);
  BOOST_REQUIRE(chunk.has_value() && chunk->has_value());
  BOOST_TEST((*chunk)->first_frame == start.frame + 1);
  BOOST_TEST((*chunk)->commit_times_ms == std::vector<std::int64_t>{42});
  BOOST_TEST(tail.position().frame == wal_frames_now(db.path));
  auto nothing = tail.capture(wal_frames_now(db.path), 43);
  BOOST_TEST((nothing.has_value() && !nothing->has_value()));
}

BOOST_AUTO_TEST_CASE(a_wal_restart_after_a_checkpoint_begins_the_next_index) {
  test::temp_dir dir;
  test::wal_db db(dir.file("t.db"));
  db::wal_tail tail(db.path);
  BOOST_REQUIRE(tail.start(5).has_value());
  db.insert(5);
  BOOST_REQUIRE(tail.capture(wal_frames_now(db.path), 1).value().has_value());
  const auto end_of_first = tail.position();
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  db.insert(5);
  auto chunk = tail.capture(wal_frames_now(db.path), 2);
  BOOST_REQUIRE(chunk.has_value() && chunk->has_value());
  BOOST_TEST((*chunk)->index == 6u);
  BOOST_TEST((*chunk)->first_frame == 1u);
  BOOST_TEST((*chunk)->prev_index_frames == end_of_first.frame);
}

BOOST_AUTO_TEST_CASE(resuming_returns_what_follows_the_resume_frame) {
  test::temp_dir dir;
  test::wal_db db(dir.file("t.db"));
  db.insert(5);
  const auto first = wal_frames_now(db.path);
  db.insert(5);
  db::wal_tail tail(db.path);
  auto chunk = tail.start(3, first, 7);
  BOOST_REQUIRE(chunk.has_value() && chunk->has_value());
  BOOST_TEST((*chunk)->first_frame == first + 1);
  BOOST_TEST(tail.position().frame == wal_frames_now(db.path));
}

BOOST_AUTO_TEST_CASE(a_frame_that_fails_its_checks_is_an_error_not_data) {
  test::temp_dir dir;
  test::wal_db db(dir.file("t.db"));
  db::wal_tail tail(db.path);
  BOOST_REQUIRE(tail.start(0).has_value());
  const std::uint32_t captured = tail.position().frame;
  db.insert(5);
  const auto frames = wal_frames_now(db.path);
  std::fstream wal(db.path + "-wal", std::ios::in | std::ios::out | std::ios::binary);
  wal.seekp(32 + std::streamoff(captured) * (24 + 4096) + 24 + 10);  // a page byte of the first new frame
  wal.put('\x55');
  wal.close();
  BOOST_TEST(tail.capture(frames, 1).has_error());
}

BOOST_AUTO_TEST_CASE(the_image_at_a_position_equals_the_database_after_a_full_checkpoint) {
  test::temp_dir dir;
  test::wal_db db(dir.file("t.db"));
  db.insert(300, 1000);
  db.exec("DELETE FROM t WHERE id % 3 = 0");
  const auto frames = wal_frames_now(db.path);
  BOOST_REQUIRE(frames > 0u);
  const std::string before = image_of(db.path, frames);
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  const std::string after = image_of(db.path, 0);
  BOOST_TEST(before.size() == after.size());
  BOOST_TEST((before == after));
}

BOOST_AUTO_TEST_SUITE_END()
