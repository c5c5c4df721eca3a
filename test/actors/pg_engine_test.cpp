// The PostgreSQL engine over a real server: /sql/query, /sql/execute and /sql/batch as the routes
// call them, their limits, the pool's backpressure, and shutdown (interrupt, close).
#include "actors/pg_engine.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/test/unit_test.hpp>

#include "support/pg_engine_fixture.hpp"

using namespace monolite;
using namespace std::chrono_literals;
using test::hrana_execute;
using test::sql_statement;

namespace {

using engine_fixture = test::pg_table_fixture;

// Backends on this test's database but the one asking (the fixture's engine has its own).
constexpr const char* connections_here =
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()";

std::string failure_code(const proto::hrana::stream_result& r) { return r.failure ? r.failure->code : "(none)"; }

constexpr const char* waiting_on_a_lock =
    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'";

proto::blob blob_of(std::vector<unsigned char> bytes) { return proto::blob{std::move(bytes)}; }

}  // namespace

BOOST_FIXTURE_TEST_SUITE(pg_engine, engine_fixture)

BOOST_AUTO_TEST_CASE(query_values_come_back_typed) {
  auto r =
      rows(*engine, sql_statement("SELECT 9223372036854775807::int8 AS hi, (-9223372036854775807 - 1)::int8 AS lo, "
                                  "true AS yes, false AS no, 1.50::numeric AS price, '\\x00ff'::bytea AS raw, "
                                  "NULL AS nothing, 2.5::float8 AS half, 42::int4 AS small"));
  BOOST_TEST(
      (r.columns == std::vector<std::string>{"hi", "lo", "yes", "no", "price", "raw", "nothing", "half", "small"}));
  BOOST_TEST((r.decltypes.at(0) == "int8" && r.decltypes.at(4) == "numeric" && r.decltypes.at(5) == "bytea"));
  BOOST_REQUIRE(r.rows.size() == 1u);
  const auto& row = r.rows[0];
  BOOST_TEST(std::get<std::int64_t>(row.at(0)) == std::numeric_limits<std::int64_t>::max());
  BOOST_TEST(std::get<std::int64_t>(row.at(1)) == std::numeric_limits<std::int64_t>::min());
  BOOST_TEST(std::get<bool>(row.at(2)) == true);
  BOOST_TEST(std::get<bool>(row.at(3)) == false);
  BOOST_TEST(std::get<std::string>(row.at(4)) == "1.50");  // numeric as text: no rounding through double
  BOOST_TEST((std::get<proto::blob>(row.at(5)) == blob_of({0x00, 0xff})));
  BOOST_TEST(std::holds_alternative<std::monostate>(row.at(6)));
  BOOST_TEST(std::get<double>(row.at(7)) == 2.5);
  BOOST_TEST(std::get<std::int64_t>(row.at(8)) == 42);
  BOOST_TEST(r.rows_affected == 0);
  BOOST_TEST(!r.last_insert_id.has_value());
}

BOOST_AUTO_TEST_CASE(a_write_through_query_is_readonly_and_writes_nothing) {
  auto out = query(*engine, sql_statement("INSERT INTO t VALUES (1, 'no')"));
  BOOST_REQUIRE(out.result.has_error());
  BOOST_TEST(out.result.error().status == 400u);
  BOOST_TEST(out.result.error().code == "READONLY");
  BOOST_TEST(out.result.error().sqlstate == "25006");
  BOOST_TEST(check("SELECT count(*) FROM t") == "0");
}

BOOST_AUTO_TEST_CASE(a_syntax_error_is_sqlite_error_with_its_sqlstate) {
  auto out = query(*engine, sql_statement("SELEC 1"));
  BOOST_REQUIRE(out.result.has_error());
  BOOST_TEST(out.result.error().status == 400u);
  BOOST_TEST(out.result.error().code == "SQLITE_ERROR");
  BOOST_TEST(out.result.error().sqlstate == "42601");
}

BOOST_AUTO_TEST_CASE(past_max_result_rows_is_too_large_and_the_connection_keeps_working) {
  auto capped = engine_with([](auto& o) {
    o.pool_size = 1;  // the next query runs on the same connection
    o.limits.max_result_rows = 3;
  });
  auto out = query(*capped, sql_statement("SELECT generate_series(1, 10)"));
  BOOST_REQUIRE(out.result.has_error());
  BOOST_TEST(out.result.error().status == 400u);
  BOOST_TEST(out.result.error().code == "RESULT_TOO_LARGE");
  auto after = rows(*capped, sql_statement("SELECT generate_series(1, 3)"));
  BOOST_TEST(after.rows.size() == 3u);
  BOOST_TEST(std::get<std::int64_t>(after.rows.at(2).at(0)) == 3);
}

BOOST_AUTO_TEST_CASE(execute_commits_its_statements_together_and_counts_from_the_tag) {
  auto out =
      write(*engine,
            {sql_statement("INSERT INTO t VALUES (1, 'a')"), sql_statement("INSERT INTO t VALUES (2, 'b'), (3, 'c')"),
             sql_statement("UPDATE t SET note = 'z' WHERE id >= 2"), sql_statement("SELECT * FROM t")},
            false);
  BOOST_REQUIRE_MESSAGE(out.results, (out.results ? std::string() : out.results.error().message));
  BOOST_REQUIRE(out.results->size() == 4u);
  BOOST_TEST((*out.results)[0].rows_affected == 1);
  BOOST_TEST((*out.results)[1].rows_affected == 2);
  BOOST_TEST((*out.results)[2].rows_affected == 2);
  BOOST_TEST((*out.results)[3].rows_affected == 0);  // a SELECT's tag counts rows read, not changed
  BOOST_TEST((*out.results)[3].rows.empty());        // /sql/execute keeps no rows
  for (const auto& r : *out.results)
    BOOST_TEST(!r.last_insert_id.has_value());
  BOOST_TEST(check("SELECT count(*) FROM t WHERE note = 'z'") == "2");
}

BOOST_AUTO_TEST_CASE(a_failing_second_statement_commits_nothing) {
  setup("INSERT INTO t VALUES (1, 'there')");
  auto out = write(
      *engine, {sql_statement("INSERT INTO t VALUES (10, 'first')"), sql_statement("INSERT INTO t VALUES (1, 'dup')")},
      false);
  BOOST_REQUIRE(out.results.has_error());
  BOOST_TEST(out.results.error().status == 409u);
  BOOST_TEST(out.results.error().code == "SQLITE_CONSTRAINT_UNIQUE");
  BOOST_TEST(out.results.error().sqlstate == "23505");
  BOOST_TEST(check("SELECT count(*) FROM t WHERE id = 10") == "0");
}

BOOST_AUTO_TEST_CASE(batch_returns_rows_and_commits) {
  auto out = write(*engine,
                   {sql_statement("INSERT INTO t VALUES (1, 'a'), (2, 'b') RETURNING id"),
                    sql_statement("SELECT count(*) AS n FROM t")},
                   true);
  BOOST_REQUIRE_MESSAGE(out.results, (out.results ? std::string() : out.results.error().message));
  BOOST_REQUIRE(out.results->size() == 2u);  // the BEGIN added in front is not the client's
  const auto& inserted = (*out.results)[0];
  BOOST_TEST(inserted.rows_affected == 2);
  BOOST_REQUIRE(inserted.rows.size() == 2u);
  BOOST_TEST(std::get<std::int64_t>(inserted.rows[1].at(0)) == 2);
  BOOST_TEST(std::get<std::int64_t>((*out.results)[1].rows.at(0).at(0)) == 2);
  BOOST_TEST(check("SELECT count(*) FROM t") == "2");
}

// The rows are over the cap only once PostgreSQL ran the statement: a COMMIT in the same round trip
// would have kept the write that the client is told failed.
BOOST_AUTO_TEST_CASE(a_batch_over_the_row_cap_commits_nothing) {
  auto capped = engine_with([](auto& o) { o.limits.max_result_rows = 2; });
  auto out =
      write(*capped, {sql_statement("INSERT INTO t SELECT g, 'x' FROM generate_series(1, 5) g RETURNING id")}, true);
  BOOST_REQUIRE(out.results.has_error());
  BOOST_TEST(out.results.error().code == "RESULT_TOO_LARGE");
  BOOST_TEST(check("SELECT count(*) FROM t") == "0");
  // The same statement through /sql/execute keeps no rows, so no cap applies, and it commits.
  auto kept =
      write(*capped, {sql_statement("INSERT INTO t SELECT g, 'x' FROM generate_series(1, 5) g RETURNING id")}, false);
  BOOST_REQUIRE(kept.results.has_value());
  BOOST_TEST(check("SELECT count(*) FROM t") == "5");
}

BOOST_AUTO_TEST_CASE(placeholders_of_every_spelling_bind) {
  auto positional = rows(*engine, sql_statement("SELECT ?::int8 + 1, ?::text", {std::int64_t{41}, std::string("x")}));
  BOOST_TEST(std::get<std::int64_t>(positional.rows.at(0).at(0)) == 42);
  BOOST_TEST(std::get<std::string>(positional.rows.at(0).at(1)) == "x");
  auto numbered = rows(*engine, sql_statement("SELECT ?2::int8, ?1::int8", {std::int64_t{10}, std::int64_t{20}}));
  BOOST_TEST(std::get<std::int64_t>(numbered.rows.at(0).at(0)) == 20);
  BOOST_TEST(std::get<std::int64_t>(numbered.rows.at(0).at(1)) == 10);
  // Named parameters bind by name, whatever order they come in; `::text` is a cast, not a name.
  proto::statement named{"SELECT :a::text, @b::int8, $c::bool, :a::text || $c::text", {}, {}};
  named.named = {{"$c", true}, {"@b", std::int64_t{7}}, {"a", std::string("alpha")}};
  auto by_name = rows(*engine, named);
  const auto& row = by_name.rows.at(0);
  BOOST_TEST(std::get<std::string>(row.at(0)) == "alpha");
  BOOST_TEST(std::get<std::int64_t>(row.at(1)) == 7);
  BOOST_TEST(std::get<bool>(row.at(2)) == true);
  BOOST_TEST(std::get<std::string>(row.at(3)) == "alphatrue");
}

BOOST_AUTO_TEST_CASE(params_of_every_type_round_trip) {
  setup("CREATE TABLE v (i int8, f float8, s text, b bytea, z bool, n text)");
  const std::vector<proto::value> values{std::numeric_limits<std::int64_t>::min(),
                                         -0.125,
                                         std::string("héllo 'q'"),
                                         blob_of({0, 1, 0xfe, 0xff}),
                                         false,
                                         std::monostate{}};
  auto wrote = write(*engine, {sql_statement("INSERT INTO v VALUES (?, ?, ?, ?, ?, ?)", values)}, false);
  BOOST_REQUIRE_MESSAGE(wrote.results, (wrote.results ? std::string() : wrote.results.error().message));
  auto back = rows(*engine, sql_statement("SELECT * FROM v"));
  BOOST_REQUIRE(back.rows.size() == 1u);
  BOOST_TEST((back.rows[0] == values));
  auto matched =
      rows(*engine, sql_statement("SELECT count(*) FROM v WHERE i = ? AND f = ? AND s = ? AND b = ? AND z = ?",
                                  std::vector<proto::value>(values.begin(), values.end() - 1)));
  BOOST_TEST(std::get<std::int64_t>(matched.rows.at(0).at(0)) == 1);
}

BOOST_AUTO_TEST_CASE(sql_and_params_past_the_limits_are_refused) {
  auto limited = engine_with([](auto& o) {
    o.limits.max_sql_length = 20;
    o.limits.max_params = 2;
  });
  auto long_sql = query(*limited, sql_statement("SELECT 1 /* longer than twenty */"));
  BOOST_REQUIRE(long_sql.result.has_error());
  BOOST_TEST(long_sql.result.error().status == 413u);
  BOOST_TEST(long_sql.result.error().code == "SQLITE_TOOBIG");
  auto many = query(*limited, sql_statement("SELECT ?, ?, ?", {std::int64_t{1}, std::int64_t{2}, std::int64_t{3}}));
  BOOST_REQUIRE(many.result.has_error());
  BOOST_TEST(many.result.error().status == 400u);
  BOOST_TEST(many.result.error().code == "SQLITE_ERROR");
  BOOST_TEST(many.result.error().message == "too many SQL variables");
  auto write_too = write(*limited,
                         {sql_statement("INSERT INTO t VALUES (?, ?)", {std::int64_t{1}, std::string("ok")}),
                          sql_statement("INSERT INTO t VALUES (2, 'this one is too long')")},
                         false);
  BOOST_REQUIRE(write_too.results.has_error());
  BOOST_TEST(write_too.results.error().status == 413u);
  BOOST_TEST(check("SELECT count(*) FROM t") == "0");
}

BOOST_AUTO_TEST_CASE(past_the_queue_a_request_is_overloaded_at_once) {
  auto small = engine_with([](auto& o) {
    o.pool_size = 1;
    o.queue_capacity = 1;
  });
  // A Hrana transaction holds the one connection between its pipelines.
  auto begun =
      pipeline(*small, std::nullopt, {hrana_execute("BEGIN"), hrana_execute("INSERT INTO t VALUES (1, 'held')")});
  BOOST_REQUIRE(!begun.results.at(1).failure);
  auto queued = query_async(*small, sql_statement("SELECT count(*) FROM t"));
  test::poll_until([&] { return test::metric(*small, "monolite_pg_waiting") == 1; }, "one request queued");
  auto refused = query(*small, sql_statement("SELECT 1"));
  BOOST_REQUIRE(refused.result.has_error());
  BOOST_TEST(refused.result.error().status == 503u);
  BOOST_TEST(refused.result.error().code == "OVERLOADED");
  BOOST_TEST(test::metric(*small, "monolite_pg_rejected_total") == 1);
  BOOST_TEST((queued.wait_for(0s) == std::future_status::timeout));
  auto committed = pipeline(*small, begun.next, {hrana_execute("COMMIT")});
  BOOST_REQUIRE(!committed.results.at(0).failure);
  auto served = test::wait_pg(queued, "the queued query");
  BOOST_REQUIRE(served.result.has_value());
  BOOST_TEST(std::get<std::int64_t>(served.result->rows.at(0).at(0)) == 1);
}

BOOST_AUTO_TEST_CASE(without_a_server_requests_are_not_ready_within_the_connect_timeout) {
  // A port bound but not listening: every connect is refused, and no other process can take it.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor bound(io);
  bound.open(boost::asio::ip::tcp::v4());
  bound.bind({boost::asio::ip::address_v4::loopback(), 0});
  auto options = options_for_this_database();
  options.url = "host=127.0.0.1 port=" + std::to_string(bound.local_endpoint().port()) + " user=postgres";
  options.connect_timeout = 300ms;
  auto down = start_engine(options);
  BOOST_TEST(!down->available());
  BOOST_TEST(!down->unavailable_reason().empty());
  const auto started = std::chrono::steady_clock::now();
  auto out = query(*down, sql_statement("SELECT 1"));
  const auto waited = std::chrono::steady_clock::now() - started;
  BOOST_REQUIRE(out.result.has_error());
  BOOST_TEST(out.result.error().status == 503u);
  BOOST_TEST(out.result.error().code == "NOT_READY");
  BOOST_TEST(waited < 300ms + 5s);  // the connect timeout, with room for a loaded sanitizer build
  auto wrote = write(*down, {sql_statement("INSERT INTO t VALUES (1, 'x')")}, false);
  BOOST_REQUIRE(wrote.results.has_error());
  BOOST_TEST(wrote.results.error().code == "NOT_READY");
  BOOST_TEST(test::metric(*down, "monolite_pg_not_ready_total") == 2);
  BOOST_TEST(!down->available());
}

BOOST_AUTO_TEST_CASE(after_interrupt_requests_fail_with_504) {
  engine->interrupt();
  auto read = query(*engine, sql_statement("SELECT 1"));
  BOOST_REQUIRE(read.result.has_error());
  BOOST_TEST(read.result.error().status == 504u);
  BOOST_TEST(read.result.error().code == "SQLITE_INTERRUPT");
  auto wrote = write(*engine, {sql_statement("INSERT INTO t VALUES (1, 'x')")}, false);
  BOOST_REQUIRE(wrote.results.has_error());
  BOOST_TEST(wrote.results.error().status == 504u);
  BOOST_TEST(wrote.results.error().code == "SQLITE_INTERRUPT");
  auto streamed = pipeline(*engine, std::nullopt, {hrana_execute("INSERT INTO t VALUES (2, 'y')")});
  BOOST_TEST(failure_code(streamed.results.at(0)) == "SQLITE_INTERRUPT");
  BOOST_TEST(check("SELECT count(*) FROM t") == "0");
}

BOOST_AUTO_TEST_CASE(close_rolls_back_an_open_stream_and_leaves_nothing_pending) {
  // Its own io_context: run() returns only when no timer, wait or handler of the engine is left.
  boost::asio::io_context io;
  auto options = options_for_this_database();
  options.hrana.idle_expiry = 200ms;  // a sweep timer armed every 50 ms, which close() must stop
  options.hrana.transaction_timeout = 60s;
  const auto others = check(connections_here);
  auto own = actors::pg_engine::open({io.get_executor()}, options).value();
  auto ran = std::async(std::launch::async, [&io] { io.run(); });
  test::poll_until([&] { return test::idle_connections(*own) == 2; }, "the pool up");
  std::promise<actors::hrana::pipeline_outcome> begun;
  auto begun_future = begun.get_future();
  boost::asio::post(io, [&] {
    own->pipeline(std::nullopt, false, {hrana_execute("BEGIN"), hrana_execute("INSERT INTO t VALUES (1, 'open')")},
                  io.get_executor(), 0, [&begun](actors::hrana::pipeline_outcome o) { begun.set_value(std::move(o)); });
  });
  auto open = test::wait_pg(begun_future, "BEGIN on a stream");
  BOOST_REQUIRE(open.status.has_value() && !open.results.at(1).failure);
  BOOST_TEST(check(std::string(connections_here) + " AND state = 'idle in transaction'") == "1");
  std::promise<void> closed;
  auto closed_future = closed.get_future();
  own->close(io.get_executor(), [&closed] { closed.set_value(); });
  test::wait_pg(closed_future, "close");
  BOOST_REQUIRE_MESSAGE(ran.wait_for(test::pg_patience) == std::future_status::ready, "work left after close()");
  BOOST_TEST(check("SELECT count(*) FROM t") == "0");
  test::poll_until([&] { return check(connections_here) == others; }, "the engine's connections gone");
}

// A pipeline still running when close() is called ends with its stream holding a transaction: close()
// must not wait for that connection for ever.
BOOST_AUTO_TEST_CASE(close_completes_when_a_pipeline_was_running) {
  auto locker = fresh();  // not admin(): within its transaction pg_stat_activity would not change
  BOOST_REQUIRE(exec(*locker, test::sql_group({"BEGIN", "LOCK TABLE t IN ACCESS EXCLUSIVE MODE"})));
  auto e = start_engine(options_for_this_database());
  auto running = send(*e, std::nullopt, {hrana_execute("BEGIN"), hrana_execute("SELECT count(*) FROM t")});
  test::poll_until([&] { return check(std::string(waiting_on_a_lock)) == "1"; }, "the pipeline's SELECT waiting");
  auto closed = std::make_shared<std::promise<void>>();
  auto closed_future = closed->get_future();
  e->close(replies.get_executor(), [closed] { closed->set_value(); });
  std::erase(engines, e);  // closed once, here
  BOOST_REQUIRE(exec(*locker, test::sql_group({"COMMIT"})));
  auto ran = test::wait_pg(running, "the running pipeline");
  BOOST_TEST(!ran.results.at(1).failure);
  test::wait_pg(closed_future, "close");
  // Closed in its transaction: the server ends the backend (and the transaction) soon after.
  test::poll_until([&] { return check(std::string(connections_here) + " AND state = 'idle in transaction'") == "0"; },
                   "the stream's transaction ended");
}

BOOST_AUTO_TEST_SUITE_END()
