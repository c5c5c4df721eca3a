// Helpers for tests of pg::async_connection and the pool: a database of its own on the shared
// cluster, threads for the strands, and blocking waits (bounded: a hang fails the test).
#pragma once
#include <boost/asio/strand.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "pg/async_connection.hpp"
#include "support/pg_cluster.hpp"

namespace monolite::test {

inline constexpr std::chrono::seconds pg_patience{30};

template <class T>
T wait_pg(std::future<T>& f, const std::string& what) {
  BOOST_REQUIRE_MESSAGE(f.wait_for(pg_patience) == std::future_status::ready, "no reply in 30 s: " + what);
  return f.get();
}

inline pg::query_group sql_group(std::vector<std::string> sqls) {
  pg::query_group group;
  for (auto& sql : sqls)
    group.queries.push_back({std::move(sql), {}, 0});
  return group;
}

inline pg::param text_param(std::string text) { return {0, std::move(text), 0, false}; }

struct pg_fixture {
  boost::asio::thread_pool threads{2};
  std::string conninfo;
  std::vector<std::shared_ptr<pg::async_connection>> opened;

  pg_fixture() : conninfo(shared_pg_cluster().conninfo(shared_pg_cluster().new_database())) {}
  ~pg_fixture() {
    for (auto& c : opened)
      c->close();
    threads.join();
  }

  pg::result<void> connect_to(const std::shared_ptr<pg::async_connection>& conn, const std::string& info,
                              pg::connect_options options = {}) {
    std::promise<pg::result<void>> done;
    auto future = done.get_future();
    conn->connect(info, options, [&done](pg::result<void> r) { done.set_value(std::move(r)); });
    return wait_pg(future, "connect");
  }

  std::shared_ptr<pg::async_connection> fresh(pg::connect_options options = {}) {
    auto conn = pg::async_connection::create(boost::asio::make_strand(threads.get_executor()));
    opened.push_back(conn);
    auto connected = connect_to(conn, conninfo, options);
    BOOST_REQUIRE_MESSAGE(connected, "connect: " + connected.error().describe());
    return conn;
  }

  std::future<pg::exec_result> exec_async(pg::async_connection& conn, pg::query_group group) {
    auto done = std::make_shared<std::promise<pg::exec_result>>();
    auto future = done->get_future();
    conn.exec(std::move(group), [done](pg::exec_result r) { done->set_value(std::move(r)); });
    return future;
  }

  pg::exec_result exec(pg::async_connection& conn, pg::query_group group) {
    auto future = exec_async(conn, std::move(group));
    return wait_pg(future, "exec");
  }

  // The rows of one statement that must succeed.
  std::vector<std::vector<std::optional<std::string>>> rows(pg::async_connection& conn, std::string sql) {
    auto done = exec(conn, sql_group({std::move(sql)}));
    BOOST_REQUIRE_MESSAGE(done, "exec: " + (done ? std::string() : done.error().error.describe()));
    return done->at(0).rows;
  }

  std::string scalar(pg::async_connection& conn, std::string sql) {
    auto r = rows(conn, std::move(sql));
    BOOST_REQUIRE(r.size() == 1 && r[0].size() == 1 && r[0][0]);
    return *r[0][0];
  }
};

}  // namespace monolite::test
