#include "pg/async_connection.hpp"

#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/test/unit_test.hpp>

#include "support/pg_async.hpp"

using namespace monolite;
using namespace std::chrono_literals;

namespace {

std::string error_of(const pg::exec_result& r) { return r ? std::string("(no error)") : r.error().error.describe(); }

// Polls `sql` on `conn` until it returns "t" (30 s at most).
void wait_for_true(test::pg_fixture& f, pg::async_connection& conn, const std::string& sql) {
  const auto deadline = std::chrono::steady_clock::now() + test::pg_patience;
  while (f.scalar(conn, sql) != "t") {
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "never true: " + sql);
    std::this_thread::sleep_for(5ms);
  }
}

std::string backend_active(int pid) {
  return "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE pid = " + std::to_string(pid) +
         " AND state = 'active' AND query LIKE '%pg_sleep%')";
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(pg_async_connection, test::pg_fixture)

BOOST_AUTO_TEST_CASE(connect_applies_the_session_settings) {
  auto conn = fresh({5s, 1500ms});
  BOOST_TEST(conn->backend_pid() > 0);
  BOOST_TEST(!conn->broken());
  BOOST_TEST((conn->transaction_state() == pg::transaction_status::idle));
  auto shown = exec(*conn, test::sql_group({"SHOW DateStyle", "SHOW TimeZone", "SHOW extra_float_digits",
                                            "SHOW client_encoding", "SHOW statement_timeout"}));
  BOOST_REQUIRE_MESSAGE(shown, error_of(shown));
  BOOST_TEST(*shown->at(0).rows.at(0).at(0) == "ISO, MDY");
  BOOST_TEST(*shown->at(1).rows.at(0).at(0) == "UTC");
  BOOST_TEST(*shown->at(2).rows.at(0).at(0) == "3");
  BOOST_TEST(*shown->at(3).rows.at(0).at(0) == "UTF8");
  BOOST_TEST(*shown->at(4).rows.at(0).at(0) == "1500ms");
  BOOST_TEST(scalar(*conn, "SELECT 0.1::float8") == "0.1");  // round-trip text, not 0.10000000000000001
}

BOOST_AUTO_TEST_CASE(a_pipeline_returns_rows_oids_and_command_tags) {
  auto conn = fresh();
  BOOST_REQUIRE(exec(*conn, test::sql_group({"CREATE TABLE t (id int8 PRIMARY KEY, name text)"})));
  pg::query_group group;
  group.queries.push_back({"INSERT INTO t VALUES ($1, $2), ($3, $4)",
                           {test::text_param("1"), test::text_param("one"), {20, "2", 0, false}, {25, "", 0, true}},
                           0});
  group.queries.push_back({"SELECT id, name FROM t ORDER BY id", {}, 0});
  group.queries.push_back(
      {"UPDATE t SET name = $1 WHERE id = $2", {test::text_param("uno"), test::text_param("1")}, 0});
  auto done = exec(*conn, group);
  BOOST_REQUIRE_MESSAGE(done, error_of(done));
  BOOST_REQUIRE_EQUAL(done->size(), 3u);
  BOOST_TEST(done->at(0).command_tag == "INSERT 0 2");
  BOOST_TEST(done->at(0).rows_affected == 2);
  BOOST_TEST(done->at(0).columns.empty());
  const auto& selected = done->at(1);
  BOOST_TEST(selected.command_tag == "SELECT 2");
  BOOST_TEST((selected.columns == std::vector<std::string>{"id", "name"}));
  BOOST_TEST((selected.column_oids == std::vector<unsigned>{20, 25}));
  BOOST_REQUIRE_EQUAL(selected.rows.size(), 2u);
  BOOST_TEST(*selected.rows[0][0] == "1");
  BOOST_TEST(*selected.rows[0][1] == "one");
  BOOST_TEST(*selected.rows[1][0] == "2");
  BOOST_TEST(!selected.rows[1][1].has_value());  // NULL
  BOOST_TEST(done->at(2).command_tag == "UPDATE 1");
  BOOST_TEST(done->at(2).rows_affected == 1);
}

BOOST_AUTO_TEST_CASE(a_failing_statement_commits_nothing_of_its_group) {
  auto conn = fresh();
  BOOST_REQUIRE(exec(*conn, test::sql_group({"CREATE TABLE t (id int PRIMARY KEY)"})));
  auto done = exec(
      *conn, test::sql_group({"INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (1)", "INSERT INTO t VALUES (2)"}));
  BOOST_REQUIRE(done.has_error());
  BOOST_TEST(done.error().statement_index == 1u);
  BOOST_TEST(done.error().error.sqlstate == "23505");
  BOOST_TEST(!done.error().error.detail.empty());
  BOOST_TEST(done.error().error.statement == "INSERT INTO t VALUES (1)");
  BOOST_TEST((conn->transaction_state() == pg::transaction_status::idle));
  BOOST_TEST(scalar(*conn, "SELECT count(*) FROM t") == "0");
  auto syntax = exec(*conn, test::sql_group({"SELECT 1", "SELEC 2"}));
  BOOST_REQUIRE(syntax.has_error());
  BOOST_TEST(syntax.error().statement_index == 1u);
  BOOST_TEST(syntax.error().error.sqlstate == "42601");
  BOOST_TEST(syntax.error().error.position == 1);
}

BOOST_AUTO_TEST_CASE(an_explicit_transaction_spans_exec_calls) {
  auto conn = fresh();
  auto other = fresh();
  BOOST_REQUIRE(exec(*conn, test::sql_group({"CREATE TABLE t (id int)"})));
  BOOST_REQUIRE(exec(*conn, test::sql_group({"BEGIN", "INSERT INTO t VALUES (1)"})));
  BOOST_TEST((conn->transaction_state() == pg::transaction_status::in_transaction));
  BOOST_TEST(scalar(*other, "SELECT count(*) FROM t") == "0");
  BOOST_REQUIRE(exec(*conn, test::sql_group({"INSERT INTO t VALUES (2)"})));
  BOOST_REQUIRE(exec(*conn, test::sql_group({"COMMIT"})));
  BOOST_TEST((conn->transaction_state() == pg::transaction_status::idle));
  BOOST_TEST(scalar(*other, "SELECT count(*) FROM t") == "2");

  BOOST_REQUIRE(exec(*conn, test::sql_group({"BEGIN", "INSERT INTO t VALUES (3)"})));
  BOOST_REQUIRE(exec(*conn, test::sql_group({"SELECT 1/0"})).has_error());
  BOOST_TEST((conn->transaction_state() == pg::transaction_status::in_error));
  BOOST_REQUIRE(exec(*conn, test::sql_group({"ROLLBACK"})));
  BOOST_TEST((conn->transaction_state() == pg::transaction_status::idle));
  BOOST_TEST(scalar(*other, "SELECT count(*) FROM t") == "2");
}

// Asio's reactor is edge-triggered: bytes that reached the socket while the strand was busy wake
// no later wait. The whole result (100 kB, more than libpq reads at once) arrives while the
// strand is held; the exec must still finish.
BOOST_AUTO_TEST_CASE(bytes_already_in_the_socket_are_read_without_a_new_wakeup) {
  auto conn = fresh();
  auto running = exec_async(*conn, test::sql_group({"SELECT repeat('x', 1000) FROM generate_series(1, 100)"}));
  std::promise<void> release;
  auto held = std::make_shared<std::shared_future<void>>(release.get_future().share());
  boost::asio::post(conn->strand(), [held] { (void)held->wait_for(test::pg_patience); });
  // ParseComplete, BindComplete, RowDescription (42 bytes), then 100 DataRows of 1011 bytes; the
  // last rows, CommandComplete and ReadyForQuery go in the server's last send, together.
  const int all_rows_in = 42 + 100 * 1011;
  const auto deadline = std::chrono::steady_clock::now() + test::pg_patience;
  for (int queued = 0; queued < all_rows_in;) {
    BOOST_REQUIRE(::ioctl(conn->socket_handle(), FIONREAD, &queued) == 0);
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "the result never reached the socket");
    std::this_thread::sleep_for(1ms);
  }
  release.set_value();
  auto done = test::wait_pg(running, "the exec whose bytes were all in the socket");
  BOOST_REQUIRE_MESSAGE(done, error_of(done));
  BOOST_TEST(done->at(0).rows.size() == 100u);
}

BOOST_AUTO_TEST_CASE(a_result_over_the_limits_fails_and_the_connection_goes_on) {
  auto conn = fresh();
  auto many = test::sql_group({"SELECT 0", "SELECT g FROM generate_series(1, 5000) AS g"});
  many.max_rows = 100;
  auto done = exec(*conn, many);
  BOOST_REQUIRE(done.has_error());
  BOOST_TEST(done.error().error.sqlstate == pg::sqlstate_result_too_large);
  BOOST_TEST(done.error().statement_index == 1u);
  BOOST_TEST(scalar(*conn, "SELECT 'still usable'") == "still usable");

  auto wide = test::sql_group({"SELECT repeat('x', 1000)"});
  wide.max_bytes = 999;
  auto too_wide = exec(*conn, wide);
  BOOST_REQUIRE(too_wide.has_error());
  BOOST_TEST(too_wide.error().error.sqlstate == pg::sqlstate_result_too_large);
  wide.max_bytes = 1000;
  BOOST_TEST(exec(*conn, wide).has_value());
}

BOOST_AUTO_TEST_CASE(statement_timeout_fails_with_57014) {
  auto conn = fresh({5s, 200ms});
  auto done = exec(*conn, test::sql_group({"SELECT pg_sleep(20)"}));
  BOOST_REQUIRE(done.has_error());
  BOOST_TEST(done.error().error.sqlstate == "57014");
  BOOST_TEST(scalar(*conn, "SELECT 1") == "1");
}

BOOST_AUTO_TEST_CASE(a_terminated_backend_is_08006_and_broken) {
  auto victim = fresh();
  auto killer = fresh();
  BOOST_TEST(scalar(*killer, "SELECT pg_terminate_backend(" + std::to_string(victim->backend_pid()) + ")") == "t");
  auto done = exec(*victim, test::sql_group({"SELECT 1"}));
  BOOST_REQUIRE(done.has_error());
  BOOST_TEST(done.error().error.sqlstate == pg::sqlstate_connection_lost);
  BOOST_TEST(victim->broken());
  auto again = exec(*victim, test::sql_group({"SELECT 1"}));
  BOOST_REQUIRE(again.has_error());
  BOOST_TEST(again.error().error.sqlstate == pg::sqlstate_connection_lost);
}

BOOST_AUTO_TEST_CASE(the_idle_watch_hears_a_terminated_backend) {
  auto victim = fresh();
  auto killer = fresh();
  std::promise<void> lost;
  auto heard = lost.get_future();
  victim->watch_idle([&lost] { lost.set_value(); });
  BOOST_TEST(scalar(*killer, "SELECT pg_terminate_backend(" + std::to_string(victim->backend_pid()) + ")") == "t");
  test::wait_pg(heard, "the watch to hear the loss");
  BOOST_TEST(victim->broken());
}

BOOST_AUTO_TEST_CASE(cancel_stops_the_running_statement) {
  auto conn = fresh();
  auto observer = fresh();
  boost::asio::thread_pool blocking{1};
  auto running = exec_async(*conn, test::sql_group({"SELECT pg_sleep(60)"}));
  wait_for_true(*this, *observer, backend_active(conn->backend_pid()));
  std::promise<pg::result<void>> sent;
  auto cancel_sent = sent.get_future();
  conn->cancel(blocking.get_executor(), [&sent](pg::result<void> r) { sent.set_value(std::move(r)); });
  BOOST_TEST(test::wait_pg(cancel_sent, "cancel").has_value());
  auto done = test::wait_pg(running, "the cancelled statement");
  BOOST_REQUIRE(done.has_error());
  BOOST_TEST(done.error().error.sqlstate == "57014");
  BOOST_TEST(scalar(*conn, "SELECT 1") == "1");
  blocking.join();
}

BOOST_AUTO_TEST_CASE(cancel_wait_ends_a_hanging_exec_at_once) {
  auto conn = fresh();
  auto running = exec_async(*conn, test::sql_group({"SELECT pg_sleep(60)"}));
  conn->cancel_wait();
  auto done = test::wait_pg(running, "the abandoned statement");
  BOOST_REQUIRE(done.has_error());
  BOOST_TEST(done.error().error.sqlstate == pg::sqlstate_connection_lost);
  BOOST_TEST(conn->broken());
}

BOOST_AUTO_TEST_CASE(a_second_exec_while_one_runs_is_busy) {
  auto conn = fresh();
  auto first = exec_async(*conn, test::sql_group({"SELECT pg_sleep(0.2)"}));
  auto second = exec(*conn, test::sql_group({"SELECT 1"}));
  BOOST_REQUIRE(second.has_error());
  BOOST_TEST(second.error().error.sqlstate == pg::sqlstate_busy);
  BOOST_TEST(test::wait_pg(first, "the first exec").has_value());
}

BOOST_AUTO_TEST_CASE(a_server_that_never_answers_times_out_with_08001) {
  // A listening socket nobody accepts on: the kernel completes the handshake, nothing replies.
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::address_v4::loopback(), 0});
  const auto port = silent.local_endpoint().port();
  auto conn = pg::async_connection::create(boost::asio::make_strand(threads.get_executor()));
  opened.push_back(conn);
  const auto started = std::chrono::steady_clock::now();
  auto done = connect_to(conn, "host=127.0.0.1 port=" + std::to_string(port) + " user=postgres", {300ms, 0ms});
  BOOST_REQUIRE(done.has_error());
  BOOST_TEST(done.error().sqlstate == pg::sqlstate_connect_failed);
  BOOST_TEST((std::chrono::steady_clock::now() - started < 10s));
  BOOST_TEST(conn->broken());
}

BOOST_AUTO_TEST_CASE(no_server_is_08001) {
  auto conn = pg::async_connection::create(boost::asio::make_strand(threads.get_executor()));
  opened.push_back(conn);
  auto done = connect_to(conn, "host=/nonexistent-monolite port=5432 user=postgres");
  BOOST_REQUIRE(done.has_error());
  BOOST_TEST(done.error().sqlstate == pg::sqlstate_connect_failed);
}

BOOST_AUTO_TEST_SUITE_END()
