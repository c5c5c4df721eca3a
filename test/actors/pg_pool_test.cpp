#include "actors/pg_pool.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/test/unit_test.hpp>
#include <mutex>
#include <thread>

#include "support/pg_async.hpp"

using namespace monolite;
using namespace std::chrono_literals;

namespace {

using lease_result = pg::result<actors::pg_lease>;

struct pool_fixture : test::pg_fixture {
  boost::asio::thread_pool replies{1};
  std::vector<std::shared_ptr<actors::pg_pool>> pools;

  // The pools' threads end before `replies` does: a post into `replies` may still be signalling
  // it after its handler ran.
  ~pool_fixture() {
    for (auto& p : pools)
      close(*p);
    for (auto& c : opened)
      c->close();
    opened.clear();
    threads.join();
    replies.join();
  }

  std::shared_ptr<actors::pg_pool> open_pool(std::size_t size, std::size_t queue, std::string info = {},
                                             std::chrono::milliseconds connect_timeout = 5s) {
    actors::pg_pool_options options;
    options.size = size;
    options.queue_capacity = queue;
    options.connect_timeout = connect_timeout;
    std::vector<boost::asio::any_io_executor> executors{threads.get_executor(), threads.get_executor()};
    auto pool = actors::pg_pool::open(executors, info.empty() ? conninfo : info, options);
    pools.push_back(pool);
    return pool;
  }

  std::future<lease_result> acquire_async(actors::pg_pool& pool) {
    auto done = std::make_shared<std::promise<lease_result>>();
    auto future = done->get_future();
    pool.acquire(replies.get_executor(), [done](lease_result r) { done->set_value(std::move(r)); });
    return future;
  }

  actors::pg_lease acquire(actors::pg_pool& pool) {
    auto future = acquire_async(pool);
    auto lease = test::wait_pg(future, "acquire");
    BOOST_REQUIRE_MESSAGE(lease, "acquire: " + (lease ? std::string() : lease.error().describe()));
    return std::move(*lease);
  }

  void close(actors::pg_pool& pool) {
    std::promise<void> closed;
    auto done = closed.get_future();
    pool.close(replies.get_executor(), [&closed] { closed.set_value(); });
    test::wait_pg(done, "close");
  }
};

void wait_until(const std::function<bool()>& condition, const std::string& what) {
  const auto deadline = std::chrono::steady_clock::now() + test::pg_patience;
  while (!condition()) {
    BOOST_REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, "not in 30 s: " + what);
    std::this_thread::sleep_for(2ms);
  }
}

}  // namespace

BOOST_FIXTURE_TEST_SUITE(pg_pool, pool_fixture)

BOOST_AUTO_TEST_CASE(a_lease_runs_statements_and_comes_back) {
  auto pool = open_pool(2, 8);
  {
    auto lease = acquire(*pool);
    BOOST_TEST(scalar(lease.connection(), "SELECT 40 + 2") == "42");
    BOOST_TEST(pool->ready());
  }
  wait_until([&] { return pool->stats().idle == 2; }, "both connections idle");
  BOOST_TEST(pool->stats().open == 2u);
}

BOOST_AUTO_TEST_CASE(a_lease_left_in_a_transaction_is_rolled_back) {
  auto pool = open_pool(1, 8);
  {
    auto lease = acquire(*pool);
    BOOST_REQUIRE(exec(lease.connection(), test::sql_group({"CREATE TABLE t (id int)"})));
    BOOST_REQUIRE(exec(lease.connection(), test::sql_group({"BEGIN", "INSERT INTO t VALUES (1)"})));
  }
  auto lease = acquire(*pool);
  BOOST_TEST((lease.connection().transaction_state() == pg::transaction_status::idle));
  BOOST_TEST(scalar(lease.connection(), "SELECT count(*) FROM t") == "0");
}

BOOST_AUTO_TEST_CASE(a_killed_connection_is_replaced) {
  auto pool = open_pool(1, 8);
  auto killer = fresh();
  auto lease = acquire(*pool);
  const int pid = lease.connection().backend_pid();
  BOOST_TEST(scalar(*killer, "SELECT pg_terminate_backend(" + std::to_string(pid) + ")") == "t");
  auto done = exec(lease.connection(), test::sql_group({"SELECT 1"}));
  BOOST_REQUIRE(done.has_error());
  BOOST_TEST(done.error().error.sqlstate == pg::sqlstate_connection_lost);
  BOOST_TEST(lease.connection().broken());
  { auto broken = std::move(lease); }  // back to the pool, which replaces it
  lease = acquire(*pool);
  BOOST_TEST(lease.connection().backend_pid() != pid);
  BOOST_TEST(scalar(lease.connection(), "SELECT 1") == "1");
}

BOOST_AUTO_TEST_CASE(past_the_queue_acquire_is_overloaded_at_once) {
  auto pool = open_pool(1, 1);
  auto held = acquire(*pool);
  auto queued = acquire_async(*pool);
  wait_until([&] { return pool->stats().waiting == 1; }, "one waiter");
  auto refused = acquire_async(*pool);
  auto answer = test::wait_pg(refused, "the refused acquire");
  BOOST_REQUIRE(answer.has_error());
  BOOST_TEST(answer.error().sqlstate == actors::sqlstate_overloaded);
  BOOST_TEST(pool->stats().rejected == 1u);
  BOOST_TEST((queued.wait_for(0s) == std::future_status::timeout));
  { auto gone = std::move(held); }
  BOOST_TEST(test::wait_pg(queued, "the queued acquire").has_value());
}

BOOST_AUTO_TEST_CASE(waiters_are_served_in_order) {
  auto pool = open_pool(1, 8);
  auto held = acquire(*pool);
  std::mutex m;
  std::vector<int> order;
  std::vector<std::future<void>> served;
  for (int i = 0; i < 4; ++i) {
    auto done = std::make_shared<std::promise<void>>();
    served.push_back(done->get_future());
    // Boost.Test checks only on the test's thread: the handler records, the test checks.
    pool->acquire(replies.get_executor(), [&m, &order, i, done](lease_result r) {
      {
        std::lock_guard lock(m);
        order.push_back(r ? i : -1);
      }
      done->set_value();  // the lease goes back as this handler ends
    });
    wait_until([&] { return pool->stats().waiting == static_cast<std::size_t>(i + 1); }, "queued");
  }
  { auto gone = std::move(held); }
  for (auto& s : served)
    test::wait_pg(s, "a waiter");
  BOOST_TEST((order == std::vector<int>{0, 1, 2, 3}));
}

BOOST_AUTO_TEST_CASE(close_leaves_nothing_pending) {
  // Its own io_context: run() returns only when no timer, wait or handler is left.
  boost::asio::io_context io;
  actors::pg_pool_options options;
  options.size = 2;
  auto up = actors::pg_pool::open({io.get_executor()}, conninfo, options);
  auto down = actors::pg_pool::open({io.get_executor()}, "host=/nonexistent-monolite port=5432 user=postgres", options);
  auto leased = std::make_shared<std::promise<bool>>();
  auto got = leased->get_future();
  up->acquire(io.get_executor(), [leased](lease_result r) { leased->set_value(r.has_value()); });
  auto ran = std::async(std::launch::async, [&io] { io.run(); });
  BOOST_TEST(test::wait_pg(got, "a lease"));
  wait_until([&] { return up->stats().idle == 2; }, "idle connections (watched)");
  wait_until([&] { return down->stats().open == 0 && !down->ready(); }, "retries under way");
  up->close(io.get_executor(), [] {});
  down->close(io.get_executor(), [] {});
  BOOST_REQUIRE_MESSAGE(ran.wait_for(test::pg_patience) == std::future_status::ready, "work left after close()");
  auto late = std::make_shared<std::promise<lease_result>>();
  auto refused = late->get_future();
  up->acquire(io.get_executor(), [late](lease_result r) { late->set_value(std::move(r)); });
  io.restart();
  io.run();
  auto answer = test::wait_pg(refused, "acquire after close");
  BOOST_REQUIRE(answer.has_error());
  BOOST_TEST(answer.error().sqlstate == actors::sqlstate_not_ready);
}

// serve() stops the HTTP threads as soon as close() answered: by then every connection must have
// ended, or one caught connecting keeps itself and the pool alive (LeakSanitizer at exit).
BOOST_AUTO_TEST_CASE(close_answers_once_connecting_connections_ended) {
  boost::asio::io_context io;
  boost::asio::ip::tcp::acceptor silent(io, {boost::asio::ip::make_address("127.0.0.1"), 0});
  silent.listen();  // accepts into its backlog and never answers: every connect stays under way
  actors::pg_pool_options options;
  options.size = 3;
  options.connect_timeout = 60s;
  const auto port = std::to_string(silent.local_endpoint().port());
  auto pool = actors::pg_pool::open({io.get_executor()}, "host=127.0.0.1 port=" + port + " user=postgres", options);
  std::weak_ptr<actors::pg_pool> watched = pool;
  auto ran = std::async(std::launch::async, [&io] { io.run(); });
  pool->close(io.get_executor(), [&io] { io.stop(); });  // as serve() does
  BOOST_REQUIRE_MESSAGE(ran.wait_for(test::pg_patience) == std::future_status::ready, "close() never answered");
  pool.reset();
  BOOST_TEST(watched.expired(), "the pool outlived close(): a connection still holds it");
}

// A cluster of its own: this test stops it.
BOOST_AUTO_TEST_CASE(ready_follows_the_server) {
  test::pg_cluster cluster;
  auto pool = open_pool(2, 8, cluster.conninfo(), 500ms);
  wait_until([&] { return pool->ready() && pool->stats().open == 2; }, "the pool up");
  cluster.stop();
  wait_until([&] { return !pool->ready(); }, "the pool not ready");
  auto waiting = acquire_async(*pool);
  auto answer = test::wait_pg(waiting, "acquire while down");
  BOOST_REQUIRE(answer.has_error());
  BOOST_TEST(answer.error().sqlstate == actors::sqlstate_not_ready);
  BOOST_TEST(pool->stats().not_ready == 1u);
  cluster.start();
  wait_until([&] { return pool->ready(); }, "the pool ready again");
  auto lease = acquire(*pool);
  BOOST_TEST(scalar(lease.connection(), "SELECT 1") == "1");
}

BOOST_AUTO_TEST_SUITE_END()
