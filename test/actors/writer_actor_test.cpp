#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <thread>

#include "common/strand_check.hpp"
#include "db/statement.hpp"
#include "support/actor_fixture.hpp"

using namespace monolite;
using namespace std::chrono_literals;

namespace {
std::int64_t count_rows(test::actor_fixture& f, actors::writer_actor& w, const std::string& where = "") {
  auto fut = f.submit(w, {"SELECT count(*) FROM t" + where});
  auto o = test::wait_for(fut);
  BOOST_REQUIRE(o.results.has_value());
  return std::get<std::int64_t>(o.results->at(0).rows.at(0).at(0));
}
}  // namespace

BOOST_FIXTURE_TEST_SUITE(writer_actor, test::actor_fixture)

BOOST_AUTO_TEST_CASE(a_failing_request_rolls_back_alone_inside_a_group_commit) {
  auto writer = open_writer();
  auto setup = submit(*writer, {"CREATE TABLE t(id INTEGER PRIMARY KEY, v NOT NULL)"});
  BOOST_REQUIRE(test::wait_for(setup).results.has_value());
  const auto commits_before = writer->stats().commits;

  test::writer_gate gate(*this, *writer);
  auto held = submit(*writer, {"SELECT test_gate()"});
  gate.wait_reached();  // the writer is now busy: what follows queues up behind it as one group
  auto first = submit(*writer, {"INSERT INTO t VALUES(1, 'a')"});
  auto failing = submit(*writer, {"INSERT INTO t VALUES(2, 'b')", "INSERT INTO t VALUES(3, NULL)"});
  auto last = submit(*writer, {"INSERT INTO t VALUES(4, 'd')"});
  gate.release();

  BOOST_TEST(test::wait_for(held).results.has_value());
  BOOST_TEST(test::wait_for(first).results.has_value());
  auto failed = test::wait_for(failing);
  BOOST_REQUIRE(failed.results.has_error());
  BOOST_TEST(failed.results.error().code == "SQLITE_CONSTRAINT_NOTNULL");
  BOOST_TEST(failed.results.error().message.find("statement 2") != std::string::npos);
  BOOST_TEST(test::wait_for(last).results.has_value());

  BOOST_TEST(writer->stats().commits - commits_before == 2u);  // the held one, then the group of three
  BOOST_TEST(count_rows(*this, *writer) == 2);
  BOOST_TEST(count_rows(*this, *writer, " WHERE id IN (2, 3)") == 0);
  close(*writer);
}

BOOST_AUTO_TEST_CASE(a_full_mailbox_answers_503_at_once) {
  actors::writer_options w;
  w.mailbox_capacity = 2;
  auto writer = open_writer(w);
  test::writer_gate gate(*this, *writer);
  auto held = submit(*writer, {"SELECT test_gate()"});
  gate.wait_reached();
  auto queued = submit(*writer, {"SELECT 1"});
  auto refused = submit(*writer, {"SELECT 2"});
  auto r = test::wait_for(refused);  // while the writer is still held: at once, not after the queue
  BOOST_REQUIRE(r.results.has_error());
  BOOST_TEST(r.results.error().status == 503u);
  BOOST_TEST(r.results.error().code == "OVERLOADED");
  BOOST_TEST(r.results.error().retry_after == 1u);
  BOOST_TEST((held.wait_for(0s) == std::future_status::timeout));
  gate.release();
  BOOST_TEST(test::wait_for(held).results.has_value());
  BOOST_TEST(test::wait_for(queued).results.has_value());
  BOOST_TEST(writer->stats().rejected_full == 1u);
  BOOST_TEST(writer->stats().queue_depth == 0u);
  close(*writer);
}

BOOST_AUTO_TEST_CASE(concurrent_submitters_all_commit) {
  auto writer = open_writer();
  auto setup = submit(*writer, {"CREATE TABLE t(id INTEGER PRIMARY KEY, v)"});
  BOOST_REQUIRE(test::wait_for(setup).results.has_value());
  std::vector<std::future<actors::write_outcome>> futures(400);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = t; i < 400; i += 4)
        futures[i] = submit(*writer, {"INSERT INTO t(v) VALUES(" + std::to_string(i) + ")"});
    });
  for (auto& th : threads)
    th.join();
  for (auto& f : futures)
    BOOST_TEST(test::wait_for(f).results.has_value());
  BOOST_TEST(count_rows(*this, *writer) == 400);
  BOOST_TEST(writer->stats().commits < 401u);
  close(*writer);
}

BOOST_AUTO_TEST_CASE(close_answers_queued_work_checkpoints_and_refuses_later_work) {
  actors::writer_options w;
  w.passive_checkpoint_pages = 10;
  auto writer = open_writer(w);
  auto setup = submit(*writer, {"CREATE TABLE t(v)",
                                "INSERT INTO t WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i "
                                "< 50) SELECT randomblob(4000) FROM c"});
  auto o = test::wait_for(setup);
  BOOST_REQUIRE_MESSAGE(o.results.has_value(), (o.results ? "" : o.results.error().message));
  auto queued = submit(*writer, {"INSERT INTO t VALUES(1)"});
  close(*writer);
  BOOST_TEST(test::wait_for(queued).results.has_value());
  BOOST_TEST(writer->stats().checkpoints >= 2u);  // past the page threshold, and on close
  auto late = submit(*writer, {"INSERT INTO t VALUES(2)"});
  auto refused = test::wait_for(late);
  BOOST_REQUIRE(refused.results.has_error());
  BOOST_TEST(refused.results.error().code == "NOT_READY");
  const auto wal = options.path + "-wal";
  BOOST_TEST((!std::filesystem::exists(wal) || std::filesystem::file_size(wal) == 0u));  // nothing left behind
}

BOOST_AUTO_TEST_CASE(a_checkpoint_a_reader_stops_short_counts_as_incomplete_and_commits_are_measured) {
  actors::writer_options w;
  w.passive_checkpoint_pages = 10;
  auto writer = open_writer(w);
  auto setup = submit(*writer, {"CREATE TABLE t(v)"});
  BOOST_REQUIRE(test::wait_for(setup).results.has_value());
  // A read transaction on the snapshot before the big insert: no checkpoint may copy past it.
  auto reader_options = options;
  reader_options.read_only = true;
  auto reader = db::connection::open(reader_options);
  BOOST_REQUIRE(reader.has_value());
  BOOST_REQUIRE(reader->exec("BEGIN").has_value());
  BOOST_REQUIRE(reader->exec("SELECT count(*) FROM t").has_value());
  auto big = submit(*writer, {"INSERT INTO t WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i "
                              "< 50) SELECT randomblob(4000) FROM c",
                              "INSERT INTO t VALUES(1)"});
  BOOST_REQUIRE(test::wait_for(big).results.has_value());
  // The checkpoint runs on the strand right after the replies leave.
  test::wait_until([&] { return writer->stats().checkpoints >= 1u; }, "a checkpoint past the page threshold");
  const auto held = writer->stats();
  BOOST_TEST(held.checkpoints >= 1u);
  BOOST_TEST(held.checkpoints_incomplete >= 1u);
  BOOST_TEST(held.checkpoints_incomplete <= held.checkpoints);
  BOOST_TEST(held.write_statements == 3u);
  BOOST_TEST(held.commit_durations.count() == held.commits);
  BOOST_TEST(held.group_sizes.count() == held.commits);
  BOOST_TEST(held.group_sizes.sum == 2u);  // two requests, one at a time
  BOOST_TEST(held.busy_microseconds == held.commit_durations.sum);
  BOOST_TEST(held.busy_microseconds > 0u);
  reader->close();
  close(*writer);
}

BOOST_AUTO_TEST_CASE(interrupt_stops_the_running_statement_and_commits_nothing_of_it) {
  auto writer = open_writer();
  auto setup = submit(*writer, {"CREATE TABLE t(v)"});
  BOOST_REQUIRE(test::wait_for(setup).results.has_value());
  test::writer_gate gate(*this, *writer);
  auto slow = submit(*writer, {"INSERT INTO t VALUES(1)", "INSERT INTO t " + test::gated_slow_sql});
  gate.wait_reached();  // the slow statement is running
  writer->interrupt();
  gate.release();
  auto o = test::wait_for(slow);
  BOOST_REQUIRE(o.results.has_error());
  BOOST_TEST(o.results.error().code == "SQLITE_INTERRUPT");
  BOOST_TEST(o.results.error().status == 504u);
  close(*writer);
  auto check = db::connection::open(options).value();
  auto count = db::run_statement(check, {"SELECT count(*) FROM t", {}, {}}, {true, true});
  BOOST_TEST(std::get<std::int64_t>(count.value().rows.at(0).at(0)) == 0);
}

BOOST_AUTO_TEST_SUITE_END()

// The checks behind every actor's "private members run on its strand" (common/strand_check.hpp).
BOOST_AUTO_TEST_SUITE(strand_assertions)

namespace {
using pool_strand = boost::asio::strand<boost::asio::thread_pool::executor_type>;

// Runs `probe` inside a handler of `strand` and returns what it answered.
template <class T>
T on(const pool_strand& strand, std::function<T()> probe) {
  std::promise<T> answer;
  auto future = answer.get_future();
  boost::asio::post(strand, [&] { answer.set_value(probe()); });
  return test::wait_for(future);
}
}  // namespace

BOOST_AUTO_TEST_CASE(on_strand_is_true_only_inside_that_strands_handlers) {
  boost::asio::thread_pool pool{1};
  const auto strand = boost::asio::make_strand(pool.get_executor());
  const auto other = boost::asio::make_strand(pool.get_executor());  // the same thread, another strand
  BOOST_TEST(!strand_check::on_strand(strand));
  BOOST_TEST(on<bool>(strand, [&] { return strand_check::on_strand(strand); }));
  BOOST_TEST(!on<bool>(strand, [&] { return strand_check::on_strand(other); }));
  BOOST_TEST(on<bool>(strand, [&] { return strand_check::on_strand(pool.get_executor()); }));
  pool.join();
}

#ifndef NDEBUG
namespace {
struct failure {
  std::string file, function, strand;
  int line = 0;
};
std::vector<failure> failures;  // what the recording handler saw (set and read on the test thread)
void record(const char* file, int line, const char* function, const char* strand) {
  failures.push_back({file, function, strand, line});
}
}  // namespace

BOOST_AUTO_TEST_CASE(an_assertion_off_the_strand_reports_where_and_passes_on_it) {
  boost::asio::thread_pool pool{1};
  const auto strand_ = boost::asio::make_strand(pool.get_executor());
  failures.clear();
  const auto previous = strand_check::set_failure_handler(&record);
  MONOLITE_ASSERT_ON_STRAND(strand_);
  const int line = __LINE__ - 1;
  on<bool>(strand_, [&] {
    MONOLITE_ASSERT_ON_STRAND(strand_);  // on it: nothing to report
    return true;
  });
  strand_check::set_failure_handler(previous);
  pool.join();
  BOOST_REQUIRE(failures.size() == 1u);
  BOOST_TEST(failures[0].file.find("writer_actor_test.cpp") != std::string::npos);
  BOOST_TEST(failures[0].line == line);
  const std::string test_name = "an_assertion_off_the_strand_reports_where_and_passes_on_it";
  BOOST_TEST(failures[0].function.find(test_name) != std::string::npos);
  BOOST_TEST(failures[0].strand == "strand_");
}
#endif

BOOST_AUTO_TEST_SUITE_END()
