// Thread pools for actor tests: one for the database actors, one where replies land; helpers to
// wait for replies or conditions with a bound (a hang fails the test instead of stalling the suite)
// and to hold the writer at a known point (writer_gate), so tests need no sleeps.
#pragma once
#include <sqlite3.h>

#include <boost/asio/thread_pool.hpp>
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

#include "actors/reader_pool.hpp"
#include "actors/writer_actor.hpp"
#include "support/temp_dir.hpp"

namespace monolite::test {

// A statement that stops at a writer_gate (test_gate() returns 1), then keeps the writer busy for a
// while (a few hundred ms; seconds under a sanitizer).
inline const std::string gated_slow_sql =
    "WITH RECURSIVE c(x) AS (SELECT test_gate() UNION ALL SELECT x + 1 FROM c WHERE x < 3000000) "
    "SELECT count(*) FROM c";

inline constexpr std::chrono::seconds patience{30};  // the bound on every wait: generous, for loaded machines

template <class T>
T wait_for(std::future<T>& f) {
  BOOST_REQUIRE_MESSAGE(f.wait_for(patience) == std::future_status::ready, "no reply in 30 s");
  return f.get();
}

// Polls `condition` (every millisecond) until it holds; fails the test after 30 s.
inline void wait_until(const std::function<bool()>& condition, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + patience;
  while (!condition()) {
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "not in 30 s: " + what);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
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
    for (auto& s : sqls)
      request.statements.push_back({std::move(s), {}, {}});
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

// A latch that work on an actor's strand waits on (for 30 s at most) until open(); it opens itself
// when destroyed, so a failing test never leaves a thread waiting.
class latch_gate {
 public:
  latch_gate() = default;
  latch_gate(const latch_gate&) = delete;
  latch_gate& operator=(const latch_gate&) = delete;
  ~latch_gate() { open(); }
  void open() {
    std::call_once(opened_once_, [this] { open_.set_value(); });
  }
  std::shared_future<void> waiter() const { return opened_; }

 private:
  std::promise<void> open_;
  std::shared_future<void> opened_ = open_.get_future().share();
  std::once_flag opened_once_;
};

// A SQL function test_gate() on the writer's connection. The first statement to call it tells
// reached() and then waits — on the writer's strand, so everything submitted meanwhile queues up
// behind it in order — until release() (or 30 s, so a failing test cannot hang the suite).
class writer_gate {
 public:
  writer_gate(actor_fixture& f, actors::writer_actor& writer) : state_(std::make_shared<state>()) {
    auto installed = std::make_shared<std::promise<actors::lease_reply>>();
    auto future = installed->get_future();
    writer.run_exclusive(
        0, [s = state_](db::connection& conn, actors::lease_state) { install(conn, s); }, f.replies.get_executor(),
        [installed](actors::lease_reply r) { installed->set_value(std::move(r)); });
    BOOST_REQUIRE(wait_for(future).ran.has_value());
    BOOST_REQUIRE_MESSAGE(state_->installed == SQLITE_OK, "cannot create test_gate()");
  }
  ~writer_gate() { release(); }
  writer_gate(const writer_gate&) = delete;
  writer_gate& operator=(const writer_gate&) = delete;

  // Returns once a statement on the writer is inside test_gate().
  void wait_reached() {
    BOOST_REQUIRE_MESSAGE(reached_.wait_for(patience) == std::future_status::ready,
                          "the writer never reached the gate");
  }
  void release() { state_->release.open(); }

 private:
  struct state {
    std::promise<void> reached;
    std::once_flag reached_once;
    latch_gate release;
    int installed = SQLITE_ERROR;  // written on the writer's strand before its reply
  };

  static void install(db::connection& conn, const std::shared_ptr<state>& s) {
    s->installed = sqlite3_create_function_v2(
        conn.handle(), "test_gate", 0, SQLITE_UTF8, new std::shared_ptr<state>(s),
        [](sqlite3_context* context, int, sqlite3_value**) {
          auto& st = **static_cast<std::shared_ptr<state>*>(sqlite3_user_data(context));
          std::call_once(st.reached_once, [&st] { st.reached.set_value(); });
          (void)st.release.waiter().wait_for(patience);
          sqlite3_result_int(context, 1);
        },
        nullptr, nullptr, [](void* p) { delete static_cast<std::shared_ptr<state>*>(p); });
  }

  std::shared_ptr<state> state_;
  std::future<void> reached_ = state_->reached.get_future();
};

}  // namespace monolite::test
