#include "actors/replication_log.hpp"

#include <boost/test/unit_test.hpp>

#include "db/db_image.hpp"
#include "db/schema_cookie.hpp"
#include "proto/wal_log.hpp"
#include "support/actor_fixture.hpp"

using namespace monolite;

namespace {

struct log_fixture : test::actor_fixture {
  std::shared_ptr<actors::replication_log> open_log(actors::replication_log_options o = {}) {
    auto log = actors::replication_log::open(db_pool.get_executor(), options.path, o);
    BOOST_REQUIRE_MESSAGE(log, "open: " + (log ? std::string() : log.error().message));
    return *log;
  }

  void attach(actors::writer_actor& writer, const std::shared_ptr<actors::replication_log>& log) {
    std::promise<proto::result<void>> attached;
    auto future = attached.get_future();
    writer.attach_frame_sink(log, log->next_frame_no(), replies.get_executor(),
                             [&attached](proto::result<void> ok) { attached.set_value(ok); });
    BOOST_REQUIRE(test::wait_for(future).has_value());
  }

  actors::log_position position(actors::replication_log& log) {
    std::promise<actors::log_position> at;
    auto future = at.get_future();
    log.position(replies.get_executor(), [&at](actors::log_position p) { at.set_value(p); });
    return test::wait_for(future);
  }

  proto::result<std::string> read(actors::replication_log& log, std::uint64_t from, std::size_t max = 1024) {
    std::promise<proto::result<std::string>> got;
    auto future = got.get_future();
    log.read(from, max, replies.get_executor(), [&got](proto::result<std::string> r) { got.set_value(std::move(r)); });
    return test::wait_for(future);
  }

  void write(actors::writer_actor& writer, std::vector<std::string> sqls) {
    auto future = submit(writer, std::move(sqls));
    auto outcome = test::wait_for(future);
    BOOST_REQUIRE_MESSAGE(outcome.results.has_value(), "write failed");
  }
};

std::vector<proto::wal_log::frame_header> headers_of(const std::string& frames_message) {
  std::vector<proto::wal_log::frame_header> out;
  auto frames = proto::wal_log::decode_frames(frames_message);
  BOOST_REQUIRE(frames);
  for (auto data : *frames)
    out.push_back(proto::wal_log::parse_frame_data(data).value());
  return out;
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(replication_log, log_fixture)

BOOST_AUTO_TEST_CASE(every_commit_is_logged_numbered_from_one) {
  auto log = open_log();
  BOOST_TEST(log->next_frame_no() == 1u);  // frame 0 stands before every commit
  auto writer = open_writer();
  attach(*writer, log);
  write(*writer, {"CREATE TABLE t(x)"});
  write(*writer, {"INSERT INTO t VALUES (1)"});
  test::wait_until([&] { return position(*log).next == writer->next_frame_no(); }, "the log caught up");
  const auto at = position(*log);
  BOOST_TEST(at.first == 1u);
  BOOST_TEST(at.next > 2u);
  auto frames = read(*log, 1);
  BOOST_REQUIRE(frames);
  const auto headers = headers_of(*frames);
  BOOST_REQUIRE_EQUAL(headers.size(), at.next - 1);
  for (std::size_t i = 0; i < headers.size(); ++i)
    BOOST_TEST(headers[i].frame_no == i + 1);
  BOOST_TEST(headers.back().size_after > 0u);  // a read of everything ends on a commit
  close(*writer);
}

BOOST_AUTO_TEST_CASE(reads_below_the_log_or_past_it_are_told_apart) {
  auto log = open_log();
  auto writer = open_writer();
  attach(*writer, log);
  write(*writer, {"CREATE TABLE t(x)"});
  test::wait_until([&] { return log->stats().next == writer->next_frame_no(); }, "the log caught up");
  auto below = read(*log, 0);
  BOOST_REQUIRE(below.has_error());
  BOOST_TEST(below.error().code == replica::need_snapshot_code);
  auto ahead = read(*log, log->stats().next + 5);
  BOOST_REQUIRE(ahead.has_error());
  BOOST_TEST(ahead.error().code == replica::ahead_of_log_code);
  auto none = read(*log, log->stats().next);
  BOOST_REQUIRE(none);
  BOOST_TEST(none->empty());
  close(*writer);
}

BOOST_AUTO_TEST_CASE(a_gap_starts_a_new_generation_where_the_writer_numbers_on) {
  auto log = open_log();
  const auto first_generation = position(*log).generation_id;
  log->on_gap(50);
  const auto after = position(*log);
  BOOST_TEST(after.generation_id != first_generation);
  BOOST_TEST(after.generation_start == 50u);
  BOOST_TEST(after.next == 50u);
  BOOST_TEST(log->stats().generations == 1u);
}

BOOST_AUTO_TEST_CASE(commits_past_the_memory_bound_are_dropped_and_the_log_starts_over) {
  actors::replication_log_options o;
  o.max_pending_bytes = 1;  // every commit is over it
  auto log = open_log(o);
  auto writer = open_writer();
  attach(*writer, log);
  const auto generation = position(*log).generation_id;
  write(*writer, {"CREATE TABLE t(x)"});
  test::wait_until([&] { return log->stats().dropped_commits >= 1; }, "a dropped commit");
  BOOST_TEST(position(*log).next == 1u);  // nothing was logged
  BOOST_TEST(position(*log).generation_id == generation);
  close(*writer);
}

BOOST_AUTO_TEST_CASE(a_clean_close_continues_and_a_crash_starts_a_new_history) {
  std::string generation;
  std::uint64_t next = 0;
  {
    auto log = open_log();
    auto writer = open_writer();
    attach(*writer, log);
    write(*writer, {"CREATE TABLE t(x)", "INSERT INTO t VALUES (1)"});
    test::wait_until([&] { return log->stats().next == writer->next_frame_no(); }, "the log caught up");
    close(*writer);
    generation = position(*log).generation_id;
    next = log->stats().next;
    log->stop_timers();
    BOOST_REQUIRE(log->close(replica::fingerprint_of(options.path)));
  }
  auto again = open_log();
  BOOST_TEST((again->opening() == replica::log_opening::continued));
  BOOST_TEST(position(*again).generation_id == generation);
  BOOST_TEST(again->next_frame_no() == next);
  again.reset();  // no close(): to the next open, a crash
  auto after_crash = open_log();
  BOOST_TEST((after_crash->opening() == replica::log_opening::new_generation));
  BOOST_TEST(position(*after_crash).generation_id != generation);
  BOOST_TEST(after_crash->next_frame_no() >= next);
}

BOOST_AUTO_TEST_CASE(the_schema_cookie_floor_follows_the_logged_first_page) {
  auto log = open_log();
  auto writer = open_writer();
  attach(*writer, log);
  write(*writer, {"CREATE TABLE a(x)"});
  write(*writer, {"CREATE TABLE b(x)"});
  test::wait_until([&] { return log->stats().next == writer->next_frame_no(); }, "the log caught up");
  close(*writer);
  BOOST_TEST(log->schema_cookie_floor() >= 2u);  // each CREATE raised the cookie
  // A later history raises the cookie above the floor; a second call finds nothing to do.
  auto raised = db::raise_schema_cookie(options, log->schema_cookie_floor());
  BOOST_REQUIRE(raised);
  BOOST_TEST(*raised);
  BOOST_TEST(!*db::raise_schema_cookie(options, log->schema_cookie_floor()));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(image_reader)

BOOST_AUTO_TEST_CASE(ranges_read_the_same_bytes_as_the_whole_image) {
  test::temp_dir dir;
  const auto path = dir.file("image.db");
  sqlite3* db = nullptr;
  BOOST_REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; CREATE TABLE t(x); WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL "
               "SELECT i + 1 FROM c WHERE i < 300) INSERT INTO t SELECT randomblob(500) FROM c;",
               nullptr, nullptr, nullptr);
  auto frames = db::committed_wal_frames(path);
  BOOST_REQUIRE(frames);
  std::string whole;
  auto info = db::read_image(path, *frames, [&](std::string_view bytes) { whole.append(bytes); });
  BOOST_REQUIRE(info);
  auto reader = db::image_reader::open(path, *frames);
  BOOST_REQUIRE(reader);
  std::string pieces;
  for (std::uint32_t first = 1; first <= reader->info().pages; first += 7)
    BOOST_REQUIRE(reader->read_pages(first, 7, pieces));
  BOOST_TEST(pieces.size() == whole.size());
  BOOST_TEST((pieces == whole));
  std::string beyond;
  BOOST_REQUIRE(reader->read_pages(reader->info().pages + 1, 5, beyond));
  BOOST_TEST(beyond.empty());
  sqlite3_close(db);
}

BOOST_AUTO_TEST_SUITE_END()
