// The Hrana service over real actors: streams, batons, leases across pipelines, read-only streams.
// Replies land on the one-thread replies pool, as they land on a session's thread in the server.
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include <thread>

#include "actors/hrana_service.hpp"
#include "support/actor_fixture.hpp"

using namespace monolite;
using namespace std::chrono_literals;
namespace hrana = actors::hrana;
namespace ph = proto::hrana;

namespace {

ph::decoded_request execute(std::string sql) {
  ph::stream_request r;
  r.kind = ph::request_kind::execute;
  r.statement.sql = std::move(sql);
  return r;
}

ph::decoded_request of_kind(ph::request_kind kind) {
  ph::stream_request r;
  r.kind = kind;
  return r;
}

struct service_fixture : test::actor_fixture {
  std::shared_ptr<actors::writer_actor> writer;
  std::unique_ptr<actors::reader_pool> readers;
  std::shared_ptr<hrana::service> svc;
  // The replies pool has one thread: serial, like a session's io_context. (A strand would do too,
  // but copies of a strand executor are reference-counted with a fence ThreadSanitizer cannot see.)
  boost::asio::any_io_executor session{replies.get_executor()};

  explicit service_fixture(std::chrono::milliseconds read_timeout = 5000ms) {
    actors::writer_options w;
    w.transaction_timeout = 2s;
    writer = open_writer(w);
    std::vector<boost::asio::any_io_executor> executors{db_pool.get_executor(), db_pool.get_executor()};
    readers = actors::reader_pool::open(executors, options, 64).value();
    hrana::service_limits limits;
    limits.max_stored_sql = 2;
    limits.read_transactions = 2;
    limits.transaction_timeout = read_timeout;
    limits.idle_expiry = 60s;  // longer than any test: only the transaction timeout ends a transaction
    svc = hrana::service::open(writer, *readers, executors, options, limits, db_pool.get_executor()).value();
    svc->start();
  }
  ~service_fixture() {
    svc->stop();
    close(*writer);
    // Until the pools are done, the timer cancellations stop() posted may still be running on
    // them: the service is destroyed only after (as serve() destroys it after its pools).
    db_pool.join();
    replies.join();
  }

  std::future<hrana::pipeline_outcome> send(std::optional<hrana::stream_ref> baton, std::vector<ph::decoded_request> rs,
                                            bool read_only = false) {
    auto promise = std::make_shared<std::promise<hrana::pipeline_outcome>>();
    auto future = promise->get_future();
    boost::asio::post(session, [this, baton, rs = std::move(rs), read_only, promise]() mutable {
      svc->pipeline(baton, read_only, std::move(rs), session, 0,
                    [promise](hrana::pipeline_outcome o) { promise->set_value(std::move(o)); });
    });
    return future;
  }

  hrana::pipeline_outcome run(std::optional<hrana::stream_ref> baton, std::vector<ph::decoded_request> rs,
                              bool read_only = false) {
    auto f = send(baton, std::move(rs), read_only);
    auto out = test::wait_for(f);
    BOOST_REQUIRE_MESSAGE(out.status.has_value(), (out.status ? std::string() : out.status.error().message));
    return out;
  }
};

// Read transactions time out after 300 ms: long enough to be seen held, short for a test.
struct short_read_timeout_fixture : service_fixture {
  short_read_timeout_fixture() : service_fixture(300ms) {}
};

std::int64_t first_value(const ph::stream_result& r) {
  BOOST_REQUIRE(!r.failure);
  return std::get<std::int64_t>(r.stmt.rows.at(0).at(0));
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(hrana_service, service_fixture)

BOOST_AUTO_TEST_CASE(batons_are_used_once_and_a_closed_stream_is_gone) {
  auto first = run(std::nullopt, {execute("CREATE TABLE t(v)"), execute("INSERT INTO t VALUES (1)")});
  BOOST_REQUIRE(first.next.has_value());
  BOOST_TEST(first.results.at(1).stmt.rows_affected == 1);
  auto second = run(first.next, {execute("SELECT count(*) FROM t")});
  BOOST_TEST(first_value(second.results.at(0)) == 1);
  auto reused = send(first.next, {execute("SELECT 1")});
  BOOST_TEST(test::wait_for(reused).status.error().code == "BATON_REUSED");
  auto closed = run(second.next, {of_kind(ph::request_kind::close), execute("SELECT 1")});
  BOOST_TEST(!closed.next.has_value());
  BOOST_TEST(closed.results.at(1).failure->code == "STREAM_CLOSED");
  auto gone = send(second.next, {execute("SELECT 1")});
  BOOST_TEST(test::wait_for(gone).status.error().code == "STREAM_EXPIRED");
  hrana::stream_ref after_close{second.next->id, second.next->seq + 1};
  auto expired = send(after_close, {execute("SELECT 1")});
  BOOST_TEST(test::wait_for(expired).status.error().code == "STREAM_EXPIRED");
  BOOST_TEST(svc->open_streams() == 0u);
}

BOOST_AUTO_TEST_CASE(a_transaction_spans_pipelines_and_other_writers_wait) {
  run(std::nullopt, {execute("CREATE TABLE t(v)"), of_kind(ph::request_kind::close)});
  auto begun = run(std::nullopt, {execute("BEGIN IMMEDIATE"), execute("INSERT INTO t VALUES (1)"),
                                  of_kind(ph::request_kind::get_autocommit)});
  BOOST_TEST(!begun.results.at(2).is_autocommit);
  auto other = send(std::nullopt, {execute("INSERT INTO t VALUES (2)"), of_kind(ph::request_kind::close)});
  // Two round trips of the holder through the writer: had the other write run, its answer would
  // be on the one replies thread before theirs.
  auto settling = run(begun.next, {execute("SELECT 1")});
  auto inside = run(settling.next, {execute("SELECT count(*) FROM t")});
  BOOST_TEST((other.wait_for(0s) == std::future_status::timeout));
  BOOST_TEST(first_value(inside.results.at(0)) == 1);
  auto committed = run(inside.next, {execute("COMMIT"), of_kind(ph::request_kind::close)});
  BOOST_TEST(!committed.results.at(0).failure.has_value());
  BOOST_TEST(!test::wait_for(other).results.at(0).failure.has_value());
  auto count = run(std::nullopt, {execute("SELECT count(*) FROM t"), of_kind(ph::request_kind::close)});
  BOOST_TEST(first_value(count.results.at(0)) == 2);
}

BOOST_AUTO_TEST_CASE(read_only_streams_never_write) {
  run(std::nullopt, {execute("CREATE TABLE t(v)"), of_kind(ph::request_kind::close)});
  auto out = run(std::nullopt,
                 {execute("INSERT INTO t VALUES (1)"), execute("BEGIN IMMEDIATE"),
                  execute("BEGIN TRANSACTION READONLY"), execute("SELECT count(*) FROM t"), execute("DELETE FROM t"),
                  execute("COMMIT"), of_kind(ph::request_kind::close)},
                 true);
  BOOST_TEST(out.results.at(0).failure->code == "SQLITE_READONLY");
  BOOST_TEST(out.results.at(1).failure->code == "SQLITE_READONLY");
  BOOST_TEST(!out.results.at(2).failure.has_value());
  BOOST_TEST(first_value(out.results.at(3)) == 0);
  BOOST_TEST(out.results.at(4).failure->code == "SQLITE_READONLY");
  BOOST_TEST(!out.results.at(5).failure.has_value());
  BOOST_TEST(svc->read_transactions() == 0u);
}

BOOST_AUTO_TEST_CASE(stored_sql_is_per_stream_and_bounded) {
  ph::stream_request store;
  store.kind = ph::request_kind::store_sql;
  store.sql = "SELECT 41 + 1";
  ph::stream_request by_id;
  by_id.kind = ph::request_kind::execute;
  by_id.statement.sql_id = 1;
  std::vector<ph::decoded_request> rs;
  for (std::int32_t id : {1, 2, 3, 1}) {
    store.sql_id = id;
    rs.push_back(store);
  }
  rs.push_back(by_id);
  auto out = run(std::nullopt, std::move(rs));
  BOOST_TEST(!out.results.at(1).failure.has_value());
  BOOST_TEST(out.results.at(2).failure->code == "SQL_STORE_TOO_MANY");
  BOOST_TEST(out.results.at(3).failure->code == "SQL_STORE_EXISTS");
  BOOST_TEST(first_value(out.results.at(4)) == 42);
  auto other_stream = run(std::nullopt, {by_id, of_kind(ph::request_kind::close)});
  BOOST_TEST(other_stream.results.at(0).failure->code == "SQL_NOT_FOUND");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_FIXTURE_TEST_SUITE(hrana_read_transactions, short_read_timeout_fixture)

// Two streams begin a read transaction and never come back: the timeout ends both at once, with
// no further request, and frees their connections for others.
BOOST_AUTO_TEST_CASE(an_abandoned_read_transaction_frees_its_slot_at_the_timeout) {
  const auto begin_read = [] {
    return std::vector<ph::decoded_request>{execute("BEGIN TRANSACTION READONLY"), execute("SELECT 1")};
  };
  const auto started = std::chrono::steady_clock::now();
  auto a = run(std::nullopt, begin_read());
  auto b = run(std::nullopt, begin_read());
  BOOST_TEST(svc->read_transactions() == 2u);
  BOOST_TEST(svc->snapshots().held == 2u);
  auto refused = run(std::nullopt, {execute("BEGIN TRANSACTION READONLY"), of_kind(ph::request_kind::close)});
  BOOST_REQUIRE(refused.results.at(0).failure.has_value());
  BOOST_TEST(refused.results.at(0).failure->code == "TRANSACTION_BUSY");
  // Polled with a bound well under the idle expiry (60 s): the expiry sweep cannot be what frees them.
  while (svc->read_transactions() != 0) {
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() - started < 10s, "not freed in 10 s");
    std::this_thread::sleep_for(1ms);
  }
  BOOST_TEST((std::chrono::steady_clock::now() - started >= 300ms));
  BOOST_TEST(svc->snapshots().held == 0u);
  auto third = run(std::nullopt, {execute("BEGIN TRANSACTION READONLY"), execute("SELECT 1"),
                                  of_kind(ph::request_kind::get_autocommit), of_kind(ph::request_kind::close)});
  BOOST_TEST(!third.results.at(0).failure.has_value());
  BOOST_TEST(!third.results.at(2).is_autocommit);
  // The abandoned stream learns of the timeout on its next request, then runs in autocommit.
  auto late = run(a.next, {execute("SELECT 1"), of_kind(ph::request_kind::get_autocommit)});
  BOOST_REQUIRE(late.results.at(0).failure.has_value());
  BOOST_TEST(late.results.at(0).failure->code == "TRANSACTION_TIMEOUT");
  BOOST_TEST(late.results.at(1).is_autocommit);
  run(b.next, {of_kind(ph::request_kind::close)});
  BOOST_TEST(svc->read_transactions() == 0u);
}

BOOST_AUTO_TEST_CASE(closing_a_stream_frees_its_slot_at_once) {
  auto a = run(std::nullopt, {execute("BEGIN TRANSACTION READONLY"), execute("SELECT 1")});
  auto b = run(std::nullopt, {execute("BEGIN TRANSACTION READONLY"), execute("SELECT 1")});
  run(a.next, {of_kind(ph::request_kind::close)});
  BOOST_TEST(svc->read_transactions() == 1u);
  auto c =
      run(std::nullopt, {execute("BEGIN TRANSACTION READONLY"), execute("SELECT 1"), of_kind(ph::request_kind::close)});
  BOOST_TEST(!c.results.at(0).failure.has_value());
  run(b.next, {of_kind(ph::request_kind::close)});
  BOOST_TEST(svc->read_transactions() == 0u);
}

BOOST_AUTO_TEST_SUITE_END()
