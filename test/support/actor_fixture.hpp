// Thread pools for actor tests: one for the database actors, one where replies land; helpers to
// wait for replies with a bound (a hang fails the test instead of stalling the suite).
#pragma once
#include <boost/asio/thread_pool.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <future>

#include "actors/reader_pool.hpp"
#include "actors/writer_actor.hpp"
#include "support/temp_dir.hpp"

namespace monolite::test {

// A statement that keeps a connection busy for a while (a few hundred ms).
inline const std::string slow_sql =
    "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) SELECT count(*) FROM c";

template <class T>
T wait_for(std::future<T>& f) {
  BOOST_REQUIRE_MESSAGE(f.wait_for(std::chrono::seconds(30)) == std::future_status::ready, "no reply in 30 s");
  return f.get();
}

struct actor_fixture {
  temp_dir dir;
  boost::asio::thread_pool db_pool{3};
  boost::asio::thread_pool replies{1};
  db::connection_options options;

  actor_fixture() { options.path = dir.file("actors.db"); }
  ~actor_fixture() {
    db_pool.join();
    replies.join();
  }

  std::shared_ptr<actors::writer_actor> open_writer(actors::writer_options w = {}) {
    return actors::writer_actor::open(db_pool.get_executor(), options, w).value();
  }

  std::future<actors::write_outcome> submit(actors::writer_actor& writer, std::vector<std::string> sqls) {
    proto::write_request request;
    for (auto& s : sqls) request.statements.push_back({std::move(s), {}, {}});
    request.want_rows = true;
    auto promise = std::make_shared<std::promise<actors::write_outcome>>();
    auto future = promise->get_future();
    writer.submit(std::move(request), replies.get_executor(),
                  [promise](actors::write_outcome o) { promise->set_value(std::move(o)); });
    return future;
  }

  std::future<actors::read_outcome> query(actors::reader_pool& pool, std::string sql, std::size_t preferred = 0) {
    auto promise = std::make_shared<std::promise<actors::read_outcome>>();
    auto future = promise->get_future();
    pool.submit({std::move(sql), {}, {}}, replies.get_executor(), preferred,
                [promise](actors::read_outcome o) { promise->set_value(std::move(o)); });
    return future;
  }

  void close(actors::writer_actor& writer) {
    std::promise<void> closed;
    auto done = closed.get_future();
    writer.close(replies.get_executor(), [&closed] { closed.set_value(); });
    BOOST_REQUIRE(done.wait_for(std::chrono::seconds(30)) == std::future_status::ready);
  }
};

}  // namespace monolite::test
