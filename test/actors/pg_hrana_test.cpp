// Hrana streams on the PostgreSQL engine (pg_hrana through pg_engine::pipeline) over a real server:
// transactions across pipelines, batches with conditions, stored SQL, read-only streams, and the
// sweep (transaction timeout, idle expiry).
#include "actors/pg_hrana.hpp"

#include <boost/test/unit_test.hpp>

#include "support/pg_engine_fixture.hpp"

using namespace monolite;
using namespace std::chrono_literals;
using test::hrana_execute;
using test::hrana_of_kind;
namespace ph = proto::hrana;
using kind = ph::request_kind;

namespace {

using hrana_fixture = test::pg_table_fixture;

ph::condition ok(std::uint32_t step) { return {ph::condition::kind::ok, step, {}}; }
ph::condition error_at(std::uint32_t step) { return {ph::condition::kind::error, step, {}}; }
ph::condition not_(ph::condition c) { return {ph::condition::kind::not_, 0, {std::move(c)}}; }
ph::condition and_(ph::condition a, ph::condition b) {
  return {ph::condition::kind::and_, 0, {std::move(a), std::move(b)}};
}
ph::condition is_autocommit() { return {ph::condition::kind::is_autocommit, 0, {}}; }

ph::decoded_request batch_of(std::vector<ph::batch_step> steps) {
  ph::stream_request r;
  r.kind = kind::batch;
  r.steps.steps = std::move(steps);
  return r;
}

// What @libsql/client's client.batch() sends (hrana.ts, executeHranaBatch): BEGIN; each statement if
// the one before succeeded and a transaction is still open; COMMIT likewise; ROLLBACK unless COMMIT
// succeeded. (It sends BEGIN DEFERRED or IMMEDIATE, which PostgreSQL does not parse.)
ph::decoded_request client_batch(const std::vector<std::string>& sqls) {
  std::vector<ph::batch_step> steps{{std::nullopt, test::hrana_stmt("BEGIN")}};
  for (const auto& sql : sqls) {
    const auto last = static_cast<std::uint32_t>(steps.size() - 1);
    steps.push_back({and_(ok(last), not_(is_autocommit())), test::hrana_stmt(sql)});
  }
  const auto commit = static_cast<std::uint32_t>(steps.size());
  steps.push_back({and_(ok(commit - 1), not_(is_autocommit())), test::hrana_stmt("COMMIT")});
  steps.push_back({not_(ok(commit)), test::hrana_stmt("ROLLBACK")});
  return batch_of(std::move(steps));
}

ph::decoded_request stored(kind k, std::int32_t id, std::optional<std::string> sql = std::nullopt) {
  ph::stream_request r;
  r.kind = k;
  r.sql_id = id;
  r.sql = std::move(sql);
  return r;
}

ph::decoded_request execute_stored(std::int32_t id) {
  ph::stream_request r;
  r.kind = kind::execute;
  r.statement.sql_id = id;
  return r;
}

ph::decoded_request sequence(std::string sql) {
  ph::stream_request r;
  r.kind = kind::sequence;
  r.sql = std::move(sql);
  return r;
}

using state = ph::step_outcome::state;

std::string failure_code(const ph::stream_result& r) { return r.failure ? r.failure->code : "(none)"; }
std::string failure_message(const ph::stream_result& r) { return r.failure ? r.failure->message : "(none)"; }

}  // namespace

BOOST_FIXTURE_TEST_SUITE(pg_hrana, hrana_fixture)

BOOST_AUTO_TEST_CASE(a_transaction_spans_pipelines_and_commits) {
  auto begun = pipeline(
      *engine, std::nullopt,
      {hrana_execute("BEGIN"), hrana_execute("INSERT INTO t VALUES (1, 'a')"), hrana_of_kind(kind::get_autocommit)});
  BOOST_REQUIRE(begun.next.has_value());
  BOOST_TEST(!begun.results.at(1).failure);
  BOOST_TEST(begun.results.at(1).stmt.rows_affected == 1);
  BOOST_TEST(!begun.results.at(1).stmt.last_insert_id.has_value());
  BOOST_TEST(!begun.results.at(2).is_autocommit);
  BOOST_TEST(check("SELECT count(*) FROM t") == "0");  // not yet visible to others
  auto committed = pipeline(*engine, begun.next,
                            {hrana_execute("INSERT INTO t VALUES (?, ?)", {std::int64_t{2}, std::string("b")}),
                             hrana_execute("COMMIT"), hrana_of_kind(kind::get_autocommit)});
  BOOST_TEST(!committed.results.at(0).failure);
  BOOST_TEST(!committed.results.at(1).failure);
  BOOST_TEST(committed.results.at(2).is_autocommit);
  BOOST_TEST(check("SELECT count(*) FROM t") == "2");
  auto closed = pipeline(*engine, committed.next, {hrana_of_kind(kind::close)});
  BOOST_TEST(!closed.next.has_value());
  BOOST_TEST(engine->open_streams() == 0u);
}

BOOST_AUTO_TEST_CASE(rollback_in_a_later_pipeline_keeps_nothing) {
  auto begun =
      pipeline(*engine, std::nullopt, {hrana_execute("BEGIN"), hrana_execute("INSERT INTO t VALUES (1, 'a')")});
  auto rolled = pipeline(
      *engine, begun.next,
      {hrana_execute("ROLLBACK"), hrana_of_kind(kind::get_autocommit), hrana_execute("SELECT count(*) FROM t")});
  BOOST_TEST(!rolled.results.at(0).failure);
  BOOST_TEST(rolled.results.at(1).is_autocommit);
  BOOST_TEST(std::get<std::int64_t>(rolled.results.at(2).stmt.rows.at(0).at(0)) == 0);
  BOOST_TEST(check("SELECT count(*) FROM t") == "0");
}

BOOST_AUTO_TEST_CASE(a_client_batch_commits_all_or_rolls_back) {
  auto good = pipeline(*engine, std::nullopt,
                       {client_batch({"INSERT INTO t VALUES (1, 'a')", "INSERT INTO t VALUES (2, 'b')"}),
                        hrana_of_kind(kind::get_autocommit)});
  const auto& steps = good.results.at(0).steps;
  BOOST_REQUIRE(steps.size() == 5u);
  for (std::size_t i = 0; i < 4; ++i)
    BOOST_TEST((steps[i].status == state::ok), "step " << i << ": " << steps[i].failure.message);
  BOOST_TEST((steps[4].status == state::skipped));  // no ROLLBACK after a COMMIT that succeeded
  BOOST_TEST(good.results.at(1).is_autocommit);
  BOOST_TEST(check("SELECT count(*) FROM t") == "2");

  auto failing = client_batch({"INSERT INTO t VALUES (3, 'c')", "INSERT INTO t VALUES (1, 'dup')"});
  failing->steps.steps.push_back({error_at(2), test::hrana_stmt("SELECT 'after the error'")});
  auto bad = pipeline(*engine, good.next, {failing, hrana_of_kind(kind::get_autocommit)});
  const auto& outcomes = bad.results.at(0).steps;
  BOOST_REQUIRE(outcomes.size() == 6u);
  BOOST_TEST((outcomes[1].status == state::ok));
  BOOST_TEST((outcomes[2].status == state::failed));
  BOOST_TEST(outcomes[2].failure.code == "SQLITE_CONSTRAINT");
  BOOST_TEST((outcomes[3].status == state::skipped));  // no COMMIT
  BOOST_TEST((outcomes[4].status == state::ok));       // the ROLLBACK
  BOOST_TEST((outcomes[5].status == state::ok));       // the error step ran, outside the transaction
  BOOST_TEST(std::get<std::string>(outcomes[5].result.rows.at(0).at(0)) == "after the error");
  BOOST_TEST(bad.results.at(1).is_autocommit);
  BOOST_TEST(check("SELECT count(*) FROM t") == "2");
}

BOOST_AUTO_TEST_CASE(stored_sql_runs_by_id_until_closed) {
  auto out = pipeline(*engine, std::nullopt,
                      {stored(kind::store_sql, 7, "INSERT INTO t SELECT coalesce(max(id), 0) + 1, 's' FROM t"),
                       execute_stored(7), execute_stored(7), stored(kind::close_sql, 7), execute_stored(7)});
  BOOST_TEST(!out.results.at(0).failure);
  BOOST_TEST(out.results.at(1).stmt.rows_affected == 1);
  BOOST_TEST(out.results.at(2).stmt.rows_affected == 1);
  BOOST_TEST(!out.results.at(3).failure);
  BOOST_TEST(failure_code(out.results.at(4)) == "SQL_NOT_FOUND");
  BOOST_TEST(check("SELECT count(*) FROM t") == "2");
}

BOOST_AUTO_TEST_CASE(a_sequence_runs_its_statements_and_stops_at_the_first_error) {
  auto out = pipeline(*engine, std::nullopt,
                      {sequence("INSERT INTO t VALUES (1, 'a'); INSERT INTO t VALUES (2, 'b')"),
                       sequence("INSERT INTO t VALUES (3, 'c'); SELEC 1; INSERT INTO t VALUES (4, 'd')")});
  BOOST_TEST(!out.results.at(0).failure);
  BOOST_TEST(failure_code(out.results.at(1)) == "SQLITE_ERROR");
  // Outside a transaction each statement commits on its own: 3 stays, 4 never ran.
  BOOST_TEST(check("SELECT string_agg(id::text, ',' ORDER BY id) FROM t") == "1,2,3");
}

BOOST_AUTO_TEST_CASE(describe_is_not_supported) {
  ph::stream_request r;
  r.kind = kind::describe;
  r.sql = "SELECT 1";
  auto out = pipeline(*engine, std::nullopt, {r});
  BOOST_TEST(failure_code(out.results.at(0)) == "NOT_SUPPORTED");
}

BOOST_AUTO_TEST_CASE(a_read_only_stream_refuses_writes_and_set) {
  auto out = pipeline(
      *engine, std::nullopt,
      {hrana_execute("INSERT INTO t VALUES (1, 'no')"), hrana_of_kind(kind::get_autocommit), hrana_execute("SELECT 1"),
       hrana_execute("SET transaction_read_only = off"), hrana_execute("RESET ALL")},
      true);
  BOOST_TEST(failure_code(out.results.at(0)) == "SQLITE_READONLY");
  BOOST_TEST(failure_message(out.results.at(0)).find("read-only transaction") != std::string::npos);
  // The BEGIN READ ONLY … COMMIT around the INSERT is the stream's own: no transaction stays open.
  BOOST_TEST(out.results.at(1).is_autocommit);
  BOOST_TEST(!out.results.at(2).failure, failure_message(out.results.at(2)));
  BOOST_TEST(failure_code(out.results.at(3)) == "SQLITE_READONLY");
  BOOST_TEST(failure_code(out.results.at(4)) == "SQLITE_READONLY");
  BOOST_TEST(check("SELECT count(*) FROM t") == "0");
  BOOST_TEST(test::idle_connections(*engine) >= 1);
}

BOOST_AUTO_TEST_CASE(a_read_only_streams_begin_is_read_only) {
  auto begun = pipeline(*engine, std::nullopt,
                        {hrana_execute("BEGIN"), hrana_execute("SHOW transaction_read_only"),
                         hrana_execute("INSERT INTO t VALUES (1, 'no')"), hrana_of_kind(kind::get_autocommit)},
                        true);
  BOOST_TEST(!begun.results.at(0).failure);
  BOOST_TEST(std::get<std::string>(begun.results.at(1).stmt.rows.at(0).at(0)) == "on");
  BOOST_TEST(failure_code(begun.results.at(2)) == "SQLITE_READONLY");
  BOOST_TEST(!begun.results.at(3).is_autocommit);
  auto rolled = pipeline(*engine, begun.next, {hrana_execute("ROLLBACK"), hrana_of_kind(kind::get_autocommit)}, true);
  BOOST_TEST(!rolled.results.at(0).failure);
  BOOST_TEST(rolled.results.at(1).is_autocommit);
  BOOST_TEST(check("SELECT count(*) FROM t") == "0");
}

// Unlike SQLite, where a failed statement leaves the transaction usable, PostgreSQL aborts it:
// every later statement fails with 25P02 until ROLLBACK.
BOOST_AUTO_TEST_CASE(a_failed_statement_aborts_the_transaction_until_rollback) {
  setup("INSERT INTO t VALUES (1, 'there')");
  auto begun = pipeline(*engine, std::nullopt,
                        {hrana_execute("BEGIN"), hrana_execute("INSERT INTO t VALUES (2, 'b')"),
                         hrana_execute("INSERT INTO t VALUES (1, 'dup')"), hrana_execute("SELECT 1"),
                         hrana_of_kind(kind::get_autocommit)});
  BOOST_TEST(failure_code(begun.results.at(2)) == "SQLITE_CONSTRAINT");
  BOOST_TEST(failure_code(begun.results.at(3)) == "SQLITE_ERROR");
  BOOST_TEST(failure_message(begun.results.at(3)).find("current transaction is aborted") != std::string::npos);
  BOOST_TEST(!begun.results.at(4).is_autocommit);
  auto still = pipeline(*engine, begun.next, {hrana_execute("SELECT 1")});
  BOOST_TEST(failure_message(still.results.at(0)).find("current transaction is aborted") != std::string::npos);
  auto rolled = pipeline(*engine, still.next,
                         {hrana_execute("ROLLBACK"), hrana_execute("SELECT 1"), hrana_of_kind(kind::get_autocommit)});
  BOOST_TEST(!rolled.results.at(0).failure);
  BOOST_TEST(!rolled.results.at(1).failure);
  BOOST_TEST(rolled.results.at(2).is_autocommit);
  BOOST_TEST(check("SELECT count(*) FROM t") == "1");
}

BOOST_AUTO_TEST_CASE(a_transaction_past_its_timeout_is_rolled_back_by_the_sweep) {
  auto timed = engine_with([](auto& o) {
    o.pool_size = 1;
    o.hrana.idle_expiry = 4s;  // a sweep every second; the stream itself outlives the test
    o.hrana.transaction_timeout = 100ms;
  });
  auto begun = pipeline(*timed, std::nullopt, {hrana_execute("BEGIN"), hrana_execute("INSERT INTO t VALUES (1, 'a')")});
  BOOST_REQUIRE(!begun.results.at(1).failure);
  BOOST_TEST(test::idle_connections(*timed) == 0);
  test::poll_until([&] { return test::idle_connections(*timed) == 1; }, "the connection back in the pool");
  BOOST_TEST(check("SELECT count(*) FROM t") == "0");
  auto after = pipeline(*timed, begun.next,
                        {hrana_execute("INSERT INTO t VALUES (2, 'b')"), hrana_of_kind(kind::get_autocommit),
                         hrana_execute("INSERT INTO t VALUES (3, 'c')")});
  BOOST_TEST(failure_code(after.results.at(0)) == "TRANSACTION_TIMEOUT");
  BOOST_TEST(after.results.at(1).is_autocommit);
  BOOST_TEST(!after.results.at(2).failure);  // told once; the stream goes on in autocommit
  BOOST_TEST(check("SELECT string_agg(id::text, ',') FROM t") == "3");
}

BOOST_AUTO_TEST_CASE(an_idle_stream_expires_and_gives_its_connection_back) {
  auto expiring = engine_with([](auto& o) {
    o.pool_size = 1;
    o.hrana.idle_expiry = 200ms;
  });
  auto begun =
      pipeline(*expiring, std::nullopt, {hrana_execute("BEGIN"), hrana_execute("INSERT INTO t VALUES (1, 'a')")});
  BOOST_REQUIRE(!begun.results.at(1).failure);
  BOOST_TEST(expiring->open_streams() == 1u);
  test::poll_until([&] { return expiring->open_streams() == 0; }, "the stream expired");
  test::poll_until([&] { return test::idle_connections(*expiring) == 1; }, "the connection back in the pool");
  auto late = send(*expiring, begun.next, {hrana_execute("SELECT 1")});
  auto gone = test::wait_pg(late, "a pipeline on the expired stream");
  BOOST_REQUIRE(gone.status.has_error());
  BOOST_TEST(gone.status.error().code == "STREAM_EXPIRED");
  BOOST_TEST(check("SELECT count(*) FROM t") == "0");
}

BOOST_AUTO_TEST_SUITE_END()
