// Helpers for tests of the PostgreSQL engine (pg_engine, pg_hrana): engines on a database of their
// own, replies on a one-thread pool (serial, as a session's thread is), blocking bounded waits, the
// pool's gauges read from the engine's metrics, and Hrana requests built as a client sends them.
#pragma once
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>
#include <thread>

#include "actors/pg_engine.hpp"
#include "support/pg_async.hpp"

namespace monolite::test {

namespace ph = proto::hrana;

// Polls a real condition (a gauge, a counter) until it holds; 30 s without it fails the test.
inline void poll_until(const std::function<bool()>& condition, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + pg_patience;
  while (!condition()) {
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "not in 30 s: " + what);
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

// The value of one sample of the engine's Prometheus text (`series` with its labels), -1 if absent.
inline long metric(const actors::engine& e, const std::string& series) {
  std::string text;
  e.append_metrics(text);
  const auto at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stol(text.substr(at + series.size() + 2));
}

inline long idle_connections(const actors::engine& e) { return metric(e, "monolite_pg_connections{state=\"idle\"}"); }

inline proto::statement sql_statement(std::string sql, std::vector<proto::value> positional = {}) {
  return {std::move(sql), std::move(positional), {}};
}

inline ph::stmt hrana_stmt(std::string sql, std::vector<proto::value> args = {}) {
  ph::stmt s;
  s.sql = std::move(sql);
  s.args = std::move(args);
  return s;
}

inline ph::decoded_request hrana_execute(std::string sql, std::vector<proto::value> args = {}) {
  ph::stream_request r;
  r.kind = ph::request_kind::execute;
  r.statement = hrana_stmt(std::move(sql), std::move(args));
  return r;
}

inline ph::decoded_request hrana_of_kind(ph::request_kind kind) {
  ph::stream_request r;
  r.kind = kind;
  return r;
}

struct pg_engine_fixture : pg_fixture {
  boost::asio::thread_pool replies{1};
  std::vector<std::shared_ptr<actors::pg_engine>> engines;

  // The engines' threads end before `replies` does: a post into `replies` may still be signalling
  // it after its handler ran.
  ~pg_engine_fixture() {
    for (auto& e : engines)
      close(*e);
    for (auto& c : opened)
      c->close();
    opened.clear();
    threads.join();
    replies.join();
  }

  actors::pg_engine_options options_for_this_database() const {
    actors::pg_engine_options options;
    options.url = conninfo;
    options.pool_size = 2;
    options.queue_capacity = 16;
    return options;
  }

  // An engine whose pool has all its connections up.
  std::shared_ptr<actors::pg_engine> open_engine(const actors::pg_engine_options& options) {
    auto e = start_engine(options);
    poll_until([&] { return idle_connections(*e) == static_cast<long>(options.pool_size); }, "the pool up");
    return e;
  }
  std::shared_ptr<actors::pg_engine> start_engine(const actors::pg_engine_options& options) {
    std::vector<boost::asio::any_io_executor> executors{threads.get_executor(), threads.get_executor()};
    auto opened_engine = actors::pg_engine::open(executors, options);
    BOOST_REQUIRE(opened_engine.has_value());
    engines.push_back(*opened_engine);
    return *opened_engine;
  }

  void close(actors::engine& e) {
    std::promise<void> closed;
    auto done = closed.get_future();
    e.close(replies.get_executor(), [&closed] { closed.set_value(); });
    wait_pg(done, "close");
  }

  std::future<actors::read_outcome> query_async(actors::engine& e, proto::statement statement) {
    auto done = std::make_shared<std::promise<actors::read_outcome>>();
    auto future = done->get_future();
    e.query(std::move(statement), replies.get_executor(), 0,
            [done](actors::read_outcome o) { done->set_value(std::move(o)); });
    return future;
  }
  actors::read_outcome query(actors::engine& e, proto::statement statement) {
    auto future = query_async(e, std::move(statement));
    return wait_pg(future, "query");
  }
  // The result of a query that must succeed.
  proto::statement_result rows(actors::engine& e, proto::statement statement) {
    auto out = query(e, std::move(statement));
    BOOST_REQUIRE_MESSAGE(out.result, "query: " + (out.result ? std::string() : out.result.error().message));
    return std::move(*out.result);
  }

  actors::write_outcome write(actors::engine& e, std::vector<proto::statement> statements, bool want_rows) {
    auto done = std::make_shared<std::promise<actors::write_outcome>>();
    auto future = done->get_future();
    e.write({std::move(statements), want_rows}, replies.get_executor(),
            [done](actors::write_outcome o) { done->set_value(std::move(o)); });
    return wait_pg(future, "write");
  }

  // Posted to `replies` first: a pipeline is started from the serial executor it continues on.
  std::future<actors::hrana::pipeline_outcome> send(actors::engine& e, std::optional<actors::hrana::stream_ref> baton,
                                                    std::vector<ph::decoded_request> requests, bool read_only = false) {
    auto done = std::make_shared<std::promise<actors::hrana::pipeline_outcome>>();
    auto future = done->get_future();
    auto reply_to = replies.get_executor();
    boost::asio::post(reply_to, [&e, baton, requests = std::move(requests), read_only, reply_to, done]() mutable {
      e.pipeline(baton, read_only, std::move(requests), reply_to, 0,
                 [done](actors::hrana::pipeline_outcome o) { done->set_value(std::move(o)); });
    });
    return future;
  }
  // A pipeline the stream accepts (each request may still fail on its own).
  actors::hrana::pipeline_outcome pipeline(actors::engine& e, std::optional<actors::hrana::stream_ref> baton,
                                           std::vector<ph::decoded_request> requests, bool read_only = false) {
    auto future = send(e, baton, std::move(requests), read_only);
    auto out = wait_pg(future, "pipeline");
    BOOST_REQUIRE_MESSAGE(out.status.has_value(), (out.status ? std::string() : out.status.error().message));
    return out;
  }

  // The one value of a statement that must succeed, on a fresh connection (outside every engine).
  std::string check(const std::string& sql) { return scalar(admin(), sql); }
  // A statement that must succeed (setup), on that connection.
  void setup(const std::string& sql) {
    auto done = exec(admin(), sql_group({sql}));
    BOOST_REQUIRE_MESSAGE(done, "setup: " + (done ? std::string() : done.error().error.describe()));
  }
  pg::async_connection& admin() {
    if (!admin_) admin_ = fresh();
    return *admin_;
  }

 private:
  std::shared_ptr<pg::async_connection> admin_;
};

// An engine on this test's database, which holds `t (id int8 PRIMARY KEY, note text)`.
struct pg_table_fixture : pg_engine_fixture {
  std::shared_ptr<actors::pg_engine> engine;

  pg_table_fixture() {
    engine = open_engine(options_for_this_database());
    setup("CREATE TABLE t (id int8 PRIMARY KEY, note text)");
  }

  // Another engine, with options changed from this test's.
  std::shared_ptr<actors::pg_engine> engine_with(const std::function<void(actors::pg_engine_options&)>& change) {
    auto options = options_for_this_database();
    change(options);
    return open_engine(options);
  }
};

}  // namespace monolite::test
